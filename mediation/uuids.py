"""Stable public identifiers (UUIDs) of the records the national tools read (sessions,
structures, places, mediators): what the read API (`api/`) names them by, never the database's
ids. Given at creation (`default=uuid.uuid4`), never changed, kept out of the history tables."""

from __future__ import annotations

import uuid


def fill_uuids(model, schema_editor, batch_size: int = 2000) -> None:
    """Give every existing row of `model` its own UUID (a migration's AddField would give them
    all the same default). One statement on PostgreSQL (13+), batches elsewhere."""
    connection = schema_editor.connection
    table = connection.ops.quote_name(model._meta.db_table)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET uuid = gen_random_uuid() WHERE uuid IS NULL")
        return
    pks = list(model.objects.filter(uuid__isnull=True).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), batch_size):
        rows = [model(pk=pk, uuid=uuid.uuid4()) for pk in pks[start : start + batch_size]]
        model.objects.bulk_update(rows, ["uuid"])
