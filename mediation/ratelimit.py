"""Fixed-window rate limits in the shared cache (seen by every web worker)."""

from __future__ import annotations

import hashlib
import time

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


def axes_username(request, credentials=None) -> str | None:
    """The username of a login attempt for django-axes (AXES_USERNAME_CALLABLE), as axes
    reads it, cut to the 255 characters of its tables."""
    from django.conf import settings

    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        username = credentials.get(field)
    else:
        username = getattr(request, "data", request.POST).get(field)
    return username[:255] if isinstance(username, str) else username
