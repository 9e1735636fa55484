""" "Ma journée" on the home page: the panels registered by bookings (today's appointments and
workshops of the signed-in mediator, across all their structures) and cases (walk-in button,
follow-ups due), their actions, their scoping, their cost and their live refresh."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.choices import AppointmentStatus, MessageKind
from bookings.models import Appointment, Motif, Notification
from bookings.selectors import day_appointments
from bookings.services import booking as services
from cases.choices import CaseStatus
from mediation import day
from mediation.choices import Role
from tests.bookings.factories import MotifFactory, SlotFactory, WorkshopFactory
from tests.cases.factories import CaseFactory
from tests.conftest import member
from tests.factories import MembershipFactory, PlaceFactory, ResidentFactory, StructureFactory

pytestmark = pytest.mark.django_db

S = AppointmentStatus
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
REUNION = zoneinfo.ZoneInfo("Indian/Reunion")
PANEL = "bookings.appointments"


def today(tz=PARIS) -> date:
    return timezone.localdate(timezone=tz)


def at(day: date, hour: int, minute: int = 0, tz=PARIS) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def book(*, place, mediator, starts_at, motif=None, resident=None, status=S.BOOKED, slot=None):
    """An appointment written directly (the services refuse past times)."""
    motif = (
        motif
        or Motif.objects.get_or_create(
            structure=place.structure, name="Aide CAF", defaults={"duration_minutes": 30}
        )[0]
    )
    resident = resident or ResidentFactory(structure=place.structure)
    slot = slot or SlotFactory(place=place, motif=motif, mediator=mediator, starts_at=starts_at)
    return Appointment.objects.create(
        place=place,
        motif=motif,
        mediator=mediator,
        resident=resident,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=status,
    )


@pytest.fixture
def second(mediator):
    """A second structure where the same mediator works."""
    structure = StructureFactory(name="CCAS de Guichen", slug="ccas-guichen")
    MembershipFactory(user=mediator, structure=structure, role=Role.MEDIATOR)
    place = PlaceFactory(structure=structure, name="Espace social Guichen")
    return {"structure": structure, "place": place}


def names_in_order(body: str, names: list[str]) -> list[str]:
    return sorted(names, key=body.index)


def panel_version(client) -> str:
    body = client.get("/").content.decode()
    return re.search(r"panneau=bookings\.appointments&amp;v=(\w+)", body).group(1)


def refresh(client, version: str):
    return client.get(
        reverse("day_panel"),
        {"panneau": PANEL, "v": version},
        headers={"HX-Request": "true", "X-Background-Refresh": "1"},
    )


# --- What the day shows ---------------------------------------------------------------------


def test_the_day_lists_todays_appointments_of_every_structure_in_time_order(
    mediator_client, mediator, place, second
):
    day_ = today()
    late = ResidentFactory(structure=second["structure"], first_name="Odile", last_name="Tardif")
    early = ResidentFactory(structure=place.structure, first_name="Armand", last_name="Matin")
    book(place=second["place"], mediator=mediator, starts_at=at(day_, 16), resident=late)
    book(place=place, mediator=mediator, starts_at=at(day_, 8, 30), resident=early)
    anonymous = ResidentFactory(
        structure=place.structure, is_anonymous=True, first_name="", last_name=""
    )
    book(place=place, mediator=mediator, starts_at=at(day_, 11), resident=anonymous)
    # Tomorrow's, and a colleague's today, are not this mediator's day.
    book(
        place=place,
        mediator=mediator,
        starts_at=at(day_ + timedelta(days=1), 9),
        resident=ResidentFactory(structure=place.structure, last_name="Demain"),
    )
    book(
        place=place,
        mediator=member(place.structure),
        starts_at=at(day_, 9),
        resident=ResidentFactory(structure=place.structure, last_name="Collègue"),
    )

    body = mediator_client.get("/").content.decode()

    assert "Rendez-vous du jour" in body
    assert names_in_order(body, ["Odile Tardif", "Armand Matin", "Anonyme"]) == [
        "Armand Matin",
        "Anonyme",
        "Odile Tardif",
    ]
    for text in ("08:30", "11:00", "16:00", "Aide CAF", "Espace social Guichen", "CCAS de Guichen"):
        assert text in body
    assert "À venir" in body
    assert "Demain" not in body and "Collègue" not in body


def test_each_place_counts_today_in_its_own_time_zone(mediator, structure):
    reunion = PlaceFactory(
        structure=structure, name="Saint-Denis", time_zone="Indian/Reunion", insee_code="97411"
    )
    shown = book(place=reunion, mediator=mediator, starts_at=at(today(REUNION), 8, tz=REUNION))
    book(
        place=reunion,
        mediator=mediator,
        starts_at=at(today(REUNION) + timedelta(days=1), 8, tz=REUNION),
    )
    book(
        place=reunion,
        mediator=mediator,
        starts_at=at(today(REUNION) - timedelta(days=1), 23, tz=REUNION),
    )

    assert [a.pk for a in day_appointments(mediator)] == [shown.pk]
    assert day_appointments(mediator)[0].local_starts_at.hour == 8


def test_the_old_half_of_a_move_is_left_out_and_a_cancellation_shown(
    mediator_client, mediator, place, django_assert_num_queries
):
    day_ = today()
    old = book(place=place, mediator=mediator, starts_at=at(day_, 9), status=S.CANCELLED_BY_STAFF)
    new = book(place=place, mediator=mediator, starts_at=at(day_, 15), resident=old.resident)
    Appointment.objects.filter(pk=new.pk).update(moved_from=old)
    cancelled = book(
        place=place, mediator=mediator, starts_at=at(day_, 11), status=S.CANCELLED_BY_RESIDENT
    )

    with django_assert_num_queries(4):  # the roles (2), the day, the moves among cancellations
        shown = day_appointments(mediator)

    assert [a.pk for a in shown] == [cancelled.pk, new.pk]
    assert not any(a.is_moved_away for a in shown)
    body = mediator_client.get("/").content.decode()
    assert "Annulé par l&#x27;usager" in body


def test_an_appointment_of_a_structure_the_mediator_left_is_never_shown(
    mediator_client, mediator, place, second
):
    book(
        place=second["place"],
        mediator=mediator,
        starts_at=at(today(), 10),
        resident=ResidentFactory(structure=second["structure"], last_name="Ailleurs"),
    )
    assert "Ailleurs" in mediator_client.get("/").content.decode()

    mediator.memberships.filter(structure=second["structure"]).delete()

    assert "Ailleurs" not in mediator_client.get("/").content.decode()
    assert day_appointments(mediator) == []


def test_another_structures_mediator_never_sees_the_appointments(client, mediator, place):
    book(
        place=place,
        mediator=mediator,
        starts_at=at(today(), 10),
        resident=ResidentFactory(structure=place.structure, last_name="Confidentiel"),
    )
    outsider = member(StructureFactory(), Role.MEDIATOR)
    client.force_login(outsider)

    assert "Confidentiel" not in client.get("/").content.decode()
    response = refresh(client, "x")
    assert "Confidentiel" not in response.content.decode()
    assert day_appointments(outsider) == []


def test_a_started_appointment_offers_logging_absent_and_the_agenda_endpoints(
    mediator_client, mediator, place
):
    appointment = book(
        place=place, mediator=mediator, starts_at=timezone.now() - timedelta(minutes=5)
    )
    slug = place.structure.slug

    body = mediator_client.get("/").content.decode()

    session_url = reverse(
        "session_from_appointment", kwargs={"structure": slug, "appointment": appointment.pk}
    )
    assert f'href="{session_url}"' in body
    assert "Honoré → saisir l&#x27;accompagnement" in body
    status_url = reverse(
        "agenda_appointment_status", kwargs={"structure": slug, "appointment": appointment.pk}
    )
    assert f'action="{status_url}"' in body
    assert 'name="status" value="no_show"' in body
    # "Honoré" alone is the agenda's: here it comes with the session.
    assert 'name="status" value="seen"' not in body
    # The session form is prefilled from the appointment.
    form = mediator_client.get(session_url)
    assert form.status_code == 200
    assert str(appointment.resident) in form.content.decode()


def test_absent_goes_through_the_agenda_and_comes_back_to_the_day(mediator_client, mediator, place):
    appointment = book(
        place=place, mediator=mediator, starts_at=timezone.now() - timedelta(minutes=5)
    )
    url = reverse(
        "agenda_appointment_status",
        kwargs={"structure": place.structure.slug, "appointment": appointment.pk},
    )

    response = mediator_client.post(url, {"status": S.NO_SHOW, "next": "/"})

    assert response.status_code == 302 and response["Location"] == "/"
    appointment.refresh_from_db()
    assert appointment.status == S.NO_SHOW
    assert appointment.history.first().history_user == mediator
    body = mediator_client.get("/").content.decode()
    assert 'badge text-bg-warning">Absent</span>' in body


def test_cancelling_from_the_day_asks_first_and_tells_the_resident(
    mediator_client, mediator, place
):
    resident = ResidentFactory(structure=place.structure, phone="+33612345678")
    appointment = book(
        place=place,
        mediator=mediator,
        starts_at=timezone.now() + timedelta(minutes=30),
        resident=resident,
    )
    if timezone.localtime(appointment.starts_at, PARIS).date() != today():
        pytest.skip("too close to midnight for an appointment later today")
    body = mediator_client.get("/").content.decode()
    cancel_url = reverse(
        "agenda_appointment_cancel",
        kwargs={"structure": place.structure.slug, "appointment": appointment.pk},
    )
    assert f'href="{cancel_url}?next=/"' in body or f'href="{cancel_url}?next=%2F"' in body

    confirm = mediator_client.get(cancel_url, {"next": "/"}).content.decode()
    assert 'name="next" value="/"' in confirm
    response = mediator_client.post(cancel_url, {"next": "/"})

    assert response["Location"] == "/"
    appointment.refresh_from_db()
    assert appointment.status == S.CANCELLED_BY_STAFF
    assert Notification.objects.filter(
        appointment=appointment, kind=MessageKind.CANCELLATION
    ).exists()


def test_workshops_of_the_day_show_their_roster(mediator_client, mediator, place):
    workshop = WorkshopFactory(structure=place.structure, name="Atelier smartphone", capacity=8)
    slot = SlotFactory(
        place=place, motif=workshop, mediator=mediator, starts_at=at(today(), 14), seats_taken=2
    )
    for first, last in (("Nina", "Simone"), ("Yves", "Montand")):
        book(
            place=place,
            mediator=mediator,
            motif=workshop,
            slot=slot,
            starts_at=slot.starts_at,
            resident=ResidentFactory(structure=place.structure, first_name=first, last_name=last),
        )

    body = mediator_client.get("/").content.decode()

    assert "Ateliers du jour" in body and "Atelier smartphone" in body
    assert "Nina Simone" in body and "Yves Montand" in body
    assert "2 inscrit·es sur 8 places" in body
    # Their seats are not individual appointments.
    appointments = body.split('id="ateliers-du-jour"')[0]
    assert "Nina Simone" not in appointments


def test_follow_ups_due_today_or_late_of_which_the_mediator_is_referent(
    mediator_client, mediator, structure, second
):
    day_ = timezone.localdate()
    CaseFactory(structure=structure, mediator=mediator, title="Carte grise", next_action_on=day_)
    CaseFactory(
        structure=second["structure"],
        mediator=mediator,
        title="Dossier retraite",
        next_action_on=day_ - timedelta(days=3),
    )
    CaseFactory(
        structure=structure,
        mediator=mediator,
        title="Plus tard",
        next_action_on=day_ + timedelta(days=2),
    )
    CaseFactory(
        structure=structure,
        mediator=mediator,
        title="Déjà résolu",
        next_action_on=day_,
        status=CaseStatus.RESOLVED,
    )
    CaseFactory(
        structure=structure, mediator=member(structure), title="D'une collègue", next_action_on=day_
    )

    body = mediator_client.get("/").content.decode()

    assert "Suivis à faire aujourd'hui" in body
    assert names_in_order(body, ["Carte grise", "Dossier retraite"]) == [
        "Dossier retraite",
        "Carte grise",
    ]
    assert "en retard de 3 jours" in body
    for hidden in ("Plus tard", "Déjà résolu", "D&#x27;une collègue"):
        assert hidden not in body


def test_the_walk_in_button_leads_to_each_structures_session_form(
    mediator_client, structure, second
):
    body = mediator_client.get("/").content.decode()

    assert "Accueillir quelqu'un sans rendez-vous" in body
    # One route for everyone: the choice of the structure, one click, for a mediator of two.
    assert f'href="{reverse("desk_walk_in")}"' in body
    choice = mediator_client.get(reverse("desk_walk_in")).content.decode()
    for slug in (structure.slug, second["structure"].slug):
        assert f'href="{reverse("session_create", kwargs={"structure": slug})}"' in choice


def test_the_panels_come_in_their_registered_order(mediator_client, place):
    body = mediator_client.get("/").content.decode()
    marks = ["sans rendez-vous", "Rendez-vous du jour", "Suivis à faire", "Vos lieux de permanence"]
    assert names_in_order(body, marks) == marks


def test_a_coordinator_has_no_day(client, structure):
    client.force_login(member(structure, Role.COORDINATOR))
    body = client.get("/").content.decode()
    assert "Ma journée" not in body and "htmx" not in body
    assert client.get(reverse("day_panel"), {"panneau": PANEL}).status_code == 302


# --- Cost -----------------------------------------------------------------------------------


def _fill(mediator, n_structures: int, per_structure: int):
    day_ = today()
    for k in range(n_structures):
        structure = StructureFactory()
        MembershipFactory(user=mediator, structure=structure, role=Role.MEDIATOR)
        place = PlaceFactory(structure=structure)
        motif = MotifFactory(structure=structure, duration_minutes=10)
        for n in range(per_structure):
            book(
                place=place,
                mediator=mediator,
                motif=motif,
                starts_at=at(day_, 8) + timedelta(minutes=10 * (n * n_structures + k)),
            )
        CaseFactory(structure=structure, mediator=mediator, next_action_on=timezone.localdate())
        workshop = WorkshopFactory(structure=structure, duration_minutes=30)
        slot = SlotFactory(
            place=place,
            motif=workshop,
            mediator=mediator,
            starts_at=at(day_, 13) + timedelta(minutes=30 * k),
            seats_taken=2,
        )
        for _ in range(2):
            book(
                place=place, mediator=mediator, motif=workshop, slot=slot, starts_at=slot.starts_at
            )


def test_the_day_costs_the_same_queries_for_two_or_six_structures(
    client, django_assert_max_num_queries, django_assert_num_queries
):
    small, large = member(StructureFactory()), member(StructureFactory())
    _fill(small, 2, 2)
    _fill(large, 6, 5)
    counts = []
    for user in (small, large):
        client.force_login(user)
        client.get("/")  # the session's first request writes it
        with django_assert_max_num_queries(13) as captured:
            response = client.get("/")
        assert response.status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
    body = response.content.decode()
    assert body.count("card mb-2 day-appointment") == 6 * 5
    client.force_login(large)
    with django_assert_max_num_queries(10):
        assert refresh(client, "x").status_code == 200


# --- Live refresh ---------------------------------------------------------------------------


def test_the_refresh_answers_204_while_nothing_changed(mediator_client, mediator, place):
    book(place=place, mediator=mediator, starts_at=at(today(), 10))
    version = panel_version(mediator_client)

    response = refresh(mediator_client, version)

    assert response.status_code == 204


def test_the_refresh_brings_a_new_booking_then_its_cancellation(mediator_client, mediator, place):
    # Residents may cancel up to the start (no cut-off), so that the test runs at any hour.
    type(place.structure).objects.filter(pk=place.structure_id).update(cancel_cutoff_hours=0)
    version = panel_version(mediator_client)
    resident = ResidentFactory(structure=place.structure, first_name="Lucie", last_name="Nouvelle")
    # A resident books (written directly: the booking service refuses times already past,
    # and the panel only reads the table).
    appointment = book(
        place=place,
        mediator=mediator,
        starts_at=timezone.now() + timedelta(hours=2),
        resident=resident,
    )
    if timezone.localtime(appointment.starts_at, PARIS).date() != today():
        pytest.skip("too close to midnight for an appointment later today")

    response = refresh(mediator_client, version)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Lucie Nouvelle" in body and "À venir" in body
    # The fragment carries its new version: asking with it again changes nothing.
    version = re.search(r"v=(\w+)", body).group(1)
    assert refresh(mediator_client, version).status_code == 204

    # The resident cancels through their link.
    services.appointment_cancel(appointment=appointment, by_resident=True)

    response = refresh(mediator_client, version)
    assert response.status_code == 200
    assert "Annulé par l&#x27;usager" in response.content.decode()


def test_the_refresh_url_opened_by_hand_leads_home(mediator_client):
    assert mediator_client.get(reverse("day_panel"))["Location"] == "/"
    assert (
        mediator_client.get(reverse("day_panel"), {"panneau": "cases.followups"})["Location"] == "/"
    )
    # From the page (htmx), an unknown panel changes nothing.
    response = mediator_client.get(
        reverse("day_panel"), {"panneau": "nope"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 204


def test_the_version_ignores_the_csrf_token():
    first = '<form><input type="hidden" name="csrfmiddlewaretoken" value="abc"></form>'
    second = '<form><input type="hidden" name="csrfmiddlewaretoken" value="xyz"></form>'
    assert day.version_of(first) == day.version_of(second)
    assert day.version_of(first) != day.version_of(first.replace("form", "div"))


def test_every_panel_is_registered_from_the_apps_above():
    keys = [panel.key for panel in day.registered_panels()]
    assert keys == ["cases.walk_in", "bookings.appointments", "cases.followups"]
