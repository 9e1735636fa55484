"""Issue #14, "wrong today": three answers of the slot engine and the booking service that the
established booking tools give differently (each test failed before its fix).

1. A mediator removed from a structure (membership ended, or account deactivated) is offered
   nowhere in it from that moment, and cannot be booked there.
2. A dated workshop session with participants and seats left stays bookable whatever later
   happens to the recurring opening hours that produced it.
3. After a motif's duration changes, new offers use the new duration; existing appointments (and
   the workshop sessions they sit in) keep their times, and what is offered is what is booked."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from bookings.models import Appointment
from bookings.services import booking as services
from bookings.slots import free_slots, is_offered
from mediation.choices import Role
from mediation.models import Membership
from mediation.services import membership_remove
from tests.bookings.factories import MotifFactory, OpeningHoursFactory, WorkshopFactory
from tests.conftest import member
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MONDAY = date(2027, 1, 4)
MONDAY_9H = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # 09:00 in Paris


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def whole_day(place, day=MONDAY):
    start = datetime.combine(day, time(0), tzinfo=place.tzinfo)
    return {"start": start, "end": start + timedelta(days=1)}


def offer(place, motif, **kwargs):
    kwargs.setdefault("now", NOW)
    return free_slots(place=place, motif=motif, **whole_day(place), **kwargs)


def book(place, motif, mediator, starts_at=MONDAY_9H, **kwargs):
    kwargs.setdefault("now", NOW)
    return services.appointment_book(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=starts_at,
        resident=ResidentFactory(structure=place.structure),
        **kwargs,
    )


# 1. A mediator removed from a structure


@pytest.fixture
def motif(structure):
    return MotifFactory(structure=structure, duration_minutes=30)


def test_a_mediator_whose_membership_was_removed_is_offered_no_more(
    place, motif, mediator, structure_admin
):
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    assert len(offer(place, motif)) == 6

    membership_remove(
        membership=Membership.objects.get(user=mediator, structure=place.structure),
        by=structure_admin,
    )

    assert offer(place, motif) == []
    assert offer(place, motif, respect_booking_window=False) == []


def test_a_mediator_who_became_coordinator_only_is_offered_no_more(place, motif, mediator):
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    Membership.objects.filter(user=mediator).update(role=Role.COORDINATOR)

    assert offer(place, motif) == []


def test_a_mediator_of_another_structure_only_is_not_offered_here(place, motif):
    elsewhere = member(structure=MotifFactory().structure)
    OpeningHoursFactory(place=place, mediator=elsewhere, motifs=[motif], member=False)

    assert offer(place, motif) == []


def test_colleagues_still_members_are_offered(place, motif, mediator, structure_admin):
    colleague = member(place.structure)
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    OpeningHoursFactory(place=place, mediator=colleague, motifs=[motif])
    Membership.objects.filter(user=mediator).delete()

    assert {slot.mediator_id for slot in offer(place, motif)} == {colleague.pk}


def test_a_removed_mediator_cannot_be_booked_at_the_desk_or_online(place, motif, mediator):
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    Membership.objects.filter(user=mediator).delete()

    for online in (False, True):
        with pytest.raises(ValidationError) as error:
            book(place, motif, mediator, online=online)
        assert error.value.code == "not_taking_appointments"
    with pytest.raises(ValidationError):
        services.public_booking_make(
            place=place,
            motif=motif,
            starts_at=MONDAY_9H,
            first_name="Éric",
            last_name="Dupont",
            phone="+33612345678",
            now=NOW,
        )
    assert not Appointment.objects.exists()


# 2. A dated workshop session outlives the hours that produced it


@pytest.fixture
def workshop(structure):
    return WorkshopFactory(structure=structure, capacity=8, duration_minutes=120)


def _session_with_one_participant(place, workshop, mediator):
    hours = OpeningHoursFactory(
        place=place,
        mediator=mediator,
        motifs=[workshop],
        weekdays=[0],
        start_time=time(14),
        end_time=time(16),
    )
    starts_at = utc(2027, 1, 4, 13)  # 14:00 in Paris
    first = book(place, workshop, mediator, starts_at=starts_at)
    return hours, first


def test_a_session_with_seats_left_stays_offered_when_its_hours_end(place, workshop, mediator):
    hours, first = _session_with_one_participant(place, workshop, mediator)
    hours.first_day, hours.last_day = date(2026, 12, 7), date(2026, 12, 31)
    hours.save()

    slots = offer(place, workshop)

    assert [(s.starts_at, s.ends_at, s.seats_left) for s in slots] == [
        (first.starts_at, first.ends_at, 7)
    ]
    second = book(place, workshop, mediator, starts_at=first.starts_at)
    assert second.slot_id == first.slot_id


def test_a_session_stays_offered_when_its_hours_are_moved_or_deleted(place, workshop, mediator):
    hours, first = _session_with_one_participant(place, workshop, mediator)
    hours.start_time, hours.end_time = time(9), time(11)
    hours.save()

    assert (first.starts_at, 7) in [(s.starts_at, s.seats_left) for s in offer(place, workshop)]

    hours.delete()

    assert [(s.starts_at, s.seats_left) for s in offer(place, workshop)] == [(first.starts_at, 7)]
    assert is_offered(
        place=place, motif=workshop, mediator_id=mediator.pk, starts_at=first.starts_at, now=NOW
    )


def test_a_session_is_not_offered_once_full_cancelled_or_past(place, workshop, mediator):
    hours, first = _session_with_one_participant(place, workshop, mediator)
    hours.delete()

    services.appointment_cancel(appointment=first, by_resident=False, now=NOW)
    assert offer(place, workshop) == []
    assert offer(place, workshop, now=first.starts_at + timedelta(minutes=1)) == []


def test_a_full_session_is_not_offered_without_its_hours(place, workshop, mediator):
    hours, first = _session_with_one_participant(place, workshop, mediator)
    hours.delete()
    first.slot.__class__.objects.filter(pk=first.slot_id).update(seats_taken=8)

    assert offer(place, workshop) == []


def test_a_session_still_respects_the_online_booking_window(place, workshop, mediator):
    hours, first = _session_with_one_participant(place, workshop, mediator)
    hours.delete()
    workshop.min_delay_minutes = 24 * 60
    workshop.save()
    the_day_before = first.starts_at - timedelta(hours=12)

    assert offer(place, workshop, now=the_day_before) == []
    assert len(offer(place, workshop, now=the_day_before, respect_booking_window=False)) == 1


def test_a_session_of_a_removed_mediator_is_not_offered(place, workshop, mediator):
    hours, first = _session_with_one_participant(place, workshop, mediator)
    Membership.objects.filter(user=mediator).delete()

    assert offer(place, workshop) == []


# 3. After a motif's duration changes


def test_new_offers_use_the_new_duration_and_old_appointments_keep_theirs(place, motif, mediator):
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    old = book(place, motif, mediator)
    motif.duration_minutes = 45
    motif.save()

    slots = offer(place, motif)
    new = book(place, motif, mediator, starts_at=slots[0].starts_at)

    assert all(s.ends_at - s.starts_at == timedelta(minutes=45) for s in slots)
    assert new.ends_at - new.starts_at == timedelta(minutes=45)
    old.refresh_from_db()
    assert old.ends_at - old.starts_at == timedelta(minutes=30)


@pytest.mark.parametrize("new_duration", [60, 180])
def test_a_session_is_offered_with_the_times_it_is_booked_with(
    place, workshop, mediator, new_duration
):
    """A session booked at 2 h keeps 14:00–16:00 whatever the motif's new duration: the offer
    says 16:00, the booking gives 16:00, and the session's participants share one time."""
    hours, first = _session_with_one_participant(place, workshop, mediator)
    hours.end_time = time(18)
    hours.save()
    workshop.duration_minutes = new_duration
    workshop.save()

    offered = is_offered(
        place=place, motif=workshop, mediator_id=mediator.pk, starts_at=first.starts_at, now=NOW
    )
    second = book(place, workshop, mediator, starts_at=first.starts_at)

    assert (offered.starts_at, offered.ends_at) == (first.starts_at, first.ends_at)
    assert (second.starts_at, second.ends_at) == (first.starts_at, first.ends_at)
    # A new session after it takes the new duration.
    later = [s for s in offer(place, workshop) if s.starts_at >= first.ends_at]
    for slot in later:
        assert slot.ends_at - slot.starts_at == timedelta(minutes=new_duration)


# 1 (continued). Nor do they appear where the structure's mediators are listed.


def test_a_removed_mediator_leaves_the_agendas_mediator_filter(
    structure, place, mediator, structure_admin, motif
):
    from bookings.selectors import structure_mediators

    colleague = member(structure, Role.MEDIATOR)
    for person in (mediator, colleague):
        OpeningHoursFactory(place=place, mediator=person, motifs=[motif])
    assert set(structure_mediators(structure_admin, structure)) == {mediator, colleague}

    Membership.objects.filter(user=mediator, structure=structure).delete()

    assert list(structure_mediators(structure_admin, structure)) == [colleague]
