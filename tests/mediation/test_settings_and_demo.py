import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count

from mediation.choices import Role, age_band_for
from mediation.models import (
    Membership,
    Network,
    NetworkMembership,
    Place,
    Resident,
    Structure,
    User,
)

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, env_extra):
    # A clean environment: nothing the test run itself sets (the browser tests allow
    # synchronous ORM calls from Playwright's event loop, which check --deploy rejects).
    dropped = {"PERMANENCE_TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_in_production_mode(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_extra={
            "DEBUG": "false",
            "SECRET_KEY": "x" * 20 + "a-long-random-production-key-42",
            "ALLOWED_HOSTS": "permanence.example.fr",
            "PERMANENCE_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_mode_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_manage(
        "check", env_extra={"DEBUG": "false", "SECRET_KEY": "", "PERMANENCE_VAR_DIR": str(tmp_path)}
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_sqlite_is_set_for_a_web_server_and_a_task_cluster_writing_at_once(settings):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_complete(capsys):
    call_command("seed_demo")
    counts = (
        Structure.objects.count(),
        Place.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Resident.objects.count(),
        Structure.networks.through.objects.count(),
    )
    call_command("seed_demo")
    assert counts == (
        Structure.objects.count(),
        Place.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Resident.objects.count(),
        Structure.networks.through.objects.count(),
    )
    assert Structure.objects.count() == 5
    assert Structure.objects.filter(places__time_zone="Indian/Reunion").exists()
    mediators = User.objects.filter(memberships__role=Role.MEDIATOR).distinct()
    assert mediators.count() == 8
    assert NetworkMembership.objects.values("user").distinct().count() == 3
    assert Network.objects.count() == 3
    in_two = Structure.objects.annotate(n=Count("networks")).filter(n=2)
    assert set(in_two.values_list("slug", flat=True)) == {"france-services-guichen", "ccas-redon"}
    assert Membership.objects.filter(role=Role.STRUCTURE_ADMIN).count() == 1
    shared = [u for u in mediators if u.memberships.count() > 1]
    assert shared, "a mediator is shared between two structures"
    out = capsys.readouterr().out
    assert "mediatrice@permanence.demo" in out and "permanence-demo" in out
    # Last quarter's reports are archived once, in three formats, for every scope.
    from reports.models import ReportArchive

    assert ReportArchive.objects.count() == 3 * (Structure.objects.count() + 3)


@pytest.mark.django_db
def test_login_page_lists_demo_accounts_only_when_they_exist(client, settings):
    settings.DEMO_MODE = True
    assert "Comptes de démonstration" not in client.get("/compte/connexion/").content.decode()
    call_command("seed_demo", verbosity=0)
    assert "Comptes de démonstration" in client.get("/compte/connexion/").content.decode()


@pytest.mark.parametrize(
    ("birth_year", "band"),
    [
        (None, "not_given"),
        (2020, "<12"),
        (2010, "12-17"),
        (2004, "18-24"),
        (1990, "25-39"),
        (1970, "40-59"),
        (1960, "60-69"),
        (1940, "70+"),
        (1800, "not_given"),
    ],
)
def test_age_band_from_birth_year(birth_year, band):
    assert age_band_for(birth_year, 2026) == band
