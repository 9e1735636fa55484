"""French public holidays of a place: the days when no slot is offered.

Holidays differ by territory: Alsace-Moselle keeps Good Friday and 26 December, each overseas
department has its own abolition of slavery day. The territory comes from the first digits of
the place's INSEE code (mediation/territories.py, which names each territory's subdivision of
the `holidays` package: "57" Moselle, "6AE" Alsace, "971"…"976" the overseas departments,
letters for the overseas collectivities); the dates from the `holidays` package."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

from mediation.territories import territory_of


def subdivision(insee_code: str) -> str | None:
    """The `holidays.France` subdivision of a commune (mediation/territories.py), None for
    the rest of métropole."""
    return territory_of(insee_code).holidays


@lru_cache(maxsize=256)
def _holidays_of_year(subdiv: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("FR", subdiv=subdiv, years=year))


def closed_days(place, start_date: date, end_date: date) -> set[date]:
    """Public holidays at `place` between `start_date` and `end_date`, both included."""
    subdiv = subdivision(place.insee_code)
    days: set[date] = set()
    for year in range(start_date.year, end_date.year + 1):
        days.update(d for d in _holidays_of_year(subdiv, year) if start_date <= d <= end_date)
    return days
