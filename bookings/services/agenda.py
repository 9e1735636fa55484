"""Writes of the desk agenda: an appointment's outcome (seen / no-show). Cancelling and booking
go through `bookings.services.booking`; a resident created at the desk, through
`mediation.services.resident_create`."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from bookings.choices import CANCELLED_STATUSES
from bookings.models import Appointment
from bookings.services import booking as services
from mediation.models import User


def appointment_record_outcome(
    *, appointment: Appointment, status: str, by: User | None, now: datetime | None = None
) -> Appointment:
    """The desk's "Honoré" / "Absent" buttons: `services.appointment_set_status`, which holds
    every rule. Cancelling is refused here: it has its own button, which asks first."""
    if status in CANCELLED_STATUSES and appointment.status not in CANCELLED_STATUSES:
        raise ValidationError(
            _("Pour annuler un rendez-vous, utilisez le bouton « Annuler »."), code="transition"
        )
    return services.appointment_set_status(appointment=appointment, to=status, by=by, now=now)
