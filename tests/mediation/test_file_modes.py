"""Files on disk (issue 17, fix 4): the SQLite database, its WAL, the backups and everything
else Permanence writes in var/ are readable by its own account only (0600, directories
0700), whatever the umask it was started with; a system check warns about anything in var/
that the group or others can read."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run_manage(*args, var_dir: Path):
    dropped = {"PERMANENCE_TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["PERMANENCE_VAR_DIR"] = str(var_dir)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        # A permissive umask, the usual default of a login shell or a service.
        preexec_fn=lambda: os.umask(0o022),
    )


def test_var_and_the_sqlite_database_are_private_even_under_a_permissive_umask(tmp_path):
    var = tmp_path / "var"
    code = (
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('CREATE TABLE t (x)'); c.execute('INSERT INTO t VALUES (1)')\n"
    )
    result = run_manage("shell", "-c", code, var_dir=var)
    assert result.returncode == 0, result.stderr
    assert mode(var) == 0o700
    database = var / "permanence.sqlite3"
    assert database.exists()
    for path in [database, *var.glob("permanence.sqlite3-*")]:
        assert mode(path) == 0o600, path


@pytest.mark.django_db(transaction=True)
def test_a_backup_is_private_whatever_the_umask(tmp_path):
    target = tmp_path / "backups" / "permanence.backup"
    previous = os.umask(0o022)
    try:
        call_command("backup", output=str(target), verbosity=0)
    finally:
        os.umask(previous)
    assert mode(target) == 0o600
    assert mode(target.parent) == 0o700


@pytest.fixture
def var_dir(tmp_path, settings, monkeypatch):
    """A var/ of the test's own, holding the SQLite database the check looks at."""
    from django.db import connections

    settings.VAR_DIR = tmp_path
    tmp_path.chmod(0o700)
    monkeypatch.setitem(
        connections["default"].settings_dict, "NAME", str(tmp_path / "permanence.sqlite3")
    )
    return tmp_path


def test_the_system_check_warns_about_readable_files_in_var(var_dir):
    from mediation.checks import var_files_are_private

    tmp_path = var_dir
    (tmp_path / "backups").mkdir(mode=0o700)
    secret = tmp_path / "backups" / "old.backup"
    secret.write_bytes(b"x")
    secret.chmod(0o600)
    assert var_files_are_private(None) == []

    secret.chmod(0o644)
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail").chmod(0o755)
    warnings = var_files_are_private(None)
    assert {w.id for w in warnings} == {"mediation.W001"}
    text = " ".join(w.msg for w in warnings)
    assert "old.backup" in text and "mail" in text

    (tmp_path / "permanence.sqlite3").write_bytes(b"")
    (tmp_path / "permanence.sqlite3").chmod(0o644)
    assert "permanence.sqlite3" in var_files_are_private(None)[0].msg


def test_public_static_files_are_not_reported(var_dir):
    from mediation.checks import var_files_are_private

    tmp_path = var_dir
    static = tmp_path / "static"
    static.mkdir()
    static.chmod(0o755)
    (static / "app.css").write_text("body{}")
    (static / "app.css").chmod(0o644)
    assert var_files_are_private(None) == []
