"""`bench/generate.py` on a small N: the rows it writes hold together (what the services would
have written), the report of its network adds up, and it runs as a script."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone

from bench.generate import GenerationError, generate_activity
from bookings.choices import AppointmentStatus
from bookings.models import Appointment
from cases.choices import Outcome, SessionKind, TagDimension, Theme
from cases.models import Case, HelpSession, ParticipantCount, SessionTag
from mediation.models import Network, Resident, fold_name
from reports.indicators import TABLES, compute, compute_for_structures
from reports.periods import last_full_quarter

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="class")
def generated_once(django_db_setup, django_db_blocker):
    """3000 sessions, generated once for the tests of `TestGenerated` (seconds of work), inside
    a transaction rolled back after the last of them; each test's own transaction is a
    savepoint within it, so what a test writes is still undone before the next one."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            lines = []
            generate_activity(sessions=3000, structures=4, residents=600, seed=7, out=lines.append)
            yield SimpleNamespace(
                network=Network.objects.get(slug="activite"), output="\n".join(lines)
            )
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def generated(generated_once, db):
    return generated_once


class TestGenerated:
    """The rows of one run of `generate_activity` (`generated_once`)."""

    def test_it_writes_the_sessions_asked_for_and_says_how_fast(self, generated):
        assert HelpSession.objects.count() == 3000
        assert generated.network.structures.count() == 4
        assert Resident.objects.filter(is_anonymous=False).count() == 600
        assert "lignes/s" in generated.output
        assert "séances/s" in generated.output

    def test_sessions_are_in_the_past_two_years(self, generated):
        today = timezone.localdate()
        dates = HelpSession.objects.aggregate(first=Min("date"), last=Max("date"))
        assert dates["last"] < today
        assert (today - dates["first"]).days <= 2 * 365

    def test_rows_hold_together_like_the_services_write_them(self, generated):
        sessions = HelpSession.objects.all()
        # Every session has a theme; procedure areas only with the administrative theme.
        assert not sessions.exclude(tags__dimension=TagDimension.THEME).exists()
        with_procedure = SessionTag.objects.filter(dimension=TagDimension.PROCEDURE).values(
            "session"
        )
        assert not (
            sessions.filter(pk__in=with_procedure)
            .exclude(tags__code=Theme.DEMARCHES_ADMINISTRATIVES)
            .exists()
        )
        # An individual session helps one resident; a redirection comes with its outcome.
        assert not sessions.filter(kind=SessionKind.INDIVIDUAL, resident__isnull=True).exists()
        assert not sessions.filter(kind=SessionKind.INDIVIDUAL).exclude(people_count=1).exists()
        assert not sessions.filter(~Q(outcome=Outcome.REDIRECTED), ~Q(redirected_to="")).exists()
        # A workshop counts its named participants and, once, its anonymous ones.
        for workshop in sessions.filter(kind=SessionKind.COLLECTIVE).annotate(
            named=Count("participants", distinct=True)
        )[:50]:
            by_dimension = (
                ParticipantCount.objects.filter(session=workshop)
                .values("dimension")
                .annotate(n=Sum("count"))
            )
            totals = {row["n"] for row in by_dimension}
            assert len(totals) <= 1
            assert workshop.people_count == workshop.named + (totals.pop() if totals else 0)
        # The appointment of a session is a seen one, of the same resident.
        linked = sessions.filter(appointment__isnull=False)
        assert linked.exists()
        assert not linked.exclude(appointment__status=AppointmentStatus.SEEN).exists()
        assert not linked.exclude(appointment__resident=F("resident")).exists()
        assert not Appointment.objects.exclude(slot__starts_at=F("starts_at")).exists()
        # Cases belong to the resident of their sessions.
        assert Case.objects.exists()
        assert (
            not sessions.filter(case__isnull=False).exclude(case__resident=F("resident")).exists()
        )

    def test_residents_can_be_found_by_name(self, generated):
        resident = Resident.objects.filter(is_anonymous=False).first()
        assert resident.search_name == fold_name(resident.first_name, resident.last_name)
        assert resident in Resident.objects.matching_name(resident.last_name.upper())

    def test_last_contact_is_the_last_session(self, generated):
        resident = (
            Resident.objects.filter(sessions__isnull=False).order_by("-pk").distinct().first()
        )
        last = resident.sessions.order_by("-date").first().date
        assert timezone.localdate(resident.last_contact_at) >= last

    def test_the_report_of_the_generated_network_adds_up(self, generated):
        report = compute(generated.network, last_full_quarter())
        assert report["figures"]["sessions"] > 0
        assert report["figures"]["residents"] > 0
        assert report["figures"]["appointments"] > 0
        for key, spec in TABLES.items():
            table = report["tables"][key]
            if spec.additive:
                assert sum(table["cells"].values()) == table["total"], key
            else:
                assert (
                    max(table["cells"].values()) <= table["total"] <= sum(table["cells"].values())
                )
        by_structure = compute_for_structures(generated.network, last_full_quarter())
        assert (
            sum(r["figures"]["sessions"] for r in by_structure.values())
            == (report["figures"]["sessions"])
        )

    def test_a_second_run_with_the_same_prefix_is_refused(self, generated):
        with pytest.raises(GenerationError, match="existe déjà"):
            generate_activity(sessions=10, structures=1, out=None)


def test_the_same_seed_gives_the_same_activity():
    generate_activity(sessions=300, structures=2, seed=3, out=None)
    first = list(HelpSession.objects.order_by("pk").values_list("date", "duration_minutes"))
    generate_activity(sessions=300, structures=2, seed=3, prefix="autre", out=None)
    second = list(
        HelpSession.objects.filter(structure__networks__slug="autre")
        .order_by("pk")
        .values_list("date", "duration_minutes")
    )
    assert first == second


def test_it_runs_as_a_script_on_the_database_of_database_url(tmp_path):
    # What bench/national.py does in a child process: options on the command line, the
    # database of DATABASE_URL (here a SQLite file of its own, migrated first).
    root = Path(__file__).resolve().parents[2]
    target = tmp_path / "generated.sqlite3"
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        # What the test database holds committed is a migrated database without data: a copy
        # of it saves migrating a new file from the first migration (seconds of the suite);
        # `migrate` below then finds nothing left to apply.
        with (
            closing(sqlite3.connect(connection.settings_dict["NAME"])) as source,
            closing(sqlite3.connect(target)) as copy,
        ):
            source.backup(copy)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{target}",
        "PERMANENCE_VAR_DIR": str(tmp_path),
    }
    python = [sys.executable, "-W", "ignore"]
    subprocess.run([*python, root / "manage.py", "migrate", "-v0"], env=env, check=True)
    script = [*python, root / "bench" / "generate.py", "--sessions=200", "--structures=2"]
    done = subprocess.run([*script, "--years=1"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Réseau « activite » : 200 séances" in done.stdout
    again = subprocess.run([*script, "--years=1"], env=env, capture_output=True, text=True)
    assert again.returncode == 1 and "existe déjà" in again.stderr
