"""Helpers shared by the benchmarks: Django set-up, timing, and the closing key=value line.

Each benchmark prints its figures as it goes and ends with exactly one line of key=value pairs
(machine-readable); run them with the project's virtualenv, e.g. `.venv/bin/python bench/home.py`.
They build their own data in a throw-away database: an SQLite file under var/bench/, or a
`permanence_bench_<name>` database on DATABASE_URL's server (PostgreSQL 13+)."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(name: str, *, reuse_migrated: bool = False) -> None:
    """Django on a fresh database for the benchmark `name`. With `reuse_migrated` on
    PostgreSQL, the migrated empty database is kept as a template named after the migrations'
    contents and copied on the next runs (seconds instead of a full `migrate`)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediation.settings")
    os.environ["DEBUG"] = "true"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        base, _, _db = url.rpartition("/")
        os.environ["DATABASE_URL"] = f"{base}/permanence_bench_{name}"
    else:
        path = ROOT / "var" / "bench" / f"{name}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        if reuse_migrated and _copy_template(connection):
            return
        _recreate_postgres_database(connection)
    call_command("migrate", verbosity=0)
    if reuse_migrated and connection.vendor == "postgresql":
        _save_template(connection)


def _migrations_digest() -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def _admin_connection(connection):
    import psycopg

    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def _template_name(connection) -> str:
    return f"{connection.settings_dict['NAME']}_tpl_{_migrations_digest()}"


def _copy_template(connection) -> bool:
    name, template = connection.settings_dict["NAME"], _template_name(connection)
    admin = _admin_connection(connection)
    try:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone():
            return False
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        admin.close()
    connection.close()
    return True


def _save_template(connection) -> None:
    name, template = connection.settings_dict["NAME"], _template_name(connection)
    connection.close()
    admin = _admin_connection(connection)
    try:
        stale = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{name}_tpl_%"]
        ).fetchall()
        for (old,) in stale:
            admin.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{template}" TEMPLATE "{name}"')
    finally:
        admin.close()


def _recreate_postgres_database(connection) -> None:
    import psycopg

    settings = connection.settings_dict
    name = settings["NAME"]
    admin = psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    connection.close()


def median_ms(function: Callable[[], object], repeat: int = 15, warmup: int = 2) -> float:
    for _ in range(warmup):
        function()
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def count_queries(function: Callable[[], object]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured)


def finish(**figures: float | int | str) -> None:
    """Print the closing line: key=value pairs, floats with 2 decimals."""
    parts = []
    for key, value in figures.items():
        parts.append(f"{key}={value:.2f}" if isinstance(value, float) else f"{key}={value}")
    print(" ".join(parts))


class Timings:
    """Wall time spent in the job's steps, measured by wrapping the functions it calls
    through module attributes (no change to the code measured)."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._saved = []

    def wrap(self, module, name: str, label, progress=None) -> None:
        original = getattr(module, name)

        def wrapper(*a, **kw):
            key = label(*a, **kw) if callable(label) else label
            start = time.perf_counter()
            try:
                return original(*a, **kw)
            finally:
                self.seconds[key] += time.perf_counter() - start
                self.calls[key] += 1
                if progress is not None:
                    progress(key)

        self._saved.append((module, name, original))
        setattr(module, name, wrapper)

    def restore(self) -> None:
        for module, name, original in reversed(self._saved):
            setattr(module, name, original)
        self._saved = []
