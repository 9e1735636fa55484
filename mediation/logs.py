"""What goes in the logs: ids, counts and kinds of error, never personal data.

An exception's message may quote what it was working on: a PostgreSQL IntegrityError's
DETAIL gives the row's values, Django's template VariableDoesNotExist prints the object (a
resident's name), a provider's client library quotes the phone number. `exception_summary`
keeps the kind of error and where it happened, which is enough to find the bug. django-axes
would log the e-mail address and IP of a locked-out login: `axes_client_str` writes a keyed
pseudonym of each instead (the same person gives the same pseudonym; the full values stay in
axes' tables, which the operators' admin shows)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import sys
import traceback

from django.conf import settings


def pseudonym(value: str) -> str:
    """A short keyed hash of `value`, the same for the same value (follows one login's
    attempts through the logs) and not reversible without SECRET_KEY."""
    digest = hmac.new(settings.SECRET_KEY.encode(), str(value).encode(), hashlib.sha256)
    return digest.hexdigest()[:12]


def exception_summary(exc: BaseException) -> str:
    """`TypeName at path.py:123 in function`, without the exception's message."""
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    ours = [f for f in frames if "site-packages" not in f.filename] or frames
    if not ours:
        return type(exc).__name__
    last = ours[-1]
    filename = last.filename.rsplit("/", 2)
    return f"{type(exc).__name__} at {'/'.join(filename[-2:])}:{last.lineno} in {last.name}"


def axes_client_str(username, ip_address, user_agent, path_info, request) -> str:
    """AXES_CLIENT_STR_CALLABLE: the client of a login attempt, as written in axes' log
    lines."""
    return (
        f"{{account: {pseudonym(username or '')}, address: {pseudonym(ip_address or '')}, "
        f"path: {path_info if isinstance(path_info, str) else ''}}}"
    )


#: What a log line must never hold, each kept up to the secret itself, which is replaced by
#: `[secret]`: private links to an appointment (and its calendar file), password-reset and
#: invitation links, bearer tokens and Authorization headers, secrets in a query string.
SECRET_PATTERNS = [
    re.compile(r"(/rdv/a/)[^/\s?#\"']+"),
    re.compile(r"(/(?:mot-de-passe-oublie|bienvenue)/[^/\s?#\"']+/)(?!set-password/)[^/\s?#\"']+"),
    re.compile(r"(\b(?:Bearer|Token|Basic)\s+)[^\s\"',;]+", re.IGNORECASE),
    re.compile(
        r"(\bAuthorization['\"]?\s*[:=]\s*['\"]?)(?!Bearer\b|Token\b|Basic\b)[^\s\"',;]+",
        re.IGNORECASE,
    ),
    re.compile(
        r"([?&](?:token|key|secret|api_key|apikey|access_token|password|jeton)=)[^&\s\"'#]+",
        re.IGNORECASE,
    ),
]


def redact(text: str) -> str:
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(r"\1[secret]", text)
    return text


class RedactSecrets(logging.Filter):
    """On every handler of LOGGING (and the gunicorn loggers, `install_redaction`): the line is
    formatted with its arguments, then its secrets are replaced (`redact`). The access logs of
    the development server and gunicorn, and Django's "Not Found: /rdv/a/…" lines, named the
    private links' tokens (issue 17)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as it would
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_redaction() -> None:
    """Loggers whose handlers are not ours: gunicorn configures its access and error logs
    itself (after LOGGING, and configuring them in LOGGING would drop its handlers), so the
    filter goes on the loggers."""
    for name in ("gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


def _masked(address: str) -> str:
    local, _, domain = address.rpartition("@")
    if not local:
        return "[adresse]"
    return f"{local[:1]}***@{domain[:1]}***"


class MaskedConsoleEmailBackend:
    """The console e-mail backend of a production configuration (DEBUG false): one line per
    message — masked addresses, subject, size — and never the body nor an address, which a
    service's journal would keep. Django's console backend printed everything."""

    def __init__(self, fail_silently: bool = False, stream=None, **kwargs):
        self.stream = stream or sys.stdout

    def open(self):
        return False

    def close(self):
        return None

    def send_messages(self, email_messages) -> int:
        from email.utils import getaddresses

        count = 0
        for message in email_messages or []:
            recipients = [addr for _name, addr in getaddresses(message.recipients())]
            self.stream.write(
                "E-mail not sent (console backend): to "
                + ", ".join(_masked(addr) for addr in recipients)
                + f", subject {message.subject!r}, {len(message.body or '')} characters\n"
            )
            self.stream.flush()
            count += 1
        return count
