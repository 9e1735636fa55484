"""Migrations mediation/0008–0009 and cases/0005–0006: every existing session, structure, place
and user gets its own UUID, and a session's last change starts as its creation."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("mediation", "0007_structure_networks"),
    ("cases", "0004_helpsession_report_date_required"),
]
AFTER = [("mediation", "0010_uuids_required"), ("cases", "0006_helpsession_api_order")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before_uuids(transactional_db):
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_existing_rows_get_their_own_uuid_and_sessions_their_last_change(before_uuids):
    apps = before_uuids
    Structure = apps.get_model("mediation", "Structure")
    Place = apps.get_model("mediation", "Place")
    User = apps.get_model("mediation", "User")
    HelpSession = apps.get_model("cases", "HelpSession")
    structures = [
        Structure.objects.create(name=f"S{i}", slug=f"s{i}", kind="mairie") for i in range(3)
    ]
    for structure in structures:
        Place.objects.create(
            structure=structure,
            name="Lieu",
            address="1 rue",
            postcode="35000",
            commune="Rennes",
            insee_code="35238",
        )
    mediator = User.objects.create(email="m@exemple.fr", first_name="M", last_name="N")
    User.objects.create(email="n@exemple.fr", first_name="N", last_name="O")
    created = timezone.now() - timedelta(days=3)
    for index in range(4):
        HelpSession.objects.create(
            structure=structures[0],
            mediator=mediator,
            date=date(2026, 1, 5),
            report_date=date(2026, 1, 5),
            duration_minutes=30,
            created_at=created + timedelta(hours=index),
        )

    apps = migrate(AFTER)
    for app, name, count in [
        ("mediation", "Structure", 3),
        ("mediation", "Place", 3),
        ("mediation", "User", 2),
        ("cases", "HelpSession", 4),
    ]:
        uuids = list(apps.get_model(app, name).objects.values_list("uuid", flat=True))
        assert len(uuids) == count and None not in uuids and len(set(uuids)) == count, name
    HelpSession = apps.get_model("cases", "HelpSession")
    for session in HelpSession.objects.all():
        assert session.updated_at == session.created_at
