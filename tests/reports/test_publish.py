"""The published report: what the dashboard and every export show.

The heart is the reconstruction attack: reports of a network and of each of its structures,
built over small synthetic data (many cells below the threshold), and an attacker who knows
every published figure and every relation between them (totals, links between tables,
figures that are cells, the network as the sum of its structures) and narrows down each hidden
cell by propagating bounds until nothing moves. The attacker is written here from the
definitions of the indicators, independently of reports.publish and reports.anonymise."""

from __future__ import annotations

import json
import math
from collections import defaultdict

import pytest
from django.core.management import call_command

from bookings.choices import CANCELLED_STATUSES
from mediation.models import Network, Resident, Structure
from reports import publish
from reports.periods import Period, PeriodError, parse_period

K = 11
ADDITIVE_FIGURE_TABLES = {
    # figure: (table, code) cells it equals; "total" is the table's total.
    "sessions": [("sessions_by_kind", "total"), ("trend_sessions", "total")],
    "individual_sessions": [("sessions_by_kind", "individual")],
    "collective_sessions": [("sessions_by_kind", "collective")],
    "accompaniments": [
        ("accompaniments_by_kind", "total"),
        ("accompaniments_by_duration", "total"),
        ("accompaniments_by_place_type", "total"),
        ("accompaniments_by_autonomy", "total"),
        ("accompaniments_by_outcome", "total"),
        ("accompaniments_by_place", "total"),
        ("accompaniments_by_theme", "total"),
        ("accompaniments_by_equipment", "total"),
        ("trend_accompaniments", "total"),
    ],
    "workshop_participants": [("accompaniments_by_kind", "collective")],
    "residents": [
        ("residents_by_commune", "total"),
        ("residents_by_age_band", "total"),
        ("residents_by_status", "total"),
        ("residents_by_gender", "total"),
    ],
    "anonymous_participants": [
        ("anonymous_by_age_band", "total"),
        ("anonymous_by_status", "total"),
        ("anonymous_by_gender", "total"),
    ],
    "appointments": [("appointments_by_status", "total")],
    "appointments_booked": [("appointments_by_status", "booked")],
    "appointments_seen": [("appointments_by_status", "seen")],
    "appointments_no_show": [("appointments_by_status", "no_show")],
}
#: Counts of distinct people: a network's is not the sum of its structures'.
NOT_ADDITIVE_OVER_STRUCTURES = {
    "residents",
    "new_residents",
    "residents_incl_anonymous",
    "residents_by_age_band",
    "residents_by_status",
    "residents_by_gender",
    "residents_by_commune",
}


class Attacker:
    """Integer bounds on every hidden value, narrowed by linear relations to a fixpoint."""

    def __init__(self, k: int):
        self.k = k
        self.bounds: dict[tuple, list[float]] = {}
        self.primary: set[tuple] = set()
        self.equations: list[tuple[dict[tuple, int], int]] = []  # Σ coef·x = constant
        self.at_most: list[tuple[tuple, tuple]] = []  # x ≤ y

    def term(self, ref: tuple, item: dict):
        """A published item as a known value, or the variable of a hidden one."""
        if not item["suppressed"]:
            return item["value"]
        if ref not in self.bounds:
            if item["display"] == f"< {self.k}":
                self.bounds[ref] = [0 if item.get("may_be_zero") else 1, self.k - 1]
                self.primary.add(ref)
            else:
                self.bounds[ref] = [0, math.inf]
        return ref

    def equal(self, left: list, right: list) -> None:
        """Σ left = Σ right, terms being numbers or variables."""
        coefs: dict[tuple, int] = defaultdict(int)
        constant = 0
        for sign, side in ((1, left), (-1, right)):
            for term in side:
                if isinstance(term, tuple):
                    coefs[term] += sign
                else:
                    constant -= sign * term
        coefs = {ref: c for ref, c in coefs.items() if c}
        if coefs:
            self.equations.append((coefs, constant))

    def less(self, left, right) -> None:
        self.at_most.append((left, right))

    def _value(self, term, index):
        return term if not isinstance(term, tuple) else self.bounds[term][index]

    def solve(self) -> None:
        for _round in range(500):
            changed = False
            for coefs, constant in self.equations:
                for ref, coef in coefs.items():
                    low, high = constant, constant
                    for other, c in coefs.items():
                        if other == ref:
                            continue
                        lo, hi = self.bounds[other]
                        # constant - Σ c·x over the others, divided by coef
                        if c > 0:
                            low, high = low - c * hi, high - c * lo
                        else:
                            low, high = low - c * lo, high - c * hi
                    if coef < 0:
                        low, high = -high, -low
                    low, high = low / abs(coef), high / abs(coef)
                    changed |= self._narrow(ref, low, high)
            for left, right in self.at_most:
                if isinstance(left, tuple):
                    changed |= self._narrow(left, -math.inf, self._value(right, 1))
                if isinstance(right, tuple):
                    changed |= self._narrow(right, self._value(left, 0), math.inf)
            if not changed:
                return

    def _narrow(self, ref, low, high) -> bool:
        bounds = self.bounds[ref]
        low = math.ceil(low - 1e-9) if low != -math.inf else low
        high = math.floor(high + 1e-9) if high != math.inf else high
        new = [max(bounds[0], low), min(bounds[1], high)]
        assert new[0] <= new[1], f"{ref}: the attacker's relations contradict the truth"
        if new != bounds:
            self.bounds[ref] = new
            return True
        return False

    def recovered(self) -> list[tuple]:
        """Hidden counts of people pinned to one value. A hidden zero (in a table whose
        zeros are hidden too) found to be zero singles out no one: zeros are published
        elsewhere."""
        return sorted(
            ref
            for ref in self.primary
            if self.bounds[ref][0] == self.bounds[ref][1] and self.bounds[ref][0] >= 1
        )


def _items(report: dict, name: str):
    """The published items of a report: (key, item), key ("figure", f, "") or (table, code)."""
    for figure in report["figures"]:
        yield ("figure", figure["key"], ""), figure
    for table in report["tables"]:
        for row in table["rows"]:
            yield (table["key"], row["code"]), row
        yield (table["key"], "total"), table["total"]


def attack(reports: dict[str, dict], network: str | None, k: int = K) -> Attacker:
    """Everything published: {report name: report}; `network` is the network's report name,
    whose structures are the others."""
    attacker = Attacker(k)
    terms: dict[str, dict] = {}
    for name, report in reports.items():
        found = {}
        for key, item in _items(report, name):
            found[key] = attacker.term((name, *key), item)
        terms[name] = found
        tables = {table["key"]: table for table in report["tables"]}
        for table in report["tables"]:
            cells = [found[(table["key"], row["code"])] for row in table["rows"]]
            total = found[(table["key"], "total")]
            if table["additive"]:
                attacker.equal(cells, [total])
            else:
                for cell in cells:
                    attacker.less(cell, total)
        figures = {key[1]: value for key, value in found.items() if key[0] == "figure"}
        for figure, cells in ADDITIVE_FIGURE_TABLES.items():
            if figure in figures:
                for cell in cells:
                    if cell[0] in tables:
                        attacker.equal([figures[figure]], [found[cell]])
        attacker.equal(
            [found[("accompaniments_by_redirection", "total")]],
            [found[("accompaniments_by_outcome", "redirected")]],
        )
        attacker.equal(
            [found[("accompaniments_by_procedure", "total")]],
            [found[("accompaniments_by_theme", "demarches_administratives")]],
        )
        attacker.equal(
            [figures["workshop_participants"]],
            [figures["named_workshop_participants"], figures["anonymous_participants"]],
        )
        if "residents_incl_anonymous" in figures:
            attacker.equal(
                [figures["residents_incl_anonymous"]],
                [figures["residents"], figures["anonymous_participants"]],
            )
        attacker.less(figures["new_residents"], figures["residents"])
        if "appointments_cancelled" in figures:
            attacker.equal(
                [figures["appointments_cancelled"]],
                [found[("appointments_by_status", str(s))] for s in CANCELLED_STATUSES],
            )
    if network is not None:
        parts = [name for name in reports if name != network]
        for key, term in terms[network].items():
            table = key[1] if key[0] == "figure" else key[0]
            if table in NOT_ADDITIVE_OVER_STRUCTURES:
                for part in parts:
                    if key in terms[part]:
                        attacker.less(terms[part][key], term)
                continue
            if key[0] == "figure" and key[1] in ("hours", "help_minutes"):
                continue
            attacker.equal([term], [terms[part].get(key, 0) for part in parts])
    attacker.solve()
    return attacker


@pytest.fixture
def small_network(db):
    """Three structures, a year of light activity: most cells of a quarter are below k."""
    call_command("generate_activity", sessions=240, structures=3, years=1, seed=7, verbosity=0)
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


def test_no_hidden_cell_can_be_recovered_from_a_network_and_its_structures(small_network):
    period = busiest_quarter(small_network)
    reports = published_family(small_network, period)
    attacker = attack(reports, "network")

    hidden = sum(
        row["suppressed"] for r in reports.values() for t in r["tables"] for row in t["rows"]
    )
    assert hidden > 20, "the data should be small enough to hide many cells"
    assert attacker.primary, "some counts are below the threshold"
    assert attacker.recovered() == []


@pytest.mark.parametrize("seed", [1, 2])
def test_no_hidden_cell_can_be_recovered_whatever_the_data(db, seed):
    call_command("generate_activity", sessions=120, structures=2, years=1, seed=seed, verbosity=0)
    network = Network.objects.get(slug="activite")
    reports = published_family(network, busiest_quarter(network))

    assert attack(reports, "network").recovered() == []


def test_the_attacker_does_recover_cells_hidden_by_the_threshold_alone(small_network):
    # Control: with small counts hidden one by one and nothing else, totals give them back.
    period = busiest_quarter(small_network)
    exact = publish.build(small_network, period, anonymised=False, compare=False)
    for item in list(exact["figures"]) + [
        row for table in exact["tables"] for row in [*table["rows"], table["total"]]
    ]:
        if isinstance(item["value"], int) and 0 < item["value"] < K and "key" not in item:
            item.update(value=None, display=f"< {K}", suppressed=True)

    assert attack({"network": exact}, None).recovered() != []


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
