# Stable public identifiers for the read API (#12), and the structure's choice to share the
# free-text precisions of its sessions through it.

from django.db import migrations, models

from mediation.uuids import fill_uuids


def fill(apps, schema_editor):
    for name in ("user", "structure", "place"):
        fill_uuids(apps.get_model("mediation", name), schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("mediation", "0008_place_national_schema"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="structure",
            name="uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="place",
            name="uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddField(
            model_name="historicalstructure",
            name="api_shares_precisions",
            field=models.BooleanField(
                default=False,
                help_text="Les précisions sont du texte libre, qui peut contenir un nom : elles ne sortent par l'API que si la structure le décide.",
                verbose_name="partager les précisions des démarches par l'API",
            ),
        ),
        migrations.AddField(
            model_name="structure",
            name="api_shares_precisions",
            field=models.BooleanField(
                default=False,
                help_text="Les précisions sont du texte libre, qui peut contenir un nom : elles ne sortent par l'API que si la structure le décide.",
                verbose_name="partager les précisions des démarches par l'API",
            ),
        ),
    ]
