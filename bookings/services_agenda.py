"""Writes of the desk agenda: an appointment's outcome (seen / no-show). Cancelling and booking
go through `bookings.services`; a resident created at the desk, through
`mediation.services.resident_create`."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.choices import AppointmentStatus
from bookings.models import Appointment
from mediation.models import User

S = AppointmentStatus

#: Status → statuses it may change to through `appointment_set_status`. A cancellation is not
#: a status change here: it frees the slot and tells the resident (`services.appointment_cancel`).
APPOINTMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    S.BOOKED: frozenset({S.SEEN, S.NO_SHOW}),
    # A mistake is corrected on the day of the appointment; later, the record stands.
    S.SEEN: frozenset({S.NO_SHOW}),
    S.NO_SHOW: frozenset({S.SEEN}),
    S.CANCELLED_BY_RESIDENT: frozenset(),
    S.CANCELLED_BY_STAFF: frozenset(),
}

OUTCOMES = (S.SEEN, S.NO_SHOW)


def _local_day(moment: datetime, appointment: Appointment):
    return timezone.localtime(moment, appointment.place.tzinfo).date()


def status_refusal(
    *, appointment: Appointment, status: str, now: datetime | None = None
) -> str | None:
    """Why `appointment` may not change to `status` now (a French sentence), or None.

    Shared by the service and the agenda, which offers only the buttons that would work."""
    now = now or timezone.now()
    current = appointment.status
    if status not in APPOINTMENT_TRANSITIONS:
        return _("Ce statut n'existe pas.")
    if current in (S.CANCELLED_BY_RESIDENT, S.CANCELLED_BY_STAFF):
        return _("Ce rendez-vous est annulé : son statut ne peut plus changer.")
    if status == current:
        return _("Ce rendez-vous a déjà ce statut.")
    if status not in APPOINTMENT_TRANSITIONS[current]:
        if status in (S.CANCELLED_BY_RESIDENT, S.CANCELLED_BY_STAFF):
            return _("Pour annuler un rendez-vous, utilisez le bouton « Annuler ».")
        return _("Ce changement de statut n'est pas possible.")
    today = _local_day(now, appointment)
    day = _local_day(appointment.starts_at, appointment)
    if current == S.BOOKED and appointment.starts_at > now and day != today:
        return _("Ce rendez-vous n'a pas encore eu lieu : attendez le jour du rendez-vous.")
    if current in OUTCOMES and day != today:
        return _("Ce statut ne peut être corrigé que le jour du rendez-vous.")
    return None


@transaction.atomic
def appointment_set_status(
    *, appointment: Appointment, status: str, by: User | None, now: datetime | None = None
) -> Appointment:
    """Record the outcome of an appointment: seen ("Honoré") or no-show ("Absent").

    Allowed: booked → seen | no_show once the appointment has started or is today (place time
    zone); seen ↔ no_show on the day of the appointment, to correct a mistake. Cancelled
    appointments keep their status. Anything else is refused with a ValidationError (code
    "transition"). The history row records `by` as the author."""
    appointment = (
        Appointment.objects.select_for_update().select_related("place").get(pk=appointment.pk)
    )
    refusal = status_refusal(appointment=appointment, status=status, now=now)
    if refusal is not None:
        raise ValidationError(refusal, code="transition")
    previous = appointment.get_status_display()
    appointment.status = status
    if by is not None:
        appointment._history_user = by
    appointment._change_reason = f"{previous} → {appointment.get_status_display()}"
    appointment.save(update_fields=["status"])
    return appointment
