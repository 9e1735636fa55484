"""The structure's "Messages envoyés" page: every SMS and e-mail to residents with its result,
failures first to the eye, each SMS's segments and the month's total (what the provider bills);
in demo mode (SMS written to the outbox file) the texts themselves."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from bookings.choices import Channel, MessageKind, MessageStatus
from bookings.messaging import outbox_enabled, read_outbox
from bookings.models import Notification
from bookings.notifications import MOVE_REASONS
from mediation.access import structure_view

PAGE_SIZE = 50
#: Demo outbox: how many of the latest SMS are read, and how many of the structure's shown.
OUTBOX_SCAN = 500
OUTBOX_SHOWN = 50
DEFAULT_TZ = ZoneInfo("Europe/Paris")

#: Failed for good, or failed once and waiting to be retried.
NEEDS_ATTENTION = Q(status=MessageStatus.FAILED) | (
    Q(status=MessageStatus.PENDING, attempts__gt=0) & ~Q(last_error="")
)


def mask(recipient: str) -> str:
    """Only the last two characters: enough to tell two residents apart on the desk."""
    return "•" * 6 + recipient[-2:]


def _tz(zone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(zone) if zone else DEFAULT_TZ
    except (KeyError, ValueError):
        return DEFAULT_TZ


def _local(moment, tz):
    return timezone.localtime(moment, tz) if moment else None


def _row(notification: Notification) -> dict:
    appointment, entry = notification.appointment, notification.waitlist_entry
    place = appointment.place if appointment else entry.place if entry else None
    tz = place.tzinfo if place else DEFAULT_TZ
    retrying = notification.status == MessageStatus.PENDING and bool(notification.last_error)
    return {
        "n": notification,
        "motif": (appointment or entry).motif.name if (appointment or entry) else "",
        "appointment_at": _local(appointment.starts_at, tz) if appointment else None,
        "created_at": _local(notification.created_at, tz),
        "sent_at": _local(notification.sent_at, tz),
        "send_after": _local(notification.send_after, tz),
        "masked": mask(notification.recipient),
        "failed": notification.status == MessageStatus.FAILED,
        "retrying": retrying,
        "cancelled_label": _cancelled_label(notification),
    }


def _cancelled_label(notification: Notification) -> str:
    """The state of a message not sent because its appointment was cancelled or moved."""
    if notification.status != MessageStatus.CANCELLED:
        return ""
    if notification.last_error in MOVE_REASONS:
        return _("Annulé : rendez-vous déplacé")
    return _("Annulé : rendez-vous annulé")


def _outbox_texts(user, structure) -> list[dict]:
    """The latest SMS of the outbox file that belong to this structure's messages.

    Matched on the provider reference stored with each sent message, not on the number: a
    resident known to two structures has each structure's texts shown only to that one."""
    entries = [e for e in read_outbox(OUTBOX_SCAN) if isinstance(e.get("reference"), str)]
    if not entries:
        return []
    known = {
        reference: (kind, zone_a or zone_b)
        for reference, kind, zone_a, zone_b in Notification.objects.visible_to(user, "view_outbox")
        .filter(
            structure=structure,
            channel=Channel.SMS,
            provider_reference__in=[e["reference"] for e in entries],
        )
        .values_list(
            "provider_reference",
            "kind",
            "appointment__place__time_zone",
            "waitlist_entry__place__time_zone",
        )
    }
    texts = []
    for entry in entries:
        if entry["reference"] not in known:
            continue
        kind, zone = known[entry["reference"]]
        at = parse_datetime(str(entry.get("at", "")))
        texts.append(
            {
                "kind": MessageKind(kind).label,
                "at": _local(at, _tz(zone)) if at else None,
                "masked": mask(str(entry.get("to", ""))),
                "body": str(entry.get("body", "")),
                "segments": entry.get("segments"),
                "encoding": entry.get("encoding"),
            }
        )
        if len(texts) >= OUTBOX_SHOWN:
            break
    return texts


@structure_view("view_outbox")
@require_GET
def outbox(request, structure):
    base = Notification.objects.visible_to(request.user, "view_outbox").filter(structure=structure)
    month_start = timezone.localtime(timezone.now(), DEFAULT_TZ).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    # One query for the alert and the month's bill: SMS segments handed to the provider since
    # the first of the month (what the structure pays).
    totals = base.aggregate(
        attention=Count("pk", filter=NEEDS_ATTENTION),
        month_segments=Sum(
            "segments",
            filter=Q(channel=Channel.SMS, status=MessageStatus.SENT, sent_at__gte=month_start),
        ),
        month_sms=Count(
            "pk",
            filter=Q(channel=Channel.SMS, status=MessageStatus.SENT, sent_at__gte=month_start),
        ),
    )
    only_attention = request.GET.get("echecs") == "1"
    listed = base.filter(NEEDS_ATTENTION) if only_attention else base
    listed = listed.select_related(
        "appointment__place", "appointment__motif", "waitlist_entry__place", "waitlist_entry__motif"
    ).order_by("-created_at", "-pk")
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    demo = outbox_enabled()

    def page_link(number: int) -> str:
        return "?" + urlencode(
            {"echecs": "1", "page": number} if only_attention else {"page": number}
        )

    return render(
        request,
        "bookings/outbox.html",
        {
            "structure": structure,
            "page": page,
            "rows": [_row(n) for n in page],
            "only_attention": only_attention,
            "previous_link": page_link(page.previous_page_number()) if page.has_previous() else "",
            "next_link": page_link(page.next_page_number()) if page.has_next() else "",
            "attention_count": totals["attention"],
            "month_start": month_start,
            "month_sms": totals["month_sms"],
            "month_segments": totals["month_segments"] or 0,
            "demo": demo,
            "sms_texts": _outbox_texts(request.user, structure) if demo else [],
        },
    )
