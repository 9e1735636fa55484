"""SMS backends, chosen by `settings.SMS_BACKEND` (a dotted path), as Django does for e-mail.

A backend has one method, `send_sms(to, body) -> str`: `to` is an E.164 number, the return value
is the provider's reference of the message, and any failure raises `SmsError` whose text carries
no personal data (it is stored and shown to staff).

- `ConsoleSmsBackend`: development default, writes the SMS to the log and to stdout.
- `FileOutboxSmsBackend`: appends one JSON line per SMS to `settings.SMS_OUTBOX_PATH`; tests and
  the demo use it, and in the demo staff read it on the "Messages envoyés" page.
- `BrevoSmsBackend`: Brevo's transactional SMS HTTP API, with the standard library only.

And the SMS alphabet: `sms_prepare(text)` gives the text to send (transliterated to the GSM 03.38
alphabet when a name brings a character outside it), its encoding and its exact number of
segments, what the provider bills; `sms_encoding(text)` tells a backend whether to ask for
Unicode. The codec is the `gsm0338` package (3GPP TS 23.038, basic table and its extension).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import unicodedata
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib import error as urlerror
from urllib import request as urlrequest

import gsm0338  # noqa: F401 - registers the "gsm03.38" codec
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from bookings.choices import SmsEncoding
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
    "sms_encoding",
    "sms_prepare",
    "sms_segments",
]

logger = logging.getLogger("bookings.sms")

DEFAULT_BACKEND = "bookings.messaging.ConsoleSmsBackend"


# --- The SMS alphabet and segments ----------------------------------------------------------

GSM7 = SmsEncoding.GSM7.value
UCS2 = SmsEncoding.UCS2.value
GSM_CODEC = "gsm03.38"
#: One SMS carries 140 octets: 160 septets or 70 UCS-2 units alone; in a concatenated message
#: the 6-octet user data header leaves 153 septets or 67 units per segment.
SINGLE = {GSM7: 160, UCS2: 70}
PART = {GSM7: 153, UCS2: 67}

#: What French texts and names bring that the GSM alphabet lacks, replaced by the closest GSM
#: characters. Letters with a diacritic the alphabet lacks (ê, ô, û, î, â, ë, ï, ç, À, È, Ô…)
#: lose it through Unicode decomposition (`_transliterate_char`); é, è, à, ù, ì, ò, É, Ç, ä, ö,
#: ñ, ü are in the alphabet and kept.
TRANSLITERATION = {
    "œ": "oe",
    "Œ": "OE",
    "—": "-",  # em dash
    "–": "-",  # en dash
    "‐": "-",
    "‑": "-",
    "−": "-",
    "…": "...",
    "’": "'",
    "‘": "'",
    "‚": "'",
    "ʼ": "'",
    "`": "'",
    "´": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "·": ".",  # inscrit·e
    "•": "-",
    "°": "o",  # n°
    "\u00a0": " ",  # no-break spaces of French typography
    "\u202f": " ",
    "\u2009": " ",
}


@dataclass(frozen=True)
class SmsText:
    """An SMS as it is sent: its text, `GSM7` or `UCS2`, and how many segments it costs."""

    body: str
    encoding: str
    segments: int


@lru_cache(maxsize=4096)
def _septets(char: str) -> int:
    """Septets of one character in the GSM 7-bit alphabet: 1 (basic table), 2 (extension
    table, behind an escape: € [ ] { } ~ ^ \\ |), or 0 when it is not in the alphabet."""
    try:
        return len(char.encode(GSM_CODEC))
    except UnicodeError:
        return 0


def _units(text: str, encoding: str) -> list[int]:
    if encoding == GSM7:
        return [_septets(char) for char in text]
    # UTF-16: a character beyond the basic plane (an emoji) is a surrogate pair, 2 units.
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _count_segments(units: list[int], encoding: str) -> int:
    """Exact: a segment never splits an escape sequence nor a surrogate pair, so a character
    that does not fit at the end of one segment starts the next."""
    if sum(units) <= SINGLE[encoding]:
        return 1
    size, segments, used = PART[encoding], 1, 0
    for unit in units:
        if used + unit > size:
            segments, used = segments + 1, 0
        used += unit
    return segments


def sms_encoding(text: str) -> str:
    """`GSM7` when every character is in the GSM 03.38 alphabet (basic or extension table),
    else `UCS2`: what a backend must declare to the provider."""
    text = unicodedata.normalize("NFC", text)
    return GSM7 if all(_septets(char) for char in text) else UCS2


def sms_segments(text: str) -> int:
    """How many segments (what providers bill) `text` takes, sent as it is."""
    text = unicodedata.normalize("NFC", text)
    encoding = sms_encoding(text)
    return _count_segments(_units(text, encoding), encoding)


def _transliterate_char(char: str) -> str:
    if _septets(char):
        return char
    if char in TRANSLITERATION:
        return TRANSLITERATION[char]
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base if base and all(_septets(c) for c in base) else char


def sms_prepare(text: str) -> SmsText:
    """The SMS to send for `text`, with its encoding and segments.

    A character outside the GSM alphabet (often from a variable: a place's or a structure's
    name, "août") would switch the whole SMS to UCS-2, 70 characters a segment instead of
    160. So each such character is replaced by its closest GSM form (ô → o, ç → c, œ → oe,
    — → -, … → ..., ’ → '), nothing else. If some character has no GSM form (a name in
    another script), the text is sent as written, in UCS-2: degrading it would gain nothing."""
    text = unicodedata.normalize("NFC", text)
    if sms_encoding(text) == GSM7:
        return SmsText(text, GSM7, _count_segments(_units(text, GSM7), GSM7))
    transliterated = "".join(_transliterate_char(char) for char in text)
    if sms_encoding(transliterated) == GSM7:
        return SmsText(transliterated, GSM7, _count_segments(_units(transliterated, GSM7), GSM7))
    return SmsText(text, UCS2, _count_segments(_units(text, UCS2), UCS2))


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
        logger.info(
            "SMS %s written to the console (%d characters, %s, %d segment(s))",
            reference,
            len(body),
            sms_encoding(body),
            sms_segments(body),
        )
        return reference


def outbox_path() -> Path:
    return Path(getattr(settings, "SMS_OUTBOX_PATH", settings.VAR_DIR / "sms-outbox.jsonl"))


class FileOutboxSmsBackend(BaseSmsBackend):
    """Appends `{"reference", "at", "to", "body", "encoding", "segments"}` as one JSON line to
    the outbox file."""

    def send_sms(self, to: str, body: str) -> str:
        reference = f"file-{uuid.uuid4().hex[:16]}"
        line = json.dumps(
            {
                "reference": reference,
                "at": timezone.now().isoformat(),
                "to": to,
                "body": body,
                "encoding": sms_encoding(body),
                "segments": sms_segments(body),
            },
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
    letters and digits), SMS_TIMEOUT (seconds).

    `unicodeEnabled` is true only when the text needs UCS-2 (`sms_encoding`): left false, Brevo
    replaces what is not GSM by its own approximations; set when not needed, a GSM text would be
    billed at 70 characters a segment."""

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
            "unicodeEnabled": sms_encoding(body) == UCS2,
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
