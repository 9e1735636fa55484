"""The coordinators' pages: dashboard, downloads, archives, and the quarterly job."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bench.generate import generate_activity
from mediation.choices import Role
from mediation.models import Network, Structure
from reports import publish, services
from reports.models import ReportArchive
from reports.periods import Period, is_closed, last_closed_quarter
from tests.factories import (
    MembershipFactory,
    NetworkFactory,
    NetworkMembershipFactory,
    StructureFactory,
    UserFactory,
)


@pytest.fixture
def network(db):
    generate_activity(sessions=300, structures=2, years=1, seed=3, out=None)
    return Network.objects.get(slug="activite")


@pytest.fixture
def coordinator(network):
    user = UserFactory(email="coordination@exemple.fr")
    NetworkMembershipFactory(user=user, network=network)
    return user


@pytest.fixture
def structure(network):
    return Structure.objects.in_network(network).order_by("pk").first()


@pytest.fixture
def admin(structure):
    user = UserFactory(email="admin.structure@exemple.fr")
    MembershipFactory(user=user, structure=structure, role=Role.STRUCTURE_ADMIN)
    return user


def last_closed_year() -> Period:
    year = Period.of_year(timezone.localdate().year - 1)
    return year if is_closed(year) else year.previous()


def dashboard_url(network):
    return reverse("network_report_dashboard", kwargs={"network": network.slug})


def figures_on_page(body: str) -> dict[str, str]:
    return {
        key: html.unescape(value)
        for key, value in re.findall(r'data-figure="(\w+)">([^<]*)<', body)
    }


def test_the_dashboard_shows_last_quarter_anonymised_by_default(client, network, coordinator):
    client.force_login(coordinator)
    response = client.get(dashboard_url(network))

    body = response.content.decode()
    assert response.status_code == 200
    assert last_closed_quarter().label.capitalize() in body
    assert "Données anonymisées (seuil 11)" in body
    report = publish.build(network, last_closed_quarter())
    shown = figures_on_page(body)
    for figure in report["figures"]:
        assert shown[figure["key"]] == figure["display"]


def test_the_dashboard_takes_a_month_or_a_year(client, network, coordinator):
    client.force_login(coordinator)
    month = f"{last_closed_quarter().start:%Y-%m}"
    for code in (month, last_closed_year().code):
        response = client.get(dashboard_url(network), {"periode": code})
        assert response.status_code == 200
        assert "data-figure" in response.content.decode()


def test_a_bad_period_is_said_at_the_field(client, network, coordinator):
    client.force_login(coordinator)
    response = client.get(dashboard_url(network), {"periode": "2026-Q9"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "is-invalid" in body
    assert "data-figure" not in body


def test_a_network_has_no_custom_dates_nor_exact_figures(client, network, coordinator):
    client.force_login(coordinator)
    response = client.get(
        dashboard_url(network), {"periode": "dates", "du": "2026-07-01", "au": "2026-07-10"}
    )

    assert response.status_code == 200
    assert "data-figure" not in response.content.decode()
    assert 'name="exact"' not in response.content.decode()


def test_structure_staff_may_see_exact_figures_for_any_dates(client, structure, admin):
    client.force_login(admin)
    first = last_closed_quarter().start
    url = reverse("report_dashboard", kwargs={"structure": structure.slug})
    response = client.get(
        url, {"periode": "dates", "du": first.isoformat(), "au": first.replace(day=20).isoformat()}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "Chiffres exacts — usage interne" in body
    assert "&lt; 11" not in body


def test_custom_dates_need_both_ends_in_the_right_order(client, structure, admin):
    client.force_login(admin)
    url = reverse("report_dashboard", kwargs={"structure": structure.slug})
    response = client.get(url, {"periode": "dates", "du": "2026-07-20", "au": "2026-07-01"})

    body = response.content.decode()
    assert "La date de fin doit être après la date de début." in body
    assert 'value="2026-07-20"' in body  # what was typed is kept


def test_a_mediator_has_no_reports(client, structure):
    mediator = UserFactory()
    MembershipFactory(user=mediator, structure=structure, role=Role.MEDIATOR)
    client.force_login(mediator)

    url = reverse("report_dashboard", kwargs={"structure": structure.slug})
    assert client.get(url).status_code == 403


def test_a_coordinator_of_another_network_gets_a_404(client, network):
    other = UserFactory()
    elsewhere = NetworkFactory()
    StructureFactory(networks=[elsewhere])
    NetworkMembershipFactory(user=other, network=elsewhere)
    client.force_login(other)

    assert client.get(dashboard_url(network)).status_code == 404
    export = reverse("network_report_export", kwargs={"network": network.slug, "fmt": "csv"})
    assert client.get(export).status_code == 404


def test_the_dashboard_costs_the_same_queries_whatever_the_activity(
    client, network, coordinator, django_assert_max_num_queries
):
    client.force_login(coordinator)
    with django_assert_max_num_queries(60):
        client.get(dashboard_url(network))
    generate_activity(sessions=600, structures=3, years=1, seed=4, prefix="autre", out=None)
    more = Network.objects.get(slug="autre")
    NetworkMembershipFactory(user=coordinator, network=more)
    with django_assert_max_num_queries(60):
        client.get(dashboard_url(more))


def test_the_csv_download_is_the_dashboards_report(client, network, coordinator):
    client.force_login(coordinator)
    url = reverse("network_report_export", kwargs={"network": network.slug, "fmt": "csv"})
    response = client.get(url, {"periode": last_closed_quarter().code})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    report = publish.build(network, last_closed_quarter())
    sessions = next(r for r in rows if r["indicator"] == "sessions")
    assert sessions["value"] == str(publish.figure_map(report)["sessions"]["value"])


def test_the_excel_csv_download_opens_in_a_french_spreadsheet(client, network, coordinator):
    client.force_login(coordinator)
    url = reverse("network_report_export", kwargs={"network": network.slug, "fmt": "csv-excel"})
    response = client.get(url, {"periode": last_closed_quarter().code})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].endswith('-excel.csv"')
    assert response.content.startswith("\ufeffindicator;dimension".encode())
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    figures = publish.figure_map(publish.build(network, last_closed_quarter()))
    hours = next(r for r in rows if r["indicator"] == "hours")
    assert float(hours["value"].replace(",", ".")) == figures["hours"]["value"]


def test_the_dashboard_offers_both_csv_variants(client, network, coordinator):
    client.force_login(coordinator)
    body = client.get(reverse("network_report_dashboard", kwargs={"network": network.slug}))
    text = body.content.decode()

    assert "CSV (Excel)" in text
    for fmt in ("pdf", "xlsx", "csv", "csv-excel"):
        url = reverse("network_report_export", kwargs={"network": network.slug, "fmt": fmt})
        assert f'href="{url}?' in text


def test_the_xlsx_and_pdf_downloads_open(client, network, coordinator):
    client.force_login(coordinator)
    code = last_closed_quarter().code
    xlsx = client.get(
        reverse("network_report_export", kwargs={"network": network.slug, "fmt": "xlsx"}),
        {"periode": code},
    )
    pdf = client.get(
        reverse("network_report_export", kwargs={"network": network.slug, "fmt": "pdf"}),
        {"periode": code},
    )

    assert len(load_workbook(io.BytesIO(xlsx.content)).sheetnames) > 10
    assert pdf.content.startswith(b"%PDF")


def test_an_export_never_covers_a_few_days(client, structure, admin):
    client.force_login(admin)
    url = reverse("report_export", kwargs={"structure": structure.slug, "fmt": "csv"})
    response = client.get(url, {"periode": "dates", "du": "2026-07-01", "au": "2026-07-05"})

    assert response.status_code == 302
    assert response["Location"] == reverse("report_dashboard", kwargs={"structure": structure.slug})


def test_an_unknown_format_is_a_404(client, structure, admin):
    client.force_login(admin)
    url = reverse("report_export", kwargs={"structure": structure.slug, "fmt": "docx"})
    assert client.get(url).status_code == 404


# --- The quarterly job ----------------------------------------------------------------------


def test_the_quarterly_job_archives_every_structure_and_network_and_tells_coordinators(
    network, coordinator, admin, structure
):
    counts = services.archive_quarter()

    scopes = Network.objects.count() + Structure.objects.count()
    periods = len(services.archived_periods(last_closed_quarter()))
    assert ReportArchive.objects.count() == 3 * scopes * periods
    assert counts["archived"] == scopes * periods and counts["failed"] == 0
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted([coordinator.email, admin.email])
    assert "/reseaux/activite/bilans/archives/" in " ".join(m.body for m in mail.outbox)


def test_the_quarterly_job_archives_both_networks_of_a_structure_in_two(
    network, coordinator, structure
):
    department = NetworkFactory(name="Réseau départemental", slug="departement")
    structure.networks.add(department)
    department_coordinator = UserFactory(email="departement@exemple.fr")
    NetworkMembershipFactory(user=department_coordinator, network=department)

    counts = services.archive_quarter()

    assert counts["failed"] == 0
    # Each network and the structure: the quarter and its months, in the three formats.
    expected = 3 * len(services.archived_periods(last_closed_quarter()))
    assert ReportArchive.objects.filter(network=department).count() == expected
    assert ReportArchive.objects.filter(structure=structure).count() == expected
    recipients = {address for message in mail.outbox for address in message.to}
    assert {coordinator.email, department_coordinator.email} <= recipients


def test_the_quarterly_job_run_twice_archives_and_mails_once(network, coordinator):
    services.archive_quarter()
    sent, archived = len(mail.outbox), ReportArchive.objects.count()

    counts = services.archive_quarter()

    assert (len(mail.outbox), ReportArchive.objects.count()) == (sent, archived)
    assert counts["archived"] == 0


def test_an_archive_is_never_changed(network):
    services.archive_quarter()
    archive = ReportArchive.objects.first()
    archive.content = b"changed"

    with pytest.raises(ValueError):
        archive.save()


def test_an_archive_keeps_the_parameters_that_produced_it(network):
    services.archive_quarter()
    archive = ReportArchive.objects.get(
        network=network, format="pdf", period=last_closed_quarter().code
    )

    assert archive.parameters["period"] == last_closed_quarter().code
    assert archive.parameters["k"] == 11 and archive.parameters["anonymised"] is True
    assert len(archive.sha256) == 64


def test_the_schedule_runs_when_the_quarter_before_is_closed(db, settings):
    settings.REPORTS_GRACE_DAYS = 5
    from django_q.models import Schedule

    services.ensure_schedules()
    services.ensure_schedules()

    schedule = Schedule.objects.get(name=services.ARCHIVE_SCHEDULE)
    assert schedule.schedule_type == Schedule.QUARTERLY
    local = timezone.localtime(schedule.next_run)
    assert (local.day, local.hour, local.month % 3) == (6, 6, 1)


@pytest.mark.parametrize(
    ("now", "run"),
    [
        (datetime(2026, 11, 27, 10, 0), datetime(2027, 1, 6, 6, 0)),
        (datetime(2026, 3, 31, 23, 0), datetime(2026, 4, 6, 6, 0)),
        (datetime(2027, 1, 3, 8, 0), datetime(2027, 1, 6, 6, 0)),
        (datetime(2027, 1, 6, 6, 30), datetime(2027, 4, 6, 6, 0)),
    ],
)
def test_the_next_archive_run_is_grace_days_into_the_next_quarter(settings, now, run):
    settings.REPORTS_GRACE_DAYS = 5
    next_run = services.next_archive_run(timezone.make_aware(now))
    assert timezone.localtime(next_run).replace(tzinfo=None) == run


def test_the_due_schedule_runs_through_django_q(network, coordinator):
    from django_q.models import Schedule
    from django_q.scheduler import scheduler

    services.ensure_schedules()
    Schedule.objects.filter(name=services.ARCHIVE_SCHEDULE).update(
        next_run=timezone.now() - timezone.timedelta(minutes=1)
    )
    scheduler()  # the cluster's scheduler; the test settings run tasks synchronously

    periods = len(services.archived_periods(last_closed_quarter()))
    assert ReportArchive.objects.filter(network=network).count() == 3 * periods
    schedule = Schedule.objects.get(name=services.ARCHIVE_SCHEDULE)
    assert schedule.next_run > timezone.now()


def test_archives_are_listed_and_downloaded_by_their_coordinators_only(
    client, network, coordinator
):
    services.archive_quarter()
    archive = ReportArchive.objects.get(
        network=network, format="csv", period=last_closed_quarter().code
    )
    client.force_login(coordinator)

    listing = client.get(reverse("network_report_archives", kwargs={"network": network.slug}))
    assert archive.filename in listing.content.decode()
    url = reverse(
        "network_report_archive_download", kwargs={"network": network.slug, "archive": archive.pk}
    )
    assert client.get(url).content == bytes(archive.content)
    excel_url = reverse(
        "network_report_archive_download_excel",
        kwargs={"network": network.slug, "archive": archive.pk},
    )
    assert excel_url in listing.content.decode()
    excel = client.get(excel_url)
    assert excel.content.startswith("\ufeffindicator;".encode())
    assert excel["Content-Disposition"].endswith('-excel.csv"')

    other = UserFactory()
    MembershipFactory(user=other, structure=StructureFactory(), role=Role.COORDINATOR)
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert client.get(excel_url).status_code == 404


def test_only_a_csv_archive_has_an_excel_variant(client, network, coordinator):
    services.archive_quarter()
    archive = ReportArchive.objects.get(
        network=network, format="xlsx", period=last_closed_quarter().code
    )
    client.force_login(coordinator)
    url = reverse(
        "network_report_archive_download_excel",
        kwargs={"network": network.slug, "archive": archive.pk},
    )
    assert client.get(url).status_code == 404


# --- export_report --------------------------------------------------------------------------


def test_export_report_writes_the_file_of_a_network_or_a_structure(network, structure, tmp_path):
    for scope, fmt in ((network.slug, "csv"), (structure.slug, "xlsx"), (network.slug, "pdf")):
        output = tmp_path / f"bilan.{fmt}"
        call_command(
            "export_report",
            period=last_closed_quarter().code,
            scope=scope,
            format=fmt,
            output=str(output),
            stdout=io.StringIO(),
        )
        assert output.stat().st_size > 500


def test_export_report_takes_a_month_and_a_year(network, tmp_path):
    for period in (f"{last_closed_quarter().start:%Y-%m}", last_closed_year().code):
        output = tmp_path / "bilan.csv"
        call_command(
            "export_report",
            period=period,
            scope=network.slug,
            format="csv",
            output=str(output),
            stdout=io.StringIO(),
        )
        assert output.read_bytes().startswith(b"indicator,dimension")


@pytest.mark.parametrize(
    ("period", "scope", "message"),
    [
        ("2026-07-01..2026-07-05", "activite", "mois, trimestres ou années entiers"),
        ("2026-Q5", "activite", "le trimestre va de 1 à 4"),
        ("2026-Q3", "inconnu", "Aucune structure ni aucun réseau"),
    ],
)
def test_export_report_says_what_is_wrong(network, tmp_path, period, scope, message):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message):
        call_command(
            "export_report",
            period=period,
            scope=scope,
            format="csv",
            output=str(tmp_path / "x.csv"),
        )


def test_every_download_is_written_to_the_access_log(client, structure, admin):
    from mediation.models import AccessLog

    client.force_login(admin)
    url = reverse("report_export", kwargs={"structure": structure.slug, "fmt": "csv"})
    client.get(url, {"periode": last_closed_quarter().code})

    entry = AccessLog.objects.get(action="report_export")
    assert (entry.user, entry.structure, entry.object_id) == (admin, structure, structure.pk)


def test_a_published_report_is_read_back_and_says_when_it_was_computed(
    client, network, coordinator, django_assert_max_num_queries
):
    client.force_login(coordinator)
    first = client.get(dashboard_url(network)).content.decode()
    # Session, user, scoping, and the two stored reports (the period and the previous one):
    # no report query.
    with django_assert_max_num_queries(27):
        again = client.get(dashboard_url(network)).content.decode()

    assert "Calculé le" in first
    assert figures_on_page(first) == figures_on_page(again)


def test_typed_dates_are_used_even_if_the_list_still_shows_a_quarter(client, structure, admin):
    client.force_login(admin)
    first = last_closed_quarter().start
    url = reverse("report_dashboard", kwargs={"structure": structure.slug})
    response = client.get(
        url,
        {
            "periode": last_closed_quarter().code,
            "du": first.isoformat(),
            "au": first.replace(day=20).isoformat(),
        },
    )

    body = response.content.decode()
    assert "Chiffres exacts — usage interne" in body
    assert "au 20 " in body


def test_a_period_still_running_says_its_figures_are_partial(network, structure):
    today = timezone.localdate()
    month = Period.of_month(today.year, today.month)
    report = publish.build(structure, month, anonymised=False)

    assert report["period"]["in_progress"] is True
    assert "pas terminée" in report["method_note"][0]
    assert publish.build(network, last_closed_quarter())["period"]["in_progress"] is False


def test_the_dashboard_of_a_running_month_says_it_is_partial(client, structure, admin):
    client.force_login(admin)
    response = client.get(
        reverse("report_dashboard", kwargs={"structure": structure.slug}),
        {"periode": f"{timezone.localdate():%Y-%m}", "exact": "on"},
    )

    assert "Période en cours" in response.content.decode()
