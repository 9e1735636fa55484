"""Brevo's transactional SMS webhook, mounted at /webhooks/brevo/sms/<token>/ (no session, no
CSRF: Brevo posts JSON).

Brevo does not sign its webhooks, so the URL carries a secret, `BREVO_WEBHOOK_SECRET`,
compared in constant time; without the setting the endpoint does not exist (404), with a wrong
token it answers 403. Configure one webhook in Brevo (Transactional › SMS) for the events
delivered, soft/hard bounce, blocked, rejected, replied and unsubscribed.

- A delivery receipt → `notification_record_delivery` ("Remis" / "Échec de remise", e-mail
  fallback). For a message Permanence does not know: 200 `ignored`, logged, nothing changed
  (Brevo would retry a 4xx).
- A reply "STOP" (or Brevo's own `unsubscribe` event) → `sms_opt_out_record`. From a number no
  structure texted: 200 `ignored`, logged, nothing changed.
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

from bookings.services.receipts import notification_record_delivery, sms_opt_out_record
from mediation.phones import phone_candidates
from mediation.ratelimit import client_ip, exceeded, hit

logger = logging.getLogger("bookings.webhooks")

MAX_BODY = 64 * 1024
MAX_EVENTS = 100
DELIVERED = {"delivered"}
UNDELIVERED = {"hard_bounce", "soft_bounce", "blocked", "blacklisted", "rejected", "error"}
UNSUBSCRIBED = {"unsubscribe", "unsubscribed"}
REPLIED = {"replied", "reply", "inbound", "inbound_sms"}
#: Answers that mean "no more SMS" (the first word, accents and case aside).
STOP_WORDS = {"stop", "arret", "arreter", "stopsms", "unsubscribe", "desabonner"}
FORGED_SCOPE = "webhook-forged-ip"


def _event_name(event: dict) -> str:
    raw = event.get("msg_status") or event.get("event") or ""
    if not isinstance(raw, str):
        return ""
    # Brevo writes both "hard_bounce" and "hardBounce".
    return re.sub(r"(?<!^)(?=[A-Z])", "_", raw.strip()).lower().replace("-", "_")


def _references(event: dict) -> list[str]:
    found = []
    for key in ("messageId", "message_id", "reference"):
        value = event.get(key)
        values = value.values() if isinstance(value, dict) else [value]
        found += [str(v)[:100] for v in values if isinstance(v, (str, int)) and str(v)]
    return found


def _phone(event: dict, *keys: str) -> str:
    """The first number among `keys`, in E.164, or "". Brevo writes "33612345678"."""
    for key in keys:
        value = event.get(key)
        if not isinstance(value, (str, int)) or not str(value).strip():
            continue
        text = str(value).strip()[:30]
        # International form, whatever the region: the one reader of numbers (mediation/phones.py).
        numbers = phone_candidates(text if text.startswith("+") else "+" + text, ["FR"])
        if numbers:
            return numbers[0]
    return ""


def _is_stop(text) -> bool:
    if not isinstance(text, str):
        return False
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z]+", folded)
    return bool(words) and words[0] in STOP_WORDS


def _handle(event: dict) -> str:
    name = _event_name(event)
    if name in DELIVERED or name in UNDELIVERED:
        done = notification_record_delivery(
            references=_references(event), delivered=name in DELIVERED
        )
        return "recorded" if done else "ignored"
    reply = event.get("reply") or event.get("text") or event.get("message") or event.get("content")
    if name in UNSUBSCRIBED or ((name in REPLIED or reply) and _is_stop(reply)):
        # A reply comes from the resident: "from" when Brevo gives it, else "to" (the number
        # the SMS was sent to, which answered).
        phone = _phone(event, "from", "sender", "to", "phone")
        if not phone:
            logger.info("SMS webhook: STOP without a valid number, ignored")
            return "ignored"
        return "recorded" if sms_opt_out_record(phone=phone) else "ignored"
    return "ignored"  # sent, accepted, a reply other than STOP…


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
