import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from bookings.choices import AppointmentStatus
from bookings.models import Appointment, Slot
from bookings.services import booking as services
from tests.bookings.factories import (
    AbsenceFactory,
    MotifFactory,
    OpeningHoursFactory,
    WorkshopFactory,
)
from tests.factories import PlaceFactory, ResidentFactory, UserFactory

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MONDAY_9H = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # 09:00 in Paris


@pytest.fixture
def desk(db):
    place = PlaceFactory()
    motif = MotifFactory(structure=place.structure)
    mediator = UserFactory()
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    return place, motif, mediator


def book(desk, starts_at=MONDAY_9H, resident=None, **kwargs):
    place, motif, mediator = desk
    resident = resident or ResidentFactory(structure=place.structure)
    return services.appointment_book(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=starts_at,
        resident=resident,
        now=NOW,
        **kwargs,
    )


def test_booking_takes_the_slot_and_records_who(desk):
    booker = UserFactory()
    appointment = book(desk, by=booker, need="Carte d'identité")
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=30)
    assert len(appointment.token) >= 40
    assert appointment.history.first().history_user == booker
    assert Slot.objects.get().seats_taken == 1


def test_resident_cannot_book_a_slot_taken_meanwhile(desk):
    book(desk)
    with pytest.raises(services.SlotTaken) as error:
        book(desk)
    assert "Ce créneau vient d'être pris" in error.value.messages[0]
    assert Appointment.objects.count() == 1


def test_a_slot_outside_opening_hours_is_refused(desk):
    with pytest.raises(ValidationError) as error:
        book(desk, starts_at=MONDAY_9H + timedelta(hours=5))
    assert "starts_at" in error.value.error_dict
    assert not Slot.objects.exists()


def test_a_past_slot_is_refused(desk):
    with pytest.raises(ValidationError):
        book(desk, starts_at=NOW - timedelta(days=1))


def test_an_absence_makes_the_slot_unavailable(desk):
    place, _motif, mediator = desk
    AbsenceFactory(
        structure=place.structure,
        mediator=mediator,
        starts_at=MONDAY_9H,
        ends_at=MONDAY_9H + timedelta(hours=3),
    )
    with pytest.raises(ValidationError):
        book(desk)


def test_staff_only_motif_cannot_be_booked_online(desk):
    place, motif, mediator = desk
    motif.bookable_online = False
    motif.save()
    with pytest.raises(ValidationError):
        book(desk, online=True)
    assert book(desk, online=False).pk


def test_objects_of_another_structure_are_refused(desk):
    place, motif, mediator = desk
    stranger = ResidentFactory()
    with pytest.raises(ValidationError):
        book(desk, resident=stranger)


def test_a_workshop_fills_up_to_its_capacity_and_no_more(db):
    place = PlaceFactory()
    workshop = WorkshopFactory(structure=place.structure, capacity=3)
    mediator = UserFactory()
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[workshop])
    for _ in range(3):
        services.appointment_book(
            place=place,
            motif=workshop,
            mediator=mediator,
            starts_at=MONDAY_9H,
            now=NOW,
            resident=ResidentFactory(structure=place.structure),
        )
    with pytest.raises(services.SlotTaken):
        services.appointment_book(
            place=place,
            motif=workshop,
            mediator=mediator,
            starts_at=MONDAY_9H,
            now=NOW,
            resident=ResidentFactory(structure=place.structure),
        )
    slot = Slot.objects.get()
    assert (slot.seats_taken, slot.capacity) == (3, 3)


def test_cancelling_frees_the_slot_for_someone_else(desk):
    appointment = book(desk)
    services.appointment_cancel(appointment=appointment, by_resident=True, now=NOW)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED_BY_RESIDENT
    assert book(desk).pk


def test_resident_cannot_cancel_after_the_cutoff(desk):
    appointment = book(desk)
    late = MONDAY_9H - timedelta(hours=2)
    with pytest.raises(ValidationError) as error:
        services.appointment_cancel(appointment=appointment, by_resident=True, now=late)
    assert "trop tard" in error.value.messages[0]
    services.appointment_cancel(appointment=appointment, by_resident=False, now=late)


def test_cancelling_twice_is_refused(desk):
    appointment = book(desk)
    services.appointment_cancel(appointment=appointment, by_resident=False, now=NOW)
    with pytest.raises(ValidationError):
        services.appointment_cancel(appointment=appointment, by_resident=False, now=NOW)


def test_moving_replaces_the_appointment_and_keeps_the_old_one_cancelled(desk):
    appointment = book(desk, need="Impôts")
    new = services.appointment_move(
        appointment=appointment,
        starts_at=MONDAY_9H + timedelta(minutes=30),
        by_resident=True,
        now=NOW,
    )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED_BY_RESIDENT
    assert new.moved_from == appointment and new.need == "Impôts"
    assert new.token != appointment.token


def test_a_failed_move_keeps_the_original_appointment(desk):
    appointment = book(desk)
    other = book(desk, starts_at=MONDAY_9H + timedelta(minutes=30))
    with pytest.raises(services.SlotTaken):
        services.appointment_move(
            appointment=appointment, starts_at=other.starts_at, by_resident=True, now=NOW
        )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_public_booking_saves_the_resident_and_appointment_together(desk):
    place, motif, _mediator = desk
    appointment = services.public_booking_make(
        place=place,
        motif=motif,
        starts_at=MONDAY_9H,
        first_name="Éric",
        last_name="Dupont",
        phone="+33612345678",
        now=NOW,
    )
    assert appointment.resident.first_name == "Éric" and appointment.booked_online
    from mediation.models import Resident

    with pytest.raises(services.SlotTaken):
        services.public_booking_make(
            place=place,
            motif=motif,
            starts_at=MONDAY_9H,
            first_name="Anne",
            last_name="Martin",
            phone="+33698765432",
            now=NOW,
        )
    assert not Resident.objects.filter(last_name="Martin").exists()


def test_public_booking_with_two_mediators_gives_the_time_to_either(desk):
    place, motif, _mediator = desk
    OpeningHoursFactory(place=place, mediator=UserFactory(), motifs=[motif])
    for phone in ("+33612345678", "+33612345679"):
        services.public_booking_make(
            place=place,
            motif=motif,
            starts_at=MONDAY_9H,
            first_name="A",
            last_name=phone[-2:],
            phone=phone,
            now=NOW,
        )
    assert Appointment.objects.values("mediator").distinct().count() == 2


def test_a_returning_resident_keeps_one_record(desk):
    place, motif, _mediator = desk
    for offset in (0, 30):
        services.public_booking_make(
            place=place,
            motif=motif,
            starts_at=MONDAY_9H + timedelta(minutes=offset),
            first_name="Éric",
            last_name="Dupont",
            phone="+33612345678",
            now=NOW,
        )
    assert Appointment.objects.values("resident").distinct().count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [8])
def test_two_residents_can_never_get_the_same_slot_under_concurrency(workers):
    """Threads race for one slot through the real service: exactly one wins. On PostgreSQL
    the exclusion constraint decides; on SQLite the IMMEDIATE transactions serialise."""
    place = PlaceFactory()
    motif = MotifFactory(structure=place.structure)
    mediator = UserFactory()
    OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif])
    residents = [ResidentFactory(structure=place.structure) for _ in range(workers)]
    barrier = threading.Barrier(workers)
    outcomes = []

    def attempt(resident):
        try:
            barrier.wait()
            services.appointment_book(
                place=place,
                motif=motif,
                mediator=mediator,
                starts_at=MONDAY_9H,
                resident=resident,
                now=NOW,
            )
            outcomes.append("booked")
        except services.SlotTaken:
            outcomes.append("taken")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(r,)) for r in residents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked"] + ["taken"] * (workers - 1)
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_database_itself_refuses_overlapping_slots_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("exclusion constraints are PostgreSQL's")
    from django.db import IntegrityError

    from tests.bookings.factories import SlotFactory

    first = SlotFactory(starts_at=MONDAY_9H)
    with pytest.raises(IntegrityError):
        SlotFactory(
            place=first.place,
            motif=first.motif,
            mediator=first.mediator,
            starts_at=MONDAY_9H + timedelta(minutes=15),
        )


def test_booking_records_a_confirmation_and_a_reminder(desk, django_capture_on_commit_callbacks):
    from bookings.choices import MessageKind
    from bookings.models import Notification

    place, _motif, _mediator = desk
    resident = ResidentFactory(structure=place.structure, phone="+33612345678")
    with django_capture_on_commit_callbacks(execute=False):
        appointment = book(desk, resident=resident)
    kinds = set(Notification.objects.filter(appointment=appointment).values_list("kind", flat=True))
    assert kinds == {MessageKind.CONFIRMATION, MessageKind.REMINDER}


def test_a_move_sends_one_moved_notice_and_nothing_about_the_old_one(desk):
    from bookings.choices import MessageKind, MessageStatus
    from bookings.models import Notification

    place, _motif, _mediator = desk
    resident = ResidentFactory(structure=place.structure, phone="+33612345678")
    old = book(desk, resident=resident)
    new = services.appointment_move(
        appointment=old, starts_at=MONDAY_9H + timedelta(minutes=30), by_resident=True, now=NOW
    )
    pending_old = Notification.objects.filter(appointment=old, status=MessageStatus.PENDING)
    assert not pending_old.exists()
    assert Notification.objects.filter(appointment=new, kind=MessageKind.MOVED).count() == 1


def test_a_cancellation_offers_the_slot_to_the_first_ones_on_the_waiting_list(desk):
    from bookings.choices import MessageKind, WaitlistStatus
    from bookings.models import Notification, WaitlistEntry

    place, motif, _mediator = desk
    appointment = book(desk)
    entries = [
        services.waitlist_join(
            place=place, motif=motif, first_name=f"P{i}", phone=f"+3361234567{i}"
        )
        for i in range(5)
    ]
    services.appointment_cancel(appointment=appointment, by_resident=True, now=NOW)
    statuses = [WaitlistEntry.objects.get(pk=e.pk).status for e in entries]
    assert statuses == [WaitlistStatus.OFFERED] * 3 + [WaitlistStatus.WAITING] * 2
    assert Notification.objects.filter(kind=MessageKind.WAITLIST_OFFER).count() == 3


def test_the_old_half_of_a_move_is_moved_away_not_a_plain_cancellation(desk):
    old = book(desk)
    new = services.appointment_move(
        appointment=old, starts_at=MONDAY_9H + timedelta(minutes=30), by_resident=True, now=NOW
    )
    cancelled = book(desk, starts_at=MONDAY_9H + timedelta(hours=1))
    services.appointment_cancel(appointment=cancelled, by_resident=True, now=NOW)
    old = Appointment.objects.get(pk=old.pk)
    cancelled = Appointment.objects.get(pk=cancelled.pk)
    assert old.is_moved_away and old.status_label == "Déplacé"
    assert not new.is_moved_away and not cancelled.is_moved_away
    assert cancelled.status_label == "Annulé par l'usager"
    assert set(Appointment.objects.moved_away()) == {old}
    assert set(Appointment.objects.not_moved_away()) == {new, cancelled}
