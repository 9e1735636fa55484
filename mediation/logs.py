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
