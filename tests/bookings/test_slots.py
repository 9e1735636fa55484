from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bookings.holidays import closed_days
from bookings.slots import FreeSlot, free_slots, is_offered, next_free_slots
from mediation.choices import PlaceTimeZone
from tests.bookings.factories import (
    AbsenceFactory,
    MotifFactory,
    OpeningHoursFactory,
    SlotFactory,
    WorkshopFactory,
)
from tests.conftest import member
from tests.factories import PlaceFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
# Long before every date below: the booking window and "not in the past" never get in the way
# unless a test says so.
NOW = datetime(2026, 9, 1, tzinfo=UTC)
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def day_range(place, day: date, days: int = 1) -> dict:
    """start/end covering local days [day, day + days) at `place`."""
    start = datetime.combine(day, time(0), tzinfo=place.tzinfo)
    return {
        "start": start,
        "end": datetime.combine(day + timedelta(days=days), time(0), place.tzinfo),
    }


def starts(slots: list[FreeSlot]) -> list[datetime]:
    return [slot.starts_at for slot in slots]


def local_starts(slots: list[FreeSlot], tz=PARIS) -> list[str]:
    return [slot.starts_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") for slot in slots]


@pytest.fixture
def motif(structure):
    return MotifFactory(structure=structure, duration_minutes=30)


@pytest.fixture
def offer(place, motif):
    """free_slots at the place for the motif, with NOW as the current time."""

    def offer(start, end, **kwargs):
        kwargs.setdefault("now", NOW)
        return free_slots(place=place, motif=motif, start=start, end=end, **kwargs)

    return offer


def open_hours(place, mediator, motif, **fields):
    return OpeningHoursFactory(place=place, mediator=mediator, motifs=[motif], **fields)


# Opening hours


def test_weekly_hours_are_cut_into_consecutive_pieces_of_the_motif_duration(
    place, mediator, motif, offer
):
    open_hours(place, mediator, motif, weekdays=[0], start_time=time(9), end_time=time(12))

    slots = offer(**day_range(place, date(2027, 1, 4), days=14))

    assert local_starts(slots) == [
        f"2027-01-{day:02} {hour}"
        for day in (4, 11)
        for hour in ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30")
    ]
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=30) for slot in slots)
    assert {(slot.mediator_id, slot.seats_left) for slot in slots} == {(mediator.pk, 1)}


def test_a_piece_that_would_end_after_closing_time_is_not_offered(place, mediator, motif, offer):
    open_hours(place, mediator, motif, start_time=time(9), end_time=time(10, 40))

    slots = offer(**day_range(place, date(2027, 1, 4)))

    assert local_starts(slots) == ["2027-01-04 09:00", "2027-01-04 09:30", "2027-01-04 10:00"]


def test_hours_that_do_not_accept_the_motif_offer_nothing(place, mediator, motif, offer):
    other = MotifFactory(structure=place.structure)
    open_hours(place, mediator, other)

    assert offer(**day_range(place, date(2027, 1, 4))) == []


def test_every_two_weeks_counts_from_the_week_of_the_first_day(place, mediator, motif, offer):
    # First day on a Wednesday: that week counts, even for its Monday (before the first day).
    open_hours(
        place,
        mediator,
        motif,
        weekdays=[0, 2],
        start_time=time(9),
        end_time=time(9, 30),
        every_n_weeks=2,
        first_day=date(2027, 1, 6),
    )

    slots = offer(**day_range(place, date(2027, 1, 4), days=31))

    assert local_starts(slots) == [
        "2027-01-06 09:00",
        "2027-01-18 09:00",
        "2027-01-20 09:00",
        "2027-02-01 09:00",
        "2027-02-03 09:00",
    ]


def test_first_and_last_day_are_both_included(place, mediator, motif, offer):
    open_hours(
        place,
        mediator,
        motif,
        weekdays=[1],
        start_time=time(9),
        end_time=time(9, 30),
        first_day=date(2027, 1, 5),
        last_day=date(2027, 1, 12),
    )

    slots = offer(**day_range(place, date(2026, 12, 28), days=35))

    assert local_starts(slots) == ["2027-01-05 09:00", "2027-01-12 09:00"]


def test_overlapping_hours_of_one_mediator_offer_no_overlapping_slots(
    place, mediator, motif, offer
):
    open_hours(place, mediator, motif, start_time=time(9), end_time=time(10))
    open_hours(place, mediator, motif, start_time=time(9, 45), end_time=time(11))

    slots = offer(**day_range(place, date(2027, 1, 4)))

    assert local_starts(slots) == [f"2027-01-04 {h}" for h in ("09:00", "09:30", "10:00", "10:30")]


def test_slots_are_sorted_by_start_then_mediator(place, mediator, motif, offer):
    colleague = member(place.structure)
    open_hours(place, colleague, motif, start_time=time(9), end_time=time(10))
    open_hours(place, mediator, motif, start_time=time(9, 30), end_time=time(10, 30))

    slots = offer(**day_range(place, date(2027, 1, 4)))

    first, second = sorted([mediator.pk, colleague.pk])
    assert [(s.starts_at.astimezone(PARIS).strftime("%H:%M"), s.mediator_id) for s in slots] == [
        ("09:00", colleague.pk),
        ("09:30", first),
        ("09:30", second),
        ("10:00", mediator.pk),
    ]


def test_only_the_requested_mediator_is_offered(place, mediator, motif, offer):
    colleague = member(place.structure)
    open_hours(place, colleague, motif)
    open_hours(place, mediator, motif)

    slots = offer(**day_range(place, date(2027, 1, 4)), mediator_id=colleague.pk)

    assert len(slots) == 6
    assert {slot.mediator_id for slot in slots} == {colleague.pk}


def test_an_inactive_mediator_is_not_offered(place, mediator, motif, offer):
    open_hours(place, mediator, motif)
    mediator.is_active = False
    mediator.save()

    assert offer(**day_range(place, date(2027, 1, 4))) == []


def test_a_naive_datetime_is_refused(place, motif):
    with pytest.raises(ValueError):
        free_slots(place=place, motif=motif, start=datetime(2027, 1, 4), end=utc(2027, 1, 5))


# Absences and public holidays


def test_an_absence_removes_the_slots_it_overlaps(place, mediator, motif, offer):
    open_hours(place, mediator, motif)
    AbsenceFactory(
        structure=place.structure,
        mediator=mediator,
        starts_at=datetime(2027, 1, 4, 9, 15, tzinfo=PARIS),
        ends_at=datetime(2027, 1, 4, 10, 0, tzinfo=PARIS),
    )

    slots = offer(**day_range(place, date(2027, 1, 4)))

    assert local_starts(slots) == [f"2027-01-04 {h}" for h in ("10:00", "10:30", "11:00", "11:30")]


def test_an_absence_of_several_days_closes_them_all(place, mediator, motif, offer):
    open_hours(place, mediator, motif, weekdays=EVERY_DAY)
    AbsenceFactory(
        structure=place.structure,
        mediator=mediator,
        starts_at=datetime(2027, 1, 4, 0, 0, tzinfo=PARIS),
        ends_at=datetime(2027, 1, 9, 0, 0, tzinfo=PARIS),
    )

    slots = offer(**day_range(place, date(2027, 1, 4), days=7))

    assert {slot.starts_at.astimezone(PARIS).date() for slot in slots} == {
        date(2027, 1, 9),
        date(2027, 1, 10),
    }


def test_a_colleague_absence_removes_nothing(place, mediator, motif, offer):
    open_hours(place, mediator, motif)
    AbsenceFactory(
        structure=place.structure,
        mediator=member(place.structure),
        starts_at=utc(2027, 1, 4),
        ends_at=utc(2027, 1, 5),
    )

    assert len(offer(**day_range(place, date(2027, 1, 4)))) == 6


@pytest.mark.parametrize("holiday", [date(2027, 7, 14), date(2027, 5, 1)], ids=str)
def test_a_public_holiday_closes_the_whole_day(place, mediator, motif, offer, holiday):
    open_hours(place, mediator, motif, weekdays=EVERY_DAY)

    slots = offer(**day_range(place, holiday - timedelta(days=1), days=3))

    assert {slot.starts_at.astimezone(PARIS).date() for slot in slots} == {
        holiday - timedelta(days=1),
        holiday + timedelta(days=1),
    }


@pytest.mark.parametrize(
    ("insee_code", "is_closed"),
    [("67482", True), ("57463", True), ("68224", True), ("35238", False)],
)
def test_26_december_is_closed_in_alsace_moselle_only(
    structure, mediator, motif, insee_code, is_closed
):
    place = PlaceFactory(structure=structure, insee_code=insee_code)
    open_hours(place, mediator, motif, weekdays=EVERY_DAY, first_day=date(2026, 12, 1))

    slots = free_slots(place=place, motif=motif, now=NOW, **day_range(place, date(2026, 12, 26)))

    assert (slots == []) is is_closed


@pytest.mark.parametrize(
    ("insee_code", "time_zone", "is_closed"),
    [
        ("97411", PlaceTimeZone.REUNION, True),
        ("97209", PlaceTimeZone.MARTINIQUE, False),
        ("35238", PlaceTimeZone.PARIS, False),
    ],
)
def test_20_december_abolition_of_slavery_closes_la_reunion_only(
    structure, mediator, motif, insee_code, time_zone, is_closed
):
    place = PlaceFactory(structure=structure, insee_code=insee_code, time_zone=time_zone)
    open_hours(place, mediator, motif, weekdays=EVERY_DAY, first_day=date(2026, 12, 1))

    slots = free_slots(place=place, motif=motif, now=NOW, **day_range(place, date(2026, 12, 20)))

    assert (slots == []) is is_closed


def test_closed_days_lists_the_holidays_of_the_place():
    place = PlaceFactory.build(insee_code="97302")  # Cayenne: abolition of slavery 10 June

    days = closed_days(place, date(2027, 6, 1), date(2027, 6, 30))

    assert date(2027, 6, 10) in days
    assert date(2027, 7, 14) not in days


# Time zones and daylight-saving changes


def test_spring_forward_sunday_offers_no_nonexistent_slot(place, mediator, motif, offer):
    # 28 March 2027: 02:00 → 03:00 in Paris; 01:00–04:00 lasts two hours.
    open_hours(
        place,
        mediator,
        motif,
        weekdays=[6],
        start_time=time(1),
        end_time=time(4),
        first_day=date(2027, 3, 1),
    )

    slots = offer(**day_range(place, date(2027, 3, 28)))

    assert starts(slots) == [
        utc(2027, 3, 28, 0, 0),
        utc(2027, 3, 28, 0, 30),
        utc(2027, 3, 28, 1, 0),
        utc(2027, 3, 28, 1, 30),
    ]
    assert local_starts(slots) == [f"2027-03-28 {h}" for h in ("01:00", "01:30", "03:00", "03:30")]
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=30) for slot in slots)


def test_fall_back_sunday_offers_the_repeated_hour_once_per_real_hour(
    place, mediator, motif, offer
):
    # 25 October 2026: 03:00 → 02:00 in Paris; 01:00–04:00 lasts four hours.
    open_hours(
        place,
        mediator,
        motif,
        weekdays=[6],
        start_time=time(1),
        end_time=time(4),
        first_day=date(2026, 10, 1),
    )

    slots = offer(**day_range(place, date(2026, 10, 25)))

    assert starts(slots) == [utc(2026, 10, 24, 23) + timedelta(minutes=30 * i) for i in range(8)]
    assert len(set(starts(slots))) == 8
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=30) for slot in slots)
    assert local_starts(slots) == [
        f"2026-10-25 {h}"
        for h in ("01:00", "01:30", "02:00", "02:30", "02:00", "02:30", "03:00", "03:30")
    ]


@pytest.mark.parametrize(
    ("day", "first_utc"),
    [(date(2027, 3, 28), utc(2027, 3, 28, 7)), (date(2026, 10, 25), utc(2026, 10, 25, 8))],
    ids=["spring-forward", "fall-back"],
)
def test_daytime_hours_on_a_change_sunday_follow_the_new_offset(
    place, mediator, motif, offer, day, first_utc
):
    open_hours(place, mediator, motif, weekdays=[6], first_day=date(2026, 10, 1))

    slots = offer(**day_range(place, day))

    assert starts(slots) == [first_utc + timedelta(minutes=30 * i) for i in range(6)]


@pytest.mark.parametrize(
    ("time_zone", "insee_code", "day", "first_utc"),
    [
        (PlaceTimeZone.REUNION, "97411", date(2027, 1, 4), utc(2027, 1, 4, 5)),
        (PlaceTimeZone.REUNION, "97411", date(2027, 7, 5), utc(2027, 7, 5, 5)),
        (PlaceTimeZone.CAYENNE, "97302", date(2027, 1, 4), utc(2027, 1, 4, 12)),
        (PlaceTimeZone.CAYENNE, "97302", date(2027, 7, 5), utc(2027, 7, 5, 12)),
        # Saint-Pierre-et-Miquelon keeps North America's DST (14 March 2027, two weeks
        # before Paris): 09:00 there is 12:00 UTC before, 11:00 UTC after.
        (PlaceTimeZone.MIQUELON, "97502", date(2027, 3, 8), utc(2027, 3, 8, 12)),
        (PlaceTimeZone.MIQUELON, "97502", date(2027, 3, 15), utc(2027, 3, 15, 11)),
        # Nouméa (UTC+11): a Monday 09:00 there is Sunday 22:00 UTC.
        (PlaceTimeZone.NOUMEA, "98818", date(2027, 1, 4), utc(2027, 1, 3, 22)),
        (PlaceTimeZone.TAHITI, "98735", date(2027, 1, 4), utc(2027, 1, 4, 19)),
        (PlaceTimeZone.MARQUESAS, "98731", date(2027, 1, 4), utc(2027, 1, 4, 18, 30)),
    ],
    ids=[
        "reunion-winter",
        "reunion-summer",
        "cayenne-winter",
        "cayenne-summer",
        "miquelon-before-dst",
        "miquelon-after-dst",
        "noumea",
        "tahiti",
        "marquesas",
    ],
)
def test_overseas_hours_map_to_utc_in_the_places_time_zone(
    structure, mediator, motif, time_zone, insee_code, day, first_utc
):
    place = PlaceFactory(structure=structure, time_zone=time_zone, insee_code=insee_code)
    open_hours(place, mediator, motif)

    slots = free_slots(place=place, motif=motif, now=NOW, **day_range(place, day))

    assert starts(slots) == [first_utc + timedelta(minutes=30 * i) for i in range(6)]


# Existing slots


def test_an_active_slot_removes_the_piece_it_takes(place, mediator, motif, offer):
    open_hours(place, mediator, motif)
    SlotFactory(place=place, motif=motif, mediator=mediator, starts_at=utc(2027, 1, 4, 9))

    slots = offer(**day_range(place, date(2027, 1, 4)))

    assert utc(2027, 1, 4, 9) not in starts(slots)
    assert len(slots) == 5


def test_an_inactive_slot_removes_nothing(place, mediator, motif, offer):
    open_hours(place, mediator, motif)
    SlotFactory(
        place=place, motif=motif, mediator=mediator, starts_at=utc(2027, 1, 4, 9), is_active=False
    )

    assert len(offer(**day_range(place, date(2027, 1, 4)))) == 6


def test_a_slot_elsewhere_for_another_motif_removes_the_pieces_it_overlaps(
    structure, place, mediator, motif, offer
):
    elsewhere = PlaceFactory(structure=structure)
    longer = MotifFactory(structure=structure, duration_minutes=60)
    open_hours(place, mediator, motif)
    SlotFactory(place=elsewhere, motif=longer, mediator=mediator, starts_at=utc(2027, 1, 4, 8, 45))

    slots = offer(**day_range(place, date(2027, 1, 4)))

    assert local_starts(slots) == [f"2027-01-04 {h}" for h in ("09:00", "11:00", "11:30")]


def test_a_workshop_with_seats_left_is_offered_with_them(place, mediator, structure):
    workshop = WorkshopFactory(structure=structure, capacity=3, duration_minutes=90)
    open_hours(place, mediator, workshop)
    SlotFactory(
        place=place, motif=workshop, mediator=mediator, starts_at=utc(2027, 1, 4, 8), seats_taken=2
    )

    slots = free_slots(place=place, motif=workshop, now=NOW, **day_range(place, date(2027, 1, 4)))

    assert [(s.starts_at, s.seats_left) for s in slots] == [
        (utc(2027, 1, 4, 8), 1),
        (utc(2027, 1, 4, 9, 30), 3),
    ]


def test_a_full_workshop_is_not_offered(place, mediator, structure):
    workshop = WorkshopFactory(structure=structure, capacity=3, duration_minutes=90)
    open_hours(place, mediator, workshop)
    SlotFactory(
        place=place, motif=workshop, mediator=mediator, starts_at=utc(2027, 1, 4, 8), seats_taken=3
    )

    slots = free_slots(place=place, motif=workshop, now=NOW, **day_range(place, date(2027, 1, 4)))

    assert [(s.starts_at, s.seats_left) for s in slots] == [(utc(2027, 1, 4, 9, 30), 3)]


def test_a_workshop_slot_of_another_motif_is_not_joined(place, mediator, structure):
    workshop = WorkshopFactory(structure=structure, capacity=3, duration_minutes=90)
    other = WorkshopFactory(structure=structure, capacity=3, duration_minutes=90)
    open_hours(place, mediator, workshop)
    SlotFactory(
        place=place, motif=other, mediator=mediator, starts_at=utc(2027, 1, 4, 8), seats_taken=1
    )

    slots = free_slots(place=place, motif=workshop, now=NOW, **day_range(place, date(2027, 1, 4)))

    assert starts(slots) == [utc(2027, 1, 4, 9, 30)]


# Booking window and the present


def test_the_minimum_delay_hides_slots_starting_too_soon(place, mediator, motif, offer):
    motif.min_delay_minutes = 60
    motif.save()
    open_hours(place, mediator, motif)

    slots = offer(**day_range(place, date(2027, 1, 4)), now=utc(2027, 1, 4, 8))

    assert starts(slots)[0] == utc(2027, 1, 4, 9)
    assert len(slots) == 4


def test_the_maximum_delay_hides_slots_starting_too_late(place, mediator, motif, offer):
    motif.max_delay_days = 10
    motif.save()
    open_hours(place, mediator, motif)

    slots = offer(**day_range(place, date(2027, 1, 4), days=14), now=utc(2027, 1, 1, 8, 30))

    # Up to 11 January 08:30 UTC (09:30 in Paris) included.
    assert local_starts(slots)[-3:] == ["2027-01-04 11:30", "2027-01-11 09:00", "2027-01-11 09:30"]


def test_without_the_booking_window_slots_are_offered_up_to_now(place, mediator, motif, offer):
    motif.min_delay_minutes = 600
    motif.max_delay_days = 1
    motif.save()
    open_hours(place, mediator, motif)

    slots = offer(
        **day_range(place, date(2027, 1, 4), days=14),
        now=utc(2027, 1, 4, 9),
        respect_booking_window=False,
    )

    assert starts(slots)[0] == utc(2027, 1, 4, 9)
    assert len(slots) == 4 + 6


def test_slots_already_started_are_never_offered(place, mediator, motif, offer):
    open_hours(place, mediator, motif)

    slots = offer(
        **day_range(place, date(2027, 1, 4)),
        now=utc(2027, 1, 4, 9, 1),
        respect_booking_window=False,
    )

    assert starts(slots)[0] == utc(2027, 1, 4, 9, 30)


# is_offered and next_free_slots


def test_is_offered_returns_the_free_slot_starting_then(place, mediator, motif):
    open_hours(place, mediator, motif)

    slot = is_offered(
        place=place, motif=motif, mediator_id=mediator.pk, starts_at=utc(2027, 1, 4, 9), now=NOW
    )

    assert slot == FreeSlot(utc(2027, 1, 4, 9), utc(2027, 1, 4, 9, 30), mediator.pk, 1)


@pytest.mark.parametrize(
    "starts_at",
    [utc(2027, 1, 4, 9, 10), utc(2027, 1, 4, 11, 30), utc(2027, 1, 4, 10)],
    ids=["off-grid", "after-closing", "taken"],
)
def test_is_offered_returns_none_for_a_start_not_offered(place, mediator, motif, starts_at):
    open_hours(place, mediator, motif)
    SlotFactory(place=place, motif=motif, mediator=mediator, starts_at=utc(2027, 1, 4, 10))

    assert (
        is_offered(place=place, motif=motif, mediator_id=mediator.pk, starts_at=starts_at, now=NOW)
        is None
    )


def test_is_offered_returns_none_for_another_mediator(place, mediator, motif):
    open_hours(place, mediator, motif)
    colleague = member(place.structure)

    assert (
        is_offered(
            place=place,
            motif=motif,
            mediator_id=colleague.pk,
            starts_at=utc(2027, 1, 4, 9),
            now=NOW,
        )
        is None
    )


def test_next_free_slots_returns_the_first_ones_in_order(place, mediator, motif):
    open_hours(place, mediator, motif, weekdays=[0, 3])

    slots = next_free_slots(place=place, motif=motif, count=8, now=utc(2027, 1, 4, 10))

    assert local_starts(slots) == [
        "2027-01-04 11:00",
        "2027-01-04 11:30",
        *[f"2027-01-07 {h}" for h in ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30")],
    ]


def test_next_free_slots_looks_beyond_the_first_weeks(place, mediator, motif):
    open_hours(place, mediator, motif, first_day=date(2027, 3, 1))

    slots = next_free_slots(place=place, motif=motif, count=3, now=utc(2027, 1, 4))

    assert local_starts(slots) == ["2027-03-01 09:00", "2027-03-01 09:30", "2027-03-01 10:00"]


def test_next_free_slots_stays_within_the_booking_window(place, mediator, motif):
    motif.max_delay_days = 30
    motif.save()
    open_hours(place, mediator, motif, first_day=date(2027, 3, 1))

    assert next_free_slots(place=place, motif=motif, now=utc(2027, 1, 4)) == []


# Cost


def test_free_slots_runs_as_many_queries_for_twelve_weeks_as_for_one(
    place, mediator, motif, offer, django_assert_num_queries
):
    colleague = member(place.structure)
    for person in (mediator, colleague):
        open_hours(place, person, motif, weekdays=[0, 1, 2, 3, 4])
        open_hours(place, person, motif, weekdays=[0, 2], start_time=time(14), end_time=time(17))
        AbsenceFactory(structure=place.structure, mediator=person, starts_at=utc(2027, 2, 1, 8))
        for week in range(12):
            SlotFactory(
                place=place,
                motif=motif,
                mediator=person,
                starts_at=utc(2027, 1, 4, 9) + timedelta(weeks=week),
            )

    with django_assert_num_queries(3):
        one_week = offer(**day_range(place, date(2027, 1, 4), days=7))
    with django_assert_num_queries(3):
        twelve_weeks = offer(**day_range(place, date(2027, 1, 4), days=84))

    assert len(one_week) == 2 * (5 * 6 + 2 * 6 - 1)
    assert len(twelve_weeks) > 11 * len(one_week)


# Property


# Weeks of the autumn and spring changes, a summer week, and Christmas (holidays).
PROPERTY_DAYS = [date(2026, 10, 19), date(2027, 3, 22), date(2027, 6, 7), date(2026, 12, 14)]


@st.composite
def schedules(draw):
    rows = []
    for _ in range(draw(st.integers(1, 3))):
        start_minute = draw(st.integers(0, 23 * 60 + 30).map(lambda m: m - m % 5))
        length = draw(st.integers(5, 24 * 60 - 1 - start_minute))
        end_minute = start_minute + length
        rows.append(
            {
                "mediator": draw(st.integers(0, 1)),
                "weekdays": sorted(draw(st.sets(st.integers(0, 6), min_size=1))),
                "start_time": time(start_minute // 60, start_minute % 60),
                "end_time": time(end_minute // 60, end_minute % 60),
                "every_n_weeks": draw(st.integers(1, 3)),
                "first_offset": draw(st.integers(-10, 10)),
                "last_offset": draw(st.none() | st.integers(0, 20)),
            }
        )
    return {
        "time_zone": draw(st.sampled_from(PlaceTimeZone.values)),
        "day": draw(st.sampled_from(PROPERTY_DAYS)),
        "duration": draw(st.sampled_from([5, 10, 15, 20, 30, 45, 50, 60, 90, 120, 240])),
        "rows": rows,
        "absences": draw(
            st.lists(
                st.tuples(st.integers(0, 1), st.integers(0, 14 * 24 * 60), st.integers(1, 600)),
                max_size=3,
            )
        ),
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schedule=schedules())
def test_every_slot_fits_an_opening_range_and_none_of_a_mediator_overlap(
    structure, place, mediator, motif, schedule
):
    colleague_email = "collegue-propriete@exemple.fr"
    with transaction.atomic():
        colleague = member(structure, email=colleague_email)
        mediators = [mediator, colleague]
        place.time_zone = schedule["time_zone"]
        place.save()
        tz = place.tzinfo
        motif.duration_minutes = schedule["duration"]
        motif.save()
        first_day = schedule["day"]
        rows = []
        for row in schedule["rows"]:
            first = first_day + timedelta(days=row["first_offset"])
            last = None if row["last_offset"] is None else first + timedelta(row["last_offset"])
            rows.append(
                open_hours(
                    place,
                    mediators[row["mediator"]],
                    motif,
                    weekdays=row["weekdays"],
                    start_time=row["start_time"],
                    end_time=row["end_time"],
                    every_n_weeks=row["every_n_weeks"],
                    first_day=first,
                    last_day=last,
                )
            )

        absences = [
            AbsenceFactory(
                structure=structure,
                mediator=mediators[index],
                starts_at=datetime.combine(first_day, time(0), UTC) + timedelta(minutes=offset),
                ends_at=datetime.combine(first_day, time(0), UTC)
                + timedelta(minutes=offset + length),
            )
            for index, offset, length in schedule["absences"]
        ]

        slots = free_slots(place=place, motif=motif, now=NOW, **day_range(place, first_day, 14))
        event("some slots" if slots else "no slot")

        closed = closed_days(place, first_day - timedelta(days=1), first_day + timedelta(days=15))
        duration = timedelta(minutes=schedule["duration"])
        for slot in slots:
            assert slot.ends_at - slot.starts_at == duration
            day = slot.starts_at.astimezone(tz).date()
            assert day not in closed
            # Within the opening time of that mediator that day: one range, or ranges that
            # overlap and so form one continuous opening.
            ranges = sorted(
                (
                    datetime.combine(day, row.start_time, tz).astimezone(UTC),
                    datetime.combine(day, row.end_time, tz).astimezone(UTC),
                )
                for row in rows
                if row.mediator_id == slot.mediator_id
                and day.weekday() in row.weekdays
                and row.first_day <= day
                and (row.last_day is None or day <= row.last_day)
                and ((day - row.first_day).days + row.first_day.weekday()) // 7 % row.every_n_weeks
                == 0
            )
            merged: list[list[datetime]] = []
            for lo, hi in ranges:
                if merged and lo < merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], hi)
                else:
                    merged.append([lo, hi])
            assert any(lo <= slot.starts_at and slot.ends_at <= hi for lo, hi in merged), slot
            assert not any(
                absence.mediator_id == slot.mediator_id
                and absence.starts_at < slot.ends_at
                and slot.starts_at < absence.ends_at
                for absence in absences
            ), slot
        for person in mediators:
            own = [s for s in slots if s.mediator_id == person.pk]
            assert all(a.ends_at <= b.starts_at for a, b in zip(own, own[1:], strict=False))
        transaction.set_rollback(True)
