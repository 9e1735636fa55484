"""View-side access rules, built on the scoping mechanism (mediation.scoping) and the
permissions table (mediation.permissions).

A staff view declares the one action it is for: `@structure_view("book_at_desk")`,
`@network_view("export_network_report")`. The decorated view carries it as
`view.permission_action` (and `view.permission_action_on_others`, the action it also needs on
someone else's object), which `tests/mediation/test_permissions_table.py` reads to check every
URL for every role against the table."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from mediation.models import Network, Structure
from mediation.permissions import roles_for, user_can
from mediation.scoping import access_object, visible_structure_ids


def access_structure(user, slug: str, action: str | None = None) -> Structure:
    """The structure `slug` if the user belongs to it (404 otherwise); 403 if they belong to it
    but may not do `action` there."""
    structure = access_object(Structure, user, slug=slug)
    if action is not None and not user_can(user, action, structure):
        raise PermissionDenied
    return structure


def _declare(view, action: str, on_others: str | None):
    roles_for(action)  # an unknown action fails at import, not on the first request
    view.permission_action = action
    if on_others is not None:
        roles_for(on_others)
        view.permission_action_on_others = on_others
    return view


def structure_view(action: str, *, on_others: str | None = None):
    """Decorate a view taking a `structure` slug: it receives the Structure instead, once the
    user's access and `action` are checked (404 outside the structure, 403 without `action`).

    `on_others` names the action the view also requires, itself, for an object of someone else
    (another's absence, another's session): declared for the URL walk of the tests."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, structure: str, *args, **kwargs):
            obj = access_structure(request.user, structure, action)
            request.structure = obj
            return view(request, obj, *args, **kwargs)

        return _declare(login_required(wrapper), action, on_others)

    return decorator


def network_view(action: str):
    """Decorate a view taking a `network` slug: it receives the Network instead, if the user
    may do `action` on one of its structures; 404 otherwise (never 403: we do not confirm that
    a network exists to someone outside it)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, network: str, *args, **kwargs):
            obj = access_object(Network, request.user, action, slug=network)
            return view(request, obj, *args, **kwargs)

        return _declare(login_required(wrapper), action, None)

    return decorator


def any_structure_view(action: str):
    """Decorate a view without a structure in its URL that leads to the user's own structures
    (the home page's "Accueillir quelqu'un sans rendez-vous"): 403 unless the user may do
    `action` in at least one structure. The view picks the structure itself, among
    `visible_structure_ids(user, action)`."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not visible_structure_ids(request.user, action):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return _declare(login_required(wrapper), action, None)

    return decorator
