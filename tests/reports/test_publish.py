"""The published report: what the dashboard and every export show. The attack on published
reports is `reports.audit` (tests/reports/test_audit.py); here, what a report holds."""

from __future__ import annotations

import json

import pytest

from bench.generate import generate_activity
from mediation.models import Network, Resident, Structure
from reports import publish
from reports.periods import Period, PeriodError, parse_period

K = 11


@pytest.fixture
def small_network(db):
    """Three structures, a year of light activity: most cells of a quarter are below k."""
    generate_activity(sessions=240, structures=3, years=1, seed=7, out=None)
    return Network.objects.get(slug="activite")


def published_family(network: Network, period: Period) -> dict[str, dict]:
    with publish.batch():
        reports = {"network": publish.build(network, period, compare=False)}
        for structure in Structure.objects.in_network(network):
            reports[structure.slug] = publish.build(structure, period, compare=False)
    return reports


def busiest_quarter(network: Network) -> Period:
    from cases.models import HelpSession

    last = HelpSession.objects.filter(structure__networks=network).latest("date").date
    return parse_period(f"{last.year}-Q{(last.month - 1) // 3 + 1}").previous()


def test_a_structure_publishes_its_part_of_the_network_family(small_network):
    period = busiest_quarter(small_network)
    structure = Structure.objects.in_network(small_network).first()
    alone = publish.build(structure, period, compare=False)
    family = published_family(small_network, period)

    assert alone["tables"] == family[structure.slug]["tables"]
    assert alone["scope"]["kind"] == "structure"
    assert alone["anonymised"] is True


def test_staff_see_exact_counts_of_their_structure_for_any_dates(small_network):
    structure = Structure.objects.in_network(small_network).first()
    period = Period.between(
        busiest_quarter(small_network).start, busiest_quarter(small_network).start
    )

    report = publish.build(structure, period, anonymised=False)

    assert not report["anonymised"]
    assert all(not row["suppressed"] for t in report["tables"] for row in t["rows"])
    assert "usage interne" in " ".join(report["method_note"])


def test_an_anonymised_report_covers_whole_periods_only(small_network):
    structure = Structure.objects.in_network(small_network).first()
    first = busiest_quarter(small_network).start
    with pytest.raises(PeriodError):
        publish.build(structure, Period.between(first, first.replace(day=10)))


def test_a_report_holds_no_name_nor_contact(small_network):
    period = busiest_quarter(small_network)
    text = json.dumps(published_family(small_network, period), ensure_ascii=False)
    for resident in Resident.objects.exclude(last_name="").order_by("pk")[:50]:
        assert resident.last_name not in text
        if resident.email:
            assert resident.email not in text


def test_percentages_come_from_published_counts_only(small_network):
    period = busiest_quarter(small_network)
    for report in published_family(small_network, period).values():
        for table in report["tables"]:
            total = table["total"]
            for row in table["rows"]:
                if row["percent"] is not None:
                    assert not row["suppressed"] and not total["suppressed"]
                    assert total["value"] >= K


def test_figures_compare_with_the_previous_period(small_network):
    period = busiest_quarter(small_network)
    report = publish.build(small_network, period)
    sessions = publish.figure_map(report)["sessions"]

    assert report["previous_period"]["code"] == period.previous().code
    assert sessions["previous"] is not None
