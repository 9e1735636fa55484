# The UUIDs made required and unique once every row has one (a migration of its own: on
# PostgreSQL the ALTER TABLE runs in a transaction without the pending row updates of 0008).

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("mediation", "0009_uuids_api_shares_precisions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="structure",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="place",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
