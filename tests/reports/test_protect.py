"""Cell-key perturbation (reports.protect): the properties that hold by construction.

The attack on published reports, with every relation between them, is tests/reports/test_audit.py;
these tests pin down what that attack relies on: the same records always publish the same value,
wherever they are published, and a count below the threshold never shows."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from bench.generate import generate_activity
from cases.models import HelpSession
from mediation.models import Network, Structure
from reports import protect, publish
from reports.indicators import compute
from reports.periods import Period

K = 11


def test_the_perturbation_table_is_symmetric_and_fills_every_position():
    counts = Counter(d for _end, d in protect.PERTURBATION)
    assert sum(protect.PERTURBATION_WEIGHTS[0:1]) + 2 * sum(protect.PERTURBATION_WEIGHTS[1:]) == (
        protect.POSITIONS
    )
    assert protect.PERTURBATION[-1][0] == protect.POSITIONS
    assert all(counts[d] == counts[-d] == 1 for d in range(1, protect.MAX_PERTURBATION + 1))


def test_perturbations_follow_the_table_whatever_the_keys():
    rng = random.Random(3)
    draws = Counter(protect.perturbation(rng.randrange(2**31), 50) for _ in range(40_000))
    mean = sum(d * n for d, n in draws.items()) / 40_000
    assert abs(mean) < 0.03  # unbiased
    assert draws[0] / 40_000 == pytest.approx(0.40, abs=0.015)
    assert (draws[1] + draws[-1]) / 40_000 == pytest.approx(0.40, abs=0.015)
    assert max(map(abs, draws)) <= protect.MAX_PERTURBATION


@pytest.mark.parametrize("value", range(0, 40))
def test_no_count_below_the_threshold_is_published(value):
    for key in range(0, 2**31, 2**27):
        published = protect.protect(value, key, K)
        if value < K:  # zero included: a shown zero would bound the hidden cells beside it
            assert published.suppressed and published.value is None
            assert published.display == "< 11"
        elif published.suppressed:  # perturbed below the threshold
            assert value + protect.perturbation(key, value) < K
            low, high = protect.hidden_values(K)
            assert low <= value <= high
        else:
            assert published.value >= K
            low, high = protect.possible_values(published.value, K)
            assert low <= value <= high


def test_a_count_whose_perturbed_value_falls_below_the_threshold_is_hidden():
    # Otherwise "< 11" would mean 0 to 10 exactly, and a published total of a few hidden
    # counts that drew a large perturbation would pin them (see test_audit).
    rng = random.Random(7)
    for value in range(K, K + protect.MAX_PERTURBATION + 1):
        for _ in range(4000):
            key = rng.randrange(2**31)
            published = protect.protect(value, key, K)
            below = value + protect.perturbation(key, value) < K
            assert published.suppressed == below, (value, key)
            if not below:
                assert published.value == value + protect.perturbation(key, value)
    hidden = [protect.protect(11, key, K).suppressed for key in range(0, 2**31, 2**20)]
    assert 0.2 < sum(hidden) / len(hidden) < 0.4  # 11 is hidden when d < 0: 30 % of keys
    assert protect.hidden_values(K) == (0, K - 1 + protect.MAX_PERTURBATION)


@pytest.fixture
def network(db):
    generate_activity(sessions=300, structures=3, years=1, seed=5, out=None)
    return Network.objects.get(slug="activite")


def _quarter_with_activity(network) -> Period:
    last = HelpSession.objects.filter(structure__networks=network).latest("date").date
    return Period.of_quarter(last.year, (last.month - 1) // 3 + 1).previous()


def _values(report: dict) -> dict:
    values = {("figure", f["key"]): f["display"] for f in report["figures"]}
    for table in report["tables"]:
        for row in table["rows"]:
            values[(table["key"], row["code"])] = row["display"]
        values[(table["key"], "total")] = table["total"]["display"]
    return values


def test_a_month_publishes_the_same_totals_in_its_own_report_and_in_its_quarter(network):
    quarter = _quarter_with_activity(network)
    q = _values(publish.build(network, quarter, compare=False))
    for month in quarter.months():
        year, number = map(int, month.split("-"))
        m = _values(publish.build(network, Period.of_month(year, number), compare=False))
        assert q[("trend_sessions", month)] == m[("figure", "sessions")]
        assert q[("trend_accompaniments", month)] == m[("figure", "accompaniments")]


def test_a_place_publishes_the_same_count_in_its_structure_and_in_its_network(network):
    quarter = _quarter_with_activity(network)
    whole = _values(publish.build(network, quarter, compare=False))
    for structure in Structure.objects.in_network(network):
        part = _values(publish.build(structure, quarter, compare=False))
        # Places of the structure ("no_place", at home or remote, adds up over structures).
        places = [
            code
            for table, code in part
            if table == "accompaniments_by_place" and code not in ("no_place", "total")
        ]
        assert places
        for code in places:
            assert (
                part[("accompaniments_by_place", code)] == whole[("accompaniments_by_place", code)]
            )


def test_equal_counts_of_different_tables_publish_the_same_value(network):
    report = _values(publish.build(network, _quarter_with_activity(network), compare=False))
    # An individual session is one accompaniment: the same records, the same cell key.
    assert (
        report[("sessions_by_kind", "individual")]
        == report[("accompaniments_by_kind", "individual")]
    )
    assert report[("figure", "individual_sessions")] == report[("sessions_by_kind", "individual")]
    assert (
        report[("accompaniments_by_redirection", "total")]
        == report[("accompaniments_by_outcome", "redirected")]
    )
    assert (
        report[("accompaniments_by_procedure", "total")]
        == report[("accompaniments_by_theme", "demarches_administratives")]
    )
    for table in ("accompaniments_by_kind", "accompaniments_by_duration", "trend_accompaniments"):
        assert report[(table, "total")] == report[("figure", "accompaniments")]
    for table in ("residents_by_age_band", "residents_by_commune"):
        assert report[(table, "total")] == report[("figure", "residents")]


def test_one_more_session_changes_only_the_cells_that_count_it(network):
    quarter = _quarter_with_activity(network)
    structure = Structure.objects.in_network(network).order_by("pk").first()
    before = _values(publish.build(structure, quarter, compare=False))
    session = HelpSession.objects.filter(
        structure=structure,
        date__gte=quarter.start,
        date__lt=quarter.end,
        kind="individual",
        resident__isnull=False,
    ).first()
    HelpSession.objects.create(
        structure=structure,
        place=session.place,
        mediator=session.mediator,
        kind=session.kind,
        date=quarter.start,
        report_date=quarter.start,
        duration_minutes=session.duration_minutes,
        place_type=session.place_type,
        people_count=1,
        resident=session.resident,
        outcome="",
    )
    after = _values(publish.build(structure, quarter, compare=False))

    changed = {cell for cell in before if before[cell] != after[cell]}
    # Only cells that count the new session can move (its month, kind, duration, place,
    # place type, outcome…); themes, procedures, equipment, residents' tables cannot.
    untouched = [c for c in before if c[0].startswith(("residents_", "anonymous_", "appointments"))]
    assert not changed & set(untouched)


def test_the_cell_keys_of_a_report_are_sums_of_record_keys(network):
    quarter = _quarter_with_activity(network)
    structure = Structure.objects.in_network(network).order_by("pk").first()
    exact = compute(structure, quarter)
    sessions = HelpSession.objects.filter(
        structure=structure, date__gte=quarter.start, date__lt=quarter.end
    )
    expected = sum(sessions.values_list("report_key", flat=True)) % 2**31
    assert exact["keys"]["figures"]["sessions"] == expected
    people = sum(k * n for k, n in sessions.values_list("report_key", "people_count")) % 2**31
    assert exact["keys"]["figures"]["accompaniments"] == people
