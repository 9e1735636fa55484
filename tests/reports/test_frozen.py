"""Closed periods do not change: late entries count in the month they are recorded, the
anonymised report of a closed period is published once and served ever after (dashboard,
downloads, archives, export_report), and running periods have no anonymised report."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from cases.choices import Theme
from cases.models import HelpSession
from cases.services.sessions import session_log, session_update
from mediation.choices import Role
from reports import frozen, protect, publish, services
from reports.indicators import compute
from reports.models import PublishedReport, ReportArchive
from reports.periods import Period, last_closed_quarter
from tests.cases.factories import HelpSessionFactory
from tests.conftest import member
from tests.factories import NetworkFactory, PlaceFactory, ResidentFactory, StructureFactory

pytestmark = pytest.mark.django_db


def closed_month() -> Period:
    quarter = last_closed_quarter()
    return Period.of_month(quarter.start.year, quarter.start.month)


def running_quarter() -> Period:
    today = timezone.localdate()
    return Period.of_quarter(today.year, (today.month - 1) // 3 + 1)


def current_month() -> Period:
    today = timezone.localdate()
    return Period.of_month(today.year, today.month)


@pytest.fixture
def desk(db):
    """A structure with a place, a mediator, a coordinator, and 20 sessions of 20 residents
    in the first month of the last closed quarter (enough to publish the counts)."""
    structure = StructureFactory(name="Mairie de Guichen", slug="mairie-guichen")
    place = PlaceFactory(structure=structure)
    mediator = member(structure, Role.MEDIATOR)
    coordinator = member(structure, Role.COORDINATOR)
    first = closed_month().start
    for n in range(20):
        HelpSessionFactory(
            structure=structure,
            place=place,
            mediator=mediator,
            date=first + timedelta(days=n % 28),
        )
    return structure, place, mediator, coordinator


def log(structure, place, mediator, day: date, now: datetime | None = None) -> HelpSession:
    return session_log(
        structure=structure,
        by=mediator,
        date=day,
        duration_minutes=45,
        place=place,
        resident=ResidentFactory(structure=structure),
        themes=[Theme.EMAIL],
        now=now,
    )


def drop_sessions(structure, count: int) -> None:
    """Data of a closed period that changes after publication (a deletion, an erasure…)."""
    ids = HelpSession.objects.filter(structure=structure).order_by("pk")[:count]
    HelpSession.objects.filter(pk__in=list(ids.values_list("pk", flat=True))).delete()


def archived_periods(structure) -> set[str]:
    return set(ReportArchive.objects.filter(structure=structure).values_list("period", flat=True))


def on(monkeypatch, day: date) -> None:
    """The reports' calendar says `day` (timezone.localdate() without argument)."""
    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return day if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)


# --- Late entries ---------------------------------------------------------------------------


def test_a_late_entry_counts_in_the_month_it_was_recorded(desk):
    structure, place, mediator, _coordinator = desk
    month = closed_month()
    before = compute(structure, month)["figures"]["sessions"]

    late = log(structure, place, mediator, month.start + timedelta(days=9))

    assert late.report_date == timezone.localdate()
    assert compute(structure, month)["figures"]["sessions"] == before
    assert compute(structure, current_month())["figures"]["sessions"] == 1


def test_an_entry_within_the_grace_days_counts_on_its_date(desk, settings):
    structure, place, mediator, _coordinator = desk
    settings.REPORTS_GRACE_DAYS = 5
    now = timezone.make_aware(datetime(2026, 10, 5, 18, 0))  # September closes on 6 October

    session = log(structure, place, mediator, date(2026, 9, 30), now=now)

    assert session.report_date == date(2026, 9, 30)


def test_an_entry_the_day_its_month_closes_counts_that_day(desk, settings):
    structure, place, mediator, _coordinator = desk
    settings.REPORTS_GRACE_DAYS = 5
    now = timezone.make_aware(datetime(2026, 10, 6, 9, 0))

    session = log(structure, place, mediator, date(2026, 9, 30), now=now)

    assert session.report_date == date(2026, 10, 6)


def test_moving_a_session_into_a_closed_month_counts_it_on_the_day_of_the_edit(desk):
    structure, place, mediator, _coordinator = desk
    session = log(structure, place, mediator, timezone.localdate())

    moved = session_update(
        session=session, by=mediator, date=closed_month().start + timedelta(days=2)
    )

    assert moved.report_date == timezone.localdate()


def test_an_edit_that_keeps_the_date_keeps_the_report_date(desk):
    structure, place, mediator, _coordinator = desk
    session = HelpSessionFactory(
        structure=structure,
        place=place,
        mediator=mediator,
        date=closed_month().start,
        report_date=closed_month().start,
    )

    edited = session_update(session=session, by=mediator, duration_minutes=60)

    assert edited.report_date == closed_month().start


# --- Frozen publication ---------------------------------------------------------------------


def test_a_download_after_a_late_entry_serves_the_frozen_figures_of_the_closed_period(client, desk):
    structure, place, mediator, coordinator = desk
    month = closed_month()
    client.force_login(coordinator)
    url = reverse("report_export", kwargs={"structure": structure.slug, "fmt": "csv"})
    first = client.get(url, {"periode": month.code})

    log(structure, place, mediator, month.start + timedelta(days=3))
    again = client.get(url, {"periode": month.code})

    assert first.status_code == again.status_code == 200
    assert again.content == first.content


def test_a_closed_period_is_not_recomputed_when_its_sessions_change(desk):
    structure, _place, _mediator, _coordinator = desk
    month = closed_month()
    published = publish.build(structure, month)

    drop_sessions(structure, 5)

    assert publish.build(structure, month) == published
    assert PublishedReport.objects.filter(structure=structure, period=month.code).count() == 1


def test_a_report_published_meanwhile_by_another_worker_is_the_one_served(desk, monkeypatch):
    structure, *_ = desk
    month = closed_month()
    compute_now = frozen.publish_period_scope

    def slower_than_another_worker(obj, period):
        ours = compute_now(obj, period)
        theirs = {**ours, "generated_at": "theirs"}
        PublishedReport.objects.create(structure=obj, period=period.code, report=theirs)
        return ours

    monkeypatch.setattr(frozen, "publish_period_scope", slower_than_another_worker)

    assert frozen.stored(structure, month)["generated_at"] == "theirs"
    assert PublishedReport.objects.filter(structure=structure).count() == 1


def test_the_previous_period_compared_with_comes_from_its_published_report(desk):
    structure, _place, _mediator, _coordinator = desk
    month = closed_month()
    following = Period.of_month(month.end.year, month.end.month)
    before = publish.figure_map(publish.build(structure, month))["sessions"]

    drop_sessions(structure, 5)
    sessions = publish.figure_map(publish.build(structure, following))["sessions"]

    assert sessions["previous_value"] == before["value"]
    # 20 sessions, published perturbed (reports.protect): what was published, not a recount.
    assert abs(before["value"] - 20) <= protect.MAX_PERTURBATION


def test_an_archive_and_a_later_download_carry_identical_figures(client, desk):
    structure, _place, _mediator, coordinator = desk
    quarter = last_closed_quarter()
    services.report_archive(scope=structure, period=quarter)
    archive = ReportArchive.objects.get(structure=structure, period=quarter.code, format="csv")

    drop_sessions(structure, 5)
    client.force_login(coordinator)
    url = reverse("report_export", kwargs={"structure": structure.slug, "fmt": "csv"})
    download = client.get(url, {"periode": quarter.code})

    assert download.content == bytes(archive.content)


# --- Running periods ------------------------------------------------------------------------


def test_an_anonymised_report_of_a_running_quarter_is_refused_on_the_dashboard(client, desk):
    structure, _place, _mediator, coordinator = desk
    client.force_login(coordinator)
    url = reverse("report_dashboard", kwargs={"structure": structure.slug})

    response = client.get(url, {"periode": running_quarter().code})

    body = response.content.decode()
    assert response.status_code == 200
    assert "pas encore clos" in body and "bilan anonymisé disponible à partir du" in body
    assert "data-figure" not in body
    assert not PublishedReport.objects.exists()


def test_the_exact_figures_of_a_running_quarter_are_shown_to_structure_staff(client, desk):
    structure, place, mediator, coordinator = desk
    log(structure, place, mediator, timezone.localdate())
    client.force_login(coordinator)
    url = reverse("report_dashboard", kwargs={"structure": structure.slug})

    response = client.get(url, {"periode": running_quarter().code, "exact": "on"})

    assert "data-figure" in response.content.decode()


def test_a_network_is_offered_closed_periods_only(client):
    network = NetworkFactory()
    StructureFactory(networks=[network])
    coordinator = member(StructureFactory(networks=[network]), Role.COORDINATOR)
    client.force_login(coordinator)

    response = client.get(reverse("network_report_dashboard", kwargs={"network": network.slug}))

    body = response.content.decode()
    assert f'value="{running_quarter().code}"' not in body
    assert f'value="{last_closed_quarter().code}"' in body


# --- export_report ------------------------------------------------------------------------


def export(tmp_path, *, period: str, scope: str) -> CommandError:
    with pytest.raises(CommandError) as error:
        call_command(
            "export_report",
            period=period,
            scope=scope,
            format="csv",
            output=str(tmp_path / "bilan.csv"),
            stdout=io.StringIO(),
        )
    return error.value


def test_export_report_refuses_a_running_quarter_with_exit_2(desk, tmp_path):
    structure, *_ = desk

    error = export(tmp_path, period=running_quarter().code, scope=structure.slug)

    assert error.returncode == 2
    assert "pas encore clos" in str(error)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ("inconnue", "Aucune structure ni aucun réseau"),
        ("vide", "Aucune séance ni aucun rendez-vous"),
    ],
)
def test_export_report_refuses_a_bad_scope_with_exit_2_and_writes_nothing(
    desk, tmp_path, scope, message
):
    StructureFactory(slug="vide")

    error = export(tmp_path, period=closed_month().code, scope=scope)

    assert error.returncode == 2
    assert message in str(error)
    assert list(tmp_path.iterdir()) == []


def test_export_report_writes_the_published_report_of_a_closed_period(desk, tmp_path):
    structure, *_ = desk
    output = tmp_path / "bilan.csv"

    call_command(
        "export_report",
        period=closed_month().code,
        scope=structure.slug,
        format="csv",
        output=str(output),
        stdout=io.StringIO(),
    )

    report = publish.build(structure, closed_month())
    assert output.read_bytes() == services.exports.render(report, "csv")
    assert [path.name for path in tmp_path.iterdir()] == ["bilan.csv"]


# --- The quarterly job ----------------------------------------------------------------------


def test_the_job_publishes_the_fourth_quarter_its_months_and_its_year(desk, monkeypatch):
    structure, *_ = desk
    on(monkeypatch, date(2027, 1, 6))

    services.archive_quarter()

    archived = set(
        ReportArchive.objects.filter(structure=structure).values_list("period", flat=True)
    )
    published = set(
        PublishedReport.objects.filter(structure=structure).values_list("period", flat=True)
    )
    # Files for the quarter and the year; the months' figures published (stored), their files
    # rendered when someone downloads them.
    assert archived == {"2026-Q4", "2026"}
    assert {"2026-Q4", "2026-10", "2026-11", "2026-12", "2026"} <= published


def test_the_job_publishes_a_quarter_and_its_months_without_the_year(desk, monkeypatch):
    structure, *_ = desk
    on(monkeypatch, date(2026, 10, 6))

    services.archive_quarter()

    archived = set(
        ReportArchive.objects.filter(structure=structure).values_list("period", flat=True)
    )
    published = set(
        PublishedReport.objects.filter(structure=structure).values_list("period", flat=True)
    )
    assert archived == {"2026-Q3"}
    assert {"2026-Q3", "2026-07", "2026-08", "2026-09"} <= published


def test_the_job_waits_for_the_grace_days(desk, monkeypatch):
    structure, *_ = desk
    on(monkeypatch, date(2026, 10, 5))

    services.archive_quarter()

    periods = set(
        ReportArchive.objects.filter(structure=structure).values_list("period", flat=True)
    )
    assert "2026-Q3" not in periods and "2026-Q2" in periods


def test_the_job_run_twice_publishes_and_archives_once(desk, monkeypatch):
    on(monkeypatch, date(2027, 1, 6))
    services.archive_quarter()
    counts = (PublishedReport.objects.count(), ReportArchive.objects.count())

    again = services.archive_quarter()

    assert (PublishedReport.objects.count(), ReportArchive.objects.count()) == counts
    assert again["archived"] == again["emails"] == again["failed"] == 0
