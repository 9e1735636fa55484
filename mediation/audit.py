"""The access log: who opened, searched or exported what, and when.

Other apps record through `access_record()`; entries hold ids only (no name, no search term:
a search stores the length of its term). Reviewed on /s/<structure>/journal/ by coordinators
and structure admins; kept ACCESS_LOG_RETENTION_DAYS (365) days, then purged by the daily
privacy task (mediation.privacy.retention_run)."""

from __future__ import annotations

from mediation.models import AccessAction, AccessLog

__all__ = ["AccessAction", "access_record"]

_MAX_TERM_LENGTH = 32767  # PositiveSmallIntegerField


def access_record(
    *,
    user,
    action: str,
    structure=None,
    object_type: str = "",
    object_id: int | None = None,
    term_length: int | None = None,
) -> AccessLog:
    """Append one entry. `action` is an `AccessAction` value (e.g. "report_export");
    `object_type` a short code ("resident", "case", "report"), `object_id` its id.
    Never pass a name or a search term: `term_length` is all a search keeps."""
    if action not in AccessAction.values:
        raise ValueError(f"Unknown access-log action {action!r}")
    if term_length is not None:
        term_length = max(0, min(int(term_length), _MAX_TERM_LENGTH))
    return AccessLog.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        structure=structure,
        action=action,
        object_type=object_type[:30],
        object_id=object_id,
        term_length=term_length,
    )
