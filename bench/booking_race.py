"""Concurrent booking race: 32 workers race for the same 10 slots, 20 rounds, through the
service the booking pages call (bookings.services.booking.appointment_book); then 32 workers
race for the 8 seats of a workshop session, 10 rounds: never more participants than seats.

Meant for PostgreSQL (the exclusion constraint is the guarantee there):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/permanence \
        .venv/bin/python bench/booking_race.py
On SQLite it shows the IMMEDIATE transactions serialising the same race.
Last line: attempts=… booked=… double_bookings=… bookings_per_s=… seats=… seated=…
overbooked_sessions=…"""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from datetime import time as dtime

from common import finish, setup_django

setup_django("booking_race")

from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402

from bookings.models import Appointment, Motif, OpeningHours, Slot  # noqa: E402
from bookings.services.booking import SlotTaken, appointment_book  # noqa: E402
from bookings.slots import free_slots  # noqa: E402
from mediation.choices import Role  # noqa: E402
from mediation.models import Membership, Place, Resident, Structure, User  # noqa: E402

WORKERS = 32
SLOTS = 10
ROUNDS = 20
SEATS = 8  # a workshop's seats
WORKSHOP_ROUNDS = 10


def setup():
    structure = Structure.objects.create(name="Course", slug="course", kind="mairie")
    place = Place.objects.create(
        structure=structure,
        name="Lieu",
        address="1 rue",
        postcode="35000",
        commune="Rennes",
        insee_code="35238",
    )
    motif = Motif.objects.create(
        structure=structure, name="Aide", duration_minutes=30, min_delay_minutes=0
    )
    mediator = User.objects.create_user(email="course@exemple.fr", first_name="M", last_name="M")
    Membership.objects.create(user=mediator, structure=structure, role=Role.MEDIATOR)
    # One opening of 10 half-hour slots per weekday, for ROUNDS weekdays from next Monday.
    today = timezone.localdate()
    first = today + timedelta(days=7 - today.weekday())
    hours = OpeningHours.objects.create(
        place=place,
        mediator=mediator,
        weekdays=[0, 1, 2, 3, 4],
        start_time=dtime(9, 0),
        end_time=dtime(14, 0),
        first_day=first,
    )
    hours.motifs.add(motif)
    residents = Resident.objects.bulk_create(
        Resident(structure=structure, first_name="Usager", last_name=str(i))
        for i in range(WORKERS * (ROUNDS + WORKSHOP_ROUNDS))
    )
    # A workshop on Saturdays, another mediator: one two-hour session of SEATS seats a week.
    workshop = Motif.objects.create(
        structure=structure,
        name="Atelier smartphone",
        duration_minutes=120,
        min_delay_minutes=0,
        max_delay_days=400,
        is_collective=True,
        capacity=SEATS,
    )
    host = User.objects.create_user(email="atelier@exemple.fr", first_name="A", last_name="A")
    Membership.objects.create(user=host, structure=structure, role=Role.MEDIATOR)
    saturdays = OpeningHours.objects.create(
        place=place,
        mediator=host,
        weekdays=[5],
        start_time=dtime(14, 0),
        end_time=dtime(16, 0),
        first_day=first,
    )
    saturdays.motifs.add(workshop)
    return place, motif, mediator, first, residents, workshop, host


def workshop_race(place, workshop, host, first, residents) -> tuple[int, int]:
    """WORKERS residents at once for each session's SEATS seats: (seated, overbooked)."""
    seated = 0
    lock = threading.Lock()
    start = datetime.combine(first, dtime(0, 0), tzinfo=place.tzinfo)
    sessions = free_slots(
        place=place, motif=workshop, start=start, end=start + timedelta(weeks=WORKSHOP_ROUNDS + 4)
    )[:WORKSHOP_ROUNDS]
    assert len(sessions) == WORKSHOP_ROUNDS, len(sessions)
    for round_no, session in enumerate(sessions):
        barrier = threading.Barrier(WORKERS)

        def worker(index, session=session, barrier=barrier, round_no=round_no):
            nonlocal seated
            resident = residents[(ROUNDS + round_no) * WORKERS + index]
            barrier.wait()
            try:
                appointment_book(
                    place=place,
                    motif=workshop,
                    mediator=host,
                    starts_at=session.starts_at,
                    resident=resident,
                )
            except SlotTaken:
                return
            finally:
                connections.close_all()
            with lock:
                seated += 1

        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(worker, range(WORKERS)))
    overbooked = sum(
        1
        for slot in Slot.objects.filter(motif=workshop)
        if slot.seats_taken > slot.capacity
        or Appointment.objects.filter(slot=slot, status="booked").count() > slot.capacity
    )
    return seated, overbooked


def weekdays_from(first: date, count: int):
    day = first
    while count:
        if day.weekday() < 5:
            yield day
            count -= 1
        day += timedelta(days=1)


def main():
    place, motif, mediator, first, residents, workshop, host = setup()
    attempts = booked = lost = 0
    lock = threading.Lock()
    started = time.perf_counter()
    days = weekdays_from(first, ROUNDS * 2)
    for round_no in range(ROUNDS):
        offer = []
        while len(offer) < SLOTS:  # public holidays offer nothing: take the next day
            start = datetime.combine(next(days), dtime(0, 0), tzinfo=place.tzinfo)
            offer = free_slots(
                place=place, motif=motif, start=start, end=start + timedelta(days=1)
            )[:SLOTS]
        barrier = threading.Barrier(WORKERS)

        def worker(index, offer=offer, barrier=barrier, round_no=round_no):
            nonlocal attempts, booked, lost
            rng = random.Random(index * 1000 + round_no)
            choices = offer[:]
            rng.shuffle(choices)
            resident = residents[round_no * WORKERS + index]
            barrier.wait()
            try:
                for slot in choices:  # try until one succeeds or every slot is gone
                    with lock:
                        attempts += 1
                    try:
                        appointment_book(
                            place=place,
                            motif=motif,
                            mediator=mediator,
                            starts_at=slot.starts_at,
                            resident=resident,
                        )
                    except SlotTaken:
                        with lock:
                            lost += 1
                        continue
                    with lock:
                        booked += 1
                    return
            finally:
                connections.close_all()

        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(worker, range(WORKERS)))
    elapsed = time.perf_counter() - started

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT COUNT(*) FROM bookings_appointment a JOIN bookings_appointment b
               ON a.mediator_id = b.mediator_id AND a.id < b.id
               AND a.status = 'booked' AND b.status = 'booked'
               AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"""
        )
        double_bookings = cursor.fetchone()[0]
    stored = Appointment.objects.filter(status="booked", motif=motif).count()
    print(f"database={connection.vendor} workers={WORKERS} slots={SLOTS} rounds={ROUNDS}")
    print(
        f"attempts={attempts} booked={booked} (stored {stored}) lost_races={lost} "
        f"elapsed={elapsed:.2f}s"
    )
    assert stored == booked
    seated, overbooked = workshop_race(place, workshop, host, first, residents)
    print(
        f"workshop: {WORKSHOP_ROUNDS} sessions of {SEATS} seats, {WORKERS} residents at once "
        f"for each: {seated} seated, {overbooked} session(s) over their seats"
    )
    finish(
        attempts=attempts,
        booked=booked,
        double_bookings=double_bookings,
        bookings_per_s=booked / elapsed,
        seats=SEATS * WORKSHOP_ROUNDS,
        seated=seated,
        overbooked_sessions=overbooked,
    )
    # Non-zero exit when the guarantee breaks: CI runs this script on PostgreSQL.
    if double_bookings or booked != SLOTS * ROUNDS:
        raise SystemExit(f"FAILED: {double_bookings} double bookings, {booked} booked")
    if overbooked or seated != SEATS * WORKSHOP_ROUNDS:
        raise SystemExit(f"FAILED: {overbooked} workshop sessions overbooked, {seated} seated")


if __name__ == "__main__":
    main()
