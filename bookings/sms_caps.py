"""SMS caps per structure, against SMS pumping (issue 17): bots booking with premium-rate or
foreign mobiles so that the structure pays for texts to them.

Every SMS a structure's cluster is about to send is counted (`mediation.ratelimit.hit`, atomic
on Redis or a database row: every web process and task cluster sees one count) in a window of
an hour and one of a day. Past `SMS_CAP_PER_HOUR` or `SMS_CAP_PER_DAY`:

- a number the desk has confirmed (`Resident.phone_confirmed_at`: typed or checked by staff,
  `mediation.selectors.phone_confirmed_by_desk`) is still texted;
- any other number gets no SMS: no SMS row is recorded for a new message (the resident's e-mail,
  when they gave one, still goes), and an SMS recorded earlier is DROPPED at its claim;
- the structure's admins (`manage_booking_settings`) get one e-mail a day about it.

The online forms' first line of defence is the territory check (`mediation.phones`,
`Structure.online_phone_codes`); the caps hold whatever number gets through."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

from mediation.ratelimit import exceeded, hit
from mediation.selectors import phone_confirmed_by_desk

HOUR_SCOPE = "sms-structure-hour"
DAY_SCOPE = "sms-structure-day"
ALERT_SCOPE = "sms-cap-alert"
ALERT_TASK = "bookings.sms_caps.sms_cap_alert_send"

#: Shown to staff on "Messages envoyés": no number, no name.
OVER_CAP = (
    "Plafond de SMS de la structure atteint et numéro non confirmé par l'accueil : SMS non envoyé."
)


def _caps() -> list[tuple[str, int, int]]:
    return [
        (HOUR_SCOPE, settings.SMS_CAP_PER_HOUR, 3600),
        (DAY_SCOPE, settings.SMS_CAP_PER_DAY, 24 * 3600),
    ]


def sms_capped(structure_id: int) -> bool:
    """Whether the structure has reached a cap in the current hour or day (nothing counted)."""
    key = str(structure_id)
    return any(exceeded(scope, key, limit=cap - 1, window=window) for scope, cap, window in _caps())


def _alert_once(structure_id: int) -> None:
    """The admins' e-mail, the first time a cap holds a number back this day."""
    if hit(ALERT_SCOPE, str(structure_id), limit=1, window=24 * 3600):
        transaction.on_commit(partial(async_task, ALERT_TASK, structure_id))


def sms_cap_allows(*, structure_id: int, phone: str) -> bool:
    """When a message is recorded: may an SMS row be written for this E.164 number? Yes under
    the caps, or for a number the desk confirmed. Counts nothing."""
    if not sms_capped(structure_id) or phone_confirmed_by_desk(
        structure_id=structure_id, phone=phone
    ):
        return True
    _alert_once(structure_id)
    return False


def sms_cap_take(*, structure_id: int, phone: str) -> bool:
    """At the claim, just before an SMS goes: count it in both windows; False when a cap is
    passed and the number is not confirmed by the desk (the SMS is then not sent)."""
    key = str(structure_id)
    # Both windows count every SMS: no short-circuit.
    results = [hit(scope, key, limit=cap, window=window) for scope, cap, window in _caps()]
    within = all(results)
    if within or phone_confirmed_by_desk(structure_id=structure_id, phone=phone):
        return True
    _alert_once(structure_id)
    return False


def sms_cap_alert_send(structure_id: int) -> int:
    """Task: tell the structure's admins that its SMS caps were reached. Returns the number of
    e-mails sent."""
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation
    from django.utils.translation import gettext

    from mediation.models import Membership, Structure

    structure = Structure.objects.get(pk=structure_id)
    emails = sorted(
        set(
            Membership.objects.allowing("manage_booking_settings")
            .filter(structure=structure)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )
    if not emails:
        return 0
    context = {
        "structure": structure,
        "per_hour": settings.SMS_CAP_PER_HOUR,
        "per_day": settings.SMS_CAP_PER_DAY,
        "outbox_url": settings.SITE_URL + reverse("outbox", kwargs={"structure": structure.slug}),
        "rules_url": settings.SITE_URL
        + reverse("booking_rules", kwargs={"structure": structure.slug}),
    }
    with translation.override("fr"):
        subject = gettext("Permanence : plafond de SMS atteint pour %(structure)s") % {
            "structure": structure.name
        }
        body = render_to_string("bookings/email/sms_cap_alert.txt", context)
    for email in emails:
        send_mail(subject, body, None, [email], fail_silently=False)
    return len(emails)
