"""Residents in one place: the one search (`mediation.selectors.resident_search`) and the one
create service (`mediation.services.resident_create`), as the residents' pages, the desk agenda
and online booking use them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from mediation.models import Resident
from mediation.selectors import parse_resident_query, resident_search
from mediation.services import SHARING_GIVEN, resident_create
from tests.factories import NetworkFactory, ResidentFactory, StructureFactory

pytestmark = pytest.mark.django_db


def _names(residents) -> list[str]:
    return [r.last_name for r in residents]


# --- Reading the search box -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1958", {"years": (1958,)}),
        ("06 12 34 56 78", {"phones": ("+33612345678",)}),
        ("56 78 90", {"phone_digits": "567890"}),
        ("Éric  LE-GOFF 1958", {"words": "eric le goff", "years": (1958,)}),
        ("", {}),
    ],
)
def test_the_search_box_is_read_as_a_phone_a_year_or_a_name(text, expected):
    parsed = parse_resident_query(text, regions=["FR"])
    for key, value in expected.items():
        assert getattr(parsed, key) == value
    assert parsed.empty == (not expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1958", {"phone_digits": "1958"}),
        ("dupont 1958", {"words": "dupont 1958"}),
        ("06 12 34 56 78", {"phones": ("+33612345678",)}),
    ],
)
def test_without_years_four_digits_are_the_end_of_a_phone_number(text, expected):
    # The desk agenda's box asks for a name or a phone number, never a year of birth.
    parsed = parse_resident_query(text, regions=["FR"], years=False)
    assert parsed.years == ()
    for key, value in expected.items():
        assert getattr(parsed, key) == value


# --- Searching ------------------------------------------------------------------------------


def test_search_ranks_exact_last_names_before_names_that_contain_them(structure, mediator):
    for last_name in ["Guérin-Hamon", "Rolland-Hamon", "Hamon-Collin", "Hamon", "Hâmon"]:
        ResidentFactory(structure=structure, first_name="Josiane", last_name=last_name)

    parsed = parse_resident_query("hamon", regions=["FR"])
    names = _names(resident_search(mediator, structure, parsed))

    assert set(names[:2]) == {"Hamon", "Hâmon"}
    assert names[2:] == ["Guérin-Hamon", "Hamon-Collin", "Rolland-Hamon"]


def test_an_exact_last_name_of_two_words_and_a_first_name_rank_first(structure, mediator):
    ResidentFactory(structure=structure, first_name="Éric", last_name="Le Goff-Martin")
    ResidentFactory(structure=structure, first_name="Éric", last_name="Le Goff")
    ResidentFactory(structure=structure, first_name="Goff", last_name="Abel")

    le_goff = parse_resident_query("le goff", regions=[])
    assert _names(resident_search(mediator, structure, le_goff)) == ["Le Goff", "Le Goff-Martin"]
    eric_goff = parse_resident_query("eric goff", regions=[])
    assert _names(resident_search(mediator, structure, eric_goff))[0] == "Le Goff"


def test_a_resident_shared_by_the_network_is_found_only_among_the_desk_residents(
    structure, mediator
):
    network = NetworkFactory()
    structure.networks.add(network)
    neighbour = StructureFactory(networks=[network])
    ResidentFactory(structure=neighbour, last_name="Partagée", shared_with_network=True)
    ResidentFactory(structure=structure, last_name="Partagée-Ici")
    parsed = parse_resident_query("partagee", regions=["FR"])

    # The residents' pages see what the network shares; the agenda books for its own only.
    assert _names(resident_search(mediator, structure, parsed)) == ["Partagée", "Partagée-Ici"]
    assert _names(resident_search(mediator, structure, parsed, shared=False)) == ["Partagée-Ici"]


# --- Creating -------------------------------------------------------------------------------


def test_creating_a_resident_records_its_author_and_the_agreement(structure, mediator):
    resident = resident_create(
        structure=structure,
        by=mediator,
        first_name=" Zoé ",
        last_name="Martin",
        phone="+33612345678",
        email=" Zoe@Exemple.FR ",
        birth_year=1958,
        commune_insee="35238",
        shared_with_network=True,
    )

    assert (resident.first_name, resident.email) == ("Zoé", "zoe@exemple.fr")
    assert resident.age_band != "not_given" and not resident.is_anonymous
    row = resident.history.get()
    assert (row.history_user, row.history_change_reason) == (mediator, SHARING_GIVEN)


def test_a_resident_needs_a_name(structure, mediator):
    with pytest.raises(ValidationError) as error:
        resident_create(structure=structure, by=mediator, first_name=" ", last_name="")
    assert set(error.value.message_dict) == {"first_name", "last_name"}
    assert not Resident.objects.exists()
