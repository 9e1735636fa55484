"""The resident's calendar event of an appointment (.ics), built with the `icalendar` library:
on the private link (`rendez-vous.ics`) and in the confirmation, move, reminder and
cancellation e-mails.

One event for the appointment's whole life: its UID stays the same through moves (a move makes
a new appointment that keeps the old one's `calendar_uid`), and its SEQUENCE grows with every
change the event shows (`Appointment.save`: time, place, motif, cancellation). So a calendar
that receives a newer version replaces the event instead of adding a second one, and a
cancellation removes it (RFC 5545 and its scheduling profile iTIP, RFC 5546):

- e-mails carry `METHOD:REQUEST` (booking, move, reminder) or `METHOD:CANCEL` (cancellation),
  with the structure as ORGANIZER and the resident's address as ATTENDEE, as Gmail, Outlook
  and Apple Calendar expect of an invitation they update in place;
- the private link serves `METHOD:PUBLISH`, always the current version: a moved appointment's
  old link serves the new time, a cancelled one `STATUS:CANCELLED` (not a 404).

Times are in UTC ("…Z"): unambiguous for every reader, shown in the phone's own zone, which is
the place's. A TZID with a VTIMEZONE generated from the tz database (`add_missing_timezones`)
is a list of RDATEs that some parsers misread (vobject 0.9.9 puts a Paris summer afternoon at
+01:00), so it is not used.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from bookings.choices import ACTIVE_STATUSES, CANCELLED_STATUSES, MotifMode
from bookings.models import Appointment
from bookings.notifications import appointment_link, place_address, site_domain
from mediation.choices import FeedDetail

PUBLISH = "PUBLISH"
REQUEST = "REQUEST"
CANCEL = "CANCEL"

#: A lineage longer than this is a loop in the data, not moves.
MAX_MOVES = 100


def current_version(appointment: Appointment) -> Appointment:
    """The appointment a lineage of moves leads to: for the old half of a move, its latest
    replacement (with what the file needs loaded); otherwise `appointment` itself."""
    latest = appointment
    for _hop in range(MAX_MOVES):
        if not latest.is_moved_away:
            break
        latest = latest.moved_to
    if latest is appointment:
        return appointment
    return Appointment.objects.select_related("place__structure", "motif", "moved_to").get(
        pk=latest.pk
    )


def _organizer(structure) -> vCalAddress:
    address = structure.email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = vText(structure.name)
    return organizer


def _attendee(address: str, name: str) -> vCalAddress:
    attendee = vCalAddress(f"mailto:{address}")
    if name:
        attendee.params["cn"] = vText(name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    # Booked by the resident (or for them, with them): nothing to answer.
    attendee.params["partstat"] = vText("ACCEPTED")
    attendee.params["rsvp"] = vText("FALSE")
    return attendee


def appointment_ics(
    appointment: Appointment,
    *,
    method: str = PUBLISH,
    attendee: str = "",
    attendee_name: str = "",
    now: datetime | None = None,
) -> bytes:
    """A one-event calendar for `appointment` as it is now.

    `method` is PUBLISH (the private link), REQUEST (an e-mail at booking, move or reminder) or
    CANCEL (the cancellation e-mail); `attendee`, the resident's e-mail address, is named in
    e-mails only."""
    place, motif = appointment.place, appointment.motif
    structure = place.structure
    cancelled = method == CANCEL or appointment.status in CANCELLED_STATUSES
    calendar = Calendar()
    calendar.add("prodid", "-//Permanence//Rendez-vous//FR")
    calendar.add("version", "2.0")
    calendar.add("method", method)

    event = Event()
    event.add("uid", f"{appointment.calendar_event_uid}@{site_domain()}")
    event.add("sequence", appointment.calendar_sequence)
    event.add("dtstamp", (now or timezone.now()).astimezone(UTC))
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    # In the active language: the resident's in e-mails (bookings.tasks), the page's on the link.
    event.add("summary", _("Rendez-vous : %(motif)s") % {"motif": motif.name})
    if motif.mode == MotifMode.ON_SITE:
        event.add("location", f"{place.name}, {place_address(place)}")
    else:
        event.add("location", str(MotifMode(motif.mode).label))
    lines = [structure.name]
    if motif.instructions:
        lines += ["", motif.instructions.strip()]
    lines += [
        "",
        _("Voir, déplacer ou annuler : %(link)s") % {"link": appointment_link(appointment)},
    ]
    event.add("description", "\n".join(lines))
    event.add("url", appointment_link(appointment))
    event.add("organizer", _organizer(structure))
    if attendee:
        event.add("attendee", _attendee(attendee, attendee_name))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    return calendar.to_ical()


# --- A mediator's subscribed agenda ---------------------------------------------------------

#: What the feed covers: a month back (yesterday's "Honoré" stays visible), a year ahead.
FEED_PAST = timedelta(days=31)
FEED_AHEAD = timedelta(days=366)
#: Calendars re-read a subscription about this often (Apple, Google and Outlook each decide).
FEED_REFRESH = timedelta(hours=1)


def initials(resident) -> str:
    """ "A. D." — what a mediator's phone shows of a resident: no full name, no number."""
    letters = [part.strip()[:1].upper() for part in (resident.first_name, resident.last_name)]
    letters = [letter for letter in letters if letter]
    return " ".join(f"{letter}." for letter in letters) or "Usager"


def feed_label(resident, detail: str) -> str:
    """How the mediators' feed names a resident: initials, or the full name when the structure
    chose it (`Structure.feed_detail`). Never the phone number."""
    if detail == FeedDetail.FULL_NAME:
        name = " ".join(p.strip() for p in (resident.first_name, resident.last_name) if p.strip())
        if name:
            return name
    return initials(resident)


def _where(place, motif) -> str:
    if motif.mode == MotifMode.ON_SITE:
        return f"{place.name}, {place_address(place)}"
    return str(MotifMode(motif.mode).label)


def mediator_feed_ics(*, user, structure, now: datetime | None = None) -> bytes:
    """The calendar a mediator subscribes to: their appointments at `structure` (one event
    each: the resident's initials and the motif, or their full name when the structure allows
    it in `feed_detail`; never a number or the need) and their workshops (one event per
    session, with the number of participants). One query."""
    now = now or timezone.now()
    appointments = (
        Appointment.objects.filter(
            mediator=user,
            place__structure=structure,
            status__in=ACTIVE_STATUSES,
            starts_at__gte=now - FEED_PAST,
            starts_at__lt=now + FEED_AHEAD,
        )
        .select_related("place", "motif", "resident")
        .order_by("starts_at", "pk")
    )
    calendar = Calendar()
    calendar.add("prodid", "-//Permanence//Agenda//FR")
    calendar.add("version", "2.0")
    calendar.add("method", PUBLISH)
    calendar.add("x-wr-calname", f"Permanence — {structure.name}")
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", FEED_REFRESH)
    domain, stamp = site_domain(), now.astimezone(UTC)
    workshops: dict[int, list] = {}
    for appointment in appointments:
        if appointment.motif.is_collective:
            workshops.setdefault(appointment.slot_id, []).append(appointment)
            continue
        event = Event()
        event.add("uid", f"staff-{appointment.calendar_event_uid}@{domain}")
        event.add("sequence", appointment.calendar_sequence)
        event.add("dtstamp", stamp)
        event.add("dtstart", appointment.starts_at.astimezone(UTC))
        event.add("dtend", appointment.ends_at.astimezone(UTC))
        who = feed_label(appointment.resident, structure.feed_detail)
        event.add("summary", f"{who} — {appointment.motif.name}")
        event.add("location", _where(appointment.place, appointment.motif))
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    for slot_id, members in workshops.items():
        first = members[0]
        event = Event()
        event.add("uid", f"staff-workshop-{slot_id}@{domain}")
        event.add("dtstamp", stamp)
        event.add("dtstart", first.starts_at.astimezone(UTC))
        event.add("dtend", first.ends_at.astimezone(UTC))
        count = len(members)
        people = f"{count} participant{'s' if count > 1 else ''}"
        event.add("summary", f"Atelier : {first.motif.name} ({people})")
        event.add("location", _where(first.place, first.motif))
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()
