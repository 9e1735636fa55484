"""Resident pickers at the desk: a picker that shows only the first results says how many there
are in all (the ranking of the search: tests/mediation/test_residents.py)."""

from __future__ import annotations

from django.urls import reverse

from tests.factories import ResidentFactory
from tests.search import search_get


def test_the_walk_in_picker_says_when_it_shows_only_the_first_results(mediator_client, structure):
    for i in range(21):
        ResidentFactory(structure=structure, first_name=f"Anne{i:02}", last_name="Perrin-Roux")
    exact = ResidentFactory(structure=structure, first_name="Zoé", last_name="Perrin")
    url = reverse("session_create", kwargs={"structure": structure.slug})

    body = search_get(mediator_client, url, "perrin").content.decode()

    assert "Les 20 premiers sur 22 usagers trouvés" in body
    assert body.index(f'value="{exact.pk}"') < body.index("Anne00")


def test_the_case_picker_counts_every_match(mediator_client, structure):
    for _ in range(3):
        ResidentFactory(structure=structure, last_name="Perrin")
    url = reverse("case_create", kwargs={"structure": structure.slug})

    body = search_get(mediator_client, url, "perrin").content.decode()

    assert "3 usagers trouvés" in body and "premiers" not in body
