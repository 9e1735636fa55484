"""The demo data as a backdrop for tests, seeded once per test process and copied back for
each test that asks for it.

`seed_demo()` writes a year of activity and renders last quarter's reports: seconds of work
that tests of other things (signing in as a demo account, pages full of realistic data) would
otherwise repeat each time. `seeded_demo()` runs it once, inside a transaction rolled back
after the rows of every table it filled were read; each later call inserts those rows as they
were (same ids), in one transaction: the database is then as `seed_demo()` would leave it.

It falls back on `seed_demo()` itself whenever the copy could differ from it: when one of
those tables already has rows (the demo would update them rather than start afresh), when the
seeding also changed a table that was not empty, and once the copy is from another day or more
than a few minutes old (the demo places its bookings and sessions around "now"). Tests of the
seeding itself (idempotence, counts, the command) call `seed_demo()`, not this.
"""

from __future__ import annotations

import copy
import datetime
import time
from dataclasses import dataclass, field

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

#: A copy older than this is seeded again: bookings of the past and of the future differ.
MAX_AGE_SECONDS = 600


@dataclass
class _Snapshot:
    context: dict
    tables: dict[str, object]  # table name -> its rows (rows on SQLite, COPY text on PostgreSQL)
    day: datetime.date
    taken: float = field(default_factory=time.monotonic)
    checked: bool = False

    def fresh(self) -> bool:
        return self.day == timezone.localdate() and time.monotonic() - self.taken < MAX_AGE_SECONDS


_snapshots: dict[int, _Snapshot] = {}


#: The tests' copy: named residents per structure (the year of activity adds its own). One copy
#: per test process and per count, so tests that do not depend on the count ask for the default
#: and share the same copy (each other count costs a full seeding).
RESIDENTS_PER_STRUCTURE = 3


def seeded_demo(*, residents_per_structure: int = RESIDENTS_PER_STRUCTURE) -> dict:
    """The database as `seed_demo(residents_per_structure=…)` leaves it on an empty database;
    returns what it returns. The test must have database access (`db` or `transactional_db`)."""
    from mediation.demo import seed_demo

    snapshot = _snapshots.get(residents_per_structure)
    if snapshot is None or not snapshot.fresh():
        snapshot = _capture(residents_per_structure)
        if snapshot is None:
            _snapshots.pop(residents_per_structure, None)
            return seed_demo(residents_per_structure=residents_per_structure)
        _snapshots[residents_per_structure] = snapshot
    if any(_has_rows(table) for table in snapshot.tables):
        return seed_demo(residents_per_structure=residents_per_structure)
    _restore(snapshot.tables)
    if not snapshot.checked:
        # Once per copy: what was inserted reads back as what was seeded, row for row.
        for table, data in snapshot.tables.items():
            assert _sorted_rows(_dump(table)) == _sorted_rows(data), f"{table} copied wrong"
        snapshot.checked = True
    return copy.deepcopy(snapshot.context)


def _capture(residents_per_structure: int) -> _Snapshot | None:
    from mediation.demo import seed_demo

    tables = connection.introspection.table_names()
    with transaction.atomic():
        empty = {table for table in tables if not _has_rows(table)}
        others = {table: _rows(table) for table in tables if table not in empty}
        context = copy.deepcopy(seed_demo(residents_per_structure=residents_per_structure))
        filled = [table for table in tables if table in empty and _has_rows(table)]
        unchanged = all(_rows(table) == rows for table, rows in others.items())
        dumped = {table: _dump(table) for table in filled}
        transaction.set_rollback(True)
    if not unchanged:
        return None
    return _Snapshot(context=context, tables=dumped, day=timezone.localdate())


def _has_rows(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
        return cursor.fetchone() is not None


def _rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1")
        return cursor.fetchall()


def _dump(table: str) -> object:
    name = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY's text format gives every value back exactly as PostgreSQL printed it.
            with cursor.cursor.copy(f"COPY {name} TO STDOUT") as pipe:
                return b"".join(bytes(block) for block in pipe)
        cursor.execute(f"SELECT * FROM {name}")
        # Django's SQLite converters turn declared dates, times and booleans into Python
        # values; its adapters write dates and datetimes back as it stored them, times need
        # the same text (str(), as DatabaseOperations.adapt_timefield_value).
        return [
            tuple(str(v) if isinstance(v, datetime.time) else v for v in row)
            for row in cursor.fetchall()
        ]


def _sorted_rows(data: object) -> list:
    # PostgreSQL's COPY text has one line per row; SQLite's are tuples. None sorts first.
    rows = data.splitlines() if isinstance(data, bytes) else data
    return sorted(rows, key=lambda row: repr(row))


def _restore(tables: dict[str, object]) -> None:
    models = {model._meta.db_table: model for model in apps.get_models(include_auto_created=True)}
    with transaction.atomic(), connection.cursor() as cursor:
        for table, data in tables.items():
            name = connection.ops.quote_name(table)
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {name} FROM STDIN") as pipe:
                    pipe.write(data)
            elif data:
                marks = ", ".join(["%s"] * len(data[0]))
                cursor.executemany(f"INSERT INTO {name} VALUES ({marks})", data)
        # Rows came with their ids: the next one created must not reuse one (PostgreSQL's
        # sequences; SQLite's AUTOINCREMENT counters follow inserted ids by themselves).
        restored = [models[table] for table in tables if table in models]
        for sql in connection.ops.sequence_reset_sql(no_style(), restored):
            cursor.execute(sql)
