"""The French territories a place can be in, in one table: for each, the communes' INSEE code
prefix, the time zones its places may use, the region its phone numbers belong to
(`phonenumbers`' region code) and the subdivision of its public holidays (`holidays.France`).

Who reads it: `Place.clean()` (a place's time zone must be one its commune's territory uses),
`mediation.phones` (a number typed the local way at a desk is read in the desk's region),
`bookings.holidays` (the days no slot is offered). A new territory, or a time zone, is one row.

Alsace and Moselle are rows of their own: same time zone and phone plan as métropole, but
their local law keeps Good Friday and 26 December."""

from __future__ import annotations

from dataclasses import dataclass

from mediation.choices import PlaceTimeZone as TZ


@dataclass(frozen=True)
class Territory:
    name: str
    insee_prefixes: tuple[str, ...]
    time_zones: tuple[str, ...]
    phone_region: str
    holidays: str | None  # `holidays.France` subdivision; None: the metropolitan calendar


METROPOLE = Territory("France métropolitaine", (), (TZ.PARIS,), "FR", None)

TERRITORIES: tuple[Territory, ...] = (
    Territory("Moselle", ("57",), (TZ.PARIS,), "FR", "57"),
    Territory("Alsace", ("67", "68"), (TZ.PARIS,), "FR", "6AE"),
    Territory("Guadeloupe", ("971",), (TZ.GUADELOUPE,), "GP", "971"),
    Territory("Martinique", ("972",), (TZ.MARTINIQUE,), "MQ", "972"),
    Territory("Guyane", ("973",), (TZ.CAYENNE,), "GF", "973"),
    Territory("La Réunion", ("974",), (TZ.REUNION,), "RE", "974"),
    Territory("Saint-Pierre-et-Miquelon", ("975",), (TZ.MIQUELON,), "PM", "PM"),
    Territory("Mayotte", ("976",), (TZ.MAYOTTE,), "YT", "976"),
    Territory("Saint-Barthélemy", ("977",), (TZ.ST_BARTHELEMY,), "BL", "BL"),
    Territory("Saint-Martin", ("978",), (TZ.MARIGOT,), "MF", "MF"),
    Territory("Wallis-et-Futuna", ("986",), (TZ.WALLIS,), "WF", "WF"),
    Territory(
        "Polynésie française",
        ("987",),
        (TZ.TAHITI, TZ.MARQUESAS, TZ.GAMBIER),
        "PF",
        "PF",
    ),
    Territory("Nouvelle-Calédonie", ("988",), (TZ.NOUMEA,), "NC", "NC"),
)

_BY_PREFIX = {prefix: t for t in TERRITORIES for prefix in t.insee_prefixes}


def territory_of(insee_code: str | None) -> Territory:
    """The territory of a commune (métropole for any code no row claims, or none)."""
    code = (insee_code or "").strip().upper()
    return _BY_PREFIX.get(code[:3]) or _BY_PREFIX.get(code[:2]) or METROPOLE


#: The phone region of each time zone: a desk's places tell where local numbers belong.
PHONE_REGION_OF_TIME_ZONE: dict[str, str] = {
    zone: t.phone_region for t in (METROPOLE, *TERRITORIES) for zone in t.time_zones
}
