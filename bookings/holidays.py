"""French public holidays of a place: the days when no slot is offered.

Holidays differ by territory: Alsace-Moselle keeps Good Friday and 26 December, each overseas
department has its own abolition of slavery day. The territory comes from the first digits of
the place's INSEE code; the dates from the `holidays` package, whose French subdivision codes
are "57" (Moselle), "6AE" (Alsace), "971"…"976" (overseas departments) and letters for the
overseas collectivities."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

# INSEE code prefix → subdivision code of `holidays.France` (checked against holidays 0.109).
_SUBDIVISION_BY_PREFIX = {
    "57": "57",  # Moselle
    "67": "6AE",  # Bas-Rhin
    "68": "6AE",  # Haut-Rhin
    "971": "971",  # Guadeloupe
    "972": "972",  # Martinique
    "973": "973",  # Guyane
    "974": "974",  # La Réunion
    "975": "PM",  # Saint-Pierre-et-Miquelon
    "976": "976",  # Mayotte
    "977": "BL",  # Saint-Barthélemy
    "978": "MF",  # Saint-Martin
    "986": "WF",  # Wallis-et-Futuna
    "987": "PF",  # Polynésie française
    "988": "NC",  # Nouvelle-Calédonie
}


def subdivision(insee_code: str) -> str | None:
    """The `holidays.France` subdivision of a commune, None for the rest of métropole."""
    code = (insee_code or "").strip().upper()
    return _SUBDIVISION_BY_PREFIX.get(code[:3]) or _SUBDIVISION_BY_PREFIX.get(code[:2])


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
