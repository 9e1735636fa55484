"""A structure may belong to several networks: `Structure.network` (a foreign key) becomes
`Structure.networks` (many-to-many), existing links carried over.

The history follows: simple-history now records the networks of each historical row in
`HistoricalStructure_networks`; the network that each existing history row named is copied
there, so the history of a structure's network is kept.

Reversible: going back keeps one network per structure, the first by name (a structure in
several networks loses the others), and the same for each history row."""

import django.db.models.deletion
import simple_history.models
from django.db import migrations, models

BATCH = 1000


def links_forward(apps, schema_editor):
    Structure = apps.get_model("mediation", "Structure")
    HistoricalStructure = apps.get_model("mediation", "HistoricalStructure")
    HistoricalLink = apps.get_model("mediation", "HistoricalStructure_networks")
    Link = Structure.networks.through
    Link.objects.bulk_create(
        (
            Link(structure_id=pk, network_id=network_id)
            for pk, network_id in Structure.objects.filter(network__isnull=False).values_list(
                "pk", "network_id"
            )
        ),
        batch_size=BATCH,
    )
    # A history link row keeps the id of the link it copies: the link made above when the
    # structure still has that network, 0 for a network it had only in the past.
    link_ids = {
        (structure_id, network_id): pk
        for pk, structure_id, network_id in Link.objects.values_list(
            "pk", "structure_id", "network_id"
        )
    }
    HistoricalLink.objects.bulk_create(
        (
            HistoricalLink(
                id=link_ids.get((pk, network_id), 0),
                history_id=history_id,
                structure_id=pk,
                network_id=network_id,
            )
            for history_id, pk, network_id in HistoricalStructure.objects.filter(
                network__isnull=False
            ).values_list("history_id", "id", "network_id")
        ),
        batch_size=BATCH,
    )


def links_backward(apps, schema_editor):
    Structure = apps.get_model("mediation", "Structure")
    Network = apps.get_model("mediation", "Network")
    HistoricalStructure = apps.get_model("mediation", "HistoricalStructure")
    HistoricalLink = apps.get_model("mediation", "HistoricalStructure_networks")
    names = dict(Network.objects.values_list("pk", "name"))

    def first_by_name(network_ids):
        return min(network_ids, key=lambda pk: (names.get(pk, ""), pk))

    current: dict[int, list[int]] = {}
    for pk, network_id in Structure.networks.through.objects.values_list(
        "structure_id", "network_id"
    ):
        current.setdefault(pk, []).append(network_id)
    for pk, network_ids in current.items():
        Structure.objects.filter(pk=pk).update(network_id=first_by_name(network_ids))
    past: dict[int, list[int]] = {}
    for history_id, network_id in HistoricalLink.objects.filter(
        network__isnull=False
    ).values_list("history_id", "network_id"):
        past.setdefault(history_id, []).append(network_id)
    for history_id, network_ids in past.items():
        HistoricalStructure.objects.filter(history_id=history_id).update(
            network_id=first_by_name(network_ids)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("mediation", "0006_report_key"),
    ]

    operations = [
        # The old key gives up its reverse name ("structures") to the new field first.
        migrations.AlterField(
            model_name="structure",
            name="network",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="mediation.network",
                verbose_name="réseau",
            ),
        ),
        migrations.AddField(
            model_name="structure",
            name="networks",
            field=models.ManyToManyField(
                blank=True,
                related_name="structures",
                to="mediation.network",
                verbose_name="réseaux",
            ),
        ),
        migrations.CreateModel(
            name="HistoricalStructure_networks",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                ("m2m_history_id", models.AutoField(primary_key=True, serialize=False)),
                (
                    "history",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        to="mediation.historicalstructure",
                    ),
                ),
                (
                    "network",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_tablespace="",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="mediation.network",
                    ),
                ),
                (
                    "structure",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_tablespace="",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="mediation.structure",
                    ),
                ),
            ],
            options={
                "verbose_name": "HistoricalStructure_networks",
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(links_forward, links_backward, elidable=False),
        migrations.RemoveField(
            model_name="historicalstructure",
            name="network",
        ),
        migrations.RemoveField(
            model_name="structure",
            name="network",
        ),
    ]
