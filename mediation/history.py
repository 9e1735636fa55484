"""How a service saves a change with its author: the one helper every app's services use.

django-simple-history takes the author from the request (`HistoryRequestMiddleware`), but
services also run from django-q2 tasks and management commands, where there is no request:
they pass `by` explicitly, and the reason shown in the object's history when there is one."""

from __future__ import annotations


def save_with_author(obj, by, reason: str | None = None, **save_kwargs):
    """Validate (`full_clean()`) and save `obj`, its history row authored by `by` (a user, or
    None for the system) with `reason` as its change reason."""
    if by is not None:
        obj._history_user = by
    if reason:
        obj._change_reason = reason
    obj.full_clean()
    obj.save(**save_kwargs)
    return obj
