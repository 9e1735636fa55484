"""Free slots: when a motif can be booked at a place, and with whom (read side only).

Free time = opening hours that accept the motif − the mediator's absences − public holidays
(whole local days) − the mediator's active `Slot` rows, cut into consecutive pieces of the
motif's duration from the start of each opening range. A workshop's slot that still has seats
is offered again, with the seats left.

Opening hours are local wall-clock times in the place's time zone. Each opening range is turned
into UTC once (`datetime.combine(day, time, tzinfo=tz)`, fold=0: a nonexistent time at the
spring change is read with the winter offset, an ambiguous one at the autumn change is its
first occurrence), and pieces are then cut by adding minutes in UTC. So across a daylight-saving
change a range yields as many pieces as it lasts in real time, with neither a nonexistent nor a
twice-offered start.

Day limits (a motif's `max_per_day`, `max_per_mediator_per_day`) are counted from the same slot
query, widened to the motif's slots of the whole local days.

Exceptional days (`DateOverride`): on its day, a mediator's open overrides at the place replace
their recurring hours there (an exceptional Saturday, other hours), a closure removes them (a
whole-place closure, everyone's). An open override is an explicit decision: it opens even on a
public holiday. Recurring absences need nothing here: their occurrences are `Absence` rows.

Cost: four queries per call (opening hours, exceptional days, active slots, absences), whatever
the horizon, read with `values_list()`; then each piece is checked against the mediator's busy
intervals with two binary searches."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from bookings.holidays import closed_days
from bookings.models import Absence, DateOverride, Motif, OpeningHours, Slot
from mediation.models import Membership, Place

ONE_DAY = timedelta(days=1)
# Datetimes have microsecond resolution: "starts_at <= t" is "starts_at < t + TICK".
TICK = timedelta(microseconds=1)
# No slot lasts more than a day (a motif lasts 8 h at most): a lower bound on `starts_at` lets
# the (mediator, starts_at) index skip a mediator's past slots instead of reading them all.
LONGEST_SLOT = timedelta(days=1)
# A motif keeps at most this much free before or after its appointments (Motif validators).
MAX_BUFFER = timedelta(minutes=480)
# next_free_slots() first looks this far ahead, then, if it found too few, to the horizon.
FIRST_LOOK = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class FreeSlot:
    starts_at: datetime  # aware, UTC
    ends_at: datetime
    mediator_id: int
    seats_left: int  # 1 for individual motifs; for a workshop, capacity minus seats taken


def free_slots(
    *,
    place: Place,
    motif: Motif,
    start: datetime,
    end: datetime,
    mediator_id: int | None = None,
    now: datetime | None = None,
    respect_booking_window: bool = True,
    respect_buffers: bool = True,
    respect_limits: bool = True,
) -> list[FreeSlot]:
    """The free slots of `motif` at `place` starting in [start, end), sorted by start then
    mediator; only `mediator_id`'s if given.

    With `respect_limits` (always, except when the desk chooses to override them), a day (in
    the place's time zone) where the motif already has `max_per_day` active slots offers no new
    piece, nor does a mediator who already has `max_per_mediator_per_day` of them that day. A
    workshop session that already exists stays offered while it has seats left.

    With `respect_buffers` (always, except when the desk chooses to override them), the time
    each motif keeps free before and after its appointments is kept free: pieces are spaced by
    it, and none is offered within the buffers of a booked appointment.

    Slots starting before `now` (default: the current time) are never offered. With
    `respect_booking_window` (online booking), nor are those starting sooner than
    `motif.min_delay_minutes` from now or later than `motif.max_delay_days` days from now.
    Absences and active slots of the mediator block time whatever the structure or place they
    belong to: a mediator shared between structures is in one place at a time."""
    now = _utc(now or timezone.now(), "now")
    lo = max(_utc(start, "start"), now)
    hi = _utc(end, "end")
    if respect_booking_window:
        lo = max(lo, now + timedelta(minutes=motif.min_delay_minutes))
        hi = min(hi, now + timedelta(days=motif.max_delay_days) + TICK)
    return _free_slots(
        place=place,
        motif=motif,
        lo=lo,
        hi=hi,
        mediator_id=mediator_id,
        respect_buffers=respect_buffers,
        respect_limits=respect_limits,
    )


def is_offered(
    *,
    place: Place,
    motif: Motif,
    mediator_id: int,
    starts_at: datetime,
    now: datetime | None = None,
    respect_booking_window: bool = True,
    respect_buffers: bool = True,
    respect_limits: bool = True,
) -> FreeSlot | None:
    """The free slot of `mediator_id` starting exactly at `starts_at`, or None."""
    starts_at = _utc(starts_at, "starts_at")
    for slot in free_slots(
        place=place,
        motif=motif,
        start=starts_at,
        end=starts_at + TICK,
        mediator_id=mediator_id,
        now=now,
        respect_booking_window=respect_booking_window,
        respect_buffers=respect_buffers,
        respect_limits=respect_limits,
    ):
        if slot.starts_at == starts_at:
            return slot
    return None


def next_free_slots(
    *,
    place: Place,
    motif: Motif,
    count: int = 10,
    now: datetime | None = None,
    mediator_id: int | None = None,
) -> list[FreeSlot]:
    """The first `count` slots a resident may book online (booking window applied).

    Looks two weeks ahead first, then up to the motif's horizon if that was not enough: at
    most eight queries."""
    if count <= 0:
        return []
    now = _utc(now or timezone.now(), "now")
    lo = now + timedelta(minutes=motif.min_delay_minutes)
    horizon = now + timedelta(days=motif.max_delay_days) + TICK
    middle = min(max(lo, now + FIRST_LOOK), horizon)
    found = _free_slots(
        place=place, motif=motif, lo=lo, hi=middle, mediator_id=mediator_id, limit=count
    )
    if len(found) < count and middle < horizon:
        found += _free_slots(
            place=place,
            motif=motif,
            lo=middle,
            hi=horizon,
            mediator_id=mediator_id,
            limit=count - len(found),
        )
    return found[:count]


def _utc(value: datetime, name: str) -> datetime:
    if timezone.is_naive(value):
        raise ValueError(f"{name} must be an aware datetime")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _free_slots(
    *,
    place: Place,
    motif: Motif,
    lo: datetime,
    hi: datetime,
    mediator_id: int | None,
    limit: int | None = None,
    respect_buffers: bool = True,
    respect_limits: bool = True,
) -> list[FreeSlot]:
    """Free slots starting in [lo, hi) (UTC, window already applied)."""
    if lo >= hi:
        return []
    tz = place.tzinfo
    first_day = lo.astimezone(tz).date()
    last_day = (hi - TICK).astimezone(tz).date()
    openings = list(_opening_rows(place, motif, first_day, last_day, mediator_id))
    overrides = list(_override_rows(place, motif, first_day, last_day, mediator_id))
    # Those who open exceptionally for this motif (row: mediator, day, closed, start, end, accepts).
    openers = {row[0] for row in overrides if row[5] and not row[2]}
    if not openings and not openers and not motif.is_collective:
        return []
    mediator_ids = sorted({row[0] for row in openings} | openers)
    duration = timedelta(minutes=motif.duration_minutes)
    before = timedelta(minutes=motif.buffer_before_minutes if respect_buffers else 0)
    after = timedelta(minutes=motif.buffer_after_minutes if respect_buffers else 0)
    # Another appointment's buffers reach at most MAX_BUFFER beyond it.
    reach = MAX_BUFFER if respect_buffers else timedelta(0)
    # Day limits: the motif's slots of the whole local days are read in the same slot query.
    limited = respect_limits and motif.has_limits
    slots = list(
        _slot_rows(
            mediator_ids,
            lo - before - reach,
            hi + duration + after + reach,
            sessions_of=(place, motif, lo, hi, mediator_id) if motif.is_collective else None,
            counted_of=(
                (
                    motif.pk,
                    _local_to_utc(first_day, time.min, tz),
                    _local_to_utc(last_day + ONE_DAY, time.min, tz),
                )
                if limited
                else None
            ),
        )
    )
    # A dated workshop session is offered whatever its hours became: its mediator's absences
    # are read too, even when they no longer hold opening hours here.
    mediator_ids = sorted(set(mediator_ids).union(row[0] for row in slots))
    if not mediator_ids:
        return []
    absences = _absence_rows(
        mediator_ids, lo - before, max(hi + duration + after, _latest_end(slots))
    )
    return compute_free_slots(
        openings=openings,
        overrides=overrides,
        absences=absences,
        slots=slots,
        closed=closed_days(place, first_day, last_day),
        tz=tz,
        place_id=place.pk,
        motif_id=motif.pk,
        duration=duration,
        capacity=motif.capacity if motif.is_collective else None,
        lo=lo,
        hi=hi,
        first_day=first_day,
        last_day=last_day,
        limit=limit,
        before=before,
        after=after,
        respect_buffers=respect_buffers,
        max_per_day=motif.max_per_day if limited else None,
        max_per_mediator=motif.max_per_mediator_per_day if limited else None,
    )


def _latest_end(slots) -> datetime:
    return max((row[2] for row in slots), default=datetime.min.replace(tzinfo=UTC))


# The four queries. Kept apart so that the benchmark can time them alone.


def takes_appointments_here(structure_id: int, user=None) -> Exists:
    """SQL: the user (by default the row's mediator) may take appointments in the structure
    now (mediation/permissions.py, "take_appointments"; an active account). Someone removed
    from the structure, or whose role there no longer allows it, is offered nowhere in it."""
    return Exists(
        Membership.objects.allowing("take_appointments").filter(
            structure_id=structure_id, user_id=OuterRef("mediator_id") if user is None else user
        )
    )


def _opening_rows(place, motif, first_day: date, last_day: date, mediator_id: int | None):
    """(mediator_id, weekdays, start_time, end_time, every_n_weeks, first_day, last_day)."""
    rows = OpeningHours.objects.filter(
        Q(last_day__isnull=True) | Q(last_day__gte=first_day),
        takes_appointments_here(place.structure_id),
        place_id=place.pk,
        motifs__id=motif.pk,
        first_day__lte=last_day,
    )
    if mediator_id is not None:
        rows = rows.filter(mediator_id=mediator_id)
    return rows.order_by().values_list(
        "mediator_id",
        "weekdays",
        "start_time",
        "end_time",
        "every_n_weeks",
        "first_day",
        "last_day",
    )


def _override_rows(place, motif, first_day: date, last_day: date, mediator_id: int | None):
    """(mediator_id or None, day, is_closed, start_time, end_time, accepts the motif) of the
    place's exceptional days in [first_day, last_day]: those of people who take appointments
    in the structure now, and whole-place closures. Open overrides for other motifs are read
    too: they replace the mediator's recurring hours that day all the same."""
    rows = DateOverride.objects.filter(
        Q(mediator_id__isnull=True) | takes_appointments_here(place.structure_id),
        place_id=place.pk,
        day__gte=first_day,
        day__lte=last_day,
    )
    if mediator_id is not None:
        rows = rows.filter(Q(mediator_id__isnull=True) | Q(mediator_id=mediator_id))
    return (
        rows.order_by()
        .annotate(
            accepts=Exists(
                DateOverride.motifs.through.objects.filter(
                    dateoverride_id=OuterRef("pk"), motif_id=motif.pk
                )
            )
        )
        .values_list("mediator_id", "day", "is_closed", "start_time", "end_time", "accepts")
    )


def _absence_rows(mediator_ids: list[int], lo: datetime, hi: datetime):
    """(mediator_id, starts_at, ends_at) of absences overlapping [lo, hi)."""
    return (
        Absence.objects.filter(mediator_id__in=mediator_ids, starts_at__lt=hi, ends_at__gt=lo)
        .order_by()
        .values_list("mediator_id", "starts_at", "ends_at")
    )


def _slot_rows(
    mediator_ids: list[int], lo: datetime, hi: datetime, sessions_of=None, counted_of=None
):
    """(mediator_id, starts_at, ends_at, place_id, motif_id, capacity, seats_taken, buffer
    before, buffer after) of the active slots of `mediator_ids` overlapping [lo, hi).

    With `sessions_of` = (place, motif, lo, hi, mediator_id or None), for a workshop: also the
    dated sessions of that motif at that place starting in [lo, hi) with seats left, whoever
    holds opening hours now, if their mediator still takes appointments in the structure.

    With `counted_of` = (motif id, day_lo, day_hi), for day limits: also every active slot of
    that motif (any mediator, any place) starting in [day_lo, day_hi), the whole local days of
    the request, so that the slots of each day can be counted without another query."""
    condition = Q(
        mediator_id__in=mediator_ids,
        starts_at__gte=lo - LONGEST_SLOT,
        starts_at__lt=hi,
        ends_at__gt=lo,
    )
    if sessions_of is not None:
        place, motif, session_lo, session_hi, mediator_id = sessions_of
        session = Q(
            takes_appointments_here(place.structure_id),
            place_id=place.pk,
            motif_id=motif.pk,
            seats_taken__lt=F("capacity"),
            starts_at__gte=session_lo,
            starts_at__lt=session_hi,
        )
        if mediator_id is not None:
            session &= Q(mediator_id=mediator_id)
        condition |= session
    if counted_of is not None:
        counted_motif, day_lo, day_hi = counted_of
        condition |= Q(motif_id=counted_motif, starts_at__gte=day_lo, starts_at__lt=day_hi)
    return (
        Slot.objects.filter(condition, is_active=True)
        .order_by()
        .values_list(
            "mediator_id",
            "starts_at",
            "ends_at",
            "place_id",
            "motif_id",
            "capacity",
            "seats_taken",
            "motif__buffer_before_minutes",
            "motif__buffer_after_minutes",
        )
    )


def compute_free_slots(
    *,
    openings,
    absences,
    overrides=(),
    slots,
    closed: set[date],
    tz,
    place_id: int,
    motif_id: int,
    duration: timedelta,
    capacity: int | None,
    lo: datetime,
    hi: datetime,
    first_day: date,
    last_day: date,
    limit: int | None = None,
    before: timedelta = timedelta(0),
    after: timedelta = timedelta(0),
    respect_buffers: bool = True,
    max_per_day: int | None = None,
    max_per_mediator: int | None = None,
) -> list[FreeSlot]:
    """The pure part of `free_slots()`: from the rows of the four queries to the slots.

    `capacity` is the motif's for a workshop, None for an individual motif. Days are walked
    in order and a local day's ranges never leave it, so with `limit` the walk stops at the
    end of the day where enough slots were found.

    A workshop's dated session (an active slot of this motif and place with seats left) is
    offered as it is, with its own start and end and the seats left, whether or not opening
    hours still produce its time; only an absence of its mediator hides it. Pieces of opening
    hours are offered when nothing of the mediator's is in the way.

    Buffers: pieces are cut every `before + duration + after`; a piece is offered when nothing
    of the mediator's overlaps it widened by `before` and `after`, and it does not fall within
    the buffers of a booked slot (its motif's, from the row).

    Day limits: the active slots of this motif are counted per local day (all mediators) and
    per (mediator, local day); a day at `max_per_day`, or a mediator at `max_per_mediator` that
    day, offers no piece of opening hours (existing sessions with seats left stay offered).
    The rows must then hold every slot of the motif starting in [first_day, last_day].

    Exceptional days (`overrides`, rows of `_override_rows`): a whole-place closure removes
    every mediator's hours of the day, a mediator's closure theirs; a mediator's open overrides
    replace their recurring hours of the day, and those that accept the motif are offered, even
    on a public holiday. Existing workshop sessions stay offered, as on a holiday."""
    # Busy intervals per mediator, as two independently sorted lists: the number of intervals
    # overlapping [a, b) is #(starts < b) − #(ends <= a), right even when intervals overlap.
    starts: dict[int, list[datetime]] = defaultdict(list)
    ends: dict[int, list[datetime]] = defaultdict(list)
    away_starts: dict[int, list[datetime]] = defaultdict(list)
    away_ends: dict[int, list[datetime]] = defaultdict(list)
    for mediator, starts_at, ends_at in absences:
        starts_at, ends_at = _utc(starts_at, "starts_at"), _utc(ends_at, "ends_at")
        starts[mediator].append(starts_at)
        ends[mediator].append(ends_at)
        away_starts[mediator].append(starts_at)
        away_ends[mediator].append(ends_at)
    # Dated workshop sessions with seats left, by local day of their start.
    sessions: dict[date, list[FreeSlot]] = defaultdict(list)
    # Active slots of this motif per local day, and per (mediator, local day), for day limits.
    day_count: dict[date, int] = defaultdict(int)
    mediator_day_count: dict[tuple[int, date], int] = defaultdict(int)
    counting = max_per_day is not None or max_per_mediator is not None
    # Booked slots widened by their own motif's buffers (only those that have some).
    padded_starts: dict[int, list[datetime]] = defaultdict(list)
    padded_ends: dict[int, list[datetime]] = defaultdict(list)
    for row in slots:
        mediator, starts_at, ends_at, slot_place, slot_motif, slot_capacity, taken = row[:7]
        starts_at, ends_at = _utc(starts_at, "starts_at"), _utc(ends_at, "ends_at")
        starts[mediator].append(starts_at)
        ends[mediator].append(ends_at)
        if counting and slot_motif == motif_id:
            slot_day = starts_at.astimezone(tz).date()
            day_count[slot_day] += 1
            mediator_day_count[mediator, slot_day] += 1
        if respect_buffers and len(row) > 7 and (row[7] or row[8]):
            padded_starts[mediator].append(starts_at - timedelta(minutes=row[7]))
            padded_ends[mediator].append(ends_at + timedelta(minutes=row[8]))
        if (
            capacity is not None
            and slot_motif == motif_id
            and slot_place == place_id
            and slot_capacity > taken
            and lo <= starts_at < hi
        ):
            sessions[starts_at.astimezone(tz).date()].append(
                FreeSlot(starts_at, ends_at, mediator, slot_capacity - taken)
            )
    for lists in (starts, ends, away_starts, away_ends, padded_starts, padded_ends):
        for values in lists.values():
            values.sort()
    empty: list[datetime] = []

    # Opening rows as (mediator, weekdays, start, end, every n weeks, Monday of first week,
    # first day, last day), weekdays as a set.
    rows = []
    for mediator, weekdays, start_time, end_time, every, first, last in openings:
        days = frozenset(d for d in weekdays or () if isinstance(d, int))
        if days and end_time > start_time:
            week_zero = first - timedelta(days=first.weekday())
            rows.append(
                (mediator, days, start_time, end_time, max(every or 1, 1), week_zero, first, last)
            )

    # Exceptional days: closed for the whole place, (mediator, day) closed or replaced, and the
    # open ranges that accept the motif per day.
    place_closed: set[date] = set()
    replaced: set[tuple[int, date]] = set()
    exceptional: dict[date, list[tuple[int, time, time]]] = defaultdict(list)
    for mediator, override_day, is_closed, start_time, end_time, accepts in overrides:
        if mediator is None:
            place_closed.add(override_day)
            continue
        replaced.add((mediator, override_day))
        if not is_closed and accepts and end_time > start_time:
            exceptional[override_day].append((mediator, start_time, end_time))

    seats = 1 if capacity is None else capacity
    step = before + duration + after
    found: list[FreeSlot] = []
    day = first_day
    while day <= last_day:
        day_found: list[FreeSlot] = [
            session
            for session in sessions.get(day, ())
            if not _overlaps(
                away_starts.get(session.mediator_id, empty),
                away_ends.get(session.mediator_id, empty),
                session.starts_at,
                session.ends_at,
            )
        ]
        # A public holiday closes the opening hours, not a session that already exists; so
        # does a day limit reached.
        full = max_per_day is not None and day_count.get(day, 0) >= max_per_day
        rows_today = () if day in closed or full or day in place_closed else rows
        weekday = day.weekday()
        # Ranges of the day per mediator, in UTC; a mediator's overlapping ranges are merged so
        # that no two offered slots of one mediator overlap.
        ranges: dict[int, list[tuple[datetime, datetime]]] = {}
        for mediator, days, start_time, end_time, every, week_zero, first, last in rows_today:
            if (
                weekday not in days
                or day < first
                or (last is not None and day > last)
                or ((day - week_zero).days // 7) % every
                or (mediator, day) in replaced
            ):
                continue
            ranges.setdefault(mediator, []).append(
                (_local_to_utc(day, start_time, tz), _local_to_utc(day, end_time, tz))
            )
        if not full and day not in place_closed:
            for mediator, start_time, end_time in exceptional.get(day, ()):
                ranges.setdefault(mediator, []).append(
                    (_local_to_utc(day, start_time, tz), _local_to_utc(day, end_time, tz))
                )
        for mediator, mediator_ranges in ranges.items():
            if (
                max_per_mediator is not None
                and mediator_day_count.get((mediator, day), 0) >= max_per_mediator
            ):
                continue
            busy_starts = starts.get(mediator, empty)
            busy_ends = ends.get(mediator, empty)
            pad_starts = padded_starts.get(mediator, empty)
            pad_ends = padded_ends.get(mediator, empty)
            for begin, finish in _merged(mediator_ranges):
                if finish <= lo or begin >= hi:
                    continue
                piece = begin
                while piece + duration <= finish:
                    piece_end = piece + duration
                    if (
                        lo <= piece < hi
                        and not _overlaps(busy_starts, busy_ends, piece - before, piece_end + after)
                        and not (pad_starts and _overlaps(pad_starts, pad_ends, piece, piece_end))
                    ):
                        day_found.append(FreeSlot(piece, piece_end, mediator, seats))
                    piece += step
        if day_found:
            day_found.sort(key=_order)
            found += day_found
            if limit is not None and len(found) >= limit:
                return found[:limit]
        day += ONE_DAY
    return found


def _overlaps(busy_starts: list[datetime], busy_ends: list[datetime], a, b) -> bool:
    """Does any busy interval overlap [a, b)? Two binary searches on the sorted lists."""
    return bisect_left(busy_starts, b) - bisect_right(busy_ends, a) > 0


def _order(slot: FreeSlot) -> tuple[datetime, int]:
    return slot.starts_at, slot.mediator_id


def _local_to_utc(day: date, wall: time, tz) -> datetime:
    # fold=0 (the default): see the module docstring for the daylight-saving changes.
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)


def _merged(ranges: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping ranges merged; ranges that only touch stay apart (each keeps its grid)."""
    if len(ranges) == 1:
        return ranges
    ranges = sorted(ranges)
    merged = [ranges[0]]
    for begin, finish in ranges[1:]:
        last_begin, last_finish = merged[-1]
        if begin < last_finish:
            merged[-1] = (last_begin, max(last_finish, finish))
        else:
            merged.append((begin, finish))
    return merged
