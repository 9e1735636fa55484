"""Residents at the desk: search (name without accents, phone in any format, year of birth),
creation with the minimum data and the duplicates warning, the resident's page, the
network-sharing agreement, and the merge of duplicates."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings.models import Appointment
from cases.choices import CaseStatus, SessionKind, TagDimension, Theme
from cases.models import Case, HelpSession, SessionTag
from cases.services import residents as services
from mediation.choices import AgeBand, Role
from mediation.models import Resident, fold_name
from mediation.services import SHARING_GIVEN, SHARING_WITHDRAWN
from tests.bookings.factories import MotifFactory, SlotFactory
from tests.cases.factories import CaseFactory, HelpSessionFactory, WorkshopSessionFactory
from tests.conftest import member
from tests.factories import NetworkFactory, PlaceFactory, ResidentFactory, StructureFactory
from tests.search import search_get, search_url

pytestmark = pytest.mark.django_db


# --- Helpers ------------------------------------------------------------------------------


def url(name, structure, **kwargs):
    return reverse(name, kwargs={"structure": structure.slug, **kwargs})


def search(client, structure, q, **params):
    return search_get(client, url("resident_search", structure), q, **params)


def body(response) -> str:
    return response.content.decode()


def make_appointment(*, place, resident, mediator, starts_at, motif=None):
    slot = SlotFactory(
        place=place,
        mediator=mediator,
        starts_at=starts_at,
        motif=motif or MotifFactory(structure=place.structure),
    )
    return Appointment.objects.create(
        place=place,
        motif=slot.motif,
        mediator=mediator,
        resident=resident,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
    )


def bulk_sessions(*, structure, resident, mediator, count, start=date(2025, 1, 6)):
    """`count` individual sessions of `resident` with a theme each, written in bulk."""
    sessions = HelpSession.objects.bulk_create(
        HelpSession(
            structure=structure,
            mediator=mediator,
            created_by=mediator,
            resident=resident,
            date=start + timedelta(days=n),
            report_date=start + timedelta(days=n),
            duration_minutes=30,
        )
        for n in range(count)
    )
    SessionTag.objects.bulk_create(
        SessionTag(session=s, dimension=TagDimension.THEME, code=Theme.EMAIL) for s in sessions
    )
    return sessions


@pytest.fixture
def eric(structure):
    return ResidentFactory(
        structure=structure,
        first_name="Éric",
        last_name="Dupont",
        phone="+33612345678",
        birth_year=1958,
    )


@pytest.fixture
def network_pair(structure, mediator):
    """`structure` and a neighbour in the same network, each with a resident; only the
    neighbour's "Zélie Partagée" agreed to be shared."""
    network = NetworkFactory(name="Réseau du Pays de Lohéac")
    structure.networks.add(network)
    neighbour = StructureFactory(name="CCAS de Guichen", slug="ccas-guichen", networks=[network])
    shared = ResidentFactory(
        structure=neighbour, first_name="Zélie", last_name="Partagée", shared_with_network=True
    )
    private = ResidentFactory(structure=neighbour, first_name="Zélie", last_name="Privée")
    return {"neighbour": neighbour, "shared": shared, "private": private}


# --- Search -------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["eric", "ERIC", "Éric", "éric dupont", "dupont eric", "dup"])
def test_search_finds_a_name_whatever_the_accents_and_case(mediator_client, structure, eric, q):
    ResidentFactory(structure=structure, first_name="Marie", last_name="Martin")
    response = search(mediator_client, structure, q)
    assert response.status_code == 200
    page = body(response)
    assert "DUPONT Éric" in page
    assert "Martin" not in page


@pytest.mark.parametrize(
    "q", ["06 12 34 56 78", "0612345678", "+33612345678", "+33 6 12 34 56 78", "06.12.34.56.78"]
)
def test_search_finds_a_phone_number_in_any_format(mediator_client, structure, eric, q):
    ResidentFactory(structure=structure, first_name="Marie", phone="+33698765432")
    page = body(search(mediator_client, structure, q))
    assert "DUPONT Éric" in page
    assert "06 12 34 56 78" in page  # shown in the national format
    assert "Marie" not in page


def test_search_reads_a_local_number_at_an_overseas_desk(client, db):
    reunion = StructureFactory(slug="fs-saint-denis")
    PlaceFactory(
        structure=reunion,
        postcode="97400",
        commune="Saint-Denis",
        insee_code="97411",
        time_zone="Indian/Reunion",
    )
    ResidentFactory(structure=reunion, first_name="Jean", last_name="Payet", phone="+262692123456")
    client.force_login(member(reunion, Role.MEDIATOR))
    page = body(search(client, reunion, "0692 12 34 56"))
    assert "PAYET Jean" in page


def test_search_by_the_last_digits_of_a_number(mediator_client, structure, eric):
    assert "DUPONT Éric" in body(search(mediator_client, structure, "56 78"))


def test_search_by_year_of_birth(mediator_client, structure, eric):
    ResidentFactory(structure=structure, first_name="Paul", last_name="Dupont", birth_year=1990)
    page = body(search(mediator_client, structure, "1958"))
    assert "DUPONT Éric" in page and "Paul" not in page
    both = body(search(mediator_client, structure, "dupont 1990"))
    assert "DUPONT Paul" in both and "Éric" not in both


def test_search_shows_open_cases_and_age(mediator_client, structure, eric):
    CaseFactory(structure=structure, resident=eric)
    CaseFactory(structure=structure, resident=eric, status=CaseStatus.IN_PROGRESS)
    CaseFactory(structure=structure, resident=eric, status=CaseStatus.RESOLVED)
    page = body(search(mediator_client, structure, "eric"))
    assert '<span class="badge text-bg-primary">2</span>' in page
    assert "né·e en 1958" in page


def test_search_never_shows_anonymous_records_or_other_structures(mediator_client, structure, eric):
    Resident.objects.create(structure=structure, is_anonymous=True)
    ResidentFactory(structure=StructureFactory(), first_name="Éric", last_name="Ailleurs")
    page = body(search(mediator_client, structure, "eric"))
    assert "Ailleurs" not in page
    assert "Usager anonyme" not in page
    assert "1 usager trouvé" in page


def test_search_pages_by_25_in_a_bounded_number_of_queries(
    mediator_client, structure, mediator, django_assert_max_num_queries
):
    residents = Resident.objects.bulk_create(
        Resident(
            structure=structure,
            first_name="Éric",
            last_name=f"Nom{n:03d}",
            search_name=fold_name("Éric", f"Nom{n:03d}"),
        )
        for n in range(60)
    )
    for r in residents[:30]:
        CaseFactory(structure=structure, resident=r, mediator=mediator)
    first_url = search_url(mediator_client, url("resident_search", structure), "eric")
    with django_assert_max_num_queries(12):  # 10, the page's open cases, the access-log entry
        first = body(mediator_client.get(first_url))
    assert "60 usagers trouvés" in first
    assert first.count('<th scope="row">') == 25
    third = body(search(mediator_client, structure, "eric", page=3))
    assert third.count('<th scope="row">') == 10
    assert search(mediator_client, structure, "eric", page="zzz").status_code == 200


def test_without_a_query_the_residents_seen_last_come_first(mediator_client, structure):
    ResidentFactory(
        structure=structure, last_name="Ancien", last_contact_at=timezone.now() - timedelta(days=9)
    )
    ResidentFactory(structure=structure, last_name="Récent")
    page = body(mediator_client.get(url("resident_search", structure)))
    assert "Vus récemment" in page
    assert page.index("RÉCENT") < page.index("ANCIEN")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=st.text(max_size=130))
def test_the_search_box_takes_any_text(mediator_client, structure, eric, q):
    # Read-only: the function-scoped fixtures are not changed between examples.
    response = search(mediator_client, structure, q)
    assert response.status_code == 200


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=st.text(max_size=60))
def test_the_merge_search_takes_any_text(mediator_client, structure, eric, q):
    response = search_get(mediator_client, url("resident_merge", structure, resident=eric.pk), q)
    assert response.status_code == 200


# --- Network sharing ----------------------------------------------------------------------


def test_shared_residents_of_the_network_appear_with_their_structure(
    mediator_client, structure, network_pair
):
    page = body(search(mediator_client, structure, "zelie"))
    assert "PARTAGÉE Zélie" in page
    assert "Fiche de CCAS de Guichen" in page
    assert "Privée" not in page


def test_a_shared_resident_page_opens_read_only(mediator_client, structure, network_pair):
    shared, private = network_pair["shared"], network_pair["private"]
    response = mediator_client.get(url("resident_detail", structure, resident=shared.pk))
    assert response.status_code == 200
    page = body(response)
    assert "partagée avec le réseau" in page
    assert url("resident_edit", structure, resident=shared.pk) not in page
    for name in ("resident_edit", "resident_merge"):
        assert mediator_client.get(url(name, structure, resident=shared.pk)).status_code == 404
    assert (
        mediator_client.post(url("resident_sharing", structure, resident=shared.pk)).status_code
        == 404
    )
    assert (
        mediator_client.get(url("resident_detail", structure, resident=private.pk)).status_code
        == 404
    )


def test_withdrawing_the_agreement_hides_the_record_from_the_network(
    client, structure, network_pair
):
    neighbour, shared = network_pair["neighbour"], network_pair["shared"]
    neighbour_mediator = member(neighbour, Role.MEDIATOR, first_name="Inès", last_name="Roux")
    client.force_login(neighbour_mediator)
    response = client.post(url("resident_sharing", neighbour, resident=shared.pk), {})
    assert response.status_code == 302
    shared.refresh_from_db()
    assert shared.shared_with_network is False
    row = shared.history.first()
    assert row.history_user == neighbour_mediator
    assert row.history_change_reason == SHARING_WITHDRAWN
    outsider = member(structure, Role.MEDIATOR)
    client.force_login(outsider)
    assert "Zélie" not in body(search(client, structure, "zelie"))
    assert client.get(url("resident_detail", structure, resident=shared.pk)).status_code == 404


def test_the_agreement_is_recorded_with_who_and_when(mediator_client, structure, eric, mediator):
    detail = url("resident_detail", structure, resident=eric.pk)
    page = body(mediator_client.get(detail))
    assert "L&#x27;usager accepte que les autres structures du réseau voient sa fiche" in page
    response = mediator_client.post(
        url("resident_sharing", structure, resident=eric.pk), {"shared_with_network": "on"}
    )
    assert response.status_code == 302 and response["Location"] == detail
    eric.refresh_from_db()
    assert eric.shared_with_network is True
    row = eric.history.first()
    assert (row.history_user, row.history_change_reason) == (mediator, SHARING_GIVEN)
    page = body(mediator_client.get(detail))
    assert "Accord donné" in page and "par Camille Le Goff" in page
    # The same answer again writes nothing.
    count = eric.history.count()
    mediator_client.post(
        url("resident_sharing", structure, resident=eric.pk), {"shared_with_network": "on"}
    )
    assert eric.history.count() == count


def test_sharing_is_post_only(mediator_client, structure, eric):
    response = mediator_client.get(url("resident_sharing", structure, resident=eric.pk))
    assert response.status_code == 405


# --- Creation -----------------------------------------------------------------------------


def test_a_resident_is_created_with_the_minimum(mediator_client, structure, mediator):
    page = body(mediator_client.get(url("resident_create", structure)))
    assert "Ne notez jamais de numéro de sécurité sociale" in page
    response = mediator_client.post(
        url("resident_create", structure),
        {
            "first_name": " Zoé ",
            "last_name": "M.",
            "phone": "06 12 34 56 78",
            "birth_year": "1950",
            "commune_insee": "2a004",
            "gender": "female",
            "status": "retired",
        },
    )
    resident = Resident.objects.get(first_name="Zoé")
    assert response.status_code == 302
    assert response["Location"] == url("resident_detail", structure, resident=resident.pk)
    assert str(resident.phone) == "+33612345678"
    assert resident.age_band == AgeBand.OVER_70
    assert resident.commune_insee == "2A004"
    assert resident.search_name == "zoe m"
    assert resident.structure == structure and not resident.shared_with_network
    assert resident.history.first().history_user == mediator


def test_the_search_box_prefills_the_new_resident(mediator_client, structure):
    found = search_get(mediator_client, url("resident_search", structure), "zoé martin")
    create_url = next(
        link for link in re.findall(r'href="([^"]+)"', body(found)) if "nouveau" in link
    )
    assert "zo" not in create_url.lower() and "martin" not in create_url.lower()
    page = body(mediator_client.get(create_url.replace("&amp;", "&")))
    assert 'value="Zoé"' in page and 'value="martin"' in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"first_name": "", "last_name": "M"}, "first_name", "Indiquez le prénom"),
        ({"first_name": "Zoé", "last_name": ""}, "last_name", "au moins ses initiales"),
        ({"phone": "12"}, "phone", "numéro de téléphone n&#x27;est pas valide"),
        ({"birth_year": "1850"}, "birth_year", "comprise entre 1900"),
        ({"birth_year": "abcd"}, "birth_year", "année sur 4 chiffres"),
        ({"commune_insee": "123"}, "commune_insee", "code INSEE compte 5 caractères"),
        ({"commune_insee": "Guich"}, "commune_insee", "Vouliez-vous dire : Guichen (35126)"),
        ({"commune_insee": "Zzyzx"}, "commune_insee", "Aucune commune ne correspond"),
        ({"email": "pas-un-mail"}, "email", "adresse e-mail valide"),
    ],
)
def test_bad_identity_is_refused_at_the_field(mediator_client, structure, data, field, message):
    payload = {"first_name": "Zoé", "last_name": "Martin", **data}
    response = mediator_client.post(url("resident_create", structure), payload)
    assert response.status_code == 200
    assert message in body(response)
    assert field in response.context["form"].errors
    assert not Resident.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"first_name": "Jean", "last_name": "Autre", "phone": "+33 6 12 34 56 78"},
        {"first_name": "ERIC", "last_name": "dupont", "birth_year": "1958"},
        {"first_name": "Eric", "last_name": "Dupont"},
    ],
)
def test_a_likely_duplicate_is_shown_before_creating(mediator_client, structure, eric, data):
    response = mediator_client.post(url("resident_create", structure), data)
    assert response.status_code == 200
    page = body(response)
    assert "Cette personne a peut-être déjà une fiche" in page
    assert url("resident_detail", structure, resident=eric.pk) in page
    assert Resident.objects.count() == 1
    # What was typed is kept, and the person may create the record anyway.
    assert f'value="{data["first_name"]}"' in page
    response = mediator_client.post(
        url("resident_create", structure), {**data, "confirm_duplicate": "1"}
    )
    assert response.status_code == 302
    assert Resident.objects.count() == 2


def test_same_name_born_another_year_is_not_a_duplicate(mediator_client, structure, eric):
    response = mediator_client.post(
        url("resident_create", structure),
        {"first_name": "Éric", "last_name": "Dupont", "birth_year": "1990"},
    )
    assert response.status_code == 302


def test_a_resident_is_edited(mediator_client, structure, eric, mediator):
    edit = url("resident_edit", structure, resident=eric.pk)
    page = body(mediator_client.get(edit))
    assert 'value="06 12 34 56 78"' in page
    response = mediator_client.post(
        edit, {"first_name": "Éric", "last_name": "Dupond", "phone": "", "birth_year": "1958"}
    )
    assert response.status_code == 302
    eric.refresh_from_db()
    assert (eric.last_name, eric.search_name, str(eric.phone)) == ("Dupond", "eric dupond", "")
    assert eric.history.first().history_user == mediator


# --- The resident's page ------------------------------------------------------------------


def test_the_page_shows_identity_appointments_cases_and_sessions(
    mediator_client, structure, place, mediator, eric
):
    CaseFactory(
        structure=structure,
        resident=eric,
        title="Renouvellement carte d'identité",
        next_action_on=timezone.localdate() + timedelta(days=3),
        mediator=mediator,
    )
    CaseFactory(structure=structure, resident=eric, title="Retraite", status=CaseStatus.RESOLVED)
    HelpSessionFactory(structure=structure, resident=eric, mediator=mediator, themes=[Theme.EMAIL])
    WorkshopSessionFactory(
        structure=structure, mediator=mediator, title="Smartphone débutant", participants=[eric]
    )
    make_appointment(
        place=place,
        resident=eric,
        mediator=mediator,
        starts_at=timezone.now() + timedelta(days=2),
    )
    response = mediator_client.get(url("resident_detail", structure, resident=eric.pk))
    assert response.status_code == 200
    page = body(response)
    for text in (
        "06 12 34 56 78",
        "né·e en 1958",
        "Renouvellement carte d&#x27;identité",
        "1 dossier en cours",
        "1 dossier clos",
        "Messagerie (e-mail)",
        "Atelier : Smartphone débutant",
        "2 accompagnements",
        "Aide aux démarches",
    ):
        assert text in page, text
    case = Case.objects.get(title="Renouvellement carte d'identité")
    assert url("case_detail", structure, case=case.pk) in page
    assert f"{url('case_create', structure)}?usager={eric.pk}" in page


def test_the_page_links_to_a_new_session_for_the_resident(mediator_client, structure, eric):
    page = body(mediator_client.get(url("resident_detail", structure, resident=eric.pk)))
    assert f"{url('session_create', structure)}?usager={eric.pk}" in page


def _history(*, structure, place, mediator, resident, sessions, cases, appointments):
    bulk_sessions(structure=structure, resident=resident, mediator=mediator, count=sessions)
    for n in range(cases):
        CaseFactory(
            structure=structure,
            resident=resident,
            mediator=mediator,
            status=CaseStatus.RESOLVED if n % 3 else CaseStatus.IN_PROGRESS,
        )
    motif = MotifFactory(structure=structure)
    first = Appointment.objects.filter(resident=resident).count()
    for n in range(first, first + appointments):
        make_appointment(
            place=place,
            resident=resident,
            mediator=mediator,
            motif=motif,
            starts_at=timezone.now() + timedelta(days=n + 1),
        )


def test_the_page_runs_a_bounded_number_of_queries(
    mediator_client, structure, place, mediator, eric, django_assert_max_num_queries
):
    detail = url("resident_detail", structure, resident=eric.pk)
    history = {"structure": structure, "place": place, "mediator": mediator, "resident": eric}
    _history(**history, sessions=1, cases=1, appointments=1)
    with django_assert_max_num_queries(20) as small:
        mediator_client.get(detail)
    _history(**history, sessions=199, cases=29, appointments=19)
    with django_assert_max_num_queries(len(small)):
        response = mediator_client.get(detail)
    page = body(response)
    assert "200 accompagnements" in page
    assert "11 dossiers en cours" in page and "19 dossiers clos" in page
    assert page.count("Aide aux démarches") == 20
    assert page.count("Messagerie (e-mail)") == 20  # one page of sessions
    assert "Page 1 sur 10" in page
    last = body(mediator_client.get(f"{detail}?page=10"))
    assert "Page 10 sur 10" in last


def test_an_anonymous_record_has_a_page_without_identity(mediator_client, structure):
    anonymous = Resident.objects.create(
        structure=structure, is_anonymous=True, age_band=AgeBand.FROM_25_TO_39
    )
    page = body(mediator_client.get(url("resident_detail", structure, resident=anonymous.pk)))
    assert "Fiche anonyme" in page and "25 à 39 ans" in page
    assert url("resident_edit", structure, resident=anonymous.pk) not in page
    assert (
        mediator_client.get(url("resident_edit", structure, resident=anonymous.pk)).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("resident_detail", "get"),
        ("resident_edit", "get"),
        ("resident_edit", "post"),
        ("resident_sharing", "post"),
        ("resident_merge", "get"),
        ("resident_merge", "post"),
    ],
)
def test_another_structure_s_resident_is_404_everywhere(mediator_client, structure, name, method):
    alien = ResidentFactory(structure=StructureFactory(), first_name="Ailleurs")
    response = getattr(mediator_client, method)(url(name, structure, resident=alien.pk))
    assert response.status_code == 404
    alien.refresh_from_db()
    assert alien.first_name == "Ailleurs"


def test_residents_pages_are_for_desk_roles(client, structure, eric):
    client.force_login(member(structure, Role.COORDINATOR))
    assert client.get(url("resident_search", structure)).status_code == 403
    assert client.get(url("resident_detail", structure, resident=eric.pk)).status_code == 403


# --- Merge --------------------------------------------------------------------------------


@pytest.fixture
def duplicate(structure, place, mediator, eric):
    """A second record of Éric Dupont, with some history of its own."""
    other = ResidentFactory(
        structure=structure,
        first_name="Eric",
        last_name="DUPONT",
        phone="",
        email="eric.dupont@exemple.fr",
        commune_insee="35155",
        birth_year=None,
        last_contact_at=timezone.now() + timedelta(minutes=1),
    )
    HelpSessionFactory.create_batch(3, structure=structure, resident=other, mediator=mediator)
    workshop = WorkshopSessionFactory(structure=structure, mediator=mediator, participants=[other])
    both = WorkshopSessionFactory(
        structure=structure, mediator=mediator, participants=[other, eric]
    )
    CaseFactory.create_batch(2, structure=structure, resident=other, mediator=mediator)
    appointment = make_appointment(
        place=place, resident=other, mediator=mediator, starts_at=timezone.now() + timedelta(days=1)
    )
    return {"resident": other, "workshop": workshop, "both": both, "appointment": appointment}


def test_merge_moves_everything_to_the_kept_record(structure, mediator, eric, duplicate):
    other = duplicate["resident"]
    HelpSessionFactory(structure=structure, resident=eric, mediator=mediator)
    result = services.resident_merge(keep=eric, remove=other, by=mediator)

    assert not Resident.objects.filter(pk=other.pk).exists()
    assert HelpSession.objects.filter(resident=eric).count() == 4
    assert set(duplicate["workshop"].participants.all()) == {eric}
    assert set(duplicate["both"].participants.all()) == {eric}
    assert Case.objects.filter(resident=eric).count() == 2
    duplicate["appointment"].refresh_from_db()
    assert duplicate["appointment"].resident == eric
    assert (result.sessions, result.workshops, result.cases, result.appointments) == (3, 2, 2, 1)
    eric.refresh_from_db()
    # Empty fields filled from the duplicate; the kept record's own values stay.
    assert eric.email == "eric.dupont@exemple.fr" and eric.commune_insee == "35155"
    assert str(eric.phone) == "+33612345678" and eric.birth_year == 1958
    assert eric.last_contact_at == other.last_contact_at


def test_merge_is_in_the_history(structure, mediator, eric, duplicate):
    other = duplicate["resident"]
    services.resident_merge(keep=eric, remove=other, by=mediator)
    kept = eric.history.first()
    assert kept.history_change_reason == f"Fusion avec l'usager n°{other.pk}"
    assert kept.history_user == mediator
    removed = Resident.history.filter(id=other.pk).first()
    assert removed.history_type == "-"
    assert removed.history_change_reason == f"Fusionné dans l'usager n°{eric.pk}"
    assert removed.history_user == mediator
    case = Case.objects.filter(resident=eric).first()
    moved = case.history.first()
    assert (moved.resident_id, moved.history_user) == (eric.pk, mediator)
    assert moved.history_change_reason == f"Fusion avec l'usager n°{other.pk}"
    assert duplicate["appointment"].history.first().history_change_reason.startswith("Fusion")
    assert duplicate["workshop"].history.first().history_change_reason.startswith("Fusion")


def test_merge_through_the_pages(mediator_client, structure, eric, duplicate):
    other = duplicate["resident"]
    merge = url("resident_merge", structure, resident=eric.pk)
    found = body(search_get(mediator_client, merge, "dupont"))
    assert f"?doublon={other.pk}" in found
    assert f"?doublon={eric.pk}" not in found  # not itself
    compare = body(mediator_client.get(f"{merge}?doublon={other.pk}"))
    assert "Fiche conservée" in compare and "eric.dupont@exemple.fr" in compare
    assert "5 accompagnements" in compare  # 3 sessions and 2 workshops move
    response = mediator_client.post(merge, {"remove": other.pk})
    assert response.status_code == 302
    assert response["Location"] == url("resident_detail", structure, resident=eric.pk)
    assert not Resident.objects.filter(pk=other.pk).exists()
    page = body(mediator_client.get(response["Location"]))
    assert "Les deux fiches sont fusionnées" in page


def _refused(keep, remove, by, message):
    with pytest.raises(ValidationError) as error:
        services.resident_merge(keep=keep, remove=remove, by=by)
    assert message in " ".join(error.value.messages)
    assert Resident.objects.filter(pk=remove.pk).exists()


def test_merge_refuses_two_structures(structure, mediator, eric, network_pair):
    shared = network_pair["shared"]
    HelpSessionFactory(structure=shared.structure, resident=shared)
    _refused(eric, shared, mediator, "deux structures différentes")
    assert HelpSession.objects.filter(resident=shared).count() == 1


def test_merge_refuses_itself_and_anonymous_records(structure, mediator, eric):
    _refused(eric, eric, mediator, "avec elle-même")
    anonymous = Resident.objects.create(structure=structure, is_anonymous=True)
    HelpSessionFactory(structure=structure, resident=anonymous)
    _refused(eric, anonymous, mediator, "Une fiche anonyme ne peut pas être fusionnée")
    assert HelpSession.objects.filter(resident=anonymous).count() == 1


def test_the_merge_page_says_why_it_refuses(mediator_client, structure, eric, network_pair):
    shared = network_pair["shared"]
    merge = url("resident_merge", structure, resident=eric.pk)
    page = body(mediator_client.get(f"{merge}?doublon={shared.pk}"))
    assert "deux structures différentes" in page
    response = mediator_client.post(merge, {"remove": shared.pk})
    assert response.status_code == 200
    assert "deux structures différentes" in body(response)
    assert Resident.objects.filter(pk=shared.pk).exists()
    for tampered in ("", "abc", "999999", str(network_pair["private"].pk), str(eric.pk)):
        response = mediator_client.post(merge, {"remove": tampered})
        assert response.status_code == 200, tampered
        assert response.context["form"].errors, tampered
    assert Resident.objects.count() == 3


def test_a_session_kind_is_listed_once_even_when_attended_twice(
    mediator_client, structure, mediator, eric
):
    # Helped individually in a session that also lists them (bad data): still one row.
    session = HelpSessionFactory(structure=structure, resident=eric, mediator=mediator)
    session.participants.add(eric)
    page = body(mediator_client.get(url("resident_detail", structure, resident=eric.pk)))
    assert "1 accompagnement" in page
    assert HelpSession.objects.get().kind == SessionKind.INDIVIDUAL


def test_the_merge_page_starts_with_the_same_last_name(mediator_client, structure, eric):
    other = ResidentFactory(structure=structure, first_name="E.", last_name="DUPONT")
    ResidentFactory(structure=structure, first_name="Eric", last_name="Martin")
    page = body(mediator_client.get(url("resident_merge", structure, resident=eric.pk)))
    assert f"?doublon={other.pk}" in page
    assert page.count("?doublon=") == 1


def test_editing_keeps_an_overseas_number_at_a_metropolitan_desk(mediator_client, structure, place):
    payet = ResidentFactory(structure=structure, last_name="Payet", phone="+262692123456")
    edit = url("resident_edit", structure, resident=payet.pk)
    form = mediator_client.get(edit).context["form"]
    assert form.initial["phone"] == "+262 692 12 34 56"
    mediator_client.post(edit, {**form.initial, "birth_year": ""})
    payet.refresh_from_db()
    assert str(payet.phone) == "+262692123456"


def test_a_merge_that_fails_half_way_leaves_nothing_moved(
    structure, mediator, eric, duplicate, monkeypatch
):
    from django.db.models import ProtectedError

    other = duplicate["resident"]

    def protected(self, *args, **kwargs):
        raise ProtectedError("protected", {duplicate["appointment"]})

    monkeypatch.setattr(Resident, "delete", protected)
    _refused(eric, other, mediator, "encore liée à d'autres données (rendez-vous)")
    assert HelpSession.objects.filter(resident=other).count() == 3
    assert Case.objects.filter(resident=other).count() == 2
    assert set(duplicate["workshop"].participants.all()) == {other}
    eric.refresh_from_db()
    assert eric.email == ""
