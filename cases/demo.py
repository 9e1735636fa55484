"""Demo data of the activity of every demo structure (see mediation.demo): its residents, its
motifs and opening hours, appointments from the start of the last full quarter to four weeks
ahead (the past ones with their outcome), and a year of help sessions and cases: most "seen"
appointments have their session, the workshop appointments become workshops. Everything drawn comes
from `cases.synthetic`, the vocabulary and the draws the benchmarks' generator shares; this
module tells the story of a year at a desk.

On the cases floor because a session may close an appointment. Idempotent: a structure that
already has motifs keeps its data. Written with bulk_create (sessions and cases with their
history rows) so that the whole `seed_demo` stays fast; the appointments send no message."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from bookings.choices import CANCELLED_STATUSES, AppointmentStatus, MotifMode
from bookings.holidays import closed_days
from bookings.models import Appointment, Motif, OpeningHours, Slot
from bookings.slots import free_slots
from cases import synthetic
from cases.choices import (
    CASE_TRANSITIONS,
    CLOSED_CASE_STATUSES,
    CaseStatus,
    Outcome,
    PlaceType,
    SessionKind,
    TagDimension,
    Theme,
)
from cases.models import Case, CaseEvent, HelpSession, ParticipantCount, SessionTag
from cases.synthetic import (
    CASE_DELAYS,
    CASE_PATHS,
    CASE_TITLES,
    COMMENTS,
    DURATIONS,
    MOTIF_SPECS,
    PICK_AREA,
    PICK_PLACE_TYPE,
    SMARTPHONE_WORKSHOP,
    WORKSHOPS,
    Picker,
)
from mediation.choices import Role
from mediation.demo import register_demo_step
from mediation.models import Membership, Resident, User, fold_name

DAYS = 364
#: Appointments are booked this far ahead of today (and back to the start of the last full
#: quarter: `bookings_start`), so the desk and that quarter's report show booking figures.
BOOKINGS_AHEAD = timedelta(days=28)
#: Named residents added to the base demo's `residents_per_structure`, per mediator.
EXTRA_RESIDENTS_PER_MEDIATOR = 60
ANONYMOUS_SHARE = 0.12
#: Share of the past "seen" appointments whose session was logged (the rest wait for
#: "Terminer et saisir" in the agenda).
LOGGED_APPOINTMENTS = 0.85
ADMINISTRATIVE = Theme.DEMARCHES_ADMINISTRATIVES
S = CaseStatus


@dataclass
class Plan:
    """What one structure's year is made of, before it is written in bulk."""

    structure: object
    tz: object
    now: datetime
    today: date
    rng: random.Random
    #: INSEE codes of the structure's own places: its residents live there, so that its
    #: reports (and its networks') name every commune.
    communes: list
    sessions: list = field(default_factory=list)
    tags: list = field(default_factory=list)  # (session, dimension, code)
    participants: list = field(default_factory=list)  # (session, resident)
    counts: list = field(default_factory=list)  # (session, dimension, code, count)
    anonymous: list = field(default_factory=list)  # (session, Resident) to create first
    cases: list = field(default_factory=list)
    events: list = field(default_factory=list)  # (case, CaseEvent)
    contacts: dict = field(default_factory=dict)  # resident id → [first, last] moment

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        moment = datetime.combine(day, time(hour, minute), tzinfo=self.tz)
        return min(moment, self.now)


@register_demo_step
def seed_activity(context: dict) -> None:
    now = timezone.now()
    for slug, structure in context["structures"].items():
        places = context["places"][slug]
        if not places or Motif.objects.filter(structure=structure).exists():
            continue
        rng = random.Random(f"demo:{slug}")
        mediator_ids = list(
            Membership.objects.filter(structure=structure, role=Role.MEDIATOR)
            .order_by("user_id")
            .values_list("user_id", flat=True)
        )
        plan = Plan(
            structure=structure,
            tz=places[0].tzinfo,
            now=now,
            today=timezone.localdate(now, timezone=places[0].tzinfo),
            rng=rng,
            communes=list(dict.fromkeys(place.insee_code for place in places)),
        )
        extra = EXTRA_RESIDENTS_PER_MEDIATOR * len(mediator_ids)
        pool = _residents(plan, places, count=context["residents_per_structure"] + extra)
        individual, workshop = _offer(structure, places, mediator_ids)
        _book_around_today(places, individual, workshop, pool, rng)
        if mediator_ids:
            _seed_year(plan, places, mediator_ids, pool)


def _residents(plan: Plan, places, *, count: int) -> list[Resident]:
    """The structure's named residents (`count` more of them), in the order of how often they
    come (the first ones most often)."""
    rng = plan.rng
    existing = list(
        Resident.objects.filter(structure=plan.structure, is_anonymous=False).order_by("pk")
    )
    taken = {(r.first_name, r.last_name) for r in existing}
    new = []
    for first, last in synthetic.distinct_names(rng, count, taken):
        birth_year, age_band, status = synthetic.draw_profile(rng, plan.today.year)
        # Moved back to the first session once the year is planned.
        created_at = plan.now - timedelta(days=rng.randint(30, 500))
        new.append(
            Resident(
                structure=plan.structure,
                first_name=first,
                last_name=last,
                search_name=fold_name(first, last),  # bulk_create skips save()
                birth_year=birth_year,
                age_band=age_band,
                status=status,
                gender=synthetic.draw_gender(rng),
                commune_insee=synthetic.draw_commune(rng, plan.communes[0], plan.communes),
                phone=synthetic.draw_phone(rng, places[0].time_zone) if rng.random() < 0.9 else "",
                created_at=created_at,
                last_contact_at=created_at,
            )
        )
    Resident.objects.bulk_create(new)
    pool = existing + new
    rng.shuffle(pool)
    return pool


# --- Bookings -------------------------------------------------------------------------------


def bookings_start(today: date) -> date:
    """The first day of the last full quarter before `today`: the demo's appointments start
    there (the reports' default period is a closed quarter)."""
    this_quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    last_day_before = this_quarter - timedelta(days=1)
    return date(last_day_before.year, 3 * ((last_day_before.month - 1) // 3) + 1, 1)


def _offer(structure, places, mediator_ids) -> tuple[list[Motif], Motif]:
    """The structure's motifs (those of its kind), its mediators' opening hours around today
    and a workshop every other Saturday; returns the individual motifs and the workshop's."""
    today = timezone.localdate()
    first_day, last_day = bookings_start(today) - timedelta(days=7), today + timedelta(days=120)
    specs = synthetic.motifs_of(structure.kind)
    motifs = [
        Motif.objects.create(
            structure=structure, min_delay_minutes=120, max_delay_days=90, **spec.model_fields()
        )
        for spec in specs
    ]
    individual = [m for m in motifs if not m.is_collective]
    workshop = next(m for m in motifs if m.is_collective)
    for index, mediator_id in enumerate(mediator_ids):
        place = places[index % len(places)]
        # A mediator shared between town halls works in each on different days.
        shared = Membership.objects.filter(user_id=mediator_id, role=Role.MEDIATOR).count() > 1
        days = (
            ([0] if structure.slug == "mairie-loheac" else [1, 2, 3])
            if shared
            else [[0, 2, 4], [1, 3], [1, 2, 4]][index % 3]
        )
        offered = [
            motif
            for motif, spec in zip(motifs, specs, strict=True)
            if not spec.is_collective and (place == places[0] or not spec.main_place_only)
        ]
        for start, end in ((time(9), time(12)), (time(13, 30), time(17))):
            hours = OpeningHours.objects.create(
                place=place,
                mediator_id=mediator_id,
                weekdays=days,
                start_time=start,
                end_time=end,
                first_day=first_day,
                last_day=last_day,
            )
            hours.motifs.add(*offered)
    if mediator_ids:
        workshop_hours = OpeningHours.objects.create(
            place=places[0],
            mediator_id=mediator_ids[0],
            weekdays=[5],
            start_time=time(9, 30),
            end_time=time(11, 30),
            every_n_weeks=2,
            first_day=first_day,
            last_day=last_day,
        )
        workshop_hours.motifs.add(workshop)
    return individual, workshop


def _book_around_today(places, individual, workshop, residents, rng) -> None:
    """About 13 % of the slots (a quarter of the workshops') from the start of the last full
    quarter to 4 weeks ahead, with realistic outcomes for the past ones (`synthetic.
    draw_appointment_status`). Written directly (the booking service refuses past times). Home
    visits are arranged by phone, not through slots."""
    if not residents:
        return
    now = timezone.now()
    tz = places[0].tzinfo
    start = datetime.combine(bookings_start(timezone.localdate(timezone=tz)), time.min, tzinfo=tz)
    end = now + BOOKINGS_AHEAD
    slots, appointments = [], []
    taken: set[tuple[int, datetime]] = set()
    at_place = [motif for motif in individual if motif.mode != MotifMode.HOME]
    for place in places:
        for motif in [*at_place, workshop]:
            spec = MOTIF_SPECS[motif.name]
            offered = free_slots(
                place=place,
                motif=motif,
                start=start,
                end=end,
                now=start,
                respect_booking_window=False,
            )
            for free in offered:
                key = (free.mediator_id, free.starts_at)
                if key in taken or rng.random() > (0.25 if motif is workshop else 0.13):
                    continue
                # A slot blocks its whole duration: skip overlaps with ones already taken.
                if any(
                    (free.mediator_id, free.starts_at + timedelta(minutes=m)) in taken
                    for m in range(-120, motif.duration_minutes, 15)
                ):
                    continue
                taken.add(key)
                seats = min(rng.randint(3, 7) if motif.is_collective else 1, len(residents))
                statuses = [
                    synthetic.draw_appointment_status(
                        rng, past=free.starts_at <= now, collective=motif.is_collective
                    )
                    for _ in range(seats)
                ]
                active = [s for s in statuses if s not in CANCELLED_STATUSES]
                slot = Slot(
                    place=place,
                    motif=motif,
                    mediator_id=free.mediator_id,
                    starts_at=free.starts_at,
                    ends_at=free.ends_at,
                    capacity=motif.capacity,
                    seats_taken=len(active),
                    is_active=bool(active),
                )
                slots.append(slot)
                for resident, status in zip(rng.sample(residents, seats), statuses, strict=True):
                    appointment = Appointment(
                        place=place,
                        motif=motif,
                        mediator_id=free.mediator_id,
                        resident=resident,
                        starts_at=free.starts_at,
                        ends_at=free.ends_at,
                        status=status,
                        need=rng.choice(spec.needs) if spec.needs else "",
                        booked_online=motif.bookable_online and synthetic.draw_booked_online(rng),
                        cancelled_at=(
                            min(free.starts_at - timedelta(hours=rng.randint(5, 96)), now)
                            if status in CANCELLED_STATUSES
                            else None
                        ),
                    )
                    appointments.append((slot, appointment))
    Slot.objects.bulk_create(slots)
    for slot, appointment in appointments:
        appointment.slot = slot
    Appointment.objects.bulk_create([a for _slot, a in appointments])


# --- A year of sessions and cases -----------------------------------------------------------


def _seed_year(plan: Plan, places, mediator_ids, pool) -> None:
    rng, structure, today = plan.rng, plan.structure, plan.today
    first_day = today - timedelta(days=DAYS)
    workdays = _workdays(structure, places, mediator_ids)
    holidays = closed_days(places[0], first_day, today)
    window_start = _log_appointments(plan, places)
    _workshops(plan, places[0], mediator_ids[0], pool, first_day, window_start, holidays)
    for mediator_id in mediator_ids:
        days, place = workdays[mediator_id]
        weekly = rng.randint(8, 12)
        per_day = min(weekly / len(days), 7)
        day = first_day
        while day < today:
            if (
                day.weekday() in days
                and day not in holidays
                and not _closed_for_summer(day, plan.tz)
            ):
                if day >= window_start:
                    count = rng.choice([0, 1, 1, 2])  # walk-ins between appointments
                else:
                    count = max(0, round(rng.gauss(per_day * _season(day), 1.2)))
                for _ in range(count):
                    resident = (
                        None
                        if rng.random() < ANONYMOUS_SHARE
                        else synthetic.draw_regular(rng, pool)
                    )
                    _individual(
                        plan, day=day, mediator_id=mediator_id, place=place, resident=resident
                    )
            day += timedelta(days=1)
        for _ in range(rng.randint(16, 26)):
            resident = synthetic.draw_regular(rng, pool)
            _case(
                plan, resident=resident, mediator_id=mediator_id, place=place, first_day=first_day
            )
    _write(plan, pool)


def _workdays(structure, places, mediator_ids) -> dict[int, tuple[set[int], object]]:
    """Weekdays and place of each mediator, from the opening hours of the bookings demo."""
    found: dict[int, tuple[set[int], object]] = {}
    by_pk = {place.pk: place for place in places}
    hours = OpeningHours.objects.filter(place__structure=structure, mediator_id__in=mediator_ids)
    for entry in hours.order_by("pk"):
        weekdays = {d for d in entry.weekdays if d < 5}
        if not weekdays:
            continue  # the Saturday workshops
        days, place = found.get(entry.mediator_id, (set(), by_pk.get(entry.place_id)))
        found[entry.mediator_id] = (days | weekdays, place or places[0])
    for index, mediator_id in enumerate(mediator_ids):
        found.setdefault(mediator_id, ({1, 2, 3}, places[index % len(places)]))
    return found


def _closed_for_summer(day: date, tz) -> bool:
    # Metropolitan desks close for the first fortnight of August.
    return str(tz) == "Europe/Paris" and day.month == 8 and day.day <= 15


def _season(day: date) -> float:
    # Income tax returns in spring, quieter summer and Christmas.
    return {4: 1.25, 5: 1.3, 6: 1.1, 7: 0.8, 8: 0.6, 12: 0.8}.get(day.month, 1.0)


def _anonymous_resident(plan: Plan, session: HelpSession) -> None:
    age_band, gender, status, commune = synthetic.draw_anonymous(plan.rng, plan.communes[0])
    resident = Resident(
        structure=plan.structure,
        is_anonymous=True,
        age_band=age_band,
        gender=gender,
        status=status,
        commune_insee=commune,
        created_at=session.created_at,
        last_contact_at=session.created_at,
    )
    plan.anonymous.append((session, resident))


def _new_session(plan: Plan, *, day: date, mediator_id: int, place, hour=None, **fields):
    rng = plan.rng
    created = plan.at(day, hour or rng.randint(9, 16), rng.choice([0, 15, 30, 45]))
    session = HelpSession(
        structure=plan.structure,
        place=place,
        mediator_id=mediator_id,
        created_by_id=mediator_id,
        date=day,
        report_date=day,  # on time
        created_at=created,
        updated_at=created,  # never changed since
        **fields,
    )
    session._history_user_id = mediator_id
    plan.sessions.append(session)
    resident = fields.get("resident")
    if resident is not None and not resident.is_anonymous:
        _contact(plan, resident, created)
    return session


def _contact(plan: Plan, resident: Resident, moment: datetime) -> None:
    span = plan.contacts.setdefault(resident.pk, [moment, moment])
    span[0], span[1] = min(span[0], moment), max(span[1], moment)


def _tag_session(plan: Plan, session, themes, areas=(), equipment=None) -> None:
    for code in themes:
        plan.tags.append((session, TagDimension.THEME, code))
    for code in dict.fromkeys(areas):
        plan.tags.append((session, TagDimension.PROCEDURE, code))
    for code in equipment or synthetic.draw_equipment(plan.rng):
        plan.tags.append((session, TagDimension.EQUIPMENT, code))


def _individual(
    plan: Plan,
    *,
    day,
    mediator_id,
    place,
    resident,
    themes=None,
    areas=(),
    duration=None,
    outcome=None,
    place_type=None,
    **fields,
):
    rng = plan.rng
    place_type = place_type or PICK_PLACE_TYPE(rng)
    duration = duration or synthetic.draw_duration(rng, free=0)  # the form's picks
    themes = list(themes or synthetic.draw_themes(rng))
    autonomy, outcome, redirected_to = synthetic.draw_assessment(rng, outcome=outcome)
    if ADMINISTRATIVE in themes:
        areas = list(areas) or synthetic.draw_areas(rng)
        if "procedure_detail" not in fields:
            fields["procedure_detail"] = synthetic.draw_detail(rng, areas[0])
    else:
        areas = []
    fields.update(
        kind=SessionKind.INDIVIDUAL,
        duration_minutes=duration,
        place_type=place_type,
        # Elsewhere than at a place (a social centre, a hall): in one of the structure's towns.
        other_commune_insee=rng.choice(plan.communes) if place_type == PlaceType.OTHER else "",
        done_on_behalf=synthetic.draw_on_behalf(rng),
        autonomy=autonomy,
        outcome=outcome,
        redirected_to=redirected_to,
    )
    if resident is None:
        session = _new_session(plan, day=day, mediator_id=mediator_id, place=place, **fields)
        _anonymous_resident(plan, session)
    else:
        session = _new_session(
            plan, day=day, mediator_id=mediator_id, place=place, resident=resident, **fields
        )
    _tag_session(plan, session, themes, areas)
    return session


def _log_appointments(plan: Plan, places) -> date:
    """Sessions for most past "seen" appointments, about what their motif and need say;
    workshops from the workshop appointments. Returns the first day of the bookings window
    (or today when there are no appointments)."""
    rng = plan.rng
    appointments = list(
        Appointment.objects.filter(
            place__in=places,
            status=AppointmentStatus.SEEN,
            starts_at__lt=datetime.combine(plan.today, time.min, tzinfo=plan.tz),
            help_session__isnull=True,
        )
        .select_related("motif", "resident", "place", "slot")
        .order_by("starts_at", "pk")
    )
    has_bookings = Appointment.objects.filter(place__in=places).exists()
    window_start = bookings_start(plan.today) if has_bookings else plan.today
    workshops: dict[int, list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        if appointment.motif.is_collective:
            workshops[appointment.slot_id].append(appointment)
            continue
        if rng.random() > LOGGED_APPOINTMENTS:
            continue
        local = timezone.localtime(appointment.starts_at, plan.tz)
        motif = appointment.motif
        spec = MOTIF_SPECS.get(motif.name)
        themes, areas, fields = (spec.themes if spec else ()), [], {}
        if ADMINISTRATIVE in themes:
            need = appointment.need
            areas = [synthetic.AREA_OF_TITLE.get(need) or rng.choice(spec.areas)]
            fields["procedure_detail"] = need
        _individual(
            plan,
            day=local.date(),
            mediator_id=appointment.mediator_id,
            place=appointment.place,
            resident=appointment.resident,
            themes=themes,
            areas=areas,
            duration=min((d for d, _w in DURATIONS), key=lambda d: abs(d - motif.duration_minutes)),
            place_type=PlaceType.HOME if motif.mode == MotifMode.HOME else PlaceType.PLACE,
            appointment=appointment,
            **fields,
        )
    for seats in workshops.values():
        first = seats[0]
        local = timezone.localtime(first.starts_at, plan.tz)
        _workshop(
            plan,
            day=local.date(),
            mediator_id=first.mediator_id,
            place=first.place,
            spec=next((w for w in WORKSHOPS if w.title == first.motif.name), WORKSHOPS[0]),
            named=[a.resident for a in seats],
            hour=local.hour,
        )
    return window_start


def _workshops(plan: Plan, place, mediator_id, pool, first_day, window_start, holidays) -> None:
    """A workshop every other week before the bookings window, themes in turn."""
    rng = plan.rng
    day = first_day + timedelta(days=(3 - first_day.weekday()) % 7)  # a Thursday
    index = 0
    while day < window_start:
        if day not in holidays and not _closed_for_summer(day, plan.tz):
            spec = WORKSHOPS[index % len(WORKSHOPS)]
            named = rng.sample(pool, min(len(pool), rng.randint(2, 6)))
            _workshop(plan, day=day, mediator_id=mediator_id, place=place, spec=spec, named=named)
            index += 1
        day += timedelta(days=14)


def _workshop(plan: Plan, *, day, mediator_id, place, spec, named, hour=14) -> None:
    rng = plan.rng
    # Walk-ins fill the room up to the workshop's seats, anonymously.
    anonymous = rng.randint(0, max(0, SMARTPHONE_WORKSHOP.capacity - len(named)))
    autonomy, _outcome, _redirected = synthetic.draw_assessment(rng, collective=True)
    session = _new_session(
        plan,
        day=day,
        mediator_id=mediator_id,
        place=place,
        hour=min(hour + 2, 18),
        kind=SessionKind.COLLECTIVE,
        title=spec.title,
        level=spec.level,
        duration_minutes=spec.duration,
        place_type=PlaceType.PLACE,
        people_count=len(named) + anonymous,
        autonomy=autonomy,
    )
    areas = synthetic.draw_areas(rng) if spec.theme == ADMINISTRATIVE else ()
    _tag_session(plan, session, [spec.theme], areas, equipment=[spec.equipment])
    for resident in named:
        plan.participants.append((session, resident))
        _contact(plan, resident, session.created_at)
    if anonymous:
        for dimension, code, count in synthetic.draw_participant_counts(rng, anonymous):
            plan.counts.append((session, dimension, code, count))


def _case(plan: Plan, *, resident, mediator_id, place, first_day) -> None:
    """A case followed from its opening to where it stands today, with its events and the
    sessions of the steps where the resident came."""
    rng = plan.rng
    area = PICK_AREA(rng)
    title = rng.choice(CASE_TITLES[area])
    # Cases opened in the last two months are still running: the desk's current work.
    recent = rng.random() < 0.4
    day = first_day + timedelta(days=rng.randint(DAYS - 60 if recent else 7, DAYS - 1))
    if day.weekday() >= 5:
        day -= timedelta(days=day.weekday() - 4)
    case = Case(
        structure=plan.structure,
        resident=resident,
        procedure_area=area,
        title=title,
        mediator_id=mediator_id,
    )
    status, moment = S.OPEN, plan.at(day, rng.randint(9, 16), rng.choice([0, 20, 40]))
    steps = [("", S.OPEN, moment)]
    while status not in CLOSED_CASE_STATUSES:
        low, high = CASE_DELAYS[status]
        next_day = moment.date() + timedelta(days=rng.randint(low, high))
        if next_day.weekday() >= 5:
            next_day += timedelta(days=7 - next_day.weekday())
        if next_day >= plan.today:
            break
        allowed = [(t, w) for t, w in CASE_PATHS[status] if t in CASE_TRANSITIONS[status]]
        target = Picker(allowed)(rng)
        previous = moment
        moment = plan.at(next_day, rng.randint(9, 16), rng.choice([0, 20, 40]))
        if moment <= previous:  # the same day: later than the step before
            moment = min(previous + timedelta(minutes=rng.randint(20, 90)), plan.now)
        steps.append((status, target, moment))
        status = target
    case.status = status
    case.opened_at = steps[0][2]
    case.status_changed_at = steps[-1][2]
    case.closed_at = steps[-1][2] if status in CLOSED_CASE_STATUSES else None
    next_action = None
    if status not in CLOSED_CASE_STATUSES:
        # Some are due or overdue: "Mes suivis" has something to show.
        next_action = steps[-1][2].date() + timedelta(days=rng.randint(2, 25))
        if next_action.weekday() >= 5:
            next_action += timedelta(days=7 - next_action.weekday())
    case.next_action_on = next_action
    case._history_user_id = mediator_id
    case._history_date = case.opened_at
    plan.cases.append(case)
    for index, (before, after, at) in enumerate(steps):
        last = index == len(steps) - 1
        plan.events.append(
            (
                case,
                CaseEvent(
                    at=at,
                    by_id=mediator_id,
                    from_status=before,
                    to_status=after,
                    comment=rng.choice(COMMENTS[after]),
                    next_action_on=next_action
                    if last
                    else (None if after in CLOSED_CASE_STATUSES else at.date() + timedelta(days=7)),
                ),
            )
        )
        if after in (S.OPEN, S.IN_PROGRESS, S.RESOLVED, S.REDIRECTED):
            # The resident came: a session, attached to the case.
            outcome = {
                S.RESOLVED: Outcome.RESOLVED,
                S.REDIRECTED: Outcome.REDIRECTED,
            }.get(after, Outcome.TO_FOLLOW_UP)
            session = _individual(
                plan,
                day=at.date(),
                mediator_id=mediator_id,
                place=place,
                resident=resident,
                themes=[ADMINISTRATIVE],
                areas=[area],
                outcome=outcome,
                procedure_detail=title,
                place_type=PlaceType.PLACE,
            )
            session.created_at = at
            session.case = case


def _write(plan: Plan, pool) -> None:
    anonymous = [resident for _session, resident in plan.anonymous]
    Resident.objects.bulk_create(anonymous)
    for session, resident in plan.anonymous:
        session.resident = resident
    Case.objects.bulk_create(plan.cases)
    _history(Case, plan.cases, "opened_at")
    for case, event in plan.events:
        event.case = case
    CaseEvent.objects.bulk_create([event for _case, event in plan.events])
    HelpSession.objects.bulk_create(plan.sessions, batch_size=500)
    _history(HelpSession, plan.sessions, "created_at")
    SessionTag.objects.bulk_create(
        [
            SessionTag(session=session, dimension=dimension, code=code)
            for session, dimension, code in dict.fromkeys((s, d, c) for s, d, c in plan.tags)
        ],
        batch_size=1000,
    )
    through = HelpSession.participants.through
    through.objects.bulk_create(
        [
            through(helpsession_id=session.pk, resident_id=resident.pk)
            for session, resident in dict.fromkeys(plan.participants)
        ]
    )
    ParticipantCount.objects.bulk_create(
        [
            ParticipantCount(session=session, dimension=dimension, code=code, count=count)
            for session, dimension, code, count in plan.counts
        ]
    )
    # Residents' first and last contact follow their sessions (retention counts from the
    # last contact).
    touched = []
    for resident in pool:
        span = plan.contacts.get(resident.pk)
        if span is None:
            continue
        resident.created_at = min(resident.created_at, span[0])
        resident.last_contact_at = max(span[1], resident.created_at)
        touched.append(resident)
    Resident.objects.bulk_update(touched, ["created_at", "last_contact_at"], batch_size=500)


def _history(model, objects, date_field: str) -> None:
    """The creation rows of django-simple-history, dated and signed like the real ones."""
    users = {}
    for obj in objects:
        user_id = obj._history_user_id
        if user_id not in users:
            users[user_id] = User(pk=user_id)
        obj._history_user = users[user_id]
        obj._history_date = getattr(obj, date_field)
    model.history.bulk_history_create(objects, batch_size=500)
