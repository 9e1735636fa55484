"""Resident searches at the desk: exact last names come first, and a picker that shows only
the first results says how many there are in all."""

from __future__ import annotations

from django.urls import reverse

from cases.selectors_residents import parse_query, resident_search
from tests.factories import ResidentFactory
from tests.search import search_get


def _names(residents) -> list[str]:
    return [r.last_name for r in residents]


def test_search_ranks_exact_last_names_before_names_that_contain_them(structure, mediator):
    for last_name in ["Guérin-Hamon", "Rolland-Hamon", "Hamon-Collin", "Hamon", "Hâmon"]:
        ResidentFactory(structure=structure, first_name="Josiane", last_name=last_name)

    parsed = parse_query("hamon", regions=["FR"])
    names = _names(resident_search(mediator, structure, parsed))

    assert set(names[:2]) == {"Hamon", "Hâmon"}
    assert names[2:] == ["Guérin-Hamon", "Hamon-Collin", "Rolland-Hamon"]


def test_an_exact_last_name_of_two_words_and_a_first_name_rank_first(structure, mediator):
    ResidentFactory(structure=structure, first_name="Éric", last_name="Le Goff-Martin")
    ResidentFactory(structure=structure, first_name="Éric", last_name="Le Goff")
    ResidentFactory(structure=structure, first_name="Goff", last_name="Abel")

    assert _names(resident_search(mediator, structure, parse_query("le goff", regions=[]))) == [
        "Le Goff",
        "Le Goff-Martin",
    ]
    assert _names(resident_search(mediator, structure, parse_query("eric goff", regions=[])))[
        0
    ] == ("Le Goff")


def test_the_walk_in_picker_says_when_it_shows_only_the_first_results(mediator_client, structure):
    for i in range(21):
        ResidentFactory(structure=structure, first_name=f"Anne{i:02}", last_name="Perrin-Roux")
    exact = ResidentFactory(structure=structure, first_name="Zoé", last_name="Perrin")
    url = reverse("session_create", kwargs={"structure": structure.slug})

    body = search_get(mediator_client, url, "perrin").content.decode()

    assert "Les 20 premiers sur 22 usagers trouvés" in body
    assert body.index(f"?usager={exact.pk}") < body.index("Anne00")


def test_the_case_picker_counts_every_match(mediator_client, structure):
    for _ in range(3):
        ResidentFactory(structure=structure, last_name="Perrin")
    url = reverse("case_create", kwargs={"structure": structure.slug})

    body = search_get(mediator_client, url, "perrin").content.decode()

    assert "3 usagers trouvés" in body and "premiers" not in body
