"""The bookings' panel of "Ma journée" (the home page): the signed-in mediator's appointments
of today across all their structures, and the workshops of the day with their rosters.
Registered into `mediation/day.py` by `bookings/apps.py`; refreshed live by the page.

The buttons are the agenda's, posting to the agenda's endpoints (`agenda_appointment_status`,
`agenda_appointment_cancel`, which tells the resident) with `next` set to the home page, and
the actions registered from above (`bookings/actions.py`: cases' "Honoré → saisir
l'accompagnement", the session form prefilled from the appointment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from bookings import actions, selectors
from bookings.choices import AppointmentStatus
from bookings.views.agenda import decorate_appointment
from mediation.scoping import visible_structure_ids

#: How often the page asks for the panel again (seconds).
REFRESH_SECONDS = 45


@dataclass
class Workshop:
    """A workshop of the day: its slot and the residents booked on it."""

    slot: object
    motif: object
    place: object
    start: datetime
    end: datetime
    participants: list = field(default_factory=list)

    @property
    def expected(self) -> int:
        return sum(1 for a in self.participants if not a.is_cancelled)


def appointments_panel(request) -> dict | None:
    user = request.user
    if not visible_structure_ids(user, "take_appointments"):
        return None
    now = timezone.now()
    appointments = selectors.day_appointments(user, now=now)
    desk = set(visible_structure_ids(user, "book_at_desk"))
    actions.prepare_appointments(appointments, user)
    here = reverse("home")
    individual, workshops = [], {}
    for appointment in appointments:
        structure = appointment.place.structure
        decorate_appointment(appointment, now)
        appointment.at_desk = structure.pk in desk
        if not appointment.at_desk:  # the agenda's buttons need the agenda's action
            appointment.outcome_actions, appointment.can_cancel = [], False
        appointment.extra_actions = (
            actions.actions_for(structure, appointment, now, day=True)
            if appointment.at_desk
            else []
        )
        if appointment.extra_actions:
            # "Honoré" alone is the agenda's; here the action registered from above (cases:
            # "Honoré → saisir l'accompagnement") records the outcome with the session.
            appointment.outcome_actions = [
                (status, label)
                for status, label in appointment.outcome_actions
                if status != AppointmentStatus.SEEN
            ]
        if appointment.motif.is_collective:
            workshop = workshops.get(appointment.slot_id)
            if workshop is None:
                workshop = workshops[appointment.slot_id] = Workshop(
                    slot=appointment.slot,
                    motif=appointment.motif,
                    place=appointment.place,
                    start=appointment.display_start,
                    end=appointment.display_end,
                )
            workshop.participants.append(appointment)
        else:
            individual.append(appointment)
    for workshop in workshops.values():
        workshop.participants.sort(key=lambda a: (a.is_cancelled, str(a.resident)))
    structures = {a.place.structure_id for a in appointments}
    places = {a.place_id for a in appointments}
    return {
        "appointments": individual,
        "workshops": list(workshops.values()),
        "show_structure": len(structures) > 1,
        "show_place": len(places) > 1 or len(structures) > 1,
        "here": here,
        "now": now,
    }
