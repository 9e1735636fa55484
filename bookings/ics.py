"""The calendar file (.ics) of an appointment: on the confirmation page and attached to the
confirmation, move and reminder e-mails."""

from __future__ import annotations

from datetime import UTC

from django.utils import timezone
from icalendar import Calendar, Event

from bookings.choices import AppointmentStatus, MotifMode
from bookings.notifications import appointment_link, place_address, site_domain


def appointment_ics(appointment) -> bytes:
    """A one-event calendar (METHOD:PUBLISH) with times in UTC: calendars show them in the
    reader's own time zone, which is right for a phone in Saint-Denis as in Paris."""
    place, motif = appointment.place, appointment.motif
    calendar = Calendar()
    calendar.add("prodid", "-//Permanence//Rendez-vous//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")

    event = Event()
    # Stable for the appointment: importing the file twice updates the same event. A moved
    # appointment is a new one, hence a new event.
    event.add("uid", f"appointment-{appointment.pk}@{site_domain()}")
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    event.add("summary", f"Rendez-vous : {motif.name}")
    if motif.mode == MotifMode.ON_SITE:
        event.add("location", f"{place.name}, {place_address(place)}")
    else:
        event.add("location", str(MotifMode(motif.mode).label))
    lines = [place.structure.name]
    if motif.instructions:
        lines += ["", motif.instructions.strip()]
    lines += ["", f"Voir, déplacer ou annuler : {appointment_link(appointment)}"]
    event.add("description", "\n".join(lines))
    event.add("url", appointment_link(appointment))
    cancelled = appointment.status in (
        AppointmentStatus.CANCELLED_BY_RESIDENT,
        AppointmentStatus.CANCELLED_BY_STAFF,
    )
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
