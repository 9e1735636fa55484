"""Reads of bookings, always scoped to what the user may see (desk agenda, desk booking)."""

from __future__ import annotations

import unicodedata
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from bookings.models import Appointment, Motif, OpeningHours
from bookings.phones import phone_candidates, phone_regions  # noqa: F401 (used by views)
from mediation.models import Place, Resident, User

#: Name search reads at most this many residents of a structure and matches them in Python
#: (accents and case ignored the same way on SQLite and PostgreSQL). A desk's file is a few
#: hundred to a few thousand people; beyond the limit the most recently seen are searched.
SEARCH_RESULTS = 20

#: Region used to read a number typed without its country code, per place time zone:
#: "0692 12 34 56" is a Réunion mobile (+262), not a metropolitan one.


# --- Places, motifs, mediators ------------------------------------------------------------


def agenda_places(user, structure):
    return (
        Place.objects.visible_to(user, "book_at_desk")
        .filter(structure=structure, is_active=True)
        .order_by("name")
    )


def desk_motifs(user, structure):
    """Active motifs of the structure, staff-only ones included."""
    return Motif.objects.visible_to(user, "book_at_desk").filter(structure=structure).active()


def structure_mediators(user, structure):
    """People with opening hours at the structure's places (those who take appointments)."""
    hours = OpeningHours.objects.visible_to(user, "book_at_desk").filter(
        place__structure=structure, mediator=OuterRef("pk")
    )
    return User.objects.filter(Exists(hours)).order_by("last_name", "first_name")


def structure_time_zone(places) -> zoneinfo.ZoneInfo:
    """The time zone of the structure's places when they share one, else the site's."""
    zones = {place.time_zone for place in places}
    return zoneinfo.ZoneInfo(zones.pop() if len(zones) == 1 else settings.TIME_ZONE)


# --- Agenda ---------------------------------------------------------------------------------


@dataclass
class AgendaDay:
    day: date
    appointments: list = field(default_factory=list)


def agenda_appointments(
    user,
    structure,
    *,
    first_day: date,
    last_day: date,
    places,
    place: Place | None = None,
    mediator_id: int | None = None,
) -> list[AgendaDay]:
    """Appointments of the structure's places from `first_day` to `last_day` (local days of
    each place), grouped by day, in one query whatever their number.

    Each place counts its days in its own time zone: the query reads a UTC window wide enough
    for every zone (UTC-4 to UTC+4), and the rows are then kept by their local day."""
    margin = timedelta(hours=14)
    lo = datetime.combine(first_day, time.min, tzinfo=zoneinfo.ZoneInfo("UTC")) - margin
    hi = datetime.combine(last_day + timedelta(days=1), time.min, zoneinfo.ZoneInfo("UTC"))
    rows = (
        Appointment.objects.visible_to(user, "book_at_desk")
        .filter(place__in=places, starts_at__gte=lo, starts_at__lt=hi + margin)
        .select_related("place", "motif", "mediator", "resident", "moved_to")
        .order_by("starts_at", "mediator__last_name", "pk")
    )
    if place is not None:
        rows = rows.filter(place=place)
    if mediator_id is not None:
        rows = rows.filter(mediator_id=mediator_id)
    days = {
        first_day + timedelta(days=n): AgendaDay(first_day + timedelta(days=n))
        for n in range((last_day - first_day).days + 1)
    }
    for appointment in rows:
        local = timezone.localtime(appointment.starts_at, appointment.place.tzinfo)
        if local.date() in days:
            appointment.local_starts_at = local
            appointment.local_ends_at = timezone.localtime(
                appointment.ends_at, appointment.place.tzinfo
            )
            days[local.date()].appointments.append(appointment)
    result = list(days.values())
    for agenda_day in result:
        # Local wall-clock order (two zones may interleave differently than in UTC).
        agenda_day.appointments.sort(key=lambda a: (a.local_starts_at.time(), a.pk))
    return result


# --- Resident search ------------------------------------------------------------------------


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Lower case without accents or extra spaces: "  Éric  LE-Goff" → "eric le goff".

    Marks are stripped before and after case folding: folding may add some ("İ" → "i̇") and
    compatibility forms may decompose to capitals ("ℌ" → "H")."""
    folded = _strip_marks(_strip_marks(text or "").casefold()).casefold()
    for separator in "-'’":
        folded = folded.replace(separator, " ")
    return " ".join(folded.split())


def looks_like_phone(text: str) -> bool:
    digits = sum(c.isdigit() for c in text)
    return digits >= 4 and all(c.isdigit() or c in "+ .-()/" for c in text.strip())


def _desk_residents(user, structure):
    return Resident.objects.visible_to(user, "book_at_desk").filter(structure=structure).followed()


def resident_search(user, structure, query: str, *, regions: list[str]) -> list[Resident]:
    """Followed residents of the structure matching `query` (see `resident_search_page`),
    at most SEARCH_RESULTS."""
    return resident_search_page(user, structure, query, regions=regions)[0]


def resident_search_page(
    user, structure, query: str, *, regions: list[str]
) -> tuple[list[Resident], int]:
    """(The first SEARCH_RESULTS followed residents of the structure matching `query`, how
    many match in all): a phone number in any usual format, or words of the name (accents
    and case ignored), exact last names first ("Hamon" before "Guérin-Hamon"). In the
    database, two queries."""
    query = (query or "").strip()[:100]
    residents = _desk_residents(user, structure)
    if not query:
        return [], 0
    if looks_like_phone(query):
        numbers = phone_candidates(query, regions)
        if numbers:
            matches = residents.filter(phone__in=numbers)
        else:
            # A partial number: the last digits the caller reads out.
            digits = "".join(c for c in query if c.isdigit()).lstrip("0")
            matches = residents.filter(phone__endswith=digits)
        ordered = matches.order_by("last_name", "first_name")
    else:
        if not fold(query).split():
            return [], 0
        matches = residents.matching_name(query)
        ordered = matches.exact_last_name_first(query)
    results = list(ordered[:SEARCH_RESULTS])
    total = len(results) if len(results) < SEARCH_RESULTS else matches.count()
    return results, total
