"""Places in the national open-data schema "lieux de médiation numérique" (v1.0.2, a Table
Schema: DOMAIN.md, "National vocabularies"), as the public files `/donnees/lieux.csv` and
`/donnees/lieux.json` (and the same per structure and per network) serve them.

It lives in `bookings`, not beside the places in `mediation`: a place's `horaires` come from
its opening hours, its absences and the public holidays the booking engine closes on, and its
`prise_rdv` is its public booking page. Nothing below `bookings` imports it.

Only the places a structure chose to publish (`Place.is_published`), active, whose structure
has a pivot (SIRET, RNA or RIDET) and that offer at least one service are written: every row
meets the schema's required fields. The rows of any number of places cost a fixed number of
queries (`place_rows`).

`horaires` is in OpenStreetMap `opening_hours` syntax:

- the weekly pattern first, from the recurring opening hours that run on (weekly, with no last
  day within the horizon): the union of every mediator's hours at the place, per weekday
  ("Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00");
- then, for the days of the next `HORIZON_DAYS` that differ from it, the day's real hours: an
  opening every second week, one that starts or ends, a mediator's absence that leaves nobody
  at the place, an exceptional day (`DateOverride`: an open Saturday, other hours, a closure)
  ("2026 Dec 24-31 off", "2027 Jan 12 14:00-17:00");
- then "PH off": the booking engine offers nothing on public holidays (`bookings.holidays`);
- last, the public holidays an exceptional opening opens anyway, as the engine does.

Later OSM rules override earlier ones for the days they name, hence this order."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from bookings.holidays import closed_days
from bookings.models import Absence, DateOverride, Motif, OpeningHours
from mediation.choices import StructureKind
from mediation.fields import split_emails
from mediation.models import NATIONAL_PHONE, Membership, Network, Place, Structure

#: The schema's columns, in its order (the optional ones Permanence has nothing for are kept:
#: a consumer reads every file with the same header).
FIELDS = (
    "id",
    "pivot",
    "nom",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "latitude",
    "longitude",
    "typologie",
    "telephone",
    "courriels",
    "site_web",
    "horaires",
    "presentation_resume",
    "presentation_detail",
    "source",
    "itinerance",
    "structure_parente",
    "date_maj",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "dispositif_programmes_nationaux",
    "modalites_acces",
    "modalites_accompagnement",
    "fiche_acces_libre",
    "prise_rdv",
)
#: Between the values of a multi-valued field, in the schema's CSV and JSON alike.
SEPARATOR = "|"
#: Who collected the data (`source`).
SOURCE = "Permanence"
#: `typologie`: the data·inclusion structure typology of each kind of structure. None: no
#: typology says it (an EPN is a service, run by a commune, a library or an association: its
#: structure's own typology is not known here), and the optional field stays empty.
TYPOLOGY = {
    StructureKind.MAIRIE: "MUNI",
    StructureKind.CCAS: "CCAS",
    StructureKind.FRANCE_SERVICES: "RFS",
    StructureKind.MEDIATHEQUE: "BIB",
    StructureKind.EPN: None,
    StructureKind.ASSOCIATION: "ASSO",
    StructureKind.EPCI: "EPCI",
    StructureKind.TIERS_LIEU: "TIERS_LIEUX",
}
ROAMING, FIXED = "Itinérant", "Fixe"
#: How far ahead `horaires` spells out the days that differ from the weekly pattern.
HORIZON_DAYS = 84
DAY_NAMES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ONE_DAY = timedelta(days=1)


# --- Which places ---------------------------------------------------------------------------


def published_places(
    *, structure: Structure | None = None, network: Network | None = None
) -> QuerySet[Place]:
    """The places published by their structure (of `structure`, or of the structures of
    `network`), active, in a stable order."""
    places = Place.objects.filter(is_published=True, is_active=True)
    if structure is not None:
        places = places.filter(structure=structure)
    if network is not None:
        places = places.filter(structure__in=Structure.objects.in_network(network).values("pk"))
    return places.select_related("structure").order_by("structure__name", "name", "pk")


# --- horaires -------------------------------------------------------------------------------

Range = tuple[int, int]  # minutes since local midnight, [start, end)


@dataclass(frozen=True, slots=True)
class Opening:
    """One recurring opening of a mediator at the place (an `OpeningHours` row)."""

    mediator_id: int
    weekdays: frozenset[int]
    start: int
    end: int
    every: int
    first: date
    last: date | None

    def runs_on(self, day: date) -> bool:
        if day.weekday() not in self.weekdays or day < self.first:
            return False
        if self.last is not None and day > self.last:
            return False
        week_zero = self.first - timedelta(days=self.first.weekday())
        return ((day - week_zero).days // 7) % self.every == 0


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _merged(ranges: Iterable[Range]) -> tuple[Range, ...]:
    """Ranges merged where they overlap or touch (a place open 9–12 by one mediator and 12–14
    by another is open 9–14)."""
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def _minus(ranges: list[Range], holes: list[Range]) -> list[Range]:
    for hole_start, hole_end in holes:
        pieces = []
        for start, end in ranges:
            if hole_end <= start or hole_start >= end:
                pieces.append((start, end))
                continue
            if start < hole_start:
                pieces.append((start, hole_start))
            if hole_end < end:
                pieces.append((hole_end, end))
        ranges = pieces
    return ranges


def _absent_on(day: date, absences: list[tuple[datetime, datetime]], tz) -> list[Range]:
    """The parts of `day` (local) that `absences` (aware) cover, to the minute: an absence
    from 10:15:30 covers 10:15 on."""
    holes = []
    midnight = datetime.combine(day, time(), tzinfo=tz)
    next_midnight = datetime.combine(day + ONE_DAY, time(), tzinfo=tz)
    for starts_at, ends_at in absences:
        if ends_at <= midnight or starts_at >= next_midnight:
            continue
        start = max(starts_at, midnight).astimezone(tz)
        end = min(ends_at, next_midnight).astimezone(tz)
        start_minute = 0 if start.date() < day else start.hour * 60 + start.minute
        if end.date() > day:
            end_minute = 24 * 60
        else:
            end_minute = end.hour * 60 + end.minute + (1 if end.second or end.microsecond else 0)
        holes.append((start_minute, end_minute))
    return holes


@dataclass(frozen=True, slots=True)
class Exceptional:
    """A place's exceptional day (its `DateOverride` rows together): closed for everyone,
    mediators whose recurring hours the day replaces, and the exceptional openings."""

    closed: bool = False
    replaced: frozenset[int] = frozenset()
    openings: tuple[tuple[int, int, int], ...] = ()  # (mediator, start, end) in minutes


def _exceptional_days(rows) -> dict[int, dict[date, Exceptional]]:
    """Per place and day, from (place, mediator or None, day, closed, start, end) rows."""
    grouped: dict[tuple[int, date], list] = defaultdict(list)
    for place_id, mediator, day, closed, start, end in rows:
        grouped[place_id, day].append((mediator, closed, start, end))
    found: dict[int, dict[date, Exceptional]] = defaultdict(dict)
    for (place_id, day), items in grouped.items():
        found[place_id][day] = Exceptional(
            closed=any(mediator is None for mediator, *_rest in items),
            replaced=frozenset(mediator for mediator, *_rest in items if mediator is not None),
            openings=tuple(
                (mediator, _minutes(start), _minutes(end))
                for mediator, closed, start, end in items
                if mediator is not None and not closed and end > start
            ),
        )
    return found


def day_hours(
    openings: list[Opening],
    absences: dict[int, list[tuple[datetime, datetime]]],
    day,
    tz,
    exceptional: Exceptional | None = None,
    holiday: bool = False,
) -> tuple[Range, ...]:
    """When the place is open on `day`: each mediator's openings of the day less their
    absences, all mediators together. An exceptional day replaces the recurring hours of its
    mediators (all of them when the place is closed) and adds its openings; on a public
    holiday only those are open, as in the slot engine."""
    exceptional = exceptional or Exceptional()
    if exceptional.closed:
        return ()
    spans: list[tuple[int, int, int]] = [
        (opening.mediator_id, opening.start, opening.end)
        for opening in ([] if holiday else openings)
        if opening.mediator_id not in exceptional.replaced and opening.runs_on(day)
    ]
    spans += exceptional.openings
    ranges: list[Range] = []
    for mediator, start, end in spans:
        span = [(start, end)]
        holes = _absent_on(day, absences.get(mediator, []), tz)
        ranges += _minus(span, holes) if holes else span
    return _merged(ranges)


def _time_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _hours_text(ranges: tuple[Range, ...]) -> str:
    if not ranges:
        return "off"
    return ",".join(f"{_time_text(start)}-{_time_text(end)}" for start, end in ranges)


def _weekdays_text(days: list[int]) -> str:
    """[0, 1, 2, 3, 4, 6] → "Mo-Fr,Su"."""
    parts, run = [], [days[0]]
    for day in days[1:]:
        if day == run[-1] + 1:
            run.append(day)
            continue
        parts.append(run)
        run = [day]
    parts.append(run)
    texts = []
    for run in parts:
        if len(run) >= 3:
            texts.append(f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}")
        else:
            texts += [DAY_NAMES[day] for day in run]
    return ",".join(texts)


def _date_text(first: date, last: date) -> str:
    """ "2026 Dec 24", "2026 Dec 24-31", "2026 Dec 28-2027 Jan 03"."""
    start = f"{first.year} {MONTH_NAMES[first.month - 1]} {first.day:02d}"
    if last == first:
        return start
    if (last.year, last.month) == (first.year, first.month):
        return f"{start}-{last.day:02d}"
    return f"{start}-{last.year} {MONTH_NAMES[last.month - 1]} {last.day:02d}"


def opening_hours_text(
    openings: list[Opening],
    absences: dict[int, list[tuple[datetime, datetime]]],
    *,
    holidays: set[date],
    today: date,
    tz,
    horizon_days: int = HORIZON_DAYS,
    exceptional: dict[date, Exceptional] | None = None,
) -> str:
    """The OSM `opening_hours` value of a place (see the module docstring); "" for a place
    with no opening hours."""
    horizon_end = today + timedelta(days=horizon_days - 1)
    lasting = [
        opening
        for opening in openings
        if opening.every == 1
        and opening.first <= horizon_end
        and (opening.last is None or opening.last > horizon_end)
    ]
    weekly: dict[int, tuple[Range, ...]] = {}
    for weekday in range(7):
        weekly[weekday] = _merged(
            (opening.start, opening.end) for opening in lasting if weekday in opening.weekdays
        )
    rules = []
    by_hours: dict[tuple[Range, ...], list[int]] = defaultdict(list)
    for weekday, ranges in weekly.items():
        if ranges:
            by_hours[ranges].append(weekday)
    for ranges, days in sorted(by_hours.items(), key=lambda item: item[1][0]):
        rules.append(f"{_weekdays_text(days)} {_hours_text(ranges)}")

    # The days that differ, in runs of consecutive days with the same hours; a day that does
    # not differ (or a holiday, closed anyway) may sit inside a run of its own hours.
    exceptional = exceptional or {}
    runs: list[list] = []  # [first differing day, last differing day, hours]
    # Public holidays that an exceptional opening opens all the same: after "PH off".
    opened_holidays: list[tuple[date, tuple[Range, ...]]] = []
    day = today
    while day <= horizon_end:
        holiday = day in holidays
        special = exceptional.get(day)
        if holiday and special is not None and special.openings:
            hours = day_hours(openings, absences, day, tz, special, holiday=True)
            if hours:
                opened_holidays.append((day, hours))
        hours = () if holiday else day_hours(openings, absences, day, tz, special)
        differs = not holiday and hours != weekly[day.weekday()]
        if runs and runs[-1][2] == hours and runs[-1][3] == day - ONE_DAY:
            runs[-1][3] = day
            if differs:
                runs[-1][1] = day
        elif differs:
            runs.append([day, day, hours, day])
        day += ONE_DAY
    for first, last, hours, _end in runs:
        rules.append(f"{_date_text(first, last)} {_hours_text(hours)}")
    if not rules and not opened_holidays:
        return ""
    rules.append("PH off")
    rules += [f"{_date_text(day, day)} {_hours_text(hours)}" for day, hours in opened_holidays]
    return "; ".join(rules)


# --- The rows -------------------------------------------------------------------------------


def _joined(values: Iterable[str]) -> str:
    return SEPARATOR.join(value for value in values if value)


def _phone(place: Place) -> str:
    for phone in (place.phone, place.structure.phone):
        text = str(phone) if phone else ""
        if text and NATIONAL_PHONE.match(text):
            return text
    return ""


def booking_url(place: Place) -> str:
    """The place's public booking page, absolute."""
    path = reverse("public_start", kwargs={"structure": place.structure.slug})
    return f"{settings.SITE_URL}{path}?lieu_choisi={place.pk}"


def _latest(rows) -> dict[int, date]:
    return {key: timezone.localdate(at) for key, at in rows if at is not None}


def place_rows(places: Iterable[Place], *, now: datetime | None = None) -> list[dict]:
    """The schema's row of each place that can be published (see the module docstring),
    values as the CSV writes them (numbers for the coordinates). A fixed number of queries,
    whatever the number of places."""
    now = now or timezone.now()
    places = [place for place in places if place.structure.pivot and place.services]
    if not places:
        return []
    ids = [place.pk for place in places]
    latest_day = max(timezone.localdate(now, place.tzinfo) for place in places)
    horizon_end = latest_day + timedelta(days=HORIZON_DAYS)

    current = OpeningHours.objects.filter(
        Q(last_day__isnull=True) | Q(last_day__gte=latest_day - timedelta(days=2)),
        # Only people who take appointments in the place's structure now (as the slot engine):
        # a mediator removed from the structure leaves its hours, even with an active account.
        Exists(
            Membership.objects.allowing("take_appointments").filter(
                structure_id=OuterRef("place__structure_id"), user_id=OuterRef("mediator_id")
            )
        ),
        place_id__in=ids,
        mediator__is_active=True,
        first_day__lte=horizon_end,
    )
    openings: dict[int, list[Opening]] = defaultdict(list)
    for place_id, mediator_id, weekdays, start, end, every, first, last in (
        current.order_by()
        .values_list(
            "place_id",
            "mediator_id",
            "weekdays",
            "start_time",
            "end_time",
            "every_n_weeks",
            "first_day",
            "last_day",
        )
        .iterator()
    ):
        days = frozenset(d for d in weekdays or () if isinstance(d, int) and 0 <= d <= 6)
        if days and end > start:
            every = max(every or 1, 1)
            opening = Opening(mediator_id, days, _minutes(start), _minutes(end), every, first, last)
            openings[place_id].append(opening)

    # Exceptional days of the horizon, of people who take appointments there now (or of the
    # whole place).
    overrides = DateOverride.objects.filter(
        Q(mediator_id__isnull=True)
        | Exists(
            Membership.objects.allowing("take_appointments").filter(
                structure_id=OuterRef("place__structure_id"), user_id=OuterRef("mediator_id")
            )
        ),
        place_id__in=ids,
        day__gte=latest_day - timedelta(days=2),
        day__lte=horizon_end,
    )
    exceptional = _exceptional_days(
        overrides.order_by().values_list(
            "place_id", "mediator_id", "day", "is_closed", "start_time", "end_time"
        )
    )

    absences: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for mediator_id, starts_at, ends_at in (
        Absence.objects.filter(
            Q(mediator_id__in=current.values("mediator_id"))
            | Q(mediator_id__in=overrides.filter(is_closed=False).values("mediator_id")),
            starts_at__lt=now + timedelta(days=HORIZON_DAYS + 2),
            ends_at__gt=now - timedelta(days=2),
        )
        .order_by()
        .values_list("mediator_id", "starts_at", "ends_at")
    ):
        absences[mediator_id].append((starts_at, ends_at))

    # A structure whose booking page is a draft takes no booking online: no `prise_rdv`.
    bookable = set(
        current.filter(
            motifs__in=Motif.objects.bookable_online(), place__structure__booking_published=True
        )
        .order_by()
        .values_list("place_id", flat=True)
        .distinct()
    )

    # date_maj: the last change of the place, its structure, its opening hours or the
    # absences of its mediators (their history rows); today for data with no history.
    place_changed = _latest(
        Place.history.filter(id__in=ids)
        .order_by()
        .values("id")
        .annotate(at=Max("history_date"))
        .values_list("id", "at")
    )
    structure_changed = _latest(
        Structure.history.filter(id__in={place.structure_id for place in places})
        .order_by()
        .values("id")
        .annotate(at=Max("history_date"))
        .values_list("id", "at")
    )
    hours_changed = _latest(
        OpeningHours.history.filter(place_id__in=ids)
        .order_by()
        .values("place_id")
        .annotate(at=Max("history_date"))
        .values_list("place_id", "at")
    )
    absence_changed = _latest(
        Absence.history.filter(mediator_id__in=current.values("mediator_id"))
        .order_by()
        .values("mediator_id")
        .annotate(at=Max("history_date"))
        .values_list("mediator_id", "at")
    )

    rows = []
    for place in places:
        structure, tz = place.structure, place.tzinfo
        today = timezone.localdate(now, tz)
        place_openings = openings.get(place.pk, [])
        place_exceptional = exceptional.get(place.pk, {})
        mediators = {opening.mediator_id for opening in place_openings} | {
            mediator
            for special in place_exceptional.values()
            for mediator, _start, _end in special.openings
        }
        holidays = closed_days(place, today, today + timedelta(days=HORIZON_DAYS))
        changes = [
            place_changed.get(place.pk),
            structure_changed.get(structure.pk),
            hours_changed.get(place.pk),
            *(absence_changed.get(mediator) for mediator in mediators),
        ]
        changed = max((day for day in changes if day is not None), default=today)
        row = {
            # The same stable identifier as the read API's `lieux-activite`.
            "id": str(place.uuid),
            "pivot": structure.pivot,
            "nom": place.name,
            "commune": place.commune,
            "code_postal": place.postcode,
            "code_insee": place.insee_code,
            "adresse": place.address,
            "complement_adresse": place.address_complement,
            "latitude": float(place.latitude) if place.latitude is not None else None,
            "longitude": float(place.longitude) if place.longitude is not None else None,
            "typologie": TYPOLOGY.get(structure.kind) or "",
            "telephone": _phone(place),
            "courriels": _joined(split_emails(place.emails) or [structure.email]),
            "site_web": place.website,
            "horaires": opening_hours_text(
                place_openings,
                {mediator: absences.get(mediator, []) for mediator in mediators},
                holidays=holidays,
                today=today,
                tz=tz,
                exceptional=place_exceptional,
            ),
            "presentation_resume": place.summary,
            "presentation_detail": place.description,
            "source": SOURCE,
            "itinerance": ROAMING if place.is_roaming else FIXED,
            "structure_parente": structure.name,
            "date_maj": min(changed, today).isoformat(),
            "services": _joined(place.services),
            "publics_specifiquement_adresses": _joined(place.publics),
            "prise_en_charge_specifique": _joined(place.specific_support),
            "frais_a_charge": _joined(place.fees),
            "dispositif_programmes_nationaux": _joined(place.national_programmes),
            "modalites_acces": _joined(place.access_terms),
            "modalites_accompagnement": _joined(place.support_modes),
            "fiche_acces_libre": place.acceslibre_url,
            "prise_rdv": booking_url(place) if place.pk in bookable else "",
        }
        rows.append(row)
    return rows


# --- The files ------------------------------------------------------------------------------


def render_csv(rows: list[dict]) -> bytes:
    """The schema's CSV: UTF-8, comma-separated, a header of every field (RFC 4180)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return out.getvalue().encode("utf-8")


def render_json(rows: list[dict]) -> bytes:
    """The same rows as a JSON array of objects, empty fields left out."""
    items = [{key: value for key, value in row.items() if value not in ("", None)} for row in rows]
    return json.dumps(items, ensure_ascii=False, indent=1).encode("utf-8")


RENDERERS = {
    "csv": (render_csv, "text/csv; charset=utf-8"),
    "json": (render_json, "application/json; charset=utf-8"),
}
