"""Report periods: a month, a quarter, a year, or (staff views only) any range of days.

A period is a half-open range of local dates `[start, end)`. Codes are what the command line
and URLs take: "2026-Q3" (also "2026-T3", the French "trimestre"), "2026-07", "2026", and for
staff views "2026-07-01..2026-07-15" (both days included, as people type them).

Anonymised exports cover whole months, quarters or years only (`require_whole`): two exports
of arbitrary ranges could be subtracted down to a few days, and a few days can single someone
out.

A whole period is *closed* once `REPORTS_GRACE_DAYS` days have passed after its end
(`is_closed`): late entries are no longer counted in it (a session recorded after its month is
closed counts in the month it was recorded, `HelpSession.report_date`), and its anonymised
reports are published once and never change (`reports.frozen`). Anonymised reports exist for
closed periods only (`require_closed`).
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from mediation.dates import MONTH_NAMES, day_label

MIN_YEAR, MAX_YEAR = 2000, 2100

MONTH = "month"
QUARTER = "quarter"
YEAR = "year"
CUSTOM = "custom"
WHOLE_KINDS = (MONTH, QUARTER, YEAR)

_YEAR_RE = re.compile(r"^(\d{4})$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER_RE = re.compile(r"^(\d{4})-?[QT](\d)$", re.IGNORECASE)
_RANGE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|/)\s*(\d{4}-\d{2}-\d{2})$")

EXAMPLES = "2026-Q3 (trimestre), 2026-07 (mois) ou 2026 (année)"


class PeriodError(ValueError):
    """A period that cannot be read or is not allowed here; the message is for the user."""


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _check_year(year: int, text: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(
            f"Période « {text} » : l'année doit être comprise entre {MIN_YEAR} et {MAX_YEAR}."
        )


@dataclass(frozen=True, order=True)
class Period:
    """`[start, end)` in local dates; `kind` is "month", "quarter", "year" or "custom"."""

    start: date
    end: date
    kind: str = CUSTOM

    def __post_init__(self):
        if self.end <= self.start:
            raise PeriodError("La date de fin doit être après la date de début.")

    # --- Constructors ---------------------------------------------------------------------

    @classmethod
    def of_month(cls, year: int, month: int) -> Period:
        start = date(year, month, 1)
        return cls(start, _add_months(start, 1), MONTH)

    @classmethod
    def of_quarter(cls, year: int, quarter: int) -> Period:
        start = date(year, 3 * (quarter - 1) + 1, 1)
        return cls(start, _add_months(start, 3), QUARTER)

    @classmethod
    def of_year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year + 1, 1, 1), YEAR)

    @classmethod
    def between(cls, first: date, last: date) -> Period:
        """The days from `first` to `last`, both included (as a date picker gives them).

        A range that happens to be a whole month, quarter or year is returned as one, so an
        export of "1 July – 30 September" is the third quarter."""
        if last < first:
            raise PeriodError("La date de fin doit être après la date de début.")
        end = last + timedelta(days=1)
        if first.day == 1:
            for months, kind in ((1, MONTH), (3, QUARTER), (12, YEAR)):
                aligned = kind != QUARTER or first.month % 3 == 1
                aligned = aligned and (kind != YEAR or first.month == 1)
                if aligned and _add_months(first, months) == end:
                    return cls(first, end, kind)
        return cls(first, end, CUSTOM)

    # --- Reading --------------------------------------------------------------------------

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def is_whole(self) -> bool:
        return self.kind in WHOLE_KINDS

    @property
    def code(self) -> str:
        """The text `parse_period` reads back into this period."""
        if self.kind == YEAR:
            return f"{self.start.year}"
        if self.kind == QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == MONTH:
            return f"{self.start:%Y-%m}"
        return f"{self.start:%Y-%m-%d}..{self.last_day:%Y-%m-%d}"

    @property
    def label(self) -> str:
        """French: "3e trimestre 2026", "juillet 2026", "année 2026", "du 1er au …"."""
        if self.kind == YEAR:
            return f"année {self.start.year}"
        if self.kind == QUARTER:
            number = (self.start.month - 1) // 3 + 1
            return f"{'1er' if number == 1 else f'{number}e'} trimestre {self.start.year}"
        if self.kind == MONTH:
            return f"{MONTH_NAMES[self.start.month - 1]} {self.start.year}"
        if self.days == 1:
            return f"le {day_label(self.start)}"
        return f"du {day_label(self.start)} au {day_label(self.last_day)}"

    def __str__(self) -> str:
        return self.label

    def previous(self) -> Period:
        """The period of the same length just before: the previous month, quarter or year;
        for a custom range, as many days ending the day before it starts."""
        if self.kind == MONTH:
            return Period(_add_months(self.start, -1), self.start, MONTH)
        if self.kind == QUARTER:
            return Period(_add_months(self.start, -3), self.start, QUARTER)
        if self.kind == YEAR:
            return Period(_add_months(self.start, -12), self.start, YEAR)
        return Period(self.start - timedelta(days=self.days), self.start, CUSTOM)

    def months(self) -> list[str]:
        """The months the period touches, as "YYYY-MM" (keys of the monthly trend)."""
        keys = []
        month = self.start.replace(day=1)
        while month < self.end:
            keys.append(f"{month:%Y-%m}")
            month = _add_months(month, 1)
        return keys

    def month_ranges(self) -> list[tuple[str, date, date]]:
        """("YYYY-MM", first day, day after the last) of each month, clipped to the period."""
        ranges = []
        month = self.start.replace(day=1)
        while month < self.end:
            following = _add_months(month, 1)
            ranges.append((f"{month:%Y-%m}", max(month, self.start), min(following, self.end)))
            month = following
        return ranges

    def bounds_in(self, tz: str | zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
        """The aware instants where the period starts and ends in time zone `tz`."""
        zone = zoneinfo.ZoneInfo(tz) if isinstance(tz, str) else tz
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end, time.min, tzinfo=zone),
        )


# --- Parsing and defaults -------------------------------------------------------------------


def parse_period(text: str, *, allow_custom: bool = False) -> Period:
    """Read "2026-Q3", "2026-T3", "2026-07", "2026", or with `allow_custom` a range of days
    "2026-07-01..2026-07-15" (or "2026-07-01/2026-07-15"). Raises PeriodError in French."""
    raw = (text or "").strip()
    if not raw:
        raise PeriodError(f"Indiquez une période : {EXAMPLES}.")
    if match := _YEAR_RE.match(raw):
        year = int(match[1])
        _check_year(year, raw)
        return Period.of_year(year)
    if match := _QUARTER_RE.match(raw):
        year, quarter = int(match[1]), int(match[2])
        _check_year(year, raw)
        if not 1 <= quarter <= 4:
            raise PeriodError(
                f"Période « {raw} » : le trimestre va de 1 à 4 (ex. {year}-Q3 pour "
                f"juillet à septembre)."
            )
        return Period.of_quarter(year, quarter)
    if match := _MONTH_RE.match(raw):
        year, month = int(match[1]), int(match[2])
        _check_year(year, raw)
        if not 1 <= month <= 12:
            raise PeriodError(
                f"Période « {raw} » : le mois va de 01 à 12 (ex. {year}-07 pour juillet)."
            )
        return Period.of_month(year, month)
    if match := _RANGE_RE.match(raw):
        if not allow_custom:
            raise PeriodError(
                f"Période « {raw} » : les bilans anonymisés couvrent des mois, trimestres ou "
                f"années entiers ({EXAMPLES}), pour que deux bilans ne puissent pas être "
                f"soustraits l'un de l'autre jusqu'à quelques jours."
            )
        try:
            first, last = date.fromisoformat(match[1]), date.fromisoformat(match[2])
        except ValueError:
            raise PeriodError(
                f"Période « {raw} » : une des dates n'existe pas (format AAAA-MM-JJ)."
            ) from None
        _check_year(first.year, raw)
        _check_year(last.year, raw)
        if last < first:
            raise PeriodError(f"Période « {raw} » : la date de fin est avant la date de début.")
        return Period.between(first, last)
    custom = " ou un intervalle de dates (2026-07-01..2026-07-15)" if allow_custom else ""
    raise PeriodError(f"Période « {raw} » illisible : attendu {EXAMPLES}{custom}.")


def require_whole(period: Period) -> Period:
    """The period itself if it is a whole month, quarter or year (anonymised exports)."""
    if not period.is_whole:
        raise PeriodError(
            f"Les bilans anonymisés couvrent des mois, trimestres ou années entiers, pas "
            f"« {period.label} » ({EXAMPLES})."
        )
    return period


def last_full_quarter(today: date | None = None) -> Period:
    """The last quarter wholly before `today` (the default period of reports): on 1 October
    2026 and until 31 December, the third quarter of 2026."""
    from django.utils import timezone

    today = today or timezone.localdate()
    current = Period.of_quarter(today.year, (today.month - 1) // 3 + 1)
    return current.previous()


def grace_days() -> int:
    from django.conf import settings

    return int(getattr(settings, "REPORTS_GRACE_DAYS", 5))


def closing_day(period: Period) -> date:
    """The first day on which `period` is closed: `REPORTS_GRACE_DAYS` days after its end."""
    return period.end + timedelta(days=grace_days())


def is_closed(period: Period, today: date | None = None) -> bool:
    """Whether `period` is closed on `today` (local date): its late entries go to the month
    they are recorded in, and its anonymised reports never change."""
    from django.utils import timezone

    return closing_day(period) <= (today or timezone.localdate())


def _subject(period: Period) -> str:
    """ "Le 4e trimestre 2026", "Le mois de juillet 2026", "L'année 2026" (start of a
    sentence)."""
    if period.kind == YEAR:
        return f"L'{period.label}"
    if period.kind == MONTH:
        return f"Le mois de {period.label}"
    if period.kind == QUARTER:
        return f"Le {period.label}"
    return f"La période {period.label}"


def require_closed(period: Period, today: date | None = None) -> Period:
    """The period itself if it is closed (anonymised reports); PeriodError in French
    otherwise."""
    if is_closed(period, today):
        return period
    closing = closing_day(period)
    closed = "close" if period.kind in (YEAR, CUSTOM) else "clos"
    raise PeriodError(
        f"{_subject(period)} n'est pas encore {closed} : des séances peuvent y être saisies "
        f"jusqu'au {day_label(closing - timedelta(days=1))}, bilan anonymisé disponible à "
        f"partir du {day_label(closing)}."
    )


def last_closed_quarter(today: date | None = None) -> Period:
    """The last closed quarter on `today` (the default period of anonymised reports): the
    last full quarter once the grace days after it have passed, the one before until then
    (on 3 January 2027, with 5 days of grace, the third quarter of 2026)."""
    from django.utils import timezone

    today = today or timezone.localdate()
    quarter = last_full_quarter(today)
    while not is_closed(quarter, today):
        quarter = quarter.previous()
    return quarter
