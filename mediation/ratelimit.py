"""Fixed-window rate limits in the shared cache (seen by every web worker)."""

from __future__ import annotations

import hashlib
import time
import unicodedata

from django.core.cache import cache


def _key(scope: str, identity: str, window: int) -> str:
    # Hash the identity: no phone number or IP address in cache keys.
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return f"rl:{scope}:{digest}:{int(time.time() // window)}"


def hit(scope: str, identity: str, *, limit: int, window: int) -> bool:
    """Count one attempt; True while the identity stays within `limit` per `window` seconds."""
    key = _key(scope, identity, window)
    if cache.add(key, 1, timeout=window + 5):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window + 5)
            count = 1
    return count <= limit


def exceeded(scope: str, identity: str, *, limit: int, window: int) -> bool:
    """Whether the identity is already past `limit` in the current window (nothing counted):
    to refuse before costly work, such as checking a secret."""
    return (cache.get(_key(scope, identity, window)) or 0) > limit


def client_ip(request) -> str:
    # REMOTE_ADDR is the proxy's address behind a reverse proxy; deployments behind one set
    # BEHIND_TLS_PROXY and the proxy overwrites X-Forwarded-For with the client's address.
    from django.conf import settings

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
    from django.conf import settings

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
    from django.conf import settings

    return settings.LOGIN_ADDRESS_WINDOW_MINUTES * 60


def login_address_locked(request) -> bool:
    """Whether the request's address has failed `LOGIN_FAILURES_PER_ADDRESS` logins in the
    window: then every login from it is refused, right password or not, until it ends."""
    from django.conf import settings

    limit = settings.LOGIN_FAILURES_PER_ADDRESS
    return exceeded(
        LOGIN_ADDRESS_SCOPE, client_ip(request), limit=limit - 1, window=_login_address_window()
    )


def login_failure_count(sender, credentials=None, request=None, **kwargs) -> None:
    """user_login_failed receiver: one more failure for the address (wrong password, wrong
    code, refused while locked)."""
    if request is None:
        return
    from django.conf import settings

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
