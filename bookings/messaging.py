"""SMS backends, chosen by `settings.SMS_BACKEND` (a dotted path), as Django does for e-mail.

A backend has one method, `send_sms(to, body) -> str`: `to` is an E.164 number, the return value
is the provider's reference of the message, and any failure raises `SmsError` whose text carries
no personal data (it is stored and shown to staff).

- `ConsoleSmsBackend`: development default, writes the SMS to the log and to stdout.
- `FileOutboxSmsBackend`: appends one JSON line per SMS to `settings.SMS_OUTBOX_PATH`; tests and
  the demo use it, and in the demo staff read it on the "Messages envoyés" page.
- `BrevoSmsBackend`: Brevo's transactional SMS HTTP API, with the standard library only.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid
from pathlib import Path
from urllib import error as urlerror
from urllib import request as urlrequest

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from mediation.phones import is_mobile

__all__ = [
    "BaseSmsBackend",
    "BrevoSmsBackend",
    "ConsoleSmsBackend",
    "FileOutboxSmsBackend",
    "SmsError",
    "get_backend",
    "is_mobile",
    "outbox_enabled",
    "read_outbox",
    "send_sms",
]

logger = logging.getLogger("bookings.sms")

DEFAULT_BACKEND = "bookings.messaging.ConsoleSmsBackend"


class SmsError(Exception):
    """The SMS was not accepted. The message is safe to store: no number, no text."""


class BaseSmsBackend:
    def send_sms(self, to: str, body: str) -> str:
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Prints the SMS: nothing leaves the machine."""

    def __init__(self, stream=None):
        self.stream = stream

    def send_sms(self, to: str, body: str) -> str:
        reference = f"console-{uuid.uuid4().hex[:16]}"
        stream = self.stream or sys.stdout
        stream.write(f"--- SMS {reference} to {to} ---\n{body}\n---\n")
        stream.flush()
        logger.info("SMS %s written to the console (%d characters)", reference, len(body))
        return reference


def outbox_path() -> Path:
    return Path(getattr(settings, "SMS_OUTBOX_PATH", settings.VAR_DIR / "sms-outbox.jsonl"))


class FileOutboxSmsBackend(BaseSmsBackend):
    """Appends `{"reference", "at", "to", "body"}` as one JSON line to the outbox file."""

    def send_sms(self, to: str, body: str) -> str:
        reference = f"file-{uuid.uuid4().hex[:16]}"
        line = json.dumps(
            {"reference": reference, "at": timezone.now().isoformat(), "to": to, "body": body},
            ensure_ascii=False,
        )
        path = outbox_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # One write of a whole line in append mode: lines of concurrent workers never mix.
            with path.open("a", encoding="utf-8") as outbox:
                outbox.write(line + "\n")
        except OSError as exc:
            raise SmsError(f"Fichier d'envoi : {type(exc).__name__}") from exc
        return reference


def read_outbox(limit: int = 50, *, max_bytes: int = 4 * 1024 * 1024) -> list[dict]:
    """The last `limit` SMS of the outbox file, newest first.

    Reads the file backwards and stops after `max_bytes`: a large demo outbox never makes a
    page slow. Lines that are not valid JSON (a torn write) are skipped."""
    path = outbox_path()
    if limit <= 0 or not path.exists():
        return []
    entries: list[dict] = []
    with path.open("rb") as outbox:
        outbox.seek(0, os.SEEK_END)
        position = outbox.tell()
        floor = max(0, position - max_bytes)
        carry = b""
        while position > floor and len(entries) < limit:
            size = min(64 * 1024, position - floor)
            position -= size
            outbox.seek(position)
            lines = (outbox.read(size) + carry).split(b"\n")
            # Above the floor, the first piece may be the end of a line begun in the block
            # before: keep it for the next round. (A line cut by the floor fails to parse.)
            carry = lines.pop(0) if position > floor else b""
            for raw in reversed(lines):
                if len(entries) >= limit:
                    break
                entry = _parse_line(raw)
                if entry is not None:
                    entries.append(entry)
    return entries


def _parse_line(raw: bytes) -> dict | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return entry if isinstance(entry, dict) else None


class BrevoSmsBackend(BaseSmsBackend):
    """Brevo transactional SMS: POST {BREVO_API_URL}/transactionalSMS/sms.

    Settings: BREVO_API_KEY, BREVO_API_URL (https://api.brevo.com/v3), SMS_SENDER (at most 11
    letters and digits), SMS_TIMEOUT (seconds)."""

    path = "/transactionalSMS/sms"

    def __init__(self, *, api_key=None, api_url=None, sender=None, timeout=None):
        self.api_key = api_key if api_key is not None else getattr(settings, "BREVO_API_KEY", "")
        self.api_url = (api_url or getattr(settings, "BREVO_API_URL", "")).rstrip("/")
        self.sender = sender or getattr(settings, "SMS_SENDER", "Permanence")
        self.timeout = timeout or getattr(settings, "SMS_TIMEOUT", 10)

    def send_sms(self, to: str, body: str) -> str:
        if not self.api_key or not self.api_url:
            raise SmsError("Brevo : BREVO_API_KEY ou BREVO_API_URL manquant")
        payload = {
            "sender": self.sender,
            # Brevo wants the number with its country code and without the "+".
            "recipient": to.lstrip("+"),
            "content": body,
            "type": "transactional",
        }
        req = urlrequest.Request(
            self.api_url + self.path,
            data=json.dumps(payload).encode("utf-8"),
            method="POST",
            headers={
                "api-key": self.api_key,
                "accept": "application/json",
                "content-type": "application/json",
            },
        )
        try:
            with urlrequest.urlopen(req, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
                raw = response.read(64 * 1024)
        except urlerror.HTTPError as exc:
            raise SmsError(f"Brevo : HTTP {exc.code}{_brevo_code(exc)}") from exc
        except TimeoutError as exc:
            raise SmsError("Brevo : délai de réponse dépassé") from exc
        except urlerror.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise SmsError("Brevo : délai de réponse dépassé") from exc
            raise SmsError(f"Brevo : connexion impossible ({type(reason).__name__})") from exc
        except OSError as exc:
            raise SmsError(f"Brevo : connexion impossible ({type(exc).__name__})") from exc
        if not 200 <= status < 300:
            raise SmsError(f"Brevo : HTTP {status}")
        try:
            data = json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = {}
        # /transactionalSMS/sms answers "reference" and "messageId"; /send only "messageId".
        if not isinstance(data, dict):
            return ""
        return str(data.get("reference") or data.get("messageId") or "")[:100]


def _brevo_code(exc: urlerror.HTTPError) -> str:
    """Brevo's error code ("invalid_parameter"…), never its message, which may quote the number."""
    try:
        data = json.loads(exc.read(16 * 1024).decode("utf-8"))
    except Exception:  # noqa: BLE001 - the body is only a hint
        return ""
    code = data.get("code") if isinstance(data, dict) else None
    if isinstance(code, str) and code.replace("_", "").isalnum() and len(code) <= 40:
        return f" ({code})"
    return ""


def get_backend() -> BaseSmsBackend:
    return import_string(getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND))()


def outbox_enabled() -> bool:
    """True when SMS go to the outbox file (tests, demo): staff may then read them."""
    backend = import_string(getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND))
    return isinstance(backend, type) and issubclass(backend, FileOutboxSmsBackend)


def send_sms(to: str, body: str) -> str:
    """Send one SMS through the configured backend; its reference, or SmsError."""
    return get_backend().send_sms(to, body)
