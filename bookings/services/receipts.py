"""What the SMS provider tells after sending (Brevo's transactional SMS webhook,
`bookings/views/webhooks.py`): delivery receipts, and the residents' STOP answers.

- `notification_record_delivery`: "Envoyé" becomes "Remis" or "Échec de remise" on the messages
  page; a failed SMS about an appointment whose resident gave an e-mail address is sent by
  e-mail instead, once (the e-mail `Notification` is unique per appointment, kind and channel).
- `sms_opt_out_record`: the number answered STOP; every structure that texted it sends it no
  more SMS (`bookings.selectors.sms_allowed`).
- `sms_opt_in_record`: the number texted START (or Brevo's `subscribe`): its STOPs are lifted.
- `sms_opt_out_lift`: staff lift a STOP, only with the resident's consent recorded.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from bookings.choices import Channel, Delivery, MessageStatus
from bookings.models import Notification, SmsOptOut
from bookings.notifications import SEND_TASK
from mediation.logs import pseudonym

logger = logging.getLogger("bookings.receipts")


@transaction.atomic
def notification_record_delivery(
    *, references: list[str], delivered: bool, now: datetime | None = None
) -> Notification | None:
    """Record the provider's receipt on the sent SMS whose reference is one of `references`
    (Brevo gives its `messageId` and the `reference` the send answered; the backend kept one).

    Returns the message, or None when no sent SMS has that reference (logged, nothing changed).
    A receipt delivered twice changes nothing more; a failure after a delivery is ignored
    (the phone had it), a delivery after a failure (a late operator report) wins."""
    now = now or timezone.now()
    references = [r for r in references if r][:5]
    notification = (
        Notification.objects.select_for_update()
        .filter(channel=Channel.SMS, status=MessageStatus.SENT, provider_reference__in=references)
        .first()
        if references
        else None
    )
    if notification is None:
        logger.info("SMS receipt for an unknown message: ignored")
        return None
    wanted = Delivery.DELIVERED if delivered else Delivery.UNDELIVERED
    if notification.delivery == wanted or notification.delivery == Delivery.DELIVERED:
        return notification
    notification.delivery = wanted
    notification.delivery_at = now
    notification.save(update_fields=["delivery", "delivery_at"])
    logger.info("Notification %s: %s", notification.pk, wanted)
    if not delivered:
        _fall_back_to_email(notification, now)
    return notification


def _fall_back_to_email(notification: Notification, now: datetime) -> Notification | None:
    """The same message by e-mail, when the SMS was about an appointment and its resident has an
    address. At most once: get_or_create on the unique (appointment, kind, channel); if the
    resident already had the e-mail (booked with both), nothing more is sent."""
    if not notification.appointment_id:
        return None  # A waiting-list offer: the entry has no e-mail.
    resident = notification.appointment.resident
    if not resident.email:
        return None
    email, created = Notification.objects.get_or_create(
        appointment_id=notification.appointment_id,
        kind=notification.kind,
        channel=Channel.EMAIL,
        defaults={
            "structure_id": notification.structure_id,
            "recipient": resident.email,
            "send_after": now,
            "send_before": notification.send_before,
        },
    )
    if created:
        logger.info("Notification %s: SMS not delivered, e-mail %s", notification.pk, email.pk)
        transaction.on_commit(partial(async_task, SEND_TASK, email.pk))
    return email if created else None


#: The history's change reasons (simple-history keeps 100 characters).
STOP_REASON = "STOP reçu de l'usager"
START_REASON = "START reçu de l'usager"
CONSENT_REASON = "Levé avec l'accord de l'usager, recueilli par la structure"


@transaction.atomic
def sms_opt_out_record(*, phone: str, now: datetime | None = None) -> list[SmsOptOut]:
    """The E.164 number `phone` answered STOP: an opt-out for each structure that texted it.

    Returns the structures' opt-outs (new, already there, or lifted before and active again);
    an empty list when no structure ever texted this number (logged, nothing recorded).
    Messages already recorded are dropped when their time comes (`bookings.tasks`), e-mails
    still go."""
    now = now or timezone.now()
    structure_ids = sorted(
        set(
            Notification.objects.filter(channel=Channel.SMS, recipient=phone).values_list(
                "structure_id", flat=True
            )
        )
    )
    if not structure_ids:
        logger.info("STOP from a number no structure texted (%s): ignored", pseudonym(phone))
        return []
    opt_outs = []
    for structure_id in structure_ids:
        opt_out = (
            SmsOptOut.objects.select_for_update()
            .filter(structure_id=structure_id, phone=phone)
            .first()
        )
        if opt_out is None:
            opt_out = SmsOptOut(structure_id=structure_id, phone=phone, created_at=now)
        elif opt_out.lifted_at is None:
            opt_outs.append(opt_out)
            continue
        else:  # Lifted before: the new STOP wins.
            opt_out.created_at, opt_out.lifted_at, opt_out.lifted_by = now, None, None
        opt_out._change_reason = STOP_REASON
        opt_out.save()
        logger.info("SMS opt-out %s for structure %s", opt_out.pk, structure_id)
        opt_outs.append(opt_out)
    return opt_outs


def _lift(opt_out: SmsOptOut, *, by, reason: str, now: datetime) -> SmsOptOut:
    opt_out.lifted_at, opt_out.lifted_by = now, by
    if by is not None:
        opt_out._history_user = by
    opt_out._change_reason = reason
    opt_out.save(update_fields=["lifted_at", "lifted_by"])
    return opt_out


@transaction.atomic
def sms_opt_in_record(*, phone: str, now: datetime | None = None) -> list[SmsOptOut]:
    """The E.164 number `phone` texted START (or Brevo reported it subscribed again): every
    structure's active opt-out of that number is lifted, and SMS go again. Returns them; an
    empty list when the number had none (logged, nothing changed)."""
    now = now or timezone.now()
    lifted = [
        _lift(opt_out, by=None, reason=START_REASON, now=now)
        for opt_out in SmsOptOut.objects.select_for_update().active().filter(phone=phone)
    ]
    if not lifted:
        logger.info("START from a number without a STOP (%s): ignored", pseudonym(phone))
    for opt_out in lifted:
        logger.info("SMS opt-out %s lifted by START", opt_out.pk)
    return lifted


@transaction.atomic
def sms_opt_out_lift(
    *, opt_out: SmsOptOut, consent: bool, by, now: datetime | None = None
) -> SmsOptOut:
    """Staff lift a STOP for the structure: only when the resident agreed to receive SMS again,
    which the desk confirms (`consent`). Recorded in the opt-out's history with who lifted it.
    Raises ValidationError (on `consent`) without it, or when the STOP was already lifted."""
    if not consent:
        raise ValidationError(
            {
                "consent": _(
                    "Cochez la case : l'usager doit avoir donné son accord pour recevoir "
                    "à nouveau des SMS."
                )
            }
        )
    opt_out = SmsOptOut.objects.select_for_update().get(pk=opt_out.pk)
    if opt_out.lifted_at is not None:
        raise ValidationError(_("Ce STOP a déjà été levé."))
    _lift(opt_out, by=by, reason=CONSENT_REASON, now=now or timezone.now())
    logger.info("SMS opt-out %s lifted by staff with consent", opt_out.pk)
    return opt_out
