# The session's UUID and last change made required once every row has one (a migration of its
# own: on PostgreSQL the ALTER TABLE runs in a transaction without the pending row updates of
# 0005), and the indexes of the read API's order.

import uuid

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0005_helpsession_uuid_updated_at"),
        ("mediation", "0010_uuids_required"),
    ]

    operations = [
        migrations.AlterField(
            model_name="helpsession",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="helpsession",
            name="updated_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="modifié le"
            ),
        ),
        migrations.AddIndex(
            model_name="helpsession",
            index=models.Index(fields=["updated_at", "uuid"], name="session_api_order"),
        ),
        migrations.AddIndex(
            model_name="helpsession",
            index=models.Index(
                fields=["structure", "updated_at", "uuid"], name="session_api_scope"
            ),
        ),
    ]
