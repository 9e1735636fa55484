"""Brevo's transactional SMS webhook, mounted at /webhooks/brevo/sms/<token>/ (no session, no
CSRF: Brevo posts JSON).

Brevo does not sign its webhooks, so the URL carries a secret, `BREVO_WEBHOOK_SECRET`,
compared in constant time; without the setting the endpoint does not exist (404), with a wrong
token it answers 403. Configure one webhook in Brevo (type Transactional, channel SMS) for the
events `delivered`, `softBounce`, `hardBounce`, `blacklisted`, `skip`, `reply`, `unsubscribe`
and `subscribe` (the others, `sent` and `accepted`, are answered `ignored`).

What Brevo posts (its "Transactional webhooks" page, SMS section): one JSON object per event
with `id` (the webhook's id), `to` (the recipient's mobile, international digits without "+"),
`sms_count`, `credits_used`, `remaining_credit`, `messageId` (an integer), `reference` (the id
the send answered), `msg_status` (`sent`, `delivered`, `soft_bounce`, `hard_bounce`, …), `date`
and `type`; a reply carries its text in `reply`. The event names of the webhook's settings are
camelCase (`hardBounce`), the payload's `msg_status` snake_case (`hard_bounce`): both are read.

- A delivery receipt → `notification_record_delivery` ("Remis" / "Échec de remise", e-mail
  fallback). For a message Permanence does not know: 200 `ignored`, logged, nothing changed
  (Brevo would retry a 4xx).
- A reply "STOP" (or Brevo's own `unsubscribe` event) → `sms_opt_out_record`; a reply "START"
  (or Brevo's `subscribe`) → `sms_opt_in_record`. From a number no structure texted (or
  without a STOP): 200 `ignored`, logged, nothing changed.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import unicodedata

from django.conf import settings
from django.http import Http404, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bookings.services.receipts import (
    notification_record_delivery,
    sms_opt_in_record,
    sms_opt_out_record,
)
from mediation.phones import phone_candidates
from mediation.ratelimit import client_ip, exceeded, hit

logger = logging.getLogger("bookings.webhooks")

MAX_BODY = 64 * 1024
MAX_EVENTS = 100
DELIVERED = {"delivered"}
#: Not delivered: bounces, and what Brevo refused to send (`blacklisted`: the number is on its
#: block list; `skip`: not sent). `blocked`, `rejected` and `error` appear in its SMS event
#: reports; read the same way.
UNDELIVERED = {
    "hard_bounce",
    "soft_bounce",
    "blacklisted",
    "skip",
    "skipped",
    "blocked",
    "rejected",
    "error",
}
UNSUBSCRIBED = {"unsubscribe", "unsubscribed", "unsubscription"}
SUBSCRIBED = {"subscribe", "subscribed"}
REPLIED = {"reply", "replied", "replies"}
#: Answers that mean "no more SMS" (the first word, accents and case aside).
STOP_WORDS = {"stop", "arret", "arreter", "stopsms", "unsubscribe", "desabonner"}
#: Answers that mean "SMS again, please".
START_WORDS = {"start", "unstop", "subscribe"}
FORGED_SCOPE = "webhook-forged-ip"


def _event_name(event: dict) -> str:
    raw = event.get("msg_status") or event.get("event") or ""
    if not isinstance(raw, str):
        return ""
    # The payload says "hard_bounce", the webhook's settings "hardBounce".
    return re.sub(r"(?<!^)(?=[A-Z])", "_", raw.strip()).lower().replace("-", "_")


def _references(event: dict) -> list[str]:
    """`reference` (a string, as documented; some accounts post an object of them) and
    `messageId` (an integer)."""
    found = []
    for key in ("reference", "messageId", "message_id"):
        value = event.get(key)
        values = value.values() if isinstance(value, dict) else [value]
        found += [str(v)[:100] for v in values if isinstance(v, (str, int)) and str(v)]
    return found


def _phone(event: dict) -> str:
    """The resident's number, `to`, in E.164, or "". Brevo writes "33612345678"."""
    value = event.get("to")
    if not isinstance(value, (str, int)) or not str(value).strip():
        return ""
    text = str(value).strip()[:30]
    # International form, whatever the region: the one reader of numbers (mediation/phones.py).
    numbers = phone_candidates(text if text.startswith("+") else "+" + text, ["FR"])
    return numbers[0] if numbers else ""


def _first_word(text) -> str:
    if not isinstance(text, str):
        return ""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z]+", folded)
    return words[0] if words else ""


def _handle(event: dict) -> str:
    name = _event_name(event)
    if name in DELIVERED or name in UNDELIVERED:
        done = notification_record_delivery(
            references=_references(event), delivered=name in DELIVERED
        )
        return "recorded" if done else "ignored"
    word = _first_word(event.get("reply")) if name in REPLIED or "reply" in event else ""
    if name in UNSUBSCRIBED or word in STOP_WORDS:
        record = sms_opt_out_record
    elif name in SUBSCRIBED or word in START_WORDS:
        record = sms_opt_in_record
    else:
        return "ignored"  # sent, accepted, a reply other than STOP or START…
    # The resident is the SMS's recipient, `to`, whose phone answered.
    phone = _phone(event)
    if not phone:
        logger.info("SMS webhook: STOP or START without a valid number, ignored")
        return "ignored"
    return "recorded" if record(phone=phone) else "ignored"


@csrf_exempt
@require_POST
def brevo_sms_webhook(request, token: str):
    secret = getattr(settings, "BREVO_WEBHOOK_SECRET", "")
    if not secret:
        raise Http404
    ip = client_ip(request)
    if exceeded(FORGED_SCOPE, ip, limit=20, window=3600) or not hit(
        "webhook-ip", ip, limit=1200, window=60
    ):
        return JsonResponse({"status": "rate_limited"}, status=429)
    if not hmac.compare_digest(token.encode(), secret.encode()):
        hit(FORGED_SCOPE, ip, limit=20, window=3600)
        logger.warning("SMS webhook: wrong token, refused")
        return HttpResponseForbidden("Forbidden", content_type="text/plain")
    if len(request.body) > MAX_BODY:
        return JsonResponse({"status": "too_large"}, status=400)
    try:
        payload = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        logger.info("SMS webhook: body is not JSON")
        return JsonResponse({"status": "invalid"}, status=400)
    events = payload if isinstance(payload, list) else [payload]
    results = [_handle(e) if isinstance(e, dict) else "ignored" for e in events[:MAX_EVENTS]]
    status = "recorded" if "recorded" in results else "ignored"
    return JsonResponse({"status": status, "events": results})
