"""Writes of the desk agenda: an appointment's outcome (seen / no-show), and residents created
at the desk. Status changes, cancelling and booking go through `bookings.services`."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings import services
from bookings.choices import CANCELLED_STATUSES
from bookings.models import Appointment
from mediation.models import Resident, Structure, User


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


@transaction.atomic
def resident_create_at_desk(
    *,
    structure: Structure,
    first_name: str,
    last_name: str,
    phone=None,
    email: str = "",
    by: User | None,
    now: datetime | None = None,
) -> Resident:
    """A followed resident created by a mediator (phone call or desk), with the minimum data."""
    now = now or timezone.now()
    resident = Resident(
        structure=structure,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        phone=phone or "",
        email=(email or "").strip().lower(),
        created_at=now,
        last_contact_at=now,
    )
    if by is not None:
        resident._history_user = by
    resident.full_clean()
    resident.save()
    return resident
