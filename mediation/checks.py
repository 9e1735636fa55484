"""System checks of the deployment that Django's own do not make."""

from __future__ import annotations

import stat
from pathlib import Path

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.db import connections

#: Directories of var/ whose content is public (collected static files).
PUBLIC = {"static"}


def _readable_by_others(path: Path) -> bool:
    try:
        return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)
    except OSError:  # gone meanwhile
        return False


def _var_paths(var: Path):
    """var/ itself, what it holds, and one level below (backups/, mail/, cache/ entries):
    bounded, the check runs with every command."""
    yield var
    for child in var.iterdir():
        if child.name in PUBLIC:
            continue
        yield child
        if child.is_dir():
            yield from child.iterdir()


@register(Tags.security)
def var_files_are_private(app_configs, **kwargs):
    """Warn about anything in var/ (the SQLite database and its WAL, backups, outboxes, the
    cache) that the group or others may read or enter: it holds personal data."""
    var = Path(settings.VAR_DIR)
    if not var.is_dir():
        return []
    # The connection's own (under test, the test database), which may live outside var/.
    database = connections["default"].settings_dict
    paths = list(_var_paths(var))
    if database["ENGINE"] == "django.db.backends.sqlite3":
        name = Path(str(database["NAME"]))
        paths += [name, name.with_name(name.name + "-wal"), name.with_name(name.name + "-shm")]
    exposed = sorted({str(path) for path in paths if path.exists() and _readable_by_others(path)})
    if not exposed:
        return []
    shown = ", ".join(exposed[:10]) + (f" (+{len(exposed) - 10})" if len(exposed) > 10 else "")
    return [
        Warning(
            f"Readable by other accounts (personal data): {shown}.",
            hint=f"chmod -R go-rwx {var} (files 0600, directories 0700); Permanence creates "
            "them so itself since issue 17.",
            id="mediation.W001",
        )
    ]
