"""Statistical disclosure control of report tables (reports.anonymise).

The last part is the reconstruction attack: reports over random synthetic data are published,
then an attacker written here, apart from the module (integers only: bounds propagation and
exhaustive search, no linear programming), tries to pin every hidden cell down from all the
published figures. It must fail for every cell below the threshold.
"""

from __future__ import annotations

import importlib.util
import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.anonymise import (
    AGE_BAND_MERGES,
    DEFAULT_MERGES,
    TOTAL,
    Link,
    MergeRule,
    ProtectedReport,
    Reason,
    Report,
    Table,
    audit,
    method_note,
    protect,
    shared_total,
)

NO_MERGES: dict = {}


def one_way(name, counts, **kwargs):
    return Table(name, "d", counts, **kwargs)


def hidden(table):
    return {cell.key for cell in table if cell.suppressed}


def span(protected, ref):
    """What the module's own audit says a hidden cell could be."""
    exposure = audit(protected)[ref]
    return exposure.low, exposure.high


# --------------------------------------------------------------------------------------------
# Threshold rule
# --------------------------------------------------------------------------------------------


def test_counts_below_k_are_hidden_and_shown_as_below_k():
    report = Report([one_way("t", {"a": 10, "b": 11, "c": 9, "d": 45})])

    table = protect(report, merges=NO_MERGES).table("t")

    assert table.cell("a").value is None
    assert table.cell("a").label == "< 11"
    assert table.cell("a").reason is Reason.PRIMARY
    assert table.cell("c").reason is Reason.PRIMARY
    assert table.cell("b").value == 11
    assert table.cell("b").label == "11"
    assert not table.cell("b").suppressed


def test_true_zeros_are_published_by_default():
    report = Report([one_way("t", {"a": 0, "b": 20, "c": 30})])

    table = protect(report, merges=NO_MERGES).table("t")

    assert table.cell("a").value == 0
    assert not hidden(table)


def test_zeros_are_hidden_when_asked():
    report = Report([one_way("t", {"a": 0, "b": 20, "c": 30})])

    table = protect(report, merges=NO_MERGES, suppress_zeros=True).table("t")

    assert table.cell("a").reason is Reason.PRIMARY
    assert table.cell("a").label == "< 11"
    assert len(hidden(table)) >= 2


def test_k_is_a_parameter():
    report = Report([one_way("t", {"a": 4, "b": 6, "c": 30})])

    table = protect(report, k=5, merges=NO_MERGES).table("t")

    assert table.cell("a").label == "< 5"
    assert table.cell("b").value == 6 or table.cell("b").reason is Reason.SECONDARY


def test_a_small_grand_total_hides_the_whole_table():
    table = protect(Report([one_way("t", {"a": 4, "b": 3})]), merges=NO_MERGES).table("t")

    assert hidden(table) == {("a",), ("b",), (TOTAL,)}
    assert {c.reason for c in table} == {Reason.PRIMARY}


# --------------------------------------------------------------------------------------------
# Secondary suppression
# --------------------------------------------------------------------------------------------


def test_a_lone_hidden_cell_of_a_one_way_table_gets_the_smallest_useful_complement():
    report = Report([one_way("t", {"a": 4, "b": 30, "c": 25, "d": 80})])

    table = protect(report, merges=NO_MERGES).table("t")

    assert hidden(table) == {("a",), ("c",)}
    assert table.cell("c").reason is Reason.SECONDARY
    assert table.cell("c").label == "s"


def test_a_complement_worth_exactly_k_does_not_protect_a_cell_worth_one():
    # Hidden "a" and "b" with a + b = 12 and b ≥ 11 known (secondary) would give a = 1.
    report = Report([one_way("t", {"a": 1, "b": 11, "c": 40})])

    protected = protect(report, merges=NO_MERGES)

    assert hidden(protected.table("t")) == {("a",), ("c",)}
    low, high = span(protected, (None, "t", ("a",)))
    assert (low, high) == (1, 10)


def test_several_small_cells_protect_each_other():
    report = Report([one_way("t", {"a": 4, "b": 6, "c": 30, "d": 50})])

    table = protect(report, merges=NO_MERGES).table("t")

    assert hidden(table) == {("a",), ("b",)}


def test_a_two_way_table_hides_a_rectangle():
    counts = {
        ("x", "f"): 3,
        ("x", "m"): 40,
        ("x", "n"): 50,
        ("y", "f"): 30,
        ("y", "m"): 35,
        ("y", "n"): 60,
        ("z", "f"): 45,
        ("z", "m"): 55,
        ("z", "n"): 70,
    }
    protected = protect(Report([Table("t", ("r", "c"), counts)]), merges=NO_MERGES)
    table = protected.table("t")

    cells = hidden(table)
    assert ("x", "f") in cells
    assert len(cells) == 4
    for line in ("x", "y", "z"):
        in_row = [key for key in cells if key[0] == line]
        assert len(in_row) in (0, 2)
    for column in ("f", "m", "n"):
        in_column = [key for key in cells if key[1] == column]
        assert len(in_column) in (0, 2)
    assert not any(TOTAL in key for key in cells)
    low, high = span(protected, (None, "t", ("x", "f")))
    assert high - low >= 1


def test_a_small_margin_of_a_two_way_table_is_protected_with_its_cells():
    counts = {("x", "f"): 2, ("x", "m"): 3, ("y", "f"): 30, ("y", "m"): 35}
    protected = protect(Report([Table("t", ("r", "c"), counts)]), merges=NO_MERGES)
    table = protected.table("t")

    assert table.cell("x", TOTAL).reason is Reason.PRIMARY
    exposures = audit(protected)
    for key in hidden(table):
        if table.cells[key].reason is Reason.PRIMARY:
            exposure = exposures[(None, "t", key)]
            assert exposure.high - exposure.low >= 1


def test_a_total_hidden_in_one_table_is_hidden_in_the_tables_that_share_it():
    # In "by_month" the total must be hidden (hiding "b" = 11 would leave a = 12 - 11).
    # "by_place" shares that total: its only non-zero cell would give the total back.
    by_month = one_way("by_month", {"a": 1, "b": 11})
    by_place = one_way("by_place", {"p": 12, "q": 0})
    report = Report([by_month, by_place], links=shared_total("by_month", "by_place"))

    protected = protect(report, merges=NO_MERGES)

    assert protected.table("by_month").total.suppressed
    assert protected.table("by_place").total.suppressed
    assert protected.table("by_place").cell("p").suppressed
    low, high = span(protected, (None, "by_month", ("a",)))
    assert high - low >= 1


def test_a_link_to_another_cell_is_honoured():
    kinds = one_way("by_kind", {"individual": 40, "collective": 25})
    durations = one_way("individual_by_duration", {"short": 3, "long": 37})
    link = Link(("by_kind", "individual"), ("individual_by_duration", TOTAL))
    report = Report([kinds, durations], links=[link])

    protected = protect(report, merges=NO_MERGES)

    assert protected.table("individual_by_duration").cell("short").suppressed
    low, high = span(protected, (None, "individual_by_duration", ("short",)))
    assert high - low >= 1


def test_a_network_cell_minus_the_other_structures_does_not_give_a_hidden_cell():
    def report(justice, email):
        return Report([one_way("by_theme", {"justice": justice, "email": email})])

    parts = {"a": report(3, 40), "b": report(15, 30), "c": report(20, 50)}
    network = report(38, 120)

    protected = protect(network, hierarchy=parts, merges=NO_MERGES)

    assert protected.parts["a"].table("by_theme").cell("justice").reason is Reason.PRIMARY
    others = [protected.parts[p].table("by_theme").cell("justice") for p in ("b", "c")]
    assert any(cell.suppressed for cell in others)
    low, high = span(protected, ("a", "by_theme", ("justice",)))
    assert high - low >= 1


def test_protecting_structures_one_by_one_would_leak_through_the_network():
    def report(justice, email):
        return Report([one_way("by_theme", {"justice": justice, "email": email})])

    parts = {"a": report(3, 40), "b": report(15, 30), "c": report(20, 50)}
    alone = {name: protect(r, merges=NO_MERGES) for name, r in parts.items()}
    network = protect(report(38, 120), merges=NO_MERGES)

    published = [alone[p].table("by_theme").cell("justice").value for p in ("b", "c")]
    assert network.table("by_theme").cell("justice").value - sum(published) == 3


def test_counts_of_distinct_people_are_bounded_not_summed_over_structures():
    def residents(female, male):
        counts = {"female": female, "male": male}
        return Report([one_way("residents", counts, additive_over_parts=False)])

    # Someone helped in both structures counts once in the network.
    parts = {"a": residents(4, 30), "b": residents(25, 40)}
    protected = protect(residents(27, 66), hierarchy=parts, merges=NO_MERGES)

    assert protected.parts["a"].table("residents").cell("female").suppressed
    low, high = span(protected, ("a", "residents", ("female",)))
    assert high - low >= 1


def test_the_at_least_one_rule_of_a_multiple_choice_table_cannot_pin_a_hidden_cell():
    # 25 sessions, each with at least one theme: email ≥ 25 - 15 = 10, and email < 11.
    themes = Table("themes", "theme", {"email": 10, "sante": 15}, total=25, multiple={"theme"})

    protected = protect(Report([themes]), merges=NO_MERGES)

    assert protected.table("themes").cell("email").reason is Reason.PRIMARY
    assert len(hidden(protected.table("themes"))) >= 2
    low, high = span(protected, (None, "themes", ("email",)))
    assert high - low >= 1


def test_min_width_widens_the_guaranteed_range():
    report = Report([one_way("t", {"a": 1, "b": 12, "c": 14, "d": 60})])

    narrow = protect(report, merges=NO_MERGES)
    wide = protect(report, merges=NO_MERGES, min_width=4)

    assert span(narrow, (None, "t", ("a",)))[1] - 1 >= 1
    low, high = span(wide, (None, "t", ("a",)))
    assert high - low >= 4


# --------------------------------------------------------------------------------------------
# Merging
# --------------------------------------------------------------------------------------------

AGES = ("<12", "12-17", "18-24", "25-39", "40-59", "60-69", "70+")


def age_table(counts):
    return Table("by_age", "age_band", counts, categories={"age_band": AGES})


def test_neighbouring_age_bands_are_merged_when_it_publishes_more():
    counts = {"18-24": 5, "25-39": 30, "40-59": 45, "60-69": 25, "70+": 14}

    protected = protect(Report([age_table(counts)]))
    table = protected.table("by_age")

    assert table.categories == (("<12", "12-17", "18-39", "40-59", "60-69", "70+"),)
    assert table.cell("18-39").value == 35
    assert not hidden(table)
    (merge,) = protected.merges
    assert (merge.dimension, merge.code, merge.label) == ("age_band", "18-39", "18-39 ans")
    assert merge.members == ("18-24", "25-39")
    assert table.cell("18-39").merges == (merge,)


def test_categories_are_not_merged_when_nothing_is_hidden():
    counts = {"<12": 12, "12-17": 20, "18-24": 15, "25-39": 30, "40-59": 45, "60-69": 25}

    protected = protect(Report([age_table({**counts, "70+": 14})]))

    assert protected.merges == ()
    assert protected.table("by_age").categories == (AGES,)


def test_no_merge_when_suppression_keeps_more_figures():
    # Two small bands protect each other; merging them would still need a complement.
    counts = {"<12": 3, "12-17": 4, "18-24": 60, "25-39": 30, "40-59": 45, "60-69": 25}

    protected = protect(Report([age_table({**counts, "70+": 14})]))

    assert protected.merges == ()
    assert hidden(protected.table("by_age")) == {("<12",), ("12-17",)}


def test_rare_communes_go_to_autres_communes():
    counts = {"35001": 40, "35002": 30, "35003": 3, "35004": 4, "35005": 5}
    report = Report([Table("by_commune", "commune", counts)])

    protected = protect(report)
    table = protected.table("by_commune")

    assert table.categories == (("35001", "35002", "autres_communes"),)
    assert table.cell("autres_communes").value == 12
    assert not hidden(table)
    assert protected.merges[0].members == ("35003", "35004", "35005")
    assert "Autres communes" in method_note(protected)


def test_rare_themes_merged_into_autres_count_mentions():
    counts = {"email": 30, "sante": 4, "justice": 5, "parentalite": 3, "bureautique": 25}
    themes = Table("themes", "theme", counts, total=55, multiple={"theme"})

    protected = protect(Report([themes]))

    (merge,) = protected.merges
    assert merge.mentions
    assert protected.table("themes").cell("autres_themes").value == 12
    assert "plusieurs fois" in method_note(protected)


def test_merges_are_the_same_in_every_report_of_a_hierarchy():
    a = {"18-24": 5, "25-39": 30, "40-59": 45, "60-69": 25, "70+": 14}
    b = {"18-24": 20, "25-39": 30, "40-59": 45, "60-69": 25, "70+": 14}
    network = {band: a.get(band, 0) + b.get(band, 0) for band in AGES}
    parts = {"a": Report([age_table(a)]), "b": Report([age_table(b)])}

    protected = protect(Report([age_table(network)]), hierarchy=parts)

    expected = protected.table("by_age").categories
    assert "18-39" in expected[0]
    assert all(p.table("by_age").categories == expected for p in protected.parts.values())


def test_a_category_named_by_a_link_to_another_table_is_never_merged():
    ages = age_table({"18-24": 5, "25-39": 30, "40-59": 45, "60-69": 25, "70+": 14})
    young = one_way("young_by_kind", {"individual": 5, "collective": 0})
    link = Link(("by_age", "18-24"), ("young_by_kind", TOTAL))

    protected = protect(Report([ages, young], links=[link]))

    assert "18-24" in protected.table("by_age").categories[0]


# --------------------------------------------------------------------------------------------
# Percentages, notes, errors
# --------------------------------------------------------------------------------------------


def test_percentages_come_from_published_counts_only():
    report = Report([one_way("t", {"a": 4, "b": 30, "c": 25, "d": 80})])

    table = protect(report, merges=NO_MERGES).table("t")

    assert table.percent("d") == round(100 * 80 / 139, 1)
    assert table.percent("a") is None
    assert table.percent("c") is None


def test_percentages_are_hidden_when_the_denominator_is_below_k():
    table = protect(Report([one_way("t", {"a": 4, "b": 3})]), merges=NO_MERGES).table("t")

    assert table.percent("a") is None


def test_row_percentages_of_a_two_way_table():
    counts = {("x", "f"): 20, ("x", "m"): 30, ("y", "f"): 15, ("y", "m"): 35}
    table = protect(Report([Table("t", ("r", "c"), counts)]), merges=NO_MERGES).table("t")

    assert table.percent("x", "f", of="row") == 40.0
    assert table.percent("x", "f", of="column") == round(100 * 20 / 35, 1)


def test_ratio_between_two_tables():
    booked = one_way("appointments", {"seen": 40, "no_show": 12, "cancelled": 0})

    protected = protect(Report([booked]), merges=NO_MERGES)

    assert protected.percent(("appointments", "no_show"), ("appointments", TOTAL)) == 23.1


def test_method_note_states_the_threshold():
    protected = protect(Report([one_way("t", {"a": 4, "b": 30, "c": 25})]), merges=NO_MERGES)

    note = method_note(protected)

    assert "inférieur à 11" in note
    assert "« s »" in note


def test_a_network_that_is_not_the_sum_of_its_structures_is_refused():
    parts = {"a": Report([one_way("t", {"x": 12})]), "b": Report([one_way("t", {"x": 20})])}

    with pytest.raises(ValueError, match="do not satisfy"):
        protect(Report([one_way("t", {"x": 33})]), hierarchy=parts)


def test_linked_totals_that_differ_are_refused():
    report = Report(
        [one_way("a", {"x": 12}), one_way("b", {"y": 13})], links=shared_total("a", "b")
    )

    with pytest.raises(ValueError, match="linked cells differ"):
        protect(report)


def test_a_multiple_choice_table_needs_its_total():
    with pytest.raises(ValueError, match="margin"):
        Table("themes", "theme", {"email": 12}, multiple={"theme"})


# --------------------------------------------------------------------------------------------
# Reports shaped as reports/publish.py builds them
# --------------------------------------------------------------------------------------------


def _bench():
    """bench/anonymise.py's simulation of realistic reports (one file, two uses)."""
    path = Path(__file__).resolve().parents[2] / "bench" / "anonymise.py"
    spec = importlib.util.spec_from_file_location("bench_anonymise", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench()


def figure(name, value):
    return Table(name, "figure", {"value": value}, additive_over_parts=False)


def test_a_one_cell_table_publishes_a_scalar_figure():
    protected = protect(Report([figure("new_residents", 12)]))

    table = protected.table("new_residents")
    assert table.cell("value").value == 12
    assert table.total.value == 12


def test_a_small_scalar_figure_is_hidden_with_its_total():
    protected = protect(Report([figure("new_residents", 4)]))

    table = protected.table("new_residents")
    assert table.cell("value").label == "< 11"
    assert table.total.suppressed
    # A table whose total is below k hides its zeros too: "< 11" may be 0 here.
    assert table.zeros_hidden
    assert span(protected, (None, "new_residents", ("value",))) == (0, 10)


def test_a_table_total_equal_to_a_cell_of_another_table_is_protected_with_it():
    outcome = Table("accompaniments_by_outcome", "outcome", {"resolved": 50, "redirected": 7})
    redirection = Table("accompaniments_by_redirection", "redirection", {"caf": 4, "ants": 3})
    link = Link(
        ("accompaniments_by_redirection", TOTAL), ("accompaniments_by_outcome", ("redirected",))
    )

    protected = protect(Report([outcome, redirection], links=[link]))

    assert protected.table("accompaniments_by_outcome").cell("redirected").suppressed
    assert protected.table("accompaniments_by_redirection").total.suppressed
    for ref in (
        (None, "accompaniments_by_redirection", ("caf",)),
        (None, "accompaniments_by_outcome", ("redirected",)),
    ):
        low, high = span(protected, ref)
        assert high - low >= 1


def test_an_at_most_link_between_figures_is_accepted_and_checked():
    people = Table("people", "people", {"residents": 40, "anonymous": 6}, additive_over_parts=False)
    link = Link(("new_residents", TOTAL), ("people", ("residents",)), "<=")

    protected = protect(Report([people, figure("new_residents", 9)], links=[link]))

    assert protected.table("new_residents").cell("value").suppressed
    assert protected.table("people").cell("anonymous").suppressed
    with pytest.raises(ValueError, match="do not satisfy"):
        protect(Report([people, figure("new_residents", 41)], links=[link]))


def test_rare_commune_codes_go_to_a_bucket_that_is_not_a_commune_code():
    counts = {"35238": 40, "2A004": 3, "97101": 4, "35047": 5, "not_given": 15, "35001": 25}
    report = Report([Table("residents_by_commune", "commune", counts, additive_over_parts=False)])

    protected = protect(report)
    table = protected.table("residents_by_commune")

    assert table.categories == (("35238", "autres_communes", "not_given", "35001"),)
    assert table.cell("autres_communes").value == 12
    (merge,) = protected.merges
    assert "not_given" not in merge.members
    assert "non renseignées n'ont été regroupées avec aucune" in method_note(protected)


def test_a_merge_rule_that_takes_not_given_says_so_in_the_method_note():
    counts = {"35238": 40, "35047": 5, "not_given": 6, "35001": 25}
    report = Report([Table("residents_by_commune", "commune", counts)])
    rules = {"commune": MergeRule(other_code="autres_communes", other_label="Autres communes")}

    protected = protect(report, merges=rules)

    (merge,) = protected.merges
    assert "not_given" in merge.members
    assert "y compris les réponses non renseignées" in method_note(protected)


def test_default_merges_keep_not_given_out_of_every_bucket():
    for rule in DEFAULT_MERGES.values():
        assert rule.other_code is None or "not_given" in rule.keep
        assert all("not_given" not in group.members for group in rule.groups)


def assert_witnesses_hold(published, declared_top, hierarchy):
    """The module's certificates checked against the test's own model of the publication."""
    attacker = Attacker(published, declared_top, big=10**6)
    truth = true_values(published, {None: declared_top, **hierarchy})
    attacker.check(truth)
    exposures = audit(published)
    refs = primary_refs(attacker, published, truth)
    for ref in refs:
        low_table, high_table = exposures[ref].witnesses
        for witness in (low_table, high_table):
            attacker.check({**truth, **witness})
        assert high_table[ref] - low_table[ref] >= 1, ref
    return refs


def test_a_structure_report_shaped_like_publish_is_certified():
    report = bench.structure_report(random.Random(3), 60)

    published = protect(report, merges=bench.merges())

    assert {t.dims[0] for t in report.tables} >= {
        "kind",
        "duration",
        "place_type",
        "autonomy",
        "outcome",
        "redirection",
        "theme",
        "procedure",
        "equipment",
        "place",
        "age_band",
        "status",
        "gender",
        "commune",
        "appointment_status",
        "month",
        "figure",
    }
    assert assert_witnesses_hold(published, report, {})


def test_a_network_report_shaped_like_publish_is_certified():
    network, hierarchy = bench.network_reports(random.Random(5), 3, sizes=(20, 40, 60))

    published = protect(network, hierarchy=hierarchy, merges=bench.merges())

    assert set(published.parts) == set(hierarchy)
    assert assert_witnesses_hold(published, network, hierarchy)


def test_a_network_of_fifteen_structures_is_protected():
    network, hierarchy = bench.network_reports(random.Random(7), 15)

    published = protect(network, hierarchy=hierarchy, merges=bench.merges())

    assert len(published.parts) == 15
    assert (
        published.table("accompaniments_by_kind").total.value
        == network.table("accompaniments_by_kind").total
    )


# --------------------------------------------------------------------------------------------
# Robustness: legitimate data never makes protect() raise
# --------------------------------------------------------------------------------------------


def zero_report():
    return bench.structure_report(random.Random(1), 0)


def test_a_report_of_zeros_is_published_as_zeros():
    published = protect(zero_report(), merges=bench.merges())

    assert all(cell.value == 0 for cell in published.cells())
    assert "« s »" in method_note(published)


def test_a_network_of_structures_without_activity_is_published_as_zeros():
    hierarchy = {"a": zero_report(), "b": zero_report()}

    published = protect(zero_report(), hierarchy=hierarchy, merges=bench.merges())

    for report in (published, *published.parts.values()):
        assert all(cell.value == 0 for cell in report.cells())


def test_an_empty_network_is_protected_as_its_own_report():
    published = protect(zero_report(), hierarchy={}, merges=bench.merges())

    assert published.parts == {}


def test_a_network_of_one_structure_hides_the_same_cells_in_both():
    report = bench.structure_report(random.Random(2), 30)

    published = protect(report, hierarchy={"only": report}, merges=bench.merges())

    part = published.parts["only"]
    for name, table in published.tables.items():
        assert hidden(table) == hidden(part.table(name)), name
    assert assert_witnesses_hold(published, report, {"only": report})


@pytest.mark.parametrize("k", [5, 11, 20])
def test_tiny_counts_where_every_cell_is_below_k(k):
    report = bench.structure_report(random.Random(k), 3)

    published = protect(report, k=k, merges=bench.merges())

    assert all(cell.suppressed or cell.value == 0 or cell.value >= k for cell in published.cells())
    assert assert_witnesses_hold(published, report, {})


def test_a_table_with_no_category_at_all():
    empty = Table("accompaniments_by_place", "place", {})

    published = protect(Report([empty, one_way("t", {"a": 3, "b": 40})]))

    assert published.table("accompaniments_by_place").total.value == 0


def test_totals_below_k_in_a_network_of_small_structures():
    network, hierarchy = bench.network_reports(random.Random(11), 4, sizes=(2, 3, 5))

    published = protect(network, hierarchy=hierarchy, merges=bench.merges())

    assert assert_witnesses_hold(published, network, hierarchy)


# --------------------------------------------------------------------------------------------
# The reconstruction attack
# --------------------------------------------------------------------------------------------


class Attacker:
    """Everything an outsider can deduce from a publication, rebuilt apart from the module.

    It writes the equations from the published tables and what the report declares
    (dimensions, multiple-choice dimensions, links, hierarchy) and reads each hidden cell's
    mark: "< k" is between 1 (0 when the table hides its zeros) and k - 1, "s" is at least k.
    ``check`` tells whether a full table of values is consistent with all of it (checking a
    certificate); ``possible_range`` searches the integers for the smallest and largest values
    of a hidden cell (bounds propagation and splitting, no linear programming).
    """

    def __init__(self, published: ProtectedReport, declared: Report, *, big: int):
        self.k = published.k
        reports = {None: published, **published.parts}
        self.domains: dict = {}
        self.known: dict = {}
        rows: list = []
        for part, report in reports.items():
            for table in report.tables.values():
                for cell in table:
                    ref = (part, table.name, cell.key)
                    if not cell.suppressed:
                        self.known[ref] = cell.value
                    elif cell.label == f"< {self.k}":
                        self.domains[ref] = (0 if table.zeros_hidden else 1, self.k - 1)
                    else:
                        assert cell.label == "s"
                        self.domains[ref] = (self.k, big)
                rows += self._margins(part, table, declared.table(table.name))
            for link in declared.links:
                left, right = (self._resolve(report, part, end) for end in (link.left, link.right))
                rows.append(({left: 1, right: -1}, link.relation == "="))
        if published.parts:
            for table in published.tables.values():
                additive = declared.table(table.name).additive_over_parts
                for key in table.cells:
                    top = (None, table.name, key)
                    parts = [(p, table.name, key) for p in published.parts]
                    rows.append(({top: 1, **dict.fromkeys(parts, -1)}, additive))
                    if not additive:
                        rows += [({p: 1, top: -1}, False) for p in parts]
        self.rows = [row for coefs, equal in rows if (row := self._substitute(coefs, equal))]
        self.rows_of: dict = {ref: [] for ref in self.domains}
        for index, (coefs, _, _) in enumerate(self.rows):
            for ref, _ in coefs:
                self.rows_of[ref].append(index)

    @staticmethod
    def _margins(part, table, declared):
        for key in table.cells:
            for i, code in enumerate(key):
                if code != TOTAL:
                    continue
                parts = [key[:i] + (c,) + key[i + 1 :] for c in table.categories[i]]
                total = (part, table.name, key)
                row = {total: 1, **{(part, table.name, p): -1 for p in parts}}
                if table.dims[i] not in declared.multiple:
                    yield row, True
                    continue
                yield row, False  # at least one category each
                for p in parts:
                    if not any(m.mentions for m in table.cells[p].merges):
                        yield {(part, table.name, p): 1, total: -1}, False

    @staticmethod
    def _resolve(report, part, end):
        name, key = end
        table = report.tables[name]
        key = (TOTAL,) * len(table.dims) if key == TOTAL else key
        key = (key,) if isinstance(key, str) else tuple(key)
        merged = {member: m.code for m in table.merges for member in m.members}
        return (part, name, tuple(merged.get(code, code) for code in key))

    def _substitute(self, coefs, equal):
        """``Σ coef·x = 0`` (or ≤ 0) with the published values moved to the right-hand side."""
        rhs = 0
        hidden_coefs: dict = {}
        for ref, a in coefs.items():
            if ref in self.known:
                rhs -= a * self.known[ref]
            else:
                hidden_coefs[ref] = hidden_coefs.get(ref, 0) + a
        hidden_coefs = {ref: a for ref, a in hidden_coefs.items() if a}
        if not hidden_coefs:
            assert rhs == 0 if equal else rhs >= 0, "the published figures contradict each other"
            return None
        return tuple(hidden_coefs.items()), equal, rhs

    def check(self, values) -> None:
        """Fails unless these values of the hidden cells agree with everything published."""
        for ref, (lo, hi) in self.domains.items():
            assert lo <= values[ref] <= hi, (ref, values[ref])
        for coefs, equal, rhs in self.rows:
            total = sum(a * values[ref] for ref, a in coefs)
            assert total == rhs if equal else total <= rhs, coefs

    # ---- integer search --------------------------------------------------------------------

    def _propagate(self, domains, start) -> bool:
        """Tighten integer bounds to a fixpoint (rows re-examined when a variable moves)."""
        todo, queued = list(start), set(start)
        while todo:
            index = todo.pop()
            queued.discard(index)
            coefs, equal, rhs = self.rows[index]
            low_sum = high_sum = 0
            for ref, a in coefs:
                lo, hi = domains[ref]
                low_sum += a * lo if a > 0 else a * hi
                high_sum += a * hi if a > 0 else a * lo
            if low_sum > rhs or (equal and high_sum < rhs):
                return False
            for ref, a in coefs:
                lo, hi = domains[ref]
                most = rhs - low_sum + (a * lo if a > 0 else a * hi)  # a·x ≤ most
                least = rhs - high_sum + (a * hi if a > 0 else a * lo)  # a·x ≥ least (=)
                if a > 0:
                    new_lo, new_hi = lo, min(hi, most // a)
                    if equal:
                        new_lo = max(lo, -(-least // a))
                else:
                    new_lo, new_hi = max(lo, -(-most // a)), hi
                    if equal:
                        new_hi = min(hi, least // a)
                if new_lo > new_hi:
                    return False
                if (new_lo, new_hi) != (lo, hi):
                    domains[ref] = (new_lo, new_hi)
                    for other in self.rows_of[ref]:
                        if other not in queued:
                            queued.add(other)
                            todo.append(other)
                    break  # the sums above are stale: the row was queued again
        return True

    def _feasible(self, domains, moved) -> bool:
        """Whether integer values within ``domains`` satisfy every row."""
        domains = dict(domains)
        if not self._propagate(domains, self.rows_of[moved]):
            return False
        open_refs = [ref for ref, (lo, hi) in domains.items() if lo < hi]
        if not open_refs:
            return True  # every row was checked with these single values at the fixpoint
        ref = max(open_refs, key=lambda r: domains[r][1] - domains[r][0])
        lo, hi = domains[ref]
        middle = (lo + hi) // 2
        return self._feasible({**domains, ref: (lo, middle)}, ref) or self._feasible(
            {**domains, ref: (middle + 1, hi)}, ref
        )

    def component(self, ref):
        refs, todo, rows = {ref}, [ref], set()
        while todo:
            for index in self.rows_of[todo.pop()]:
                rows.add(index)
                for other, _ in self.rows[index][0]:
                    if other not in refs:
                        refs.add(other)
                        todo.append(other)
        return {r: self.domains[r] for r in refs}, rows

    def possible_range(self, ref) -> tuple[int, int]:
        """Smallest and largest integer values of a hidden cell given all published figures."""
        domains, rows = self.component(ref)
        assert self._propagate(domains, rows)

        def feasible(lo, hi):
            return self._feasible({**domains, ref: (lo, hi)}, ref)

        lo, hi = domains[ref]
        while lo < hi:  # smallest value with a solution at or below it
            middle = (lo + hi) // 2
            lo, hi = (lo, middle) if feasible(lo, middle) else (middle + 1, hi)
        low, hi = lo, domains[ref][1]
        while lo < hi:  # largest value with a solution at or above it
            middle = (lo + hi + 1) // 2
            lo, hi = (middle, hi) if feasible(middle, hi) else (lo, middle - 1)
        return low, lo


MONTHS = ("2026-07", "2026-08", "2026-09")
GENDERS = ("female", "male")
THEMES = ("email", "sante", "banque", "demarches", "bureautique")
RESIDENTS = 28


def resident_age(resident):
    return AGES[resident % len(AGES)]


def resident_gender(resident):
    return GENDERS[(resident // len(AGES)) % 2]


def synthetic_report(accompaniments) -> Report:
    """The tables of a scope, from (resident, month, themes) accompaniments."""
    months = Counter(month for _, month, _ in accompaniments)
    ages = Counter((resident_age(r), resident_gender(r)) for r, _, _ in accompaniments)
    themes = Counter(theme for _, _, chosen in accompaniments for theme in chosen)
    residents = Counter(resident_gender(r) for r in {r for r, _, _ in accompaniments})
    return Report(
        [
            Table("by_month", "month", months, categories={"month": MONTHS}),
            Table(
                "by_age_gender",
                ("age_band", "gender"),
                ages,
                categories={"age_band": AGES, "gender": GENDERS},
            ),
            Table(
                "by_theme",
                "theme",
                themes,
                total=len(accompaniments),
                categories={"theme": THEMES},
                multiple={"theme"},
            ),
            Table(
                "residents_by_gender",
                "gender",
                residents,
                categories={"gender": GENDERS},
                additive_over_parts=False,
            ),
        ],
        links=shared_total("by_month", "by_age_gender", "by_theme"),
    )


def true_values(published: ProtectedReport, declared: dict) -> dict:
    """Every published cell's true value, merges applied, computed from the raw tables."""
    truth = {}
    for part, report in {None: published, **published.parts}.items():
        for table in report.tables.values():
            raw = declared[part].table(table.name)
            merged = {member: m.code for m in table.merges for member in m.members}
            for key in table.cells:
                truth[(part, table.name, key)] = sum(
                    value
                    for raw_key, value in raw.counts.items()
                    if tuple(code if code == TOTAL else merged.get(code, code) for code in raw_key)
                    == key
                )
    return truth


accompaniment = st.tuples(
    st.integers(0, RESIDENTS - 1),
    st.sampled_from(MONTHS),
    st.frozensets(st.sampled_from(THEMES), min_size=1, max_size=2),
)
families = st.lists(st.lists(accompaniment, max_size=40), min_size=1, max_size=3)
small_families = st.lists(st.lists(accompaniment, max_size=24), min_size=1, max_size=2)
# Hidden cells linked to the searched one beyond which the exhaustive search takes seconds.
EXHAUSTIVE_LIMIT = 60
SYNTHETIC_MERGES = {
    "age_band": AGE_BAND_MERGES,
    "theme": MergeRule(other_code="autres", other_label="Autres thèmes"),
}


def publish(structures, **options):
    """Protect a network of these structures (or one structure), as the reports app would."""
    parts = {f"s{i}": synthetic_report(accs) for i, accs in enumerate(structures)}
    if len(parts) == 1:
        top, hierarchy = parts["s0"], {}
    else:
        top, hierarchy = synthetic_report([a for accs in structures for a in accs]), parts
    published = protect(top, hierarchy=hierarchy, merges=SYNTHETIC_MERGES, **options)
    size = sum(len(accs) for accs in structures)
    attacker = Attacker(published, top, big=10 * (size + published.k))
    truth = true_values(published, {None: top, **hierarchy})
    attacker.check(truth)  # the attacker's deductions are sound
    return published, attacker, truth


def primary_refs(attacker, published, truth):
    """The hidden cells the guarantee covers: counts from 1 to k - 1, and zeros when
    suppress_zeros. A zero hidden only because its table's total is below k is shown as
    "< k" too, but it singles out no one (it would have been published otherwise)."""
    return [
        ref
        for ref, (_, hi) in attacker.domains.items()
        if hi < attacker.k and (truth[ref] > 0 or published.suppress_zeros)
    ]


def assert_certified(published, attacker, truth):
    """Each cell below k takes values min_width apart in two tables the attacker cannot rule out.

    The two tables come from the module's audit; they are checked here against the attacker's
    own equations, so a mistake in the module's model of the publication would show.
    """
    exposures = audit(published)
    for ref in primary_refs(attacker, published, truth):
        low_table, high_table = exposures[ref].witnesses
        for witness in (low_table, high_table):
            attacker.check({**truth, **witness})
        assert high_table[ref] - low_table[ref] >= published.min_width, ref


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structures=families, k=st.sampled_from([5, 11]))
def test_every_hidden_cell_keeps_two_possible_values(structures, k):
    published, attacker, truth = publish(structures, k=k)

    assert_certified(published, attacker, truth)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structures=families)
def test_every_hidden_cell_keeps_two_possible_values_when_zeros_are_hidden(structures):
    published, attacker, truth = publish(structures, k=5, suppress_zeros=True)

    assert_certified(published, attacker, truth)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structures=families)
def test_every_hidden_cell_keeps_a_range_of_min_width(structures):
    published, attacker, truth = publish(structures, k=11, min_width=3)

    assert_certified(published, attacker, truth)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structures=small_families, k=st.sampled_from([5, 11]))
def test_an_exhaustive_attacker_recovers_no_hidden_cell(structures, k):
    published, attacker, truth = publish(structures, k=k)
    exposures = audit(published)

    for ref in primary_refs(attacker, published, truth):
        if len(attacker.component(ref)[0]) > EXHAUSTIVE_LIMIT:
            continue  # too long to search; the certificates above cover it
        low, high = attacker.possible_range(ref)
        assert high - low >= 1, f"{ref} recovered: {low}..{high}"
        assert exposures[ref].low <= low and high <= exposures[ref].high


def test_a_structure_without_activity_next_to_one_with_a_few_people_when_zeros_are_hidden():
    # Found by hypothesis: repairs of one round grew a component that a later repair of the
    # same round still saw without them, and gave up.
    busy = [(25, "2026-07", frozenset(["email"]))] + [(0, "2026-07", frozenset(["email"]))] * 6

    published, attacker, truth = publish([busy, []], k=5, suppress_zeros=True)

    assert_certified(published, attacker, truth)


def test_the_attacker_does_recover_cells_of_a_naive_publication():
    # The attacker is not toothless: with the structures protected one by one instead of
    # together, the network's figure minus the other structures' gives a hidden cell back.
    def report(justice, email):
        return Report([one_way("by_theme", {"justice": justice, "email": email})])

    parts = {"a": report(3, 40), "b": report(15, 30), "c": report(20, 50)}
    network = report(38, 120)
    naive = ProtectedReport(
        tables=protect(network, merges=NO_MERGES).tables,
        merges=(),
        parts={name: protect(part, merges=NO_MERGES) for name, part in parts.items()},
        k=11,
        suppress_zeros=False,
        min_width=1,
    )
    attacker = Attacker(naive, network, big=1000)

    assert attacker.possible_range(("a", "by_theme", ("justice",))) == (3, 3)
