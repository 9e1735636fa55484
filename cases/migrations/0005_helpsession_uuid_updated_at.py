# The read API (#12): a stable public identifier for each session, and the moment of its last
# change (existing sessions: their creation).

from django.db import migrations, models
from django.db.models import F

from mediation.uuids import fill_uuids


def fill(apps, schema_editor):
    model = apps.get_model("cases", "helpsession")
    fill_uuids(model, schema_editor)
    model.objects.update(updated_at=F("created_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0004_helpsession_report_date_required"),
        ("mediation", "0009_uuids_api_shares_precisions"),
    ]

    operations = [
        migrations.AddField(
            model_name="helpsession",
            name="uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="helpsession",
            name="updated_at",
            field=models.DateTimeField(null=True, verbose_name="modifié le"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
