"""Fixed-window rate limits, counted atomically and seen by every web worker and the task
cluster.

Where the count lives: Redis when the cache is Redis (`REDIS_URL`: INCR is atomic), otherwise
a database row (`RateCounter`) incremented by one `INSERT … ON CONFLICT DO UPDATE SET count =
count + 1 RETURNING count` (SQLite serialises writes, PostgreSQL locks the row). The file
cache, the default without Redis, read then wrote the count: 40 parallel requests against a
limit of 20 let 29 through (issue 17)."""

from __future__ import annotations

import hashlib
import random
import time
import unicodedata
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection


def _key(scope: str, identity: str, window: int) -> tuple[str, int]:
    # Hash the identity: no phone number or IP address in keys.
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    index = int(time.time() // window)
    return f"rl:{scope}:{digest}:{index}", (index + 1) * window


def _redis() -> bool:
    return "redis" in settings.CACHES["default"]["BACKEND"].lower()


def _database_hit(key: str, ends: int) -> int:
    from mediation.models import RateCounter

    table, key_, count = (
        connection.ops.quote_name(name) for name in (RateCounter._meta.db_table, "key", "count")
    )
    expires_at = datetime.fromtimestamp(ends + 5, tz=UTC)
    with connection.cursor() as cursor:
        if random.random() < 0.01:  # noqa: S311 - now and then, forget past windows
            cursor.execute(f"DELETE FROM {table} WHERE expires_at < %s", [datetime.now(tz=UTC)])
        cursor.execute(
            f"INSERT INTO {table} ({key_}, {count}, expires_at) VALUES (%s, 1, %s) "
            f"ON CONFLICT ({key_}) DO UPDATE SET {count} = {table}.{count} + 1 "
            f"RETURNING {count}",
            [key, expires_at],
        )
        return cursor.fetchone()[0]


def _cache_hit(key: str, window: int) -> int:
    # Redis: add is SET NX, incr is INCR; both atomic.
    if cache.add(key, 1, timeout=window + 5):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 0, timeout=window + 5)
        return cache.incr(key)


def hit(scope: str, identity: str, *, limit: int, window: int) -> bool:
    """Count one attempt; True while the identity stays within `limit` per `window` seconds."""
    key, ends = _key(scope, identity, window)
    count = _cache_hit(key, window) if _redis() else _database_hit(key, ends)
    return count <= limit


def current(scope: str, identity: str, *, window: int) -> int:
    """The attempts counted for the identity in the current window."""
    key, _ends = _key(scope, identity, window)
    if _redis():
        return cache.get(key) or 0
    from mediation.models import RateCounter

    return RateCounter.objects.filter(key=key).values_list("count", flat=True).first() or 0


def exceeded(scope: str, identity: str, *, limit: int, window: int) -> bool:
    """Whether the identity is already past `limit` in the current window (nothing counted):
    to refuse before costly work, such as checking a secret."""
    return current(scope, identity, window=window) > limit


def client_ip(request) -> str:
    # REMOTE_ADDR is the proxy's address behind a reverse proxy; deployments behind one set
    # BEHIND_TLS_PROXY and the proxy overwrites X-Forwarded-For with the client's address.
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def login_username(value) -> str | None:
    """The one spelling of a login name for counting failures: Unicode NFKC (as Django's
    login form reads it), spaces trimmed, case folded, cut to the 255 characters of axes'
    tables. `Chloe.Tanguy@…`, ` CHLOE.TANGUY@… ` and `chloe.tanguy@…` are one account: each
    spelling used to get its own five tries (issue 17)."""
    if not isinstance(value, str):
        return value
    return unicodedata.normalize("NFKC", value).strip().casefold()[:255]


def axes_username(request, credentials=None) -> str | None:
    """The username of a login attempt for django-axes (AXES_USERNAME_CALLABLE), normalised
    by `login_username`: lockouts count, check and reset one spelling."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        username = credentials.get(field)
    else:
        username = getattr(request, "data", request.POST).get(field)
    return login_username(username)


# Failed logins per client address, whatever the accounts tried: one address guessing
# forty accounts once each never met axes' per-account count.
LOGIN_ADDRESS_SCOPE = "login-failures-ip"


def _login_address_window() -> int:
    return settings.LOGIN_ADDRESS_WINDOW_MINUTES * 60


def login_address_locked(request) -> bool:
    """Whether the request's address has failed `LOGIN_FAILURES_PER_ADDRESS` logins in the
    window: then every login from it is refused, right password or not, until it ends."""
    limit = settings.LOGIN_FAILURES_PER_ADDRESS
    return exceeded(
        LOGIN_ADDRESS_SCOPE, client_ip(request), limit=limit - 1, window=_login_address_window()
    )


def login_failure_count(sender, credentials=None, request=None, **kwargs) -> None:
    """user_login_failed receiver: one more failure for the address (wrong password, wrong
    code, refused while locked)."""
    if request is None:
        return
    hit(
        LOGIN_ADDRESS_SCOPE,
        client_ip(request),
        limit=settings.LOGIN_FAILURES_PER_ADDRESS,
        window=_login_address_window(),
    )


class LoginAddressBackend:
    """First authentication backend: refuses every login from an address over its count of
    failures, before axes and before any password is checked. django-axes' middleware shows
    its lockout page (429) for it, as for a locked account."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        from django.core.exceptions import PermissionDenied

        if request is not None and login_address_locked(request):
            request.axes_locked_out = True
            raise PermissionDenied("address locked out")
        return None

    # No get_user: never the backend a session is opened with (force_login picks the first
    # backend that has one).
