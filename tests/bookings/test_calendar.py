"""The resident's calendar event through an appointment's life: one UID, a SEQUENCE that grows
with each change, REQUEST at booking and moves, CANCEL at cancellation, the private link's
`.ics` always the current version.

Every file is read back with vobject, an iCalendar parser independent of the `icalendar`
library that writes them."""

import email
from datetime import UTC, datetime, time, timedelta

import pytest
import vobject
from django.core.cache import cache
from django.urls import reverse

from bookings.choices import AppointmentStatus
from bookings.ics import appointment_ics
from bookings.models import Appointment
from bookings.services import booking as services
from tests.bookings.factories import MotifFactory, OpeningHoursFactory
from tests.factories import PlaceFactory, ResidentFactory, StructureFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MONDAY_9H = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # 09:00 in Paris
UTC_OFFSET = timedelta(0)


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://rdv.example.org"
    cache.clear()  # the private link's rate limit


@pytest.fixture
def desk():
    structure = StructureFactory(name="Mairie de Lohéac", email="accueil@loheac.example.org")
    place = PlaceFactory(structure=structure, name="Salle du conseil")
    motif = MotifFactory(structure=structure, name="Aide CAF")
    OpeningHoursFactory(
        place=place,
        mediator=UserFactory(),
        motifs=[motif],
        weekdays=list(range(7)),
        start_time=time(9),
        end_time=time(17),
    )
    resident = ResidentFactory(
        structure=structure, first_name="Awa", phone="", email="awa@example.org"
    )
    return place, motif, resident


def parse(data) -> vobject.base.Component:
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return vobject.readOne(text)


def event_of(calendar):
    [event] = calendar.vevent_list
    return event


def sent_calendars(mailoutbox) -> list[tuple[str, vobject.base.Component, bytes]]:
    """(method in the Content-Type, parsed calendar, attached file) of each e-mail, as a mail
    client receives it (the raw message parsed again)."""
    found = []
    for mail in mailoutbox:
        message = email.message_from_bytes(mail.message().as_bytes())
        inline = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        attached = [p for p in message.walk() if p.get_filename() == "rendez-vous.ics"]
        assert len(inline) == 1 and len(attached) == 1, mail.subject
        [part], [attachment] = inline, attached
        # The inline event is an alternative of the text body.
        assert any(
            p.get_content_type() == "multipart/alternative"
            and part in p.get_payload()
            and any(q.get_content_type() == "text/plain" for q in p.get_payload())
            for p in message.walk()
        )
        assert attachment.get_content_type() == "application/ics"
        calendar = parse(part.get_payload(decode=True))
        # The same file (a text part's line ends are the mail's own).
        inline_data = part.get_payload(decode=True).replace(b"\r\n", b"\n")
        assert attachment.get_payload(decode=True).replace(b"\r\n", b"\n") == inline_data
        found.append((part.get_param("method"), calendar, attachment.get_payload(decode=True)))
    return found


def book(place, motif, resident, starts_at=MONDAY_9H):
    return services.appointment_book(
        place=place,
        motif=motif,
        mediator=place.opening_hours.first().mediator,
        starts_at=starts_at,
        resident=resident,
        now=NOW,
    )


def link_calendar(client, appointment) -> vobject.base.Component:
    response = client.get(reverse("public_ics", kwargs={"token": appointment.token}))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return parse(response.content)


def test_one_event_for_the_whole_life_of_an_appointment(
    client, desk, mailoutbox, django_capture_on_commit_callbacks
):
    place, motif, resident = desk
    with django_capture_on_commit_callbacks(execute=True):
        first = book(place, motif, resident)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.appointment_move(
            appointment=first, starts_at=MONDAY_9H + timedelta(days=1), by_resident=True, now=NOW
        )
    with django_capture_on_commit_callbacks(execute=True):
        third = services.appointment_move(
            appointment=second, starts_at=MONDAY_9H + timedelta(days=2), by_resident=False, now=NOW
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel(appointment=third, by_resident=False, now=NOW)

    sent = sent_calendars(mailoutbox)
    assert [mail.subject.split(" ")[1] for mail in mailoutbox] == [
        "confirmé",
        "déplacé",
        "déplacé",
        "du",  # "Rendez-vous du … annulé"
    ]
    assert [method for method, _calendar, _file in sent] == [
        "REQUEST",
        "REQUEST",
        "REQUEST",
        "CANCEL",
    ]
    events = [event_of(calendar) for _method, calendar, _file in sent]
    assert [calendar.method.value for _m, calendar, _f in sent] == [
        "REQUEST",
        "REQUEST",
        "REQUEST",
        "CANCEL",
    ]
    uid = f"appointment-{first.pk}@rdv.example.org"
    assert {event.uid.value for event in events} == {uid}
    sequences = [int(event.sequence.value) for event in events]
    assert sequences == sorted(set(sequences)), sequences  # strictly increasing
    assert [event.status.value for event in events] == ["CONFIRMED"] * 3 + ["CANCELLED"]
    assert [event.dtstart.value for event in events] == [
        MONDAY_9H,
        MONDAY_9H + timedelta(days=1),
        MONDAY_9H + timedelta(days=2),
        MONDAY_9H + timedelta(days=2),
    ]
    assert all(event.dtstart.value.utcoffset() == UTC_OFFSET for event in events)
    for event in events:
        assert event.organizer.value == "mailto:accueil@loheac.example.org"
        assert event.organizer.params["CN"] == ["Mairie de Lohéac"]
        assert event.attendee.value == "mailto:awa@example.org"
        assert event.attendee.params["CN"] == ["Awa"]

    # Every private link, old ones included, serves the current version: cancelled.
    for appointment in (first, second, third):
        event = event_of(link_calendar(client, appointment))
        assert event.uid.value == uid
        assert int(event.sequence.value) == sequences[-1]
        assert event.status.value == "CANCELLED"
        assert event.dtstart.value == MONDAY_9H + timedelta(days=2)


def test_the_old_link_of_a_moved_appointment_serves_the_new_time(client, desk):
    place, motif, resident = desk
    first = book(place, motif, resident)
    before = event_of(link_calendar(client, first))
    new = services.appointment_move(
        appointment=first, starts_at=MONDAY_9H + timedelta(hours=3), by_resident=True, now=NOW
    )
    old_file, new_file = link_calendar(client, first), link_calendar(client, new)
    assert old_file.method.value == new_file.method.value == "PUBLISH"
    old_link, new_link = event_of(old_file), event_of(new_file)
    for event in (old_link, new_link):
        assert event.uid.value == before.uid.value
        assert int(event.sequence.value) > int(before.sequence.value)
        assert event.dtstart.value == MONDAY_9H + timedelta(hours=3)
        assert event.status.value == "CONFIRMED"
        assert f"/rdv/a/{new.token}/" in event.url.value
    assert not hasattr(old_link, "attendee")  # the link's file names nobody


def test_a_cancelled_appointment_serves_its_cancellation_not_a_404(client, desk):
    place, motif, resident = desk
    appointment = book(place, motif, resident)
    booked = event_of(link_calendar(client, appointment))
    services.appointment_cancel(appointment=appointment, by_resident=True, now=NOW)
    cancelled = event_of(link_calendar(client, appointment))
    assert cancelled.uid.value == booked.uid.value
    assert cancelled.status.value == "CANCELLED"
    assert int(cancelled.sequence.value) == int(booked.sequence.value) + 1


def test_a_change_of_place_or_motif_is_a_new_version_an_outcome_is_not(desk):
    place, motif, resident = desk
    appointment = book(place, motif, resident)
    assert appointment.calendar_sequence == 0
    appointment = Appointment.objects.get(pk=appointment.pk)
    appointment.place = PlaceFactory(structure=place.structure)
    appointment.save(update_fields=["place"])
    assert Appointment.objects.get(pk=appointment.pk).calendar_sequence == 1
    appointment = Appointment.objects.get(pk=appointment.pk)
    appointment.motif = MotifFactory(structure=place.structure)
    appointment.save()
    assert Appointment.objects.get(pk=appointment.pk).calendar_sequence == 2
    appointment = Appointment.objects.get(pk=appointment.pk)
    appointment.need = "Dossier CAF"
    appointment.save()
    assert Appointment.objects.get(pk=appointment.pk).calendar_sequence == 2
    services.appointment_set_status(
        appointment=appointment,
        to=AppointmentStatus.SEEN,
        by=None,
        now=MONDAY_9H + timedelta(minutes=5),
    )
    assert Appointment.objects.get(pk=appointment.pk).calendar_sequence == 2


def test_times_are_the_same_instant_for_an_independent_parser_overseas():
    structure = StructureFactory(email="")
    place = PlaceFactory(structure=structure, name="Kaz Numérik", commune="Saint-Pierre")
    place.time_zone = "Indian/Reunion"
    place.save()
    motif = MotifFactory(structure=structure, duration_minutes=30)
    OpeningHoursFactory(
        place=place, mediator=UserFactory(), motifs=[motif], start_time=time(9), end_time=time(17)
    )
    # Monday 4 January 2027, 14:30 in Saint-Pierre (UTC+4, no daylight saving time).
    starts_at = datetime(2027, 1, 4, 10, 30, tzinfo=UTC)
    appointment = book(place, motif, ResidentFactory(structure=structure), starts_at=starts_at)
    for method in ("PUBLISH", "REQUEST", "CANCEL"):
        data = appointment_ics(appointment, method=method, attendee="a@example.org")
        event = event_of(parse(data))
        assert event.dtstart.value == starts_at
        assert event.dtend.value == starts_at + timedelta(minutes=30)
        assert b"DTSTART:20270104T103000Z" in data
        # Without the structure's address, the sender's.
        assert event.organizer.value == "mailto:ne-pas-repondre@localhost"
    assert event.status.value == "CANCELLED"  # CANCEL says so even before the status changes
