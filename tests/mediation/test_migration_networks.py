"""Migration mediation/0007: a structure's network (foreign key) becomes one of its networks
(many-to-many), for the structures and for their history; and back, keeping the first by name."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("mediation", "0006_report_key")]
AFTER = [("mediation", "0007_structure_networks")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before_networks(transactional_db):
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_the_network_of_each_structure_and_of_its_history_is_carried_over(before_networks):
    Network = before_networks.get_model("mediation", "Network")
    Structure = before_networks.get_model("mediation", "Structure")
    Historical = before_networks.get_model("mediation", "HistoricalStructure")
    zeta = Network.objects.create(name="Zeta", slug="zeta")
    alpha = Network.objects.create(name="Alpha", slug="alpha")
    linked = Structure.objects.create(name="S1", slug="s1", kind="mairie", network=zeta)
    Structure.objects.create(name="S2", slug="s2", kind="mairie")
    fields = {"name": "S1", "slug": "s1", "kind": "mairie", "created_at": linked.created_at}
    Historical.objects.create(
        id=linked.pk, network=alpha, history_date=linked.created_at, history_type="+", **fields
    )

    apps = migrate(AFTER)
    Structure = apps.get_model("mediation", "Structure")
    Historical = apps.get_model("mediation", "HistoricalStructure")
    HistoricalLink = apps.get_model("mediation", "HistoricalStructure_networks")
    assert list(Structure.objects.get(slug="s1").networks.values_list("slug", flat=True)) == [
        "zeta"
    ]
    assert not Structure.objects.get(slug="s2").networks.exists()
    past = Historical.objects.get(id=linked.pk)
    assert list(
        HistoricalLink.objects.filter(history=past).values_list("network_id", flat=True)
    ) == [alpha.pk]

    Structure.objects.get(slug="s1").networks.add(alpha.pk)
    apps = migrate(BEFORE)
    # Back: one network per structure, the first by name.
    assert apps.get_model("mediation", "Structure").objects.get(slug="s1").network_id == alpha.pk
