"""PostgreSQL only: two active slots of one mediator never overlap (exclusion constraint).

SQLite has no such constraint; there, bookings serialise in IMMEDIATE transactions."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE bookings_slot ADD CONSTRAINT slot_no_overlap EXCLUDE USING gist (
    mediator_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&
) WHERE (is_active);
"""
DROP = "ALTER TABLE bookings_slot DROP CONSTRAINT IF EXISTS slot_no_overlap;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
