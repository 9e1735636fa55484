"""Free-slot engine: every free slot of one place over 12 weeks, 10 mediators.

Each mediator opens Monday to Friday 09:00–12:00 and 13:30–17:00 for a 30-minute motif; 40 % of
the pieces are already taken (active slots, a quarter of them of a motif with a 10-minute
buffer after) and some mediators are away for a while; only members of the structure are
offered. The motif has day limits (issue #14): at most 42 appointments a day in all and 5 per
mediator, so some days and some mediators' days are full (read in the same slot query).
Exceptional days (issue #14): three mediators open on alternate Saturdays, one works other
hours on some Tuesdays, the place is closed one day and two mediators one day each; recurring
absences: two mediators away every Wednesday afternoon, one every other Monday morning (their
occurrences are absence rows).

Prints the median time of `free_slots()` over the 12 weeks, the median time of its four
queries alone (evaluated as lists, nothing computed), and the query counts for 1 and 12
weeks; the query count must not grow with the horizon.

    .venv/bin/python bench/slots.py            # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/permanence .venv/bin/python bench/slots.py
"""

import random
from datetime import UTC, datetime, time, timedelta

from common import count_queries, finish, median_ms, setup_django

setup_django("slots")

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bookings import slots as engine  # noqa: E402
from bookings.models import Absence, DateOverride, Motif, OpeningHours, Slot  # noqa: E402
from bookings.services.admin import recurring_absence_create  # noqa: E402
from mediation.choices import Role  # noqa: E402
from mediation.models import Membership, Place, Structure, User  # noqa: E402

MEDIATORS = 10
WEEKS = 12
TAKEN = 0.40
RANGES = ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 0)))
MAX_PER_DAY = 42
MAX_PER_MEDIATOR = 5


def build(now: datetime) -> tuple[Place, Motif]:
    structure = Structure.objects.create(name="Maison France Services", slug="mfs", kind="mairie")
    place = Place.objects.create(
        structure=structure,
        name="Accueil",
        address="1 rue",
        postcode="35000",
        commune="Rennes",
        insee_code="35238",
    )
    # Day limits (issue #14): 13 pieces a day per mediator, about 4 taken by this motif (39 a
    # day in all), so the per-mediator limit fills about a third of the mediators' days and the
    # total limit about a third of the days.
    motif = Motif.objects.create(
        structure=structure,
        name="Aide aux démarches",
        duration_minutes=30,
        max_per_day=MAX_PER_DAY,
        max_per_mediator_per_day=MAX_PER_MEDIATOR,
    )
    # A quarter of the taken slots are of a motif that keeps 10 minutes free after each
    # appointment (buffers, issue #14): the engine reads them in the same slot query.
    written_up = Motif.objects.create(
        structure=structure, name="Dossier retraite", duration_minutes=30, buffer_after_minutes=10
    )
    mediators = User.objects.bulk_create(
        User(email=f"mediateur{i}@exemple.fr", first_name="M", last_name=str(i))
        for i in range(MEDIATORS)
    )
    # Only people who take appointments in the structure are offered (issue #14).
    Membership.objects.bulk_create(
        Membership(user=mediator, structure=structure, role=Role.MEDIATOR) for mediator in mediators
    )
    tz = place.tzinfo
    today = timezone.localdate(now, tz)
    monday = today - timedelta(days=today.weekday())
    hours = OpeningHours.objects.bulk_create(
        OpeningHours(
            place=place,
            mediator=mediator,
            weekdays=[0, 1, 2, 3, 4],
            start_time=start,
            end_time=end,
            first_day=monday,
        )
        for mediator in mediators
        for start, end in RANGES
    )
    OpeningHours.motifs.through.objects.bulk_create(
        OpeningHours.motifs.through(openinghours_id=h.pk, motif_id=motif.pk) for h in hours
    )
    rng = random.Random(42)
    step = timedelta(minutes=motif.duration_minutes)
    taken = []
    for mediator in mediators:
        for offset in range(7 * (WEEKS + 1)):
            day = monday + timedelta(days=offset)
            if day.weekday() > 4:
                continue
            for start, end in RANGES:
                piece = datetime.combine(day, start, tz).astimezone(UTC)
                finish_at = datetime.combine(day, end, tz).astimezone(UTC)
                while piece + step <= finish_at:
                    if rng.random() < TAKEN:
                        taken.append(
                            Slot(
                                place=place,
                                motif=written_up if rng.random() < 0.25 else motif,
                                mediator=mediator,
                                starts_at=piece,
                                ends_at=piece + step,
                                seats_taken=1,
                            )
                        )
                    piece += step
    Slot.objects.bulk_create(taken, batch_size=1000)
    # A week off for two mediators, an afternoon of training for three others.
    absences = [
        Absence(
            structure=structure,
            mediator=mediators[i],
            starts_at=datetime.combine(monday + timedelta(weeks=3 + i), time(0), tz),
            ends_at=datetime.combine(monday + timedelta(weeks=3 + i, days=5), time(0), tz),
        )
        for i in range(2)
    ] + [
        Absence(
            structure=structure,
            mediator=mediators[i],
            starts_at=datetime.combine(monday + timedelta(days=8 + i), time(13), tz),
            ends_at=datetime.combine(monday + timedelta(days=8 + i), time(18), tz),
        )
        for i in range(2, 5)
    ]
    Absence.objects.bulk_create(absences)
    # Exceptional days: alternate Saturdays 9–12 for three mediators, other hours (14–18) on
    # every other Tuesday for one, the whole place closed one Thursday, two mediators one
    # Friday each.
    overrides = [
        DateOverride(
            place=place,
            mediator=mediators[i],
            day=monday + timedelta(weeks=week, days=5),
            start_time=time(9),
            end_time=time(12),
        )
        for i in range(3)
        for week in range(i % 2, WEEKS, 2)
    ] + [
        DateOverride(
            place=place,
            mediator=mediators[3],
            day=monday + timedelta(weeks=week, days=1),
            start_time=time(14),
            end_time=time(18),
        )
        for week in range(1, WEEKS, 2)
    ]
    overrides = DateOverride.objects.bulk_create(overrides)
    DateOverride.motifs.through.objects.bulk_create(
        DateOverride.motifs.through(dateoverride_id=o.pk, motif_id=motif.pk) for o in overrides
    )
    closures = DateOverride.objects.bulk_create(
        [DateOverride(place=place, day=monday + timedelta(weeks=2, days=3), is_closed=True)]
        + [
            DateOverride(
                place=place,
                mediator=mediators[5 + i],
                day=monday + timedelta(weeks=4 + i, days=4),
                is_closed=True,
            )
            for i in range(2)
        ]
    )
    # Recurring absences, through the service (which writes their occurrences).
    for i, (weekday, start, end, every) in enumerate(
        [(2, time(13), time(18), 1), (2, time(13), time(18), 1), (0, time(8), time(12), 2)]
    ):
        recurring_absence_create(
            structure=structure,
            mediator=mediators[6 + i],
            weekday=weekday,
            start_time=start,
            end_time=end,
            every_n_weeks=every,
            first_day=monday,
            last_day=monday + timedelta(weeks=WEEKS),
            tz=tz,
            by=mediators[6 + i],
        )
    print(f"database={connection.vendor} mediators={MEDIATORS} weeks={WEEKS}")
    print(
        f"active slots={len(taken)} absences={Absence.objects.count()} "
        f"(of which recurring: {Absence.objects.filter(series__isnull=False).count()}) "
        f"exceptional days={len(overrides) + len(closures)}"
    )
    return place, motif


def main() -> None:
    now = timezone.now()
    place, motif = build(now)
    end = now + timedelta(weeks=WEEKS)

    def compute(horizon=end):
        return engine.free_slots(place=place, motif=motif, start=now, end=horizon, now=now)

    def fetch():
        # The four queries of free_slots() for the same window, read and thrown away.
        lo = now + timedelta(minutes=motif.min_delay_minutes)
        hi = min(end, now + timedelta(days=motif.max_delay_days) + engine.TICK)
        tz = place.tzinfo
        first_day, last_day = lo.astimezone(tz).date(), hi.astimezone(tz).date()
        openings = list(engine._opening_rows(place, motif, first_day, last_day, None))
        overrides = list(engine._override_rows(place, motif, first_day, last_day, None))
        ids = sorted({row[0] for row in openings} | {row[0] for row in overrides if row[5]})
        duration = timedelta(minutes=motif.duration_minutes)
        reach = engine.MAX_BUFFER  # other motifs' buffers, as free_slots() reads them
        # Day limits: the motif's slots of the whole local days, in the same query.
        days = (
            engine._local_to_utc(first_day, time.min, tz),
            engine._local_to_utc(last_day + engine.ONE_DAY, time.min, tz),
        )
        list(
            engine._slot_rows(ids, lo - reach, hi + duration + reach, counted_of=(motif.pk, *days))
        )
        list(engine._absence_rows(ids, lo, hi + duration))

    offered = compute()
    unlimited = engine.free_slots(
        place=place, motif=motif, start=now, end=end, now=now, respect_limits=False
    )
    print(
        f"free slots over {WEEKS} weeks={len(offered)} (without the day limits: {len(unlimited)})"
    )
    queries_1 = count_queries(lambda: compute(now + timedelta(weeks=1)))
    queries_12 = count_queries(compute)
    print(f"queries: 1 week={queries_1} {WEEKS} weeks={queries_12}")
    slots_ms = median_ms(compute, repeat=21, warmup=3)
    fetch_ms = median_ms(fetch, repeat=21, warmup=3)
    print(f"median free_slots={slots_ms:.1f} ms, fetch alone={fetch_ms:.1f} ms")
    finish(
        slots_ms=slots_ms,
        fetch_ms=fetch_ms,
        ratio=slots_ms / fetch_ms,
        queries=queries_12 if queries_12 == queries_1 else f"{queries_1}->{queries_12}",
    )


if __name__ == "__main__":
    main()
