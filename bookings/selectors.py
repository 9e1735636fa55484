"""Reads of bookings, always scoped to what the user may see (desk agenda, desk booking)."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from bookings.choices import CANCELLED_STATUSES, AppointmentStatus
from bookings.models import Appointment, Motif, OpeningHours, SmsOptOut
from mediation.models import Membership, Place, User
from mediation.selectors import parse_resident_query, resident_search

#: The reverse side of a move (`Appointment.moved_to`), cached by `attach_moves`.
_MOVED_TO = Appointment.moved_to.related

#: Residents listed at step 1 of booking at the desk ("Les 20 premiers sur 22").
SEARCH_RESULTS = 20


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
    """People with opening hours at the structure's places who take appointments there now
    (as the slot engine: someone removed from the structure is left out)."""
    hours = OpeningHours.objects.visible_to(user, "book_at_desk").filter(
        place__structure=structure, mediator=OuterRef("pk")
    )
    member = Membership.objects.allowing("take_appointments").filter(
        structure_id=structure.pk, user_id=OuterRef("pk")
    )
    return User.objects.filter(Exists(hours), Exists(member)).order_by("last_name", "first_name")


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
    each place), grouped by day, in one query whatever their number (and one for the moves
    when some were cancelled, `attach_moves`).

    Each place counts its days in its own time zone: the query reads a UTC window wide enough
    for every zone (UTC-4 to UTC+4), and the rows are then kept by their local day."""
    margin = timedelta(hours=14)
    lo = datetime.combine(first_day, time.min, tzinfo=zoneinfo.ZoneInfo("UTC")) - margin
    hi = datetime.combine(last_day + timedelta(days=1), time.min, zoneinfo.ZoneInfo("UTC"))
    rows = (
        Appointment.objects.visible_to(user, "book_at_desk")
        .filter(place__in=places, starts_at__gte=lo, starts_at__lt=hi + margin)
        .select_related("place", "motif", "mediator", "resident")
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
    rows = list(rows)
    attach_moves(rows)
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


# --- "Ma journée" ---------------------------------------------------------------------------


def attach_moves(appointments: list[Appointment]) -> None:
    """Sets `moved_to` (the new appointment of a move, or None) on each appointment, in one
    query among the cancelled ones only, none when there is no cancellation.

    Rather than `select_related("moved_to")`, which joins the appointments again on
    `moved_from`, a column almost always empty: SQLite's statistics then find its index useless
    and scan the whole table for each row (seconds at 20 000 appointments)."""
    cancelled = [a.pk for a in appointments if a.status in CANCELLED_STATUSES]
    moves = {}
    if cancelled:
        moves = {
            m.moved_from_id: m for m in Appointment.objects.filter(moved_from_id__in=cancelled)
        }
    for appointment in appointments:
        _MOVED_TO.set_cached_value(appointment, moves.get(appointment.pk))


def day_appointments(user, *, now: datetime | None = None) -> list[Appointment]:
    """The user's own appointments of today, across every structure where they take
    appointments, each place counting its day in its own time zone, in local wall-clock order.
    One query whatever the number of structures, places and appointments (workshop seats
    included: the caller groups them), and one more when some were cancelled (`attach_moves`):
    the old halves of moves are left out (the new appointment carries the need)."""
    now = now or timezone.now()
    margin = timedelta(hours=14)  # every place's "today" lies within UTC today ± 14 h
    utc_today = timezone.localdate(now, timezone=zoneinfo.ZoneInfo("UTC"))
    lo = datetime.combine(utc_today, time.min, tzinfo=zoneinfo.ZoneInfo("UTC")) - margin
    hi = lo + timedelta(days=1) + 2 * margin
    rows = (
        Appointment.objects.visible_to(user, "take_appointments")
        .filter(mediator=user, starts_at__gte=lo, starts_at__lt=hi)
        .select_related("place__structure", "motif", "mediator", "resident", "slot")
        .order_by("starts_at", "pk")
    )
    today = []
    for appointment in rows:
        tz = appointment.place.tzinfo
        local = timezone.localtime(appointment.starts_at, tz)
        if local.date() == timezone.localdate(now, timezone=tz):
            appointment.local_starts_at = local
            appointment.local_ends_at = timezone.localtime(appointment.ends_at, tz)
            today.append(appointment)
    attach_moves(today)
    today = [a for a in today if not a.is_moved_away]
    today.sort(key=lambda a: (a.local_starts_at.time(), a.pk))
    return today


# --- Appointments to reassign --------------------------------------------------------------


def appointments_to_reassign(user, structure, *, now: datetime | None = None):
    """The structure's upcoming booked appointments whose mediator no longer takes
    appointments there (removed from the structure, their role changed, or their account
    deactivated): "À réaffecter". One query; `.count()` for the links' badges."""
    takers = Membership.objects.allowing("take_appointments").filter(
        structure_id=structure.pk, user_id=OuterRef("mediator_id")
    )
    return (
        Appointment.objects.visible_to(user, "book_at_desk")
        .filter(
            place__structure=structure,
            status=AppointmentStatus.BOOKED,
            starts_at__gt=now or timezone.now(),
        )
        .exclude(Exists(takers))
        .select_related("place", "motif", "mediator", "resident")
        .order_by("starts_at", "pk")
    )


def reassign_colleagues(user, structure):
    """Active people who take appointments in the structure: whom an appointment may go to."""
    memberships = (
        Membership.objects.visible_to(user, "book_at_desk")
        .allowing("take_appointments")
        .filter(structure=structure)
        .values("user_id")
    )
    return User.objects.filter(pk__in=memberships, is_active=True).order_by(
        "last_name", "first_name"
    )


# --- Finding the resident -------------------------------------------------------------------


def book_resident_matches(user, structure, query: str, *, regions: list[str]):
    """Step 1 of booking at the desk: (the first SEARCH_RESULTS followed residents of the
    structure itself matching `query`, how many match in all), through the one resident search
    (`mediation.selectors.resident_search`). The box asks for a name or a phone number: a
    4-digit number is the end of a phone number, not a year of birth. Nothing readable: no
    one. In the database, two queries at most."""
    parsed = parse_resident_query(query, regions=regions, years=False)
    if parsed.empty:
        return [], 0
    matches = resident_search(user, structure, parsed, shared=False)
    results = list(matches[:SEARCH_RESULTS])
    total = len(results) if len(results) < SEARCH_RESULTS else matches.count()
    return results, total


# --- SMS opt-outs (STOP) --------------------------------------------------------------------


def sms_allowed(*, structure_id: int, phone: str) -> bool:
    """Whether the structure may text this E.164 number: no when it answered STOP to one of
    the structure's SMS. The one check: `bookings.notifications` asks it when it chooses the
    channels of a message, and `bookings.tasks` again just before sending one recorded earlier."""
    return not SmsOptOut.objects.active().filter(structure_id=structure_id, phone=phone).exists()


def resident_sms_opt_out(user, resident, structure):
    """The STOP the resident's number gave to `structure` (its date), or None (never given, or
    lifted): for the resident's page. One query, none without a number."""
    if not resident.phone:
        return None
    return (
        SmsOptOut.objects.visible_to(user)
        .active()
        .filter(structure=structure, phone=resident.phone.as_e164)
        .first()
    )


# --- Waiting list -----------------------------------------------------------------------------


def waitlist_entries(user, structure, *, motif=None, now: datetime | None = None):
    """The structure's waiting-list entries still on the list (not booked, left or past
    `WAITLIST_DAYS`), first come first, optionally of one motif. One query."""
    from bookings.models import WaitlistEntry

    rows = (
        WaitlistEntry.objects.visible_to(user, "book_at_desk")
        .active(now)
        .filter(place__structure=structure)
        .select_related("place", "motif")
        .order_by("motif__name", "motif_id", "created_at", "pk")
    )
    return rows.filter(motif=motif) if motif is not None else rows


def waitlist_entry_for_desk(user, structure, entry_id):
    """One entry still on the list, for "Prendre rendez-vous" from the list; 404 otherwise."""
    from bookings.models import WaitlistEntry
    from mediation.scoping import access_object

    return access_object(
        WaitlistEntry.objects.active(),
        user,
        "book_at_desk",
        pk=entry_id,
        place__structure=structure,
    )
