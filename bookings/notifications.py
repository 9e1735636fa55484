"""Messages to residents about their appointments: what is sent, to whom, and when.

The booking services call these functions inside their transaction. Each one records the
messages to send as `Notification` rows (one per appointment, kind and channel: the database
refuses a second one) and, once the transaction has committed, hands the due ones to the task
cluster (`bookings.tasks.send_notification`). Nothing is sent for a booking that was rolled
back, and calling a function twice records nothing more.

A resident gets an SMS when their phone is a mobile number and an e-mail when they gave an
address; a resident with neither gets no message (the desk calls them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django_q.tasks import async_task

from bookings.choices import Channel, MessageKind, MessageStatus, MotifMode
from bookings.models import Appointment, Notification, WaitlistEntry
from bookings.selectors import sms_allowed
from bookings.sms_caps import sms_cap_allows
from mediation.dates import day_label
from mediation.phones import is_mobile

#: A reminder goes out `reminder_hours_before` ahead only if that moment is at least this long
#: after the booking: a booking made after (or just before) the reminder time gets no reminder,
#: the confirmation it has just received is reminder enough (a same-day booking used to get both
#: in the same second).
REMINDER_MIN_GAP = timedelta(hours=1)

SEND_TASK = "bookings.tasks.send_notification"

#: Why a pending message was given up without an error (shown to staff: no personal data).
DROPPED_CANCELLED = "Rendez-vous annulé avant l'envoi."
DROPPED_MOVED = "Rendez-vous déplacé avant l'envoi."
DROPPED_REPLACED = "Remplacé par l'avis de déplacement."
#: The reasons above mean "not sent because of a move" (the others: a cancellation).
MOVE_REASONS = (DROPPED_MOVED, DROPPED_REPLACED)


@dataclass(frozen=True)
class Recipient:
    channel: str
    address: str


# --- Links and wording shared by the texts, the e-mails and the calendar file ---------------

WEEKDAYS_SHORT = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
WEEKDAYS_LONG = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS_SHORT = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)


WEEKDAYS_SHORT_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAYS_LONG_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _english() -> bool:
    """Messages follow the active language (`bookings.tasks` activates the resident's)."""
    return (translation.get_language() or "fr").startswith("en")


def format_time(moment: datetime, tz: ZoneInfo) -> str:
    """14h30, 9h (French usage), or 2:30pm, 9am in English; in `tz`."""
    local = timezone.localtime(moment, tz)
    if _english():
        hour = local.hour % 12 or 12
        suffix = "am" if local.hour < 12 else "pm"
        return f"{hour}:{local.minute:02d}{suffix}" if local.minute else f"{hour}{suffix}"
    return f"{local.hour}h{local.minute:02d}" if local.minute else f"{local.hour}h"


def format_when(moment: datetime, tz: ZoneInfo) -> str:
    """ "mar. 3 déc. à 14h30" ("Tue 3 Dec at 2:30pm") in the place's time zone: short, for
    SMS."""
    local = timezone.localtime(moment, tz)
    if _english():
        return (
            f"{WEEKDAYS_SHORT_EN[local.weekday()]} {local.day} {MONTHS_EN[local.month - 1][:3]} "
            f"at {format_time(moment, tz)}"
        )
    return (
        f"{WEEKDAYS_SHORT[local.weekday()]} {local.day} {MONTHS_SHORT[local.month - 1]} "
        f"à {format_time(moment, tz)}"
    )


def format_when_long(moment: datetime, tz: ZoneInfo) -> str:
    """ "mardi 3 décembre 2024 à 14h30" ("Tuesday 3 December 2024 at 2:30pm"), for e-mails."""
    local = timezone.localtime(moment, tz)
    if _english():
        return (
            f"{WEEKDAYS_LONG_EN[local.weekday()]} {local.day} {MONTHS_EN[local.month - 1]} "
            f"{local.year} at {format_time(moment, tz)}"
        )
    return f"{WEEKDAYS_LONG[local.weekday()]} {day_label(local.date())} à {format_time(moment, tz)}"


def place_address(place) -> str:
    return f"{place.address}, {place.postcode} {place.commune}"


def where(place, motif, *, short: bool = False) -> str:
    """Where the resident goes: the place and its address on site (only the address when
    `short`), otherwise the mode ("par téléphone")."""
    if motif.mode == MotifMode.ON_SITE:
        return place_address(place) if short else f"{place.name}, {place_address(place)}"
    return str(MotifMode(motif.mode).label).lower()


def site_domain() -> str:
    """The site's host name (calendar UIDs, e-mail Message-IDs)."""
    return urlsplit(settings.SITE_URL).hostname or "permanence.localhost"


def appointment_link(appointment: Appointment) -> str:
    """The private link: see, move or cancel the appointment."""
    return settings.SITE_URL + reverse("public_appointment", kwargs={"token": appointment.token})


def booking_link(structure) -> str:
    return settings.SITE_URL + reverse("public_start", kwargs={"structure": structure.slug})


def waitlist_link(entry: WaitlistEntry) -> str:
    """The entry's private page: the free slots of its motif and place, and "Quitter la liste
    d'attente" (one link keeps the SMS within two segments)."""
    return settings.SITE_URL + reverse("public_waitlist_entry", kwargs={"token": entry.token})


# --- Recording the messages -----------------------------------------------------------------


def sms_recipient(structure_id: int, phone) -> str:
    """The E.164 number to text for the structure, or "" when there is none: not a mobile,
    the number answered STOP to the structure's SMS (`SmsOptOut`), or the structure is past
    its SMS caps and the desk never confirmed the number (`bookings/sms_caps.py`: e-mail
    only). Every SMS path asks here."""
    if not phone or not is_mobile(phone):
        return ""
    number = phone.as_e164
    if not sms_allowed(structure_id=structure_id, phone=number):
        return ""
    return number if sms_cap_allows(structure_id=structure_id, phone=number) else ""


def recipients_of(resident, *, structure_id: int | None = None) -> list[Recipient]:
    """SMS to a mobile number (unless it answered STOP to the structure), e-mail to an
    address; both when the resident gave both."""
    found = []
    number = sms_recipient(structure_id or resident.structure_id, resident.phone)
    if number:
        found.append(Recipient(Channel.SMS, number))
    if resident.email:
        found.append(Recipient(Channel.EMAIL, resident.email))
    return found


def _enqueue_when_committed(notifications: list[Notification], now: datetime) -> None:
    for notification in notifications:
        if notification.send_after <= now:
            transaction.on_commit(partial(async_task, SEND_TASK, notification.pk))


def _record(
    appointment: Appointment,
    kind: str,
    *,
    send_after: datetime,
    send_before: datetime | None,
) -> list[Notification]:
    """The messages of `kind` for the appointment, one per channel; only the new ones are
    returned (get_or_create: the unique constraint has the last word under concurrency)."""
    created_rows = []
    structure_id = appointment.place.structure_id
    for recipient in recipients_of(appointment.resident, structure_id=structure_id):
        notification, created = Notification.objects.get_or_create(
            appointment=appointment,
            kind=kind,
            channel=recipient.channel,
            defaults={
                "structure_id": appointment.place.structure_id,
                "recipient": recipient.address,
                "send_after": send_after,
                "send_before": send_before,
            },
        )
        if created:
            created_rows.append(notification)
    return created_rows


def _drop_pending(queryset, reason: str) -> None:
    """Pending messages made pointless by a cancellation or a move: CANCELLED, not DROPPED
    (which reads "trop tard" to staff), with the reason.

    A message being sent right now (claimed: attempts counted, no error yet) is left to its
    task, which records what happened."""
    queryset.filter(status=MessageStatus.PENDING).exclude(attempts__gt=0, last_error="").update(
        status=MessageStatus.CANCELLED, last_error=reason
    )


#: Why an offer was not sent: its entry ended first (shown to staff, no personal data).
WAITLIST_ENDED = "Inscription terminée avant l'envoi : non envoyé."


def on_waitlist_ended(entry: WaitlistEntry) -> None:
    """The entry booked, left the list or waited its period: an offer not sent yet is
    cancelled (the claim in bookings/tasks.py refuses it too)."""
    _drop_pending(Notification.objects.filter(waitlist_entry=entry), WAITLIST_ENDED)


def reminder_time(appointment: Appointment, now: datetime) -> datetime | None:
    """When the reminder goes out, or None when it would be pointless: its time is already
    past, or less than `REMINDER_MIN_GAP` after the booking (or the move) made `now`."""
    hours = appointment.place.structure.reminder_hours_before
    planned = appointment.starts_at - timedelta(hours=hours)
    if planned - now >= REMINDER_MIN_GAP:
        return planned
    return None


def _record_reminders(appointment: Appointment, now: datetime) -> list[Notification]:
    send_after = reminder_time(appointment, now)
    if send_after is None:
        return []
    return _record(
        appointment,
        MessageKind.REMINDER,
        send_after=send_after,
        send_before=appointment.starts_at,
    )


def on_booked(appointment: Appointment, *, now: datetime | None = None) -> list[Notification]:
    """A confirmation now and a reminder `structure.reminder_hours_before` hours ahead.

    There is no reminder when that time is past or within `REMINDER_MIN_GAP` of now (a
    same-day booking): the confirmation says it all. Returns the rows created."""
    now = now or timezone.now()
    created = _record(
        appointment, MessageKind.CONFIRMATION, send_after=now, send_before=appointment.starts_at
    )
    created += _record_reminders(appointment, now)
    _enqueue_when_committed(created, now)
    return created


def on_cancelled(
    appointment: Appointment, *, by_resident: bool, now: datetime | None = None
) -> list[Notification]:
    """A cancellation notice offering to book again; the reminder not yet sent is dropped.

    `by_resident` is also recorded in the appointment's status, from which the task picks the
    wording ("est bien annulé" or "nous devons annuler"), once the transaction has committed."""
    now = now or timezone.now()
    _drop_pending(
        Notification.objects.filter(appointment=appointment).exclude(kind=MessageKind.CANCELLATION),
        DROPPED_CANCELLED,
    )
    if appointment.starts_at <= now:
        return []  # Nothing to tell about an appointment that has already begun.
    created = _record(
        appointment,
        MessageKind.CANCELLATION,
        send_after=now,
        send_before=appointment.starts_at,
    )
    _enqueue_when_committed(created, now)
    return created


def on_moved(
    old: Appointment, new: Appointment, *, now: datetime | None = None
) -> list[Notification]:
    """One "déplacé" notice for the new appointment (with its link and calendar file) and
    its reminder; whatever was still to be sent about the old one is dropped.

    If the caller's booking and cancellation services also recorded a confirmation of `new`
    or a cancellation of `old`, those are dropped too: the resident gets one message."""
    now = now or timezone.now()
    _drop_pending(Notification.objects.filter(appointment=old), DROPPED_MOVED)
    _drop_pending(
        Notification.objects.filter(appointment=new, kind=MessageKind.CONFIRMATION),
        DROPPED_REPLACED,
    )
    created = _record(
        new, MessageKind.MOVED, send_after=now, send_before=new.starts_at
    ) + _record_reminders(new, now)
    _enqueue_when_committed(created, now)
    return created


def on_waitlist_offer(entry: WaitlistEntry, free_slot, *, now: datetime | None = None):
    """Tell a resident on the waiting list that a slot is free (SMS only: entries have no
    e-mail). `free_slot` is a `bookings.slots.FreeSlot`.

    `send_before` is the free slot's start: the offer is pointless afterwards, and the text
    names that time (a Notification has no other field to keep it). One offer per entry."""
    now = now or timezone.now()
    number = sms_recipient(entry.place.structure_id, entry.phone)
    if not number or free_slot.starts_at <= now:
        return []
    notification, created = Notification.objects.get_or_create(
        waitlist_entry=entry,
        kind=MessageKind.WAITLIST_OFFER,
        channel=Channel.SMS,
        defaults={
            "structure_id": entry.place.structure_id,
            "recipient": number,
            "send_after": now,
            "send_before": free_slot.starts_at,
        },
    )
    created_rows = [notification] if created else []
    _enqueue_when_committed(created_rows, now)
    return created_rows
