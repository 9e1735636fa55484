"""Notes on a case (#16): a note, a next-action date or a document reference written without
changing the status; the status changed in one step beside it; "Mes suivis" sorted by next
action with its count in the menu."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cases.choices import CaseEventKind, CaseStatus, ProcedureArea
from cases.models import CaseEvent
from cases.selectors.cases import case_timeline, followups_count
from cases.services import cases as services
from mediation import navigation
from mediation.choices import Role
from mediation.models import Structure
from tests.cases.factories import CaseFactory
from tests.conftest import member
from tests.factories import PlaceFactory, ResidentFactory, StructureFactory

pytestmark = pytest.mark.django_db

S = CaseStatus


@pytest.fixture
def case(structure, resident, mediator):
    return services.case_open(
        resident=resident,
        procedure_area=ProcedureArea.FAMILLE_SCOLARITE,
        title="Prime d'activité",
        by=mediator,
        mediator=mediator,
        comment="Simulation faite sur caf.fr.",
    )


def detail_url(case):
    return reverse("case_detail", kwargs={"structure": case.structure.slug, "case": case.pk})


def note_url(case):
    return reverse("case_note", kwargs={"structure": case.structure.slug, "case": case.pk})


def transition_url(case):
    return reverse("case_transition", kwargs={"structure": case.structure.slug, "case": case.pk})


def followups_url(structure, **params):
    from urllib.parse import urlencode

    url = reverse("followups", kwargs={"structure": structure.slug})
    return url + ("?" + urlencode(params) if params else "")


# --- The service ----------------------------------------------------------------------------


def test_a_note_is_recorded_without_changing_the_status(case, mediator):
    services.case_transition(case=case, to=S.WAITING_RESIDENT, comment="Fait", by=mediator)
    case.refresh_from_db()
    changed_at, history_rows = case.status_changed_at, case.history.count()

    event = services.case_add_note(
        case=case,
        note="  A appelé : l'attestation arrive la semaine prochaine.  ",
        document_reference="n°  dossier CAF   1234567",
        by=mediator,
    )

    case.refresh_from_db()
    assert case.status == S.WAITING_RESIDENT and case.status_changed_at == changed_at
    assert (event.kind, event.from_status, event.to_status, event.by) == (
        CaseEventKind.NOTE,
        "",
        "",
        mediator,
    )
    assert event.comment == "A appelé : l'attestation arrive la semaine prochaine."
    assert event.document_reference == "n° dossier CAF 1234567"
    assert event.next_action_on is None
    # Nothing of the case itself changed: no history row.
    assert case.history.count() == history_rows


def test_a_next_action_date_alone_moves_the_case_with_its_author(case, mediator, structure):
    colleague = member(structure, Role.MEDIATOR)
    day = timezone.localdate() + timedelta(days=10)

    event = services.case_add_note(case=case, note="", next_action_on=day, by=colleague)

    case.refresh_from_db()
    assert case.next_action_on == day and case.status == S.OPEN
    assert event.next_action_on == day and event.by == colleague
    row = case.history.latest("history_date")
    assert (row.history_user, row.next_action_on, row.status) == (colleague, day, S.OPEN)


def test_a_note_with_nothing_to_record_is_refused_at_the_note(case, mediator):
    services.case_add_note(
        case=case, note="", next_action_on=timezone.localdate(), by=mediator
    )  # today is allowed
    case.refresh_from_db()
    for fields in (
        {"note": ""},
        {"note": "  \n "},
        {"note": "", "document_reference": "   "},
        # The date the case already has is nothing new.
        {"note": "", "next_action_on": case.next_action_on},
    ):
        with pytest.raises(ValidationError) as error:
            services.case_add_note(case=case, by=mediator, **fields)
        assert "Écrivez une note" in error.value.message_dict["note"][0]
    assert case.events.filter(kind=CaseEventKind.NOTE).count() == 1


def test_a_note_refuses_a_next_action_in_the_past(case, mediator):
    with pytest.raises(ValidationError) as error:
        services.case_add_note(
            case=case,
            note="Rappeler",
            next_action_on=timezone.localdate() - timedelta(days=1),
            by=mediator,
        )
    assert error.value.message_dict["next_action_on"] == [
        "La prochaine action ne peut pas être dans le passé."
    ]
    case.refresh_from_db()
    assert case.next_action_on is None
    assert not case.events.filter(kind=CaseEventKind.NOTE).exists()


def test_a_closed_case_takes_a_note_but_no_next_action(case, mediator):
    services.case_transition(case=case, to=S.RESOLVED, comment="Fait", by=mediator)
    with pytest.raises(ValidationError) as error:
        services.case_add_note(
            case=case,
            note="",
            next_action_on=timezone.localdate() + timedelta(days=2),
            by=mediator,
        )
    assert "rouvrez-le" in error.value.message_dict["next_action_on"][0]
    services.case_add_note(case=case, note="L'usager a remercié.", by=mediator)
    case.refresh_from_db()
    assert case.status == S.RESOLVED and case.next_action_on is None


def test_a_document_reference_too_long_is_refused(case, mediator):
    with pytest.raises(ValidationError) as error:
        services.case_add_note(case=case, note="", document_reference="x" * 101, by=mediator)
    assert "trop longue" in error.value.message_dict["document_reference"][0]


def test_the_database_refuses_a_note_that_changes_a_status(case):
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseEvent.objects.create(
            case=case, kind=CaseEventKind.NOTE, from_status=S.OPEN, to_status=S.RESOLVED
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseEvent.objects.create(case=case, kind=CaseEventKind.STATUS, to_status="")


def test_the_timeline_shows_notes_and_status_changes_newest_first(case, mediator):
    day = timezone.localdate() + timedelta(days=4)
    services.case_add_note(case=case, note="Pièces demandées", next_action_on=day, by=mediator)
    services.case_transition(case=case, to=S.IN_PROGRESS, comment="Fait", by=mediator)
    services.case_add_note(
        case=case, note="", document_reference="pré-demande ANTS 2612", by=mediator
    )
    timeline = case_timeline(mediator, case, tz=timezone.get_current_timezone())
    assert [entry.kind for entry in timeline] == ["note", "status", "note", "opened"]
    assert timeline[2].event.next_action_on == day and timeline[2].by == "Camille Le Goff"
    # The date set by the note is not repeated as an edit of the case.
    assert all(entry.kind != "edit" for entry in timeline)


# --- The case page --------------------------------------------------------------------------


def test_a_note_is_added_from_the_case_page(mediator_client, case, mediator):
    day = timezone.localdate() + timedelta(days=7)
    response = mediator_client.post(
        note_url(case),
        {
            "note-note": "Relance envoyée par courrier.",
            "note-next_action_on": day.isoformat(),
            "note-document_reference": "n° dossier CAF 1234567",
        },
    )
    assert response.status_code == 302 and response["Location"] == detail_url(case)
    case.refresh_from_db()
    assert case.status == S.OPEN and case.next_action_on == day
    body = mediator_client.get(detail_url(case)).content.decode()
    timeline = body.split('id="historique"')[1]
    assert timeline.index("Relance envoyée par courrier.") < timeline.index(
        "Simulation faite sur caf.fr."
    )
    assert "n° dossier CAF 1234567" in timeline and "Camille Le Goff" in timeline
    # The reference is also in the summary.
    assert "n° dossier CAF 1234567" in body.split('id="resume"')[1].split("</dl>")[0]


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"note-note": "   "}, "note", "Écrivez une note"),
        (
            {"note-note": "Rappeler la CAF", "note-next_action_on": "2020-01-02"},
            "next_action_on",
            "ne peut pas être dans le passé",
        ),
        (
            {"note-note": "Rappeler la CAF", "note-next_action_on": "31/02/2027"},
            "next_action_on",
            "Saisissez une date valide",
        ),
    ],
)
def test_a_bad_note_is_refused_at_the_field_and_keeps_what_was_typed(
    mediator_client, case, data, field, message
):
    response = mediator_client.post(note_url(case), data)
    assert response.status_code == 200
    form = response.context["note"]
    assert message in form.errors[field][0]
    body = response.content.decode()
    assert f'id="error_1_id_note-{field}"' in body
    if data["note-note"].strip():
        assert f"{data['note-note']}</textarea>" in body
    assert not case.events.filter(kind=CaseEventKind.NOTE).exists()


def test_the_status_changes_in_one_step_and_the_note_form_stays_beside_it(mediator_client, case):
    response = mediator_client.post(
        transition_url(case), {"to": S.WAITING_ADMINISTRATION, "comment": "Dossier envoyé"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == S.WAITING_ADMINISTRATION
    body = mediator_client.get(detail_url(case)).content.decode()
    assert 'id="ajouter-note"' in body and 'id="changer-statut"' in body
    # Two forms, each field with its own id.
    assert body.count('id="id_note-next_action_on"') == 1
    assert body.count('id="id_next_action_on"') == 1


def test_the_note_page_is_scoped(client, case):
    client.force_login(member(StructureFactory()))
    response = client.post(note_url(case), {"note-note": "Intrus"})
    assert response.status_code == 404
    client.force_login(member(case.structure, Role.COORDINATOR))
    assert client.post(note_url(case), {"note-note": "Intrus"}).status_code == 403
    assert not case.events.filter(kind=CaseEventKind.NOTE).exists()


# --- Mes suivis: order and count ------------------------------------------------------------


@pytest.fixture
def dated(structure, mediator, place):
    today = timezone.localdate()

    def make(title, next_action_on, **fields):
        fields.setdefault("mediator", mediator)
        return CaseFactory(
            structure=structure,
            resident=ResidentFactory(structure=structure),
            title=title,
            next_action_on=next_action_on,
            **fields,
        )

    make("Sans date", None)
    make("Dans 3 jours", today + timedelta(days=3))
    make("En retard de 2 jours", today - timedelta(days=2))
    make("Aujourd'hui", today)
    make("En retard de 9 jours", today - timedelta(days=9))
    make("Clos", today - timedelta(days=20), status=S.RESOLVED, closed_at=timezone.now())
    make("D'un collègue", today - timedelta(days=1), mediator=member(structure))
    return today


def titles(response):
    return [case.title for case in response.context["page"].object_list]


def test_followups_list_overdue_first_and_cases_without_date_last(
    mediator_client, structure, dated
):
    response = mediator_client.get(followups_url(structure, show="ouverts"))
    assert titles(response) == [
        "En retard de 9 jours",
        "En retard de 2 jours",
        "Aujourd'hui",
        "Dans 3 jours",
        "Sans date",
    ]
    body = response.content.decode()
    # Each row's status is written twice (narrow and wide screens).
    assert body.count("en retard de ") == 2 * 2
    assert "en retard de 9 j" in body and "en retard de 2 j" in body


def menu_count(response) -> str | None:
    nav = response.content.decode().split('id="nav-main"')[1].split("</ul>")[0]
    if "nav-count" not in nav:
        return None
    return nav.split('nav-count">')[1].split("<")[0]


def test_the_menu_counts_what_mes_suivis_lists_by_default(client, structure, mediator, dated):
    client.force_login(mediator)
    response = client.get(followups_url(structure))
    # The mediator's own cases to handle: two late, one today.
    assert titles(response) == ["En retard de 9 jours", "En retard de 2 jours", "Aujourd'hui"]
    assert menu_count(response) == "3"
    assert '3<span class="visually-hidden"> à traiter</span>' in response.content.decode()
    # The other pages of the structure show it too.
    home = client.get(reverse("structure_home", kwargs={"structure": structure.slug}))
    assert menu_count(home) == "3"
    # A structure admin (not a mediator) counts the whole structure, like the page.
    client.force_login(member(structure, Role.STRUCTURE_ADMIN))
    response = client.get(followups_url(structure))
    assert len(titles(response)) == 4 and menu_count(response) == "4"


def test_the_menu_shows_no_count_when_nothing_is_due(client, structure, mediator):
    CaseFactory(structure=structure, mediator=mediator, next_action_on=None)
    client.force_login(mediator)
    assert menu_count(client.get(followups_url(structure))) is None


def test_the_menu_count_costs_no_query(
    client, structure, mediator, dated, monkeypatch, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(mediator)
    url = reverse("structure_home", kwargs={"structure": structure.slug})
    client.get(url)
    with CaptureQueriesContext(connection) as counted:
        assert menu_count(client.get(url)) == "3"
    monkeypatch.setattr(navigation, "_counts", {})
    with django_assert_num_queries(len(counted)):
        assert menu_count(client.get(url)) is None


def count_at(user, structure, now) -> int | None:
    row = (
        Structure.objects.filter(pk=structure.pk)
        .annotate(**navigation.nav_count_annotations(user, structure, now))
        .get()
    )
    return navigation.nav_counts_of(row).get("followups")


def test_the_menu_count_uses_the_day_of_the_structures_places(mediator):
    # 02:30 UTC on 10 March 2027: already the 10th in Paris, still the 9th in Cayenne.
    now = datetime(2027, 3, 10, 2, 30, tzinfo=UTC)
    guyane = StructureFactory()
    PlaceFactory(structure=guyane, time_zone="America/Cayenne")
    user = member(guyane, Role.MEDIATOR)
    CaseFactory(structure=guyane, mediator=user, next_action_on=date(2027, 3, 10))
    CaseFactory(structure=guyane, mediator=user, next_action_on=date(2027, 3, 9))
    assert count_at(user, guyane, now) == 1
    assert count_at(user, guyane, now + timedelta(hours=2)) == 2  # midnight in Cayenne
    # Places in two zones: the site's day, as the pages do.
    PlaceFactory(structure=guyane, time_zone="Europe/Paris")
    assert count_at(user, guyane, now) == 2


def test_the_menu_count_is_for_those_who_see_the_followups(structure, mediator):
    outsider = member(StructureFactory())
    assert followups_count(outsider, structure, timezone.now()) is None
    assert followups_count(mediator, structure, timezone.now()) is not None
