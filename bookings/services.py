"""Writes of bookings: book, cancel. One transaction per action, history inside it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.choices import AppointmentStatus
from bookings.models import Appointment, Motif, Slot
from mediation.models import Place, Resident, User


class SlotTaken(ValidationError):
    """The slot was free when the page was shown, and someone else took it meanwhile."""

    def __init__(self):
        super().__init__(
            _("Ce créneau vient d'être pris. Choisissez un autre horaire."), code="slot_taken"
        )


def _check_consistency(*, place: Place, motif: Motif, mediator: User, resident: Resident):
    if motif.structure_id != place.structure_id or resident.structure_id != place.structure_id:
        # Only reachable through tampered hidden fields: the pages never offer such a mix.
        raise ValidationError(
            _("Ce rendez-vous ne correspond pas à cette structure."), code="inconsistent"
        )
    if not motif.is_active:
        raise ValidationError({"motif": _("Ce motif n'est plus proposé.")})
    if not mediator.is_active:
        raise ValidationError(_("Ce créneau n'est plus proposé."), code="inactive_mediator")


def _take_seat(
    *, place: Place, motif: Motif, mediator: User, starts_at: datetime, _retrying: bool = False
) -> Slot:
    """Take one seat in the mediator's slot at `starts_at`, creating the slot if needed.

    The database has the last word: a workshop's seat is taken by a conditional UPDATE
    (`seats_taken < capacity`, checked again by a CHECK constraint); a new slot is refused by
    the unique and exclusion constraints if another one overlaps. Either way the loser gets
    SlotTaken."""
    ends_at = starts_at + timedelta(minutes=motif.duration_minutes)
    if motif.is_collective:
        joined = Slot.objects.filter(
            mediator=mediator,
            starts_at=starts_at,
            motif=motif,
            is_active=True,
            seats_taken__lt=F("capacity"),
        ).update(seats_taken=F("seats_taken") + 1)
        if joined:
            return Slot.objects.get(mediator=mediator, starts_at=starts_at, is_active=True)
    overlapping = Slot.objects.filter(
        mediator=mediator, is_active=True, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if overlapping.exists():
        raise SlotTaken
    try:
        with transaction.atomic():
            return Slot.objects.create(
                place=place,
                motif=motif,
                mediator=mediator,
                starts_at=starts_at,
                ends_at=ends_at,
                capacity=motif.capacity,
                seats_taken=1,
            )
    except IntegrityError as error:
        raise SlotTaken from error


@transaction.atomic
def appointment_book(
    *,
    place: Place,
    motif: Motif,
    mediator: User,
    starts_at: datetime,
    resident: Resident,
    by: User | None = None,
    need: str = "",
    online: bool = False,
    now: datetime | None = None,
) -> Appointment:
    """Book `resident` with `mediator` at `starts_at` for `motif`.

    The slot must be offered (opening hours, absences, holidays, existing appointments; the
    booking window applies to online bookings). Raises SlotTaken when another booking got it
    first, ValidationError for anything else."""
    from bookings.slots import is_offered

    now = now or timezone.now()
    _check_consistency(place=place, motif=motif, mediator=mediator, resident=resident)
    if starts_at <= now:
        raise ValidationError({"starts_at": _("Ce créneau est déjà passé.")})
    if online and not motif.bookable_online:
        raise ValidationError({"motif": _("Ce motif se réserve auprès de la structure.")})
    offered = is_offered(
        place=place,
        motif=motif,
        mediator_id=mediator.pk,
        starts_at=starts_at,
        now=now,
        respect_booking_window=online,
    )
    if offered is None:
        if Slot.objects.filter(mediator=mediator, is_active=True, starts_at=starts_at).exists():
            raise SlotTaken
        raise ValidationError(
            {"starts_at": _("Ce créneau n'est pas proposé : choisissez un horaire de la liste.")}
        )
    slot = _take_seat(place=place, motif=motif, mediator=mediator, starts_at=starts_at)
    appointment = Appointment(
        place=place,
        motif=motif,
        mediator=mediator,
        resident=resident,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        need=need.strip()[:300],
        booked_online=online,
        created_by=by,
    )
    if by is not None:
        appointment._history_user = by
    appointment.save()
    Resident.objects.filter(pk=resident.pk, last_contact_at__lt=now).update(last_contact_at=now)
    return appointment


def _release_seat(slot_id: int) -> None:
    Slot.objects.filter(pk=slot_id, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)
    Slot.objects.filter(pk=slot_id, seats_taken=0).update(is_active=False)


@transaction.atomic
def appointment_cancel(
    *,
    appointment: Appointment,
    by_resident: bool,
    by: User | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Cancel an upcoming appointment and free its seat.

    A resident may cancel until the structure's cut-off (hours before the start)."""
    now = now or timezone.now()
    appointment = (
        Appointment.objects.select_for_update()
        .select_related("place__structure")
        .get(pk=appointment.pk)
    )
    if appointment.status != AppointmentStatus.BOOKED:
        raise ValidationError(
            _("Ce rendez-vous n'est plus à venir : il ne peut pas être annulé."), code="not_booked"
        )
    if by_resident:
        cutoff = appointment.starts_at - timedelta(
            hours=appointment.place.structure.cancel_cutoff_hours
        )
        if now > cutoff:
            raise ValidationError(
                _("Il est trop tard pour annuler en ligne : appelez la structure."),
                code="too_late",
            )
    appointment.status = (
        AppointmentStatus.CANCELLED_BY_RESIDENT
        if by_resident
        else AppointmentStatus.CANCELLED_BY_STAFF
    )
    appointment.cancelled_at = now
    if by is not None:
        appointment._history_user = by
    appointment.save(update_fields=["status", "cancelled_at"])
    _release_seat(appointment.slot_id)
    return appointment
