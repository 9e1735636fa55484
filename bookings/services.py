"""Writes of bookings: book, cancel. One transaction per action, history inside it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings import notifications
from bookings.choices import AppointmentStatus, WaitlistStatus
from bookings.models import Appointment, Motif, Slot, WaitlistEntry
from mediation.models import Place, Resident, User
from mediation.services import resident_create


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
    notify: bool = True,
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
    if notify:
        notifications.on_booked(appointment, now=now)
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
    notify: bool = True,
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
    if notify:
        notifications.on_cancelled(appointment, by_resident=by_resident, now=now)
    waitlist_offer(
        place=appointment.place, motif=appointment.motif, starts_at=appointment.starts_at, now=now
    )
    return appointment


def _mediators_offering(
    *, place: Place, motif: Motif, starts_at: datetime, now: datetime
) -> list[int]:
    from bookings.slots import free_slots

    offered = free_slots(
        place=place,
        motif=motif,
        start=starts_at,
        end=starts_at + timedelta(minutes=motif.duration_minutes),
        now=now,
    )
    return [slot.mediator_id for slot in offered if slot.starts_at == starts_at]


def _book_with_any_mediator(
    *, place, motif, starts_at, resident, need, now, by=None, online=True, notify=True
) -> Appointment:
    """Residents pick a time, not a person: try each mediator offering it, in order."""
    mediator_ids = _mediators_offering(place=place, motif=motif, starts_at=starts_at, now=now)
    if (
        not mediator_ids
        and not Slot.objects.filter(place=place, starts_at=starts_at, is_active=True).exists()
    ):
        raise ValidationError(
            {"starts_at": _("Ce créneau n'est pas proposé : choisissez un horaire de la liste.")}
        )
    mediators = {u.pk: u for u in User.objects.filter(pk__in=mediator_ids)}
    for mediator_id in mediator_ids:
        try:
            with transaction.atomic():
                return appointment_book(
                    place=place,
                    motif=motif,
                    mediator=mediators[mediator_id],
                    starts_at=starts_at,
                    resident=resident,
                    need=need,
                    online=online,
                    by=by,
                    now=now,
                    notify=notify,
                )
        except SlotTaken:
            continue
    raise SlotTaken


def _find_or_create_resident(
    *, structure, first_name: str, last_name: str, phone, email: str, now: datetime
) -> Resident:
    """The same person booking again (same phone and name) keeps one record."""
    first_name, last_name = first_name.strip(), last_name.strip()
    candidates = Resident.objects.filter(
        structure=structure, is_anonymous=False, phone=phone, last_name__iexact=last_name
    )
    resident = candidates.filter(first_name__iexact=first_name).first()
    if resident is None:
        resident = resident_create(
            structure=structure,
            by=None,
            first_name=first_name,
            last_name=last_name,
            phone=phone,
            email=email,
            now=now,
        )
    elif email and not resident.email:
        resident.email = email.strip().lower()
        resident.save(update_fields=["email"])
    return resident


@transaction.atomic
def public_booking_make(
    *,
    place: Place,
    motif: Motif,
    starts_at: datetime,
    first_name: str,
    last_name: str,
    phone,
    email: str = "",
    need: str = "",
    now: datetime | None = None,
) -> Appointment:
    """A resident books online, without an account: their record and the appointment are
    saved together, or not at all (SlotTaken when every mediator's slot was taken)."""
    now = now or timezone.now()
    resident = _find_or_create_resident(
        structure=place.structure,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        email=email,
        now=now,
    )
    return _book_with_any_mediator(
        place=place, motif=motif, starts_at=starts_at, resident=resident, need=need, now=now
    )


@transaction.atomic
def appointment_move(
    *,
    appointment: Appointment,
    starts_at: datetime,
    by_resident: bool,
    by: User | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Move an appointment to another time of the same motif and place: a new appointment
    (with its own private link) replaces the old one, which is cancelled and points to it."""
    now = now or timezone.now()
    old = appointment_cancel(
        appointment=appointment, by_resident=by_resident, by=by, now=now, notify=False
    )
    new = _book_with_any_mediator(
        place=old.place,
        motif=old.motif,
        starts_at=starts_at,
        resident=old.resident,
        need=old.need,
        now=now,
        by=by,
        online=by_resident,
        notify=False,
    )
    new.moved_from = old
    new.save(update_fields=["moved_from"])
    notifications.on_moved(old, new, now=now)
    return new


@transaction.atomic
def waitlist_join(*, place: Place, motif: Motif, first_name: str, phone) -> WaitlistEntry:
    """Leave a mobile number for a motif and place; the same number joins once."""
    entry, _created = WaitlistEntry.objects.get_or_create(
        place=place,
        motif=motif,
        phone=phone,
        status=WaitlistStatus.WAITING,
        defaults={"first_name": first_name.strip()},
    )
    return entry


WAITLIST_OFFERS_PER_SLOT = 3


def waitlist_offer(
    *, place: Place, motif: Motif, starts_at: datetime, now: datetime | None = None
) -> list[WaitlistEntry]:
    """When a slot frees up, the first ones in line for that motif and place are offered it by
    SMS (first come, first served through the booking pages). Only online-bookable times that
    are still free and still ahead are offered."""
    from bookings.slots import free_slots

    now = now or timezone.now()
    if not motif.bookable_online or starts_at <= now:
        return []
    offered = [
        slot
        for slot in free_slots(
            place=place,
            motif=motif,
            start=starts_at,
            end=starts_at + timedelta(minutes=motif.duration_minutes),
            now=now,
        )
        if slot.starts_at == starts_at
    ]
    if not offered:
        return []
    entries = list(
        WaitlistEntry.objects.select_for_update()
        .filter(place=place, motif=motif, status=WaitlistStatus.WAITING)
        .order_by("created_at")[:WAITLIST_OFFERS_PER_SLOT]
    )
    for entry in entries:
        entry.status = WaitlistStatus.OFFERED
        entry.offered_at = now
        entry.save(update_fields=["status", "offered_at"])
        notifications.on_waitlist_offer(entry, offered[0], now=now)
    return entries
