import os
import subprocess
import sys
from pathlib import Path

import pytest

from mediation.choices import age_band_for
from tests.seeded import seeded_demo

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
def test_login_page_lists_demo_accounts_only_when_they_exist(client, settings):
    settings.DEMO_MODE = True
    assert "Comptes de démonstration" not in client.get("/compte/connexion/").content.decode()
    seeded_demo()  # the demo as seed_demo leaves it (tests/seeded.py)
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
