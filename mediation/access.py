"""View-side access rules, built on the scoping mechanism (mediation.scoping)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from mediation.models import Structure
from mediation.scoping import access_object, has_role


def access_structure(user, slug: str, roles: Iterable[str] | None = None) -> Structure:
    """The structure `slug` if the user belongs to it (404 otherwise); 403 if they belong to it
    but hold none of `roles`."""
    structure = access_object(Structure, user, slug=slug)
    if roles is not None and not has_role(user, structure, roles):
        raise PermissionDenied
    return structure


def structure_view(*roles: str):
    """Decorate a view taking a `structure` slug: it receives the Structure instead, once the
    user's access (and one of `roles`, if given) is checked."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, structure: str, *args, **kwargs):
            obj = access_structure(request.user, structure, roles or None)
            request.structure = obj
            return view(request, obj, *args, **kwargs)

        return wrapper

    return decorator
