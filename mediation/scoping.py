"""The one scoping mechanism: which structures a user may see, and the querysets built on it.

Every read of structure data goes through `visible_to(user)` on a `ScopedQuerySet`, or through
`access_object()`, which raises 404 for anything outside the user's structures. A model opts in
by using `ScopedQuerySet.as_manager()` and saying, in `structure_path`, how it reaches its
structure (`"structure"`, `"place__structure"`, …). No view filters by structure by hand.

Roles are cumulative per structure: the roles a user holds in a structure come from their
memberships of that structure, plus `NETWORK_COORDINATOR_ROLES` on every structure linked to a
network they coordinate (a structure may belong to several networks).

The helpers that decide take an action of the permissions table (`mediation.permissions`), not
roles: `visible_to(user, "book_at_desk")` reads what the user may see for that action; without
one, what any role in the structure sees.
"""

from __future__ import annotations

from django.db import models
from django.http import Http404
from django.shortcuts import get_object_or_404

from mediation.choices import Role
from mediation.permissions import NETWORK_COORDINATOR_ROLES, roles_for

ALL_ROLES = frozenset(Role.values)


def _roles(action: str | None) -> frozenset[str]:
    """The roles allowing `action`; any role when there is none."""
    if action is None:
        return ALL_ROLES
    if not isinstance(action, str):
        raise TypeError(
            f"expected an action of mediation.permissions, not {action!r}: roles are listed "
            "in the permissions table only"
        )
    return roles_for(action)


def structure_roles(user) -> dict[int, frozenset[str]]:
    """Map structure id → roles the user holds there. Cached on the user for the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return {}
    cached = getattr(user, "_structure_roles_cache", None)
    if cached is not None:
        return cached
    from mediation.models import Membership, NetworkMembership, Structure

    roles: dict[int, set[str]] = {}
    for structure_id, role in Membership.objects.filter(user=user).values_list(
        "structure_id", "role"
    ):
        roles.setdefault(structure_id, set()).add(role)
    # Every structure linked to a network the user coordinates, read from the link table
    # (a structure in two of their networks comes twice: the set keeps one role).
    network_ids = NetworkMembership.objects.filter(user=user).values("network_id")
    links = Structure.networks.through.objects.filter(network_id__in=network_ids)
    for structure_id in links.values_list("structure_id", flat=True):
        roles.setdefault(structure_id, set()).update(NETWORK_COORDINATOR_ROLES)
    result = {sid: frozenset(r) for sid, r in roles.items()}
    user._structure_roles_cache = result
    return result


def forget_structure_roles(user) -> None:
    """Drop the per-request cache (after a membership change in the same request)."""
    if hasattr(user, "_structure_roles_cache"):
        del user._structure_roles_cache


def visible_structure_ids(user, action: str | None = None) -> list[int]:
    """The structures where the user may do `action` (where they hold any role, without)."""
    wanted = _roles(action)
    return sorted(sid for sid, held in structure_roles(user).items() if held & wanted)


def has_role(user, structure, action: str | None = None) -> bool:
    """Does the user hold, in `structure` (an instance or its id), a role allowing `action`
    (any role, without)? `permissions.user_can` asks this with an action."""
    structure_id = structure if isinstance(structure, int) else structure.pk
    return bool(structure_roles(user).get(structure_id, frozenset()) & _roles(action))


class ScopedQuerySet(models.QuerySet):
    #: Lookup path from the model to its Structure; "" for Structure itself.
    structure_path: str = "structure"

    def visible_to(self, user, action: str | None = None):
        ids = visible_structure_ids(user, action)
        field = f"{self.structure_path}__in" if self.structure_path else "pk__in"
        return self.filter(**{field: ids})


def scoped_queryset(path: str) -> type[ScopedQuerySet]:
    """A ScopedQuerySet subclass for models that reach their structure through `path`."""
    return type(f"ScopedQuerySet_{path or 'self'}", (ScopedQuerySet,), {"structure_path": path})


def access_object(queryset_or_model, user, action: str | None = None, /, **lookup):
    """The object matching `lookup` among those `user` may see, or 404 (never 403: we do not
    confirm that something exists in another structure)."""
    queryset = (
        queryset_or_model._default_manager.all()
        if isinstance(queryset_or_model, type)
        else queryset_or_model
    )
    if not isinstance(queryset, ScopedQuerySet):
        raise TypeError(f"{queryset.model.__name__} is not scoped: use a ScopedQuerySet")
    try:
        return get_object_or_404(queryset.visible_to(user, action), **lookup)
    except (ValueError, TypeError) as exc:  # malformed ids in the URL
        raise Http404 from exc
