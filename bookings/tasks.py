"""Background tasks of bookings (django-q2): sending the messages recorded by
`bookings.notifications`.

`send_notification` is enqueued after each booking, cancellation or move commits;
`send_due_notifications` runs every minute (the schedule made by `ensure_schedules`) and sends
reminders when they fall due, retries failures, and gives up on what is too late.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, make_msgid, parseaddr
from smtplib import SMTPResponseException

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from bookings import notifications as wording
from bookings.choices import (
    CANCELLED_STATUSES,
    AppointmentStatus,
    Channel,
    MessageKind,
    MessageStatus,
    MotifMode,
)
from bookings.messaging import SmsError, SmsText, send_sms, sms_prepare
from bookings.models import Appointment, Notification, WaitlistEntry
from bookings.selectors import sms_allowed
from bookings.sms_caps import OVER_CAP, sms_cap_take
from mediation.logs import exception_summary
from mediation.schedules import ensure_schedule

logger = logging.getLogger("bookings.tasks")

MAX_ATTEMPTS = 5
#: Wait before attempt 2, 3, 4 and 5.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=60),
)
#: A claimed message whose result is still unknown after this long was interrupted (worker
#: killed, machine down). Longer than the cluster's task timeout (120 s) and the providers'.
CLAIM_TIMEOUT = timedelta(minutes=10)
#: Upper bounds of one run of `send_due_notifications`: the rest waits for the next minute.
BATCH_SIZE = 100
BATCH_SECONDS = 60
#: Connection timeout for e-mail when EMAIL_TIMEOUT is not set (Django waits for ever).
EMAIL_TIMEOUT = 30

SCHEDULE_NAME = "bookings.send_due_notifications"
WAITLIST_SCHEDULE_NAME = "bookings.waitlist_expire"

#: Kinds whose e-mail carries the calendar event, and its iTIP method (bookings/ics.py): the
#: resident's calendar adds or updates the event, or removes it.
WITH_CALENDAR = {
    MessageKind.CONFIRMATION: "REQUEST",
    MessageKind.MOVED: "REQUEST",
    MessageKind.REMINDER: "REQUEST",
    MessageKind.CANCELLATION: "CANCEL",
}

# Reasons shown to staff: never a number, an address or a name.
TOO_LATE = "Non envoyé : il était trop tard."
INTERRUPTED = "Envoi interrompu, résultat inconnu : non renvoyé pour ne pas l'envoyer deux fois."
NOT_BOOKED = "Rendez-vous qui n'est plus à venir : non envoyé."
OFFER_CLOSED = "Inscription close : non envoyé."
OPTED_OUT = "Le destinataire a répondu STOP : SMS non envoyé."


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str
    #: E-mail only: the same text as HTML (`email_html`).
    html: str = ""
    calendar: bytes | None = None
    calendar_method: str = ""
    #: SMS only: the text's encoding and segments (`bookings.messaging.SmsText`).
    sms: SmsText | None = None


# --- Texts ----------------------------------------------------------------------------------


def _appointment_context(appointment: Appointment) -> dict:
    place, motif = appointment.place, appointment.motif
    structure, tz = place.structure, place.tzinfo
    moved_from = appointment.moved_from
    return {
        "structure": structure,
        "place": place,
        "motif": motif,
        "first_name": appointment.resident.first_name,
        "when": wording.format_when(appointment.starts_at, tz),
        "when_long": wording.format_when_long(appointment.starts_at, tz),
        "ends": wording.format_time(appointment.ends_at, tz),
        "old_when": wording.format_when(moved_from.starts_at, tz) if moved_from else "",
        "where": wording.where(place, motif),
        # SMS are short: the address says where to go, the place's name is in the e-mail.
        "where_short": wording.where(place, motif, short=True),
        "on_site": motif.mode == MotifMode.ON_SITE,
        "accessibility": place.accessibility.strip(),
        "instructions": motif.instructions.strip(),
        "link": wording.appointment_link(appointment),
        "book_link": wording.booking_link(structure),
        "by_resident": appointment.status == AppointmentStatus.CANCELLED_BY_RESIDENT,
        "contact_phone": structure.phone.as_national if structure.phone else "",
        "contact_email": structure.email,
    }


def _waitlist_context(notification: Notification, entry: WaitlistEntry) -> dict:
    place, motif = entry.place, entry.motif
    structure, tz = place.structure, place.tzinfo
    # send_before is the free slot's start (see notifications.on_waitlist_offer).
    starts_at = notification.send_before
    return {
        "structure": structure,
        "place": place,
        "motif": motif,
        "first_name": entry.first_name,
        "when": wording.format_when(starts_at, tz) if starts_at else "",
        "when_long": wording.format_when_long(starts_at, tz) if starts_at else "",
        "where": wording.where(place, motif),
        "link": wording.waitlist_link(entry),
        "contact_phone": structure.phone.as_national if structure.phone else "",
        "contact_email": structure.email,
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)»]")


def _html_line(line: str) -> str:
    """One line of the text, escaped, its links made clickable (absolute: built from
    SITE_URL)."""
    parts, last = [], 0
    for match in _URL.finditer(line):
        url = match.group(0)
        parts.append(escape(line[last : match.start()]))
        parts.append(format_html('<a href="{}" style="color:#0b4fb3;">{}</a>', url, url))
        last = match.end()
    parts.append(escape(line[last:]))
    return "".join(str(part) for part in parts)


def email_html(*, subject: str, body: str, language: str) -> str:
    """The HTML alternative of an e-mail's text: the same words, a paragraph per block of the
    text, links clickable, readable on a phone (one column, large type) and by screen readers
    (`lang`, a title); no image, no stylesheet or font from elsewhere, nothing to load."""
    paragraphs = [
        mark_safe("<br>\n".join(_html_line(line) for line in block.splitlines()))  # noqa: S308 - escaped above
        for block in re.split(r"\n\s*\n", body.strip())
        if block.strip()
    ]
    return render_to_string(
        "bookings/messages/email.html",
        {"subject": subject, "paragraphs": paragraphs, "language": language},
    )


def message_language(notification: Notification) -> str:
    """The language the resident booked in (French for staff bookings)."""
    if notification.appointment_id:
        return notification.appointment.language or "fr"
    return notification.waitlist_entry.language or "fr"


def render_message(notification: Notification) -> RenderedMessage:
    """The text of a message (SMS body, or e-mail subject, text and HTML with the calendar
    file), from bookings/templates/bookings/messages/, in the language the resident booked in
    (`message_language`), with times in the place's zone."""
    language = message_language(notification)
    base = f"bookings/messages/{notification.kind}"
    with translation.override(language):
        if notification.appointment_id:
            context = _appointment_context(notification.appointment)
        else:
            context = _waitlist_context(notification, notification.waitlist_entry)
        if notification.channel == Channel.SMS:
            # In the GSM alphabet (a name's "ô" or "—" transliterated): 160 characters a
            # segment, not 70.
            sms = sms_prepare(_one_line(render_to_string(f"{base}_sms.txt", context)))
            return RenderedMessage(subject="", body=sms.body, sms=sms)
        subject = _one_line(render_to_string(f"{base}_subject.txt", context))
        body = _tidy(render_to_string(f"{base}_email.txt", context))
        calendar, method = None, WITH_CALENDAR.get(notification.kind, "")
        if method and notification.appointment_id:
            from bookings.ics import appointment_ics

            calendar = appointment_ics(
                notification.appointment,
                method=method,
                attendee=notification.recipient,
                attendee_name=context["first_name"],
            )
    return RenderedMessage(
        subject=subject,
        body=body,
        html=email_html(subject=subject, body=body, language=language),
        calendar=calendar,
        calendar_method=method if calendar else "",
    )


# --- Sending --------------------------------------------------------------------------------


def _load(notification: Notification) -> None:
    """Attach what the texts need, in two queries at most."""
    if notification.appointment_id:
        notification.appointment = Appointment.objects.select_related(
            "place__structure", "motif", "resident", "moved_from"
        ).get(pk=notification.appointment_id)
    elif notification.waitlist_entry_id:
        notification.waitlist_entry = WaitlistEntry.objects.select_related(
            "place__structure", "motif"
        ).get(pk=notification.waitlist_entry_id)


def _stale_reason(notification: Notification) -> str:
    """Why the message no longer makes sense, or ""."""
    if notification.appointment_id:
        appointment = notification.appointment
        status = appointment.status
        if notification.kind == MessageKind.CANCELLATION:
            return "" if status in CANCELLED_STATUSES else NOT_BOOKED
        if status in CANCELLED_STATUSES:
            moved = Appointment.objects.filter(moved_from=appointment).exists()
            return wording.DROPPED_MOVED if moved else wording.DROPPED_CANCELLED
        return "" if status == AppointmentStatus.BOOKED else NOT_BOOKED
    entry = notification.waitlist_entry
    if entry is None or not entry.is_active():
        return OFFER_CLOSED
    return ""


def _describe(notification: Notification, exc: Exception) -> str:
    """A failure, for staff: the provider's status or the kind of error, no personal data."""
    if isinstance(exc, SmsError):
        return str(exc)[:300]
    channel = "SMS" if notification.channel == Channel.SMS else "E-mail"
    if isinstance(exc, SMTPResponseException):
        return f"{channel} : {type(exc).__name__} (code {exc.smtp_code})"
    return f"{channel} : {type(exc).__name__}"


def sender(structure) -> str:
    """ "Mairie de Lohéac <ne-pas-repondre@…>": the structure's name before the address of
    DEFAULT_FROM_EMAIL, so residents see who writes (answers go to the structure's own address,
    `Reply-To`). Django encodes a name with accents (RFC 2047)."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
    return formataddr((_one_line(structure.name), address))


def _deliver(notification: Notification, message: RenderedMessage) -> str:
    """Hand the message to the provider; its reference. Raises on failure."""
    if notification.channel == Channel.SMS:
        return send_sms(notification.recipient, message.body)
    structure = (
        notification.appointment.place.structure
        if notification.appointment_id
        else notification.waitlist_entry.place.structure
    )
    message_id = make_msgid(domain=wording.site_domain())
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=sender(structure),
        to=[notification.recipient],
        reply_to=[structure.email] if structure.email else None,
        headers={"Message-ID": message_id},
        connection=get_connection(
            timeout=getattr(settings, "EMAIL_TIMEOUT", None) or EMAIL_TIMEOUT
        ),
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    if message.calendar is not None:
        # As calendars send invitations: the event as an alternative of the text, which mail
        # clients offer to add or update in place ("text/calendar; method=…"), and the same
        # file attached for the others.
        calendar = message.calendar.decode("utf-8")
        email.attach_alternative(calendar, f"text/calendar; method={message.calendar_method}")
        email.attach("rendez-vous.ics", message.calendar, "application/ics")
    email.send(fail_silently=False)
    return message_id.strip("<>")[:100]


@contextmanager
def finish_before_stopping():
    """Hold a stop request (SIGTERM) until the message in hand is sent and recorded, then
    let it take effect as it would have (by default the worker ends there; the next run sends
    what is left).

    SIGTERM is how a task cluster is stopped: `qcluster` stopping, a deployment, systemd or
    Docker stopping the service (to every process of the group), django-q2's task timeout.
    A worker killed while the provider has the message leaves a claim whose outcome is
    unknown, which is never sent again (see `send_notification`): the resident would miss
    it. Give the stop a grace period longer than a delivery can take (EMAIL_TIMEOUT, 30 s).
    Only in a process's main thread, where django-q2 workers run tasks (Python sets signal
    handlers there only); elsewhere, and for SIGKILL or a power cut, the claim rule holds."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    try:
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    except ValueError:  # not the main interpreter
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
        if received:
            logger.info("Stop requested during a delivery: recorded first, stopping now")
            signal.raise_signal(signal.SIGTERM)


def _claim(notification_id: int, now: datetime):
    """Step 1, in its own transaction, committed before anything is sent: decide, and if the
    message is to go, count the attempt. Returns (outcome, notification, message, attempt)."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None:
            return "missing", None, None, 0
        if notification.status != MessageStatus.PENDING:
            return "done", None, None, 0
        if notification.attempts and not notification.last_error:
            # Claimed by a try whose result was never recorded: it may be running right now,
            # or it died after the provider took the message. Never send again.
            if now - notification.send_after < CLAIM_TIMEOUT:
                return "in_flight", None, None, 0
            notification.status = MessageStatus.FAILED
            notification.last_error = INTERRUPTED
            notification.save(update_fields=["status", "last_error"])
            logger.warning("Notification %s: interrupted attempt, given up", notification.pk)
            return "interrupted", None, None, 0
        if notification.send_after > now:
            return "not_due", None, None, 0
        if notification.send_before is not None and notification.send_before <= now:
            notification.status = MessageStatus.DROPPED
            notification.last_error = TOO_LATE
            notification.save(update_fields=["status", "last_error"])
            return "dropped", None, None, 0
        _load(notification)
        reason = _stale_reason(notification)
        if reason:
            cancelled = reason in (wording.DROPPED_CANCELLED, *wording.MOVE_REASONS)
            notification.status = MessageStatus.CANCELLED if cancelled else MessageStatus.DROPPED
            notification.last_error = reason
            notification.save(update_fields=["status", "last_error"])
            return "dropped", None, None, 0
        if notification.channel == Channel.SMS and not sms_allowed(
            structure_id=notification.structure_id, phone=notification.recipient
        ):
            # Recorded before the STOP (a reminder): the STOP wins.
            notification.status = MessageStatus.DROPPED
            notification.last_error = OPTED_OUT
            notification.save(update_fields=["status", "last_error"])
            return "dropped", None, None, 0
        if notification.channel == Channel.SMS and not sms_cap_take(
            structure_id=notification.structure_id, phone=notification.recipient
        ):
            # Past the structure's SMS caps, a number the desk never confirmed (SMS pumping).
            notification.status = MessageStatus.DROPPED
            notification.last_error = OVER_CAP
            notification.save(update_fields=["status", "last_error"])
            return "dropped", None, None, 0
        notification.attempts += 1
        try:
            message = render_message(notification)
        except Exception as exc:  # noqa: BLE001 - a broken template must not block the queue
            # Not the exception's message: a template error prints the object (a name).
            logger.error(
                "Notification %s: the text could not be written: %s",
                notification.pk,
                exception_summary(exc),
            )
            _set_failure(notification, f"Texte impossible à écrire : {type(exc).__name__}", now)
            notification.save(update_fields=["attempts", "status", "last_error", "send_after"])
            failed = notification.status == MessageStatus.FAILED
            return ("failed" if failed else "retry"), None, None, 0
        # The claim: attempts counted and no error yet, committed when this block ends.
        notification.last_error = ""
        notification.send_after = now
        fields = ["attempts", "last_error", "send_after"]
        if message.sms is not None:
            notification.encoding = message.sms.encoding
            notification.segments = message.sms.segments
            fields += ["encoding", "segments"]
        notification.save(update_fields=fields)
        return "claimed", notification, message, notification.attempts


def _set_failure(notification: Notification, error: str, now: datetime) -> None:
    notification.last_error = error[:300] or "Erreur"
    if notification.attempts >= MAX_ATTEMPTS:
        notification.status = MessageStatus.FAILED
    else:
        notification.send_after = now + RETRY_DELAYS[notification.attempts - 1]


def send_notification(notification_id: int, *, now: datetime | None = None) -> str:
    """Send one recorded message, at most once. Safe to run any number of times, at once.

    1. *Claim* (one transaction, row locked, committed before the provider is called): skip
       unless PENDING and due; DROPPED if `send_before` has passed (a reminder is never late)
       or the appointment is no longer what the message is about; otherwise `attempts` + 1,
       `last_error` emptied, `send_after` = now.
    2. *Send* through the SMS backend or Django's e-mail (outside any transaction).
    3. *Record* the result on that attempt: SENT with `sent_at` and the provider's reference;
       or the error in `last_error` (no personal data), PENDING again after a delay while
       fewer than 5 attempts were made, FAILED after the 5th.

    The guarantee: a row is sent again only when its last attempt *recorded* an error. A row
    with attempts but no error is a claim whose result is unknown (a try still running, or a
    crash between the provider's answer and step 3): it is never sent again; after 10 minutes
    it is marked FAILED ("interrompu") for staff to check. So a crash can lose a message
    (shown as failed), never send it twice. Two runs at once are serialised by the row lock
    (SELECT … FOR UPDATE on PostgreSQL; on SQLite every transaction is IMMEDIATE, so claims
    run one after the other). The claim only protects if it commits: do not call this inside
    an outer transaction. Returns the outcome, for the task's result."""
    explicit_now = now is not None
    now = now or timezone.now()
    outcome, notification, message, attempt = _claim(notification_id, now)
    if outcome != "claimed":
        return outcome
    with finish_before_stopping():
        try:
            reference = _deliver(notification, message)
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
            error = _describe(notification, exc)
            logger.warning(
                "Notification %s: attempt %s failed: %s", notification.pk, attempt, error
            )
            with transaction.atomic():
                row = Notification.objects.select_for_update().get(pk=notification.pk)
                if row.attempts != attempt:
                    return "superseded"
                row.status = MessageStatus.PENDING
                _set_failure(row, error, timezone.now() if not explicit_now else now)
                row.save(update_fields=["status", "last_error", "send_after"])
            return "failed" if row.status == MessageStatus.FAILED else "retry"
        # Keyed on the attempt: even if a cleanup marked the claim "interrupted" meanwhile,
        # the truth (it was sent) wins.
        Notification.objects.filter(pk=notification.pk, attempts=attempt).update(
            status=MessageStatus.SENT,
            sent_at=now if explicit_now else timezone.now(),
            provider_reference=(reference or "")[:100],
            last_error="",
        )
        return "sent"


def send_due_notifications(
    *, now: datetime | None = None, limit: int = BATCH_SIZE, seconds: float = BATCH_SECONDS
) -> dict[str, int]:
    """Every minute: drop what is too late, then send what is due (reminders, retries), at
    most `limit` messages or `seconds` of work per run; the rest goes next minute."""
    explicit_now = now is not None
    now = now or timezone.now()
    counts: dict[str, int] = {}
    counts["dropped"] = (
        Notification.objects.filter(status=MessageStatus.PENDING, send_before__lte=now)
        .exclude(attempts__gt=0, last_error="")
        .update(status=MessageStatus.DROPPED, last_error=TOO_LATE)
    )
    due = list(
        Notification.objects.filter(status=MessageStatus.PENDING, send_after__lte=now)
        .order_by("send_after", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    started = time.monotonic()
    for pk in due:
        if time.monotonic() - started > seconds:
            break
        outcome = send_notification(pk, now=now if explicit_now else None)
        counts[outcome] = counts.get(outcome, 0) + 1
    if any(counts.values()):
        logger.info("Due notifications: %s", counts)
    return counts


def waitlist_expire() -> int:
    """Daily: end the waiting-list entries older than `WAITLIST_DAYS`, in batches."""
    from bookings.services.booking import WAITLIST_EXPIRE_BATCH
    from bookings.services.booking import waitlist_expire as expire

    total = 0
    while True:
        ended = expire()
        total += ended
        if ended < WAITLIST_EXPIRE_BATCH:
            return total


def ensure_schedules() -> None:
    """Create or update the django-q2 schedules of bookings: `send_due_notifications` every
    minute, `waitlist_expire` daily. Idempotent: meant for a post_migrate hook of the bookings
    app."""
    from django_q.models import Schedule

    ensure_schedule(
        SCHEDULE_NAME,
        func="bookings.tasks.send_due_notifications",
        schedule_type=Schedule.MINUTES,
        minutes=1,
        repeats=-1,
    )
    first = timezone.now().replace(hour=3, minute=15, second=0, microsecond=0)
    ensure_schedule(
        WAITLIST_SCHEDULE_NAME,
        first_run=first + timedelta(days=1),
        func="bookings.tasks.waitlist_expire",
        schedule_type=Schedule.DAILY,
        repeats=-1,
    )
