"""Writes of bookings: book, change status (cancel, outcome), move. One transaction per action,
history inside it.

Every change of an appointment's status goes through `appointment_set_status`: it checks
`APPOINTMENT_TRANSITIONS` and the rules of time (`status_refusal`), records the change in the
history (author and "before → after"), and does what entering the status implies (a
cancellation frees the seat, tells the resident, offers the time to the waiting list).
`appointment_cancel`, `appointment_move`, the desk's outcome buttons and the session logged
from an appointment (cases) all call it; `tests/bookings/test_status_changes.py` fails when code
elsewhere writes the status."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings import notifications
from bookings.choices import (
    APPOINTMENT_TRANSITIONS,
    CANCELLED_STATUSES,
    AppointmentStatus,
    WaitlistStatus,
)
from bookings.models import Appointment, Motif, Slot, WaitlistEntry
from mediation.models import Membership, Place, Resident, User
from mediation.phones import online_phone_refusal, phone_accepted_online
from mediation.services import resident_create


class DayLimitReached(ValidationError):
    """The motif's limit of appointments per day (all mediators, or this mediator) is reached
    that day; the desk may book anyway after a warning (`ignore_limits`)."""

    def __init__(self):
        super().__init__(
            {
                "starts_at": _(
                    "Le nombre maximum de rendez-vous pour ce motif est atteint ce jour-là. "
                    "Choisissez un autre jour."
                )
            },
        )
        self.code = "day_limit"


def _lock_limits(motif: Motif) -> None:
    """Serialise the bookings of a motif that has day limits: the motif's row is locked
    (SELECT … FOR UPDATE) until the transaction ends, so a second booking counts the day's
    slots only once the first has committed or rolled back, and two bookings can never both
    pass a limit. The limits are read again under the lock. A motif without limits takes no
    lock (its bookings only meet at the slot constraints). On SQLite, the IMMEDIATE
    transactions already serialise writers."""
    if not motif.has_limits:
        return
    row = (
        Motif.objects.select_for_update()
        .filter(pk=motif.pk)
        .values_list("max_per_day", "max_per_mediator_per_day")
        .first()
    )
    if row is not None:
        motif.max_per_day, motif.max_per_mediator_per_day = row


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
    if not takes_appointments(mediator, place.structure_id):
        # Removed from the structure (or their role there no longer allows it) since the page
        # was shown: their opening hours offer nothing any more.
        raise ValidationError(
            _("Cette personne ne prend plus de rendez-vous dans la structure."),
            code="not_taking_appointments",
        )


def takes_appointments(user: User, structure_id: int) -> bool:
    """May `user` be booked in the structure now (mediation/permissions.py,
    "take_appointments")? Read from the memberships, not the request's cached roles."""
    return (
        Membership.objects.allowing("take_appointments")
        .filter(user_id=user.pk, structure_id=structure_id)
        .exists()
    )


def _take_seat(
    *,
    place: Place,
    motif: Motif,
    mediator: User,
    starts_at: datetime,
    ends_at: datetime | None = None,
) -> Slot:
    """Take one seat in the mediator's slot at `starts_at`, creating the slot if needed.

    The database has the last word: a workshop's seat is taken by a conditional UPDATE
    (`seats_taken < capacity`, checked again by a CHECK constraint); a new slot is refused by
    the unique and exclusion constraints if another one overlaps. Either way the loser gets
    SlotTaken. A new slot lasts the motif's duration unless `ends_at` is given (a reassigned
    appointment keeps its times)."""
    ends_at = ends_at or starts_at + timedelta(minutes=motif.duration_minutes)

    def join() -> Slot | None:
        """A seat in the workshop session at that time, if it exists and has one left (each
        statement sees what other bookings committed: read committed)."""
        if not motif.is_collective:
            return None
        joined = Slot.objects.filter(
            mediator=mediator,
            starts_at=starts_at,
            motif=motif,
            is_active=True,
            seats_taken__lt=F("capacity"),
        ).update(seats_taken=F("seats_taken") + 1)
        if joined:
            return Slot.objects.get(mediator=mediator, starts_at=starts_at, is_active=True)
        return None

    if slot := join():
        return slot
    overlapping = Slot.objects.filter(
        mediator=mediator, is_active=True, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if overlapping.exists():
        # Residents booking the first seats of a workshop at once: the session another one
        # created in the meantime still has seats.
        if slot := join():
            return slot
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
        # The same race, lost at the constraint: join the session the winner created.
        if slot := join():
            return slot
        raise SlotTaken from error


#: The languages messages can be written in (settings.LANGUAGES); anything else is French.
MESSAGE_LANGUAGES = {code for code, _name in settings.LANGUAGES}


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
    ignore_buffers: bool = False,
    ignore_limits: bool = False,
    language: str = "fr",
) -> Appointment:
    """Book `resident` with `mediator` at `starts_at` for `motif`.

    `language` is the one the resident booked in (the public pages' choice): their messages
    are written in it.

    The slot must be offered (opening hours, absences, holidays, existing appointments, the
    motifs' buffers; the booking window applies to online bookings). The desk may book within
    buffers (`ignore_buffers`, after a warning); an online booking never does. Likewise for the
    motif's day limits (`ignore_limits`; checked under a lock on the motif, `_lock_limits`).
    Raises SlotTaken when another booking got it first, DayLimitReached when the day is full,
    ValidationError for anything else."""
    from bookings.slots import is_offered

    now = now or timezone.now()
    _check_consistency(place=place, motif=motif, mediator=mediator, resident=resident)
    if starts_at <= now:
        raise ValidationError({"starts_at": _("Ce créneau est déjà passé.")})
    if online and not motif.bookable_online:
        raise ValidationError({"motif": _("Ce motif se réserve auprès de la structure.")})
    respect_limits = online or not ignore_limits
    if respect_limits:
        _lock_limits(motif)
    check = {
        "place": place,
        "motif": motif,
        "mediator_id": mediator.pk,
        "starts_at": starts_at,
        "now": now,
        "respect_booking_window": online,
        "respect_buffers": online or not ignore_buffers,
    }
    offered = is_offered(**check, respect_limits=respect_limits)
    if offered is None:
        if Slot.objects.filter(mediator=mediator, is_active=True, starts_at=starts_at).exists():
            raise SlotTaken
        if (
            respect_limits
            and motif.has_limits
            and is_offered(**check, respect_limits=False) is not None
        ):
            raise DayLimitReached
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
        language=language if language in MESSAGE_LANGUAGES else "fr",
    )
    if by is not None:
        appointment._history_user = by
    appointment.save()
    Resident.objects.filter(pk=resident.pk, last_contact_at__lt=now).update(last_contact_at=now)
    waitlist_end_on_booking(resident=resident, motif=motif, now=now, by=by)
    if notify:
        notifications.on_booked(appointment, now=now)
    return appointment


S = AppointmentStatus

#: The outcomes the desk records; each may be corrected into the other on the day.
OUTCOMES = (S.SEEN, S.NO_SHOW)


def _local_day(moment: datetime, appointment: Appointment):
    return timezone.localtime(moment, appointment.place.tzinfo).date()


def _refusal(*, appointment: Appointment, to: str, now: datetime) -> tuple[str, str] | None:
    """(French sentence, error code) saying why `appointment` may not change to `to` now."""
    current = appointment.status
    if to not in APPOINTMENT_TRANSITIONS:
        return _("Ce statut n'existe pas."), "transition"
    if to in CANCELLED_STATUSES:
        if current != S.BOOKED:
            return (
                _("Ce rendez-vous n'est plus à venir : il ne peut pas être annulé."),
                "not_booked",
            )
        if to == S.CANCELLED_BY_RESIDENT:
            hours = appointment.place.structure.cancel_cutoff_hours
            if now > appointment.starts_at - timedelta(hours=hours):
                return (
                    _("Il est trop tard pour annuler en ligne : appelez la structure."),
                    "too_late",
                )
        return None
    if current in CANCELLED_STATUSES:
        return _("Ce rendez-vous est annulé : son statut ne peut plus changer."), "transition"
    if to == current:
        return _("Ce rendez-vous a déjà ce statut."), "transition"
    if to not in APPOINTMENT_TRANSITIONS[current]:
        return _("Ce changement de statut n'est pas possible."), "transition"
    today = _local_day(now, appointment)
    day = _local_day(appointment.starts_at, appointment)
    if current == S.BOOKED and appointment.starts_at > now and day != today:
        return (
            _("Ce rendez-vous n'a pas encore eu lieu : attendez le jour du rendez-vous."),
            "transition",
        )
    if current in OUTCOMES and day != today:
        return _("Ce statut ne peut être corrigé que le jour du rendez-vous."), "transition"
    return None


def status_refusal(*, appointment: Appointment, to: str, now: datetime | None = None) -> str | None:
    """Why `appointment` may not change to `to` now (a French sentence), or None.

    Shared by `appointment_set_status` and the pages, which offer only the buttons that would
    work. Checking a resident's cancellation reads `appointment.place.structure`."""
    refusal = _refusal(appointment=appointment, to=to, now=now or timezone.now())
    return None if refusal is None else refusal[0]


def _release_seat(slot_id: int) -> None:
    Slot.objects.filter(pk=slot_id, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)
    Slot.objects.filter(pk=slot_id, seats_taken=0).update(is_active=False)


#: simple-history's `history_change_reason` holds 100 characters.
CHANGE_REASON_MAX = 100


@transaction.atomic
def appointment_set_status(
    *,
    appointment: Appointment,
    to: str,
    by: User | None,
    comment: str = "",
    now: datetime | None = None,
    notify: bool = True,
) -> Appointment:
    """The one way to change an appointment's status.

    Checked against `APPOINTMENT_TRANSITIONS` and the rules of time (`status_refusal`):
    booked → seen | no-show once the appointment has started or is today (place time zone);
    seen ↔ no-show on the day, to correct a mistake; booked → cancelled (by the resident: until
    the structure's cut-off before the start; by the staff: any time); nothing out of a
    cancellation. A refusal is a ValidationError with its French message (code "transition",
    "not_booked" or "too_late") and changes nothing.

    The history row records `by` as the author and "before → after" (and `comment`) as the
    change reason. Cancelling also sets `cancelled_at`, frees the seat, records the cancellation
    notice (unless `notify` is False: a move sends its own) and offers the time to the waiting
    list; the messages leave once the transaction has committed."""
    now = now or timezone.now()
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("place__structure")
        .get(pk=appointment.pk)
    )
    refusal = _refusal(appointment=appointment, to=to, now=now)
    if refusal is not None:
        message, code = refusal
        raise ValidationError(message, code=code)
    previous = appointment.get_status_display()
    appointment.status = to
    fields = ["status"]
    cancelling = to in CANCELLED_STATUSES
    if cancelling:
        appointment.cancelled_at = now
        fields.append("cancelled_at")
    if by is not None:
        appointment._history_user = by
    reason = f"{previous} → {appointment.get_status_display()}"
    if comment:
        reason = f"{reason} : {comment}"
    appointment._change_reason = reason[:CHANGE_REASON_MAX]
    appointment.save(update_fields=fields)
    if cancelling:
        _release_seat(appointment.slot_id)
        if notify:
            notifications.on_cancelled(
                appointment, by_resident=to == S.CANCELLED_BY_RESIDENT, now=now
            )
        waitlist_offer(
            place=appointment.place,
            motif=appointment.motif,
            starts_at=appointment.starts_at,
            now=now,
        )
    return appointment


def appointment_cancel(
    *,
    appointment: Appointment,
    by_resident: bool,
    by: User | None = None,
    now: datetime | None = None,
    notify: bool = True,
) -> Appointment:
    """Cancel an upcoming appointment and free its seat (`appointment_set_status` to
    "cancelled by the resident" or "by the structure").

    A resident may cancel until the structure's cut-off (hours before the start)."""
    return appointment_set_status(
        appointment=appointment,
        to=S.CANCELLED_BY_RESIDENT if by_resident else S.CANCELLED_BY_STAFF,
        by=by,
        now=now,
        notify=notify,
    )


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
    *,
    place,
    motif,
    starts_at,
    resident,
    need,
    now,
    by=None,
    online=True,
    notify=True,
    language="fr",
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
                    language=language,
                )
        except SlotTaken:
            continue
    raise SlotTaken


def _check_online_phone(structure, phone) -> None:
    """A number given on the public pages must be of a country the structure accepts online
    (`Structure.online_phone_codes`, `mediation.phones`): SMS pumping (issue 17)."""
    if phone and not phone_accepted_online(phone, structure.online_phone_codes):
        raise ValidationError(
            {"phone": online_phone_refusal(structure.online_phone_codes)}, code="country"
        )


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
    language: str = "fr",
) -> Appointment:
    """A resident books online, without an account: their record and the appointment are
    saved together, or not at all (SlotTaken when every mediator's slot was taken). Their
    messages are in `language`, the one of the pages they booked on."""
    now = now or timezone.now()
    _check_online_phone(place.structure, phone)
    resident = _find_or_create_resident(
        structure=place.structure,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        email=email,
        now=now,
    )
    return _book_with_any_mediator(
        place=place,
        motif=motif,
        starts_at=starts_at,
        resident=resident,
        need=need,
        now=now,
        language=language,
    )


#: The history's change reason of a reassignment (simple-history keeps 100 characters).
REASSIGNED_REASON = "Réaffecté : %(before)s → %(after)s"


@transaction.atomic
def appointment_reassign(
    *, appointment: Appointment, mediator: User, by: User, now: datetime | None = None
) -> Appointment:
    """Give an upcoming appointment to a colleague, at the same time (e.g. its mediator left
    the structure: `appointments_to_reassign`).

    The colleague must take appointments in the structure and be free then by the rules of
    booking at the desk (`slots.is_offered` without the booking window: opening hours for the
    motif, absences, holidays, their other slots). The appointment keeps its times and its
    private link; it takes a seat with the colleague (`_take_seat`, so the database refuses a
    concurrent booking of the same time: SlotTaken) and gives its old seat back. The resident
    chose a time, not a person: no message is sent."""
    from bookings.slots import is_offered

    now = now or timezone.now()
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("place__structure", "motif", "mediator")
        .get(pk=appointment.pk)
    )
    if appointment.status != S.BOOKED or appointment.starts_at <= now:
        raise ValidationError(
            _("Ce rendez-vous n'est plus à venir : il ne peut pas être réaffecté."),
            code="not_booked",
        )
    if mediator.pk == appointment.mediator_id:
        raise ValidationError(
            {"mediator": _("Ce rendez-vous est déjà le sien : choisissez un·e collègue.")}
        )
    place, motif = appointment.place, appointment.motif
    if not takes_appointments(mediator, place.structure_id):
        raise ValidationError(
            {"mediator": _("Cette personne ne prend pas de rendez-vous dans la structure.")}
        )
    offered = is_offered(
        place=place,
        motif=motif,
        mediator_id=mediator.pk,
        starts_at=appointment.starts_at,
        now=now,
        respect_booking_window=False,
        # The appointment is already counted in its day: a reassignment changes no total.
        respect_limits=False,
    )
    if offered is None:
        raise ValidationError(
            {
                "mediator": _(
                    "%(name)s n'est pas libre à cette heure-là pour ce motif (plages "
                    "d'ouverture, absences ou autres rendez-vous)."
                )
                % {"name": mediator.get_full_name() or mediator.email}
            },
            code="not_free",
        )
    old_slot_id = appointment.slot_id
    slot = _take_seat(
        place=place,
        motif=motif,
        mediator=mediator,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
    )
    before = appointment.mediator.get_full_name() or appointment.mediator.email
    appointment.mediator = mediator
    appointment.slot = slot
    appointment._history_user = by
    appointment._change_reason = (
        REASSIGNED_REASON % {"before": before, "after": mediator.get_full_name() or mediator.email}
    )[:CHANGE_REASON_MAX]
    appointment.save(update_fields=["mediator", "slot"])
    _release_seat(old_slot_id)
    return appointment


#: Added to the history's change reason of the old half of a move.
MOVED_COMMENT = "déplacé"


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
    (with its own private link) replaces the old one, which is cancelled and points to it.

    For the resident's calendar it is the same event: the new appointment keeps the old one's
    UID, with a higher SEQUENCE, so the move replaces the event instead of adding one."""
    now = now or timezone.now()
    old = appointment_set_status(
        appointment=appointment,
        to=S.CANCELLED_BY_RESIDENT if by_resident else S.CANCELLED_BY_STAFF,
        by=by,
        comment=MOVED_COMMENT,
        now=now,
        notify=False,
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
        language=old.language,
    )
    new.moved_from = old
    new.calendar_uid = old.calendar_event_uid
    new.calendar_sequence = old.calendar_sequence + 1
    new.save(update_fields=["moved_from", "calendar_uid", "calendar_sequence"])
    notifications.on_moved(old, new, now=now)
    return new


@transaction.atomic
def waitlist_join(
    *,
    place: Place,
    motif: Motif,
    first_name: str,
    phone,
    language: str = "fr",
    now: datetime | None = None,
) -> WaitlistEntry:
    """Leave a mobile number for a motif and place; the same number is on the list once (an
    entry that ended, or has waited its `WAITLIST_DAYS`, does not count: a new one starts).
    The offer is written in `language`, the one of the pages. Only numbers of the countries
    the structure accepts online (French territories by default)."""
    _check_online_phone(place.structure, phone)
    existing = (
        WaitlistEntry.objects.active(now)
        .filter(place=place, motif=motif, phone=phone)
        .order_by("created_at")
        .first()
    )
    if existing is not None:
        return existing
    entry = WaitlistEntry(
        place=place,
        motif=motif,
        phone=phone,
        first_name=first_name.strip(),
        language=language if language in MESSAGE_LANGUAGES else "fr",
    )
    entry.save()
    return entry


#: The history's change reason when an entry ends, by its new status.
WAITLIST_END_REASONS = {
    WaitlistStatus.BOOKED: "a réservé",
    WaitlistStatus.LEFT: "a quitté la liste (lien du SMS)",
    WaitlistStatus.EXPIRED: "durée d'inscription écoulée",
}


def _waitlist_end(entry: WaitlistEntry, *, to: str, now: datetime, by: User | None = None):
    entry.status = to
    entry.ended_at = now
    if by is not None:
        entry._history_user = by
    entry._change_reason = WAITLIST_END_REASONS[to]
    entry.save(update_fields=["status", "ended_at"])
    # An offer recorded but not sent yet goes no further (the claim checks it again).
    notifications.on_waitlist_ended(entry)


@transaction.atomic
def waitlist_leave(*, entry: WaitlistEntry, now: datetime | None = None) -> bool:
    """The resident leaves the list from the private link of their entry. False when the entry
    had already ended (nothing changes: leaving twice is harmless)."""
    now = now or timezone.now()
    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if not entry.is_active(now):
        return False
    _waitlist_end(entry, to=WaitlistStatus.LEFT, now=now)
    return True


def waitlist_end_on_booking(
    *, resident: Resident, motif: Motif, now: datetime, by: User | None = None
) -> list[WaitlistEntry]:
    """The resident booked this motif: their entries for it (same mobile, any place of the
    structure) end, so the list never texts them again. Called inside the booking's
    transaction."""
    if not resident.phone:
        return []
    entries = list(
        WaitlistEntry.objects.select_for_update()
        .active(now)
        .filter(motif=motif, phone=resident.phone)
    )
    for entry in entries:
        _waitlist_end(entry, to=WaitlistStatus.BOOKED, now=now, by=by)
    return entries


#: Entries ended per run of `waitlist_expire` (the daily task calls it until none is left).
WAITLIST_EXPIRE_BATCH = 500


@transaction.atomic
def waitlist_expire(*, now: datetime | None = None, limit: int = WAITLIST_EXPIRE_BATCH) -> int:
    """End the entries that have waited `WAITLIST_DAYS` (the daily schedule). The lists
    already ignore them (`WaitlistEntry.objects.active`): this records the end in their
    history and drops an offer still pending. Returns how many ended."""
    now = now or timezone.now()
    entries = list(
        WaitlistEntry.objects.select_for_update().past_period(now).order_by("created_at")[:limit]
    )
    for entry in entries:
        _waitlist_end(entry, to=WaitlistStatus.EXPIRED, now=now)
    return len(entries)


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
    # Only entries still on the list: never one that booked, left or waited its period.
    entries = list(
        WaitlistEntry.objects.select_for_update()
        .waiting(now)
        .filter(place=place, motif=motif)
        .order_by("created_at")[:WAITLIST_OFFERS_PER_SLOT]
    )
    for entry in entries:
        entry.status = WaitlistStatus.OFFERED
        entry.offered_at = now
        entry.save(update_fields=["status", "offered_at"])
        notifications.on_waitlist_offer(entry, offered[0], now=now)
    return entries
