"""Disclosure audit: an attacker of the published (anonymised) reports.

Written apart from the protection (`reports.protect`): it reads only what a funder gets (the
CSV exports and archives) and what is public about how each table is computed (the
declarations of `reports.indicators`: `TABLES`, `DIMENSIONS`, `DISTINCT_UNITS`, `SAME_COUNTS`;
`reports.publish.FIGURE_CELLS` and `public_method()`). Four steps, in this order:

1. **parse**: every published CSV of a scope for a year (a network and its structures, every
   closed month, quarter and the year), live exports and archived versions, read with the csv
   module (`Publication`, `parse_csv`);
2. **variables and constraints** (`build_system`): one variable per true count, identified as
   (unit, filter, scope, period), so that two published cells counting the same thing are one
   variable; the relations of the declarations (tables add up to their parent, multi-valued
   tables bound it, months add up to quarters, structures to their network…); the bounds
   each published value or mark gives;
3. **solve** (`solve`): the smallest and largest value of every hidden count of people, by
   linear programming (scipy HiGHS), component by component: integer bound propagation
   first (`propagate`), then a few "witness" solutions, so that only the cells still
   undecided get their own two programmes;
4. **verdicts** (`Audit`): a cell is recovered "exact" or "within ±2", and attributed to the
   cheapest attack family that recovers it (its own report, the periods of its scope, the
   scopes of its period, everything combined); two versions of one report that differ are a
   finding of their own ("versions").

The attack is a linear relaxation tightened by integer propagation: an integer search could
sometimes narrow a range further, so what it finds is a lower bound of what an attacker can
do. Where the CSVs come from (database, folder) is at the end of the module.
"""

from __future__ import annotations

import csv
import io
import math
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from reports.indicators import (
    AT_LEAST_SUM_OVER_TIME,
    DIMENSIONS,
    DISTINCT_FIGURES,
    DISTINCT_UNITS,
    SAME_COUNTS,
    TABLES,
    UNPROTECTED_FIGURES,
)
from reports.publish import FIGURE_CELLS, public_method

TOTAL = "total"
NETWORK, STRUCTURE = "network", "structure"

#: Attack families, from the cheapest to the most demanding.
WITHIN_REPORT, PERIODS, SCOPES, COMBINED, VERSIONS = (
    "within report",
    "periods",
    "scopes",
    "combined",
    "versions",
)
FAMILIES = (WITHIN_REPORT, PERIODS, SCOPES, COMBINED)

#: Declared with the tables (reports.indicators): new residents over time and over scopes.
AT_LEAST_PARTS_OVER_TIME = AT_LEAST_SUM_OVER_TIME
DISTINCT_OVER_SCOPES = DISTINCT_UNITS | DISTINCT_FIGURES
#: Units that count no one: never protected, left out of the attack.
UNPROTECTED_UNITS = frozenset(
    spec.unit for spec in TABLES.values() if not spec.protected
) | frozenset({"minutes"})

#: Two feasible solutions further apart than this show a cell is not within ±2 (the integer
#: range then spans at least 5 values, whatever the rounding of the real bounds).
WITNESS_GAP = 6.0 + 1e-6
EPS = 1e-6
_INSEE = re.compile(r"^(\d{5}|2[AB]\d{3}|not_given)$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


# --- 1. Parse ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    indicator: str
    dimension: str
    value: float | None  # the published number, None when hidden
    mark: str  # the mark shown instead ("< 11", "s"), "" when published
    may_be_zero: bool | None = None  # when the CSV says (a "may_be_zero" column)


@dataclass
class Publication:
    """One published CSV: a report of a scope for a period, from one source."""

    kind: str  # NETWORK or STRUCTURE
    scope: str  # slug
    period: str  # code: "2026", "2026-Q3", "2026-07"
    source: str  # "export", "archive #12", a file name
    rows: list[Row]
    content: bytes = b""  # the file as published (to write it out again)

    @property
    def report(self) -> tuple[str, str, str]:
        return (self.kind, self.scope, self.period)


def _unquote(text: str) -> str:
    # exports.safe_text: a leading apostrophe neutralises a formula start.
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r\n":
        return text[1:]
    return text


def _number(text: str) -> float | None:
    try:
        return float(int(text))
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_csv(content: bytes | str) -> list[Row]:
    """The rows of a published CSV (columns indicator, dimension, value, suppressed; any
    other column, e.g. a label, is ignored, but for "may_be_zero": whether a "< k" may
    stand for 0). Raises ValueError when a column is missing."""
    if isinstance(content, bytes | memoryview):
        content = bytes(content).decode("utf-8-sig")
    else:
        content = content.removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(content))
    missing = {"indicator", "dimension", "value"} - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"colonnes manquantes : {', '.join(sorted(missing))}")
    rows = []
    for record in reader:
        text = _unquote((record.get("value") or "").strip())
        suppressed = (record.get("suppressed") or "").strip().lower() in ("true", "1", "oui")
        value = None if suppressed else _number(text)
        zero = (record.get("may_be_zero") or "").strip().lower()
        rows.append(
            Row(
                indicator=_unquote((record.get("indicator") or "").strip()),
                dimension=_unquote((record.get("dimension") or "").strip()),
                value=value,
                mark="" if value is not None else text,
                may_be_zero={"true": True, "false": False}.get(zero),
            )
        )
    return rows


# --- Periods ----------------------------------------------------------------------------------


def period_parts(code: str) -> list[str]:
    """The periods a period is the union of: a quarter's months, a year's quarters."""
    if match := _QUARTER.match(code):
        year, quarter = int(match[1]), int(match[2])
        return [f"{year}-{3 * (quarter - 1) + m:02d}" for m in (1, 2, 3)]
    if match := _YEAR.match(code):
        return [f"{code}-Q{q}" for q in (1, 2, 3, 4)]
    return []


def year_months(code: str) -> list[str]:
    return [f"{code}-{m:02d}" for m in range(1, 13)] if _YEAR.match(code) else []


# --- 2. Variables and constraints -------------------------------------------------------------

#: A true count: (unit, filter, (scope kind, scope slug), period code); the filter is a sorted
#: tuple of (dimension, code).
Key = tuple


def _canonical(unit: str, filt: Iterable[tuple[str, str]]) -> tuple[str, tuple]:
    """The same count named once: SAME_COUNTS (an individual session is one accompaniment)."""
    filt = set(filt)
    for (unit_a, dim_a, code_a), (unit_b, dim_b, code_b) in SAME_COUNTS:
        if unit == unit_a and (dim_a, code_a) in filt:
            unit = unit_b
            filt = (filt - {(dim_a, code_a)}) | {(dim_b, code_b)}
    return unit, tuple(sorted(filt))


def table_parent(table: str) -> tuple[str, tuple]:
    """(unit, filter) of the count a table's total equals (`spec.total`)."""
    spec = TABLES[table]
    if "." in spec.total:
        other, code = spec.total.split(".", 1)
        return table_cell(other, code)
    return spec.unit, ()


def table_cell(table: str, code: str) -> tuple[str, tuple]:
    unit, filt = table_parent(table)
    return _canonical(unit, (*filt, (DIMENSIONS[table], code)))


def _figure_root(figure: str) -> tuple[str, tuple] | None:
    """A figure that some table's total equals: that table's parent count."""
    for key, spec in TABLES.items():
        if spec.total == figure:
            return table_parent(key)
    return None


def figure_cell(figure: str) -> tuple[str, tuple] | None:
    """(unit, filter) of a figure; None for figures that are no count of a table cell
    (minutes, places, sums of several cells)."""
    if figure in UNPROTECTED_FIGURES:
        return None
    target = FIGURE_CELLS.get(figure)
    if target is None:
        return None
    table, code = target
    if table in TABLES:
        return table_parent(table) if code == TOTAL else table_cell(table, code)
    root = _figure_root(figure)
    if root is not None:
        return root
    # A figure of its own (named participants, new residents): its own unit.
    return figure, ()


def pseudo_tables() -> dict[str, list[str]]:
    """{figure: [figures that add up to it]} from FIGURE_CELLS entries naming a figure as
    their table (workshop participants = named + anonymous)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for figure, (table, code) in FIGURE_CELLS.items():
        if table not in TABLES and table in FIGURE_CELLS and code != TOTAL and table != figure:
            groups[table].append(figure)
    return dict(groups)


def is_opaque(table: str, code: str) -> bool:
    """A category that is not one of the declared codes (a merged bucket: "18-39",
    "autres_themes", "autres_communes"): what it holds may differ from period to period."""
    spec = TABLES[table]
    if spec.codes is not None:
        return code not in spec.codes
    if DIMENSIONS[table] == "commune":
        return not _INSEE.match(code)
    return False


@dataclass
class Observation:
    """What one published row says of a variable."""

    var: int
    report: tuple
    low: float
    high: float
    hidden: bool
    mark: str
    row: Row


@dataclass
class Constraint:
    """Σ coef·x (≤ or =) rhs, with the attack family it belongs to: ("report", report),
    ("periods", scope) or ("scopes", period)."""

    coefs: dict[int, float]
    sense: str  # "=" or "<="
    rhs: float
    origin: tuple


@dataclass
class System:
    keys: list[Key] = field(default_factory=list)
    index: dict[Key, int] = field(default_factory=dict)
    constraints: list[Constraint] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    opaque: set[int] = field(default_factory=set)
    protected: set[int] = field(default_factory=set)
    # (kind, scope, period) → {(indicator, dimension): var}
    report_cells: dict[tuple, dict[tuple, int]] = field(default_factory=dict)

    def var(self, key: Key, opaque: bool = False) -> int:
        if key not in self.index:
            self.index[key] = len(self.keys)
            self.keys.append(key)
            if key[0] not in UNPROTECTED_UNITS:
                self.protected.add(self.index[key])
        if opaque:
            self.opaque.add(self.index[key])
        return self.index[key]

    def add(self, coefs: dict[int, float], sense: str, rhs: float, origin: tuple) -> None:
        coefs = {v: c for v, c in coefs.items() if c}
        if coefs:
            self.constraints.append(Constraint(coefs, sense, rhs, origin))


@dataclass(frozen=True)
class Family:
    """The scopes audited together: a network (or None) and its structures' slugs, and for
    each structure the names of its places (to read a network's place rows)."""

    network: str | None
    structures: tuple[str, ...]


class _Builder:
    def __init__(
        self, publications: list[Publication], family: Family, k: int, d: float, conservative
    ):
        self.conservative = conservative
        self.pubs = publications
        self.family = family
        self.k = k
        self.d = d
        self.primary = f"< {k}"
        self.s = System()
        self.place_owner = self._place_owners()

    def _place_owners(self) -> dict[str, str]:
        """{place name: structure slug} for names listed by exactly one structure."""
        owners: dict[str, set[str]] = defaultdict(set)
        for pub in self.pubs:
            if pub.kind != STRUCTURE:
                continue
            for row in pub.rows:
                if row.indicator == "accompaniments_by_place" and row.dimension != TOTAL:
                    owners[row.dimension].add(pub.scope)
        return {name: next(iter(s)) for name, s in owners.items() if len(s) == 1}

    # The key of a published row.
    def key_of(self, pub: Publication, row: Row) -> tuple[Key, bool] | None:
        scope, period = (pub.kind, pub.scope), pub.period
        if row.dimension == "":
            cell = figure_cell(row.indicator)
            if cell is None:
                return None
            return (*cell, scope, period), False
        table = row.indicator
        if table not in TABLES or TABLES[table].unit in UNPROTECTED_UNITS:
            return None
        if row.dimension == TOTAL:
            return (*table_parent(table), scope, period), False
        dim = DIMENSIONS[table]
        if dim == "month":
            # A month of a trend: the total of its unit in that month's report.
            return (*table_parent(table), scope, row.dimension), False
        if dim == "place":
            # A place is its structure's: the same count in the network's report.
            owner = self.place_owner.get(row.dimension)
            if owner is not None:
                scope = (STRUCTURE, owner)
        return (*table_cell(table, row.dimension), scope, period), is_opaque(table, row.dimension)

    def build(self) -> System:
        s = self.s
        for pub in self.pubs:
            cells: dict[tuple, int] = {}
            for row in pub.rows:
                found = self.key_of(pub, row)
                if found is None:
                    continue
                key, opaque = found
                var = s.var(key, opaque)
                if (row.indicator, row.dimension) in cells:
                    # Two rows with the same label (places of the same name): a row of its own.
                    key = (key[0], (*key[1], ("duplicate", str(len(cells)))), key[2], key[3])
                    var = s.var(key, True)
                cells[(row.indicator, row.dimension)] = var
            s.report_cells[pub.report] = cells
            self._report(pub, cells)
        self._over_time()
        self._over_scopes()
        return s

    # --- Within one report
    def _bounds(self, row: Row, zeros: set[str], small: set[tuple]) -> tuple[float, float]:
        if row.value is not None:
            low, high = row.value - self.d, row.value + self.d
            if self.d and row.value >= self.k:
                low = max(low, self.k)
            return max(0.0, low), high
        if row.mark == self.primary:
            # "< k" stands for up to k − 1 + D: a count whose perturbation takes it below k
            # is hidden too (reports.protect, rule 3).
            high = self.k - 1.0 + self.d
            if row.may_be_zero is not None and not self.conservative:
                return (0.0 if row.may_be_zero else 1.0), high
            if self.conservative or self._zeros_hidden(row, zeros, small):
                return 0.0, high
            return 1.0, high
        if row.mark == "s":
            return float(self.k), math.inf
        return 0.0, math.inf

    def _zeros_hidden(self, row: Row, zeros: set[str], small: set[tuple]) -> bool:
        """Whether a "< k" may stand for 0. The CSV does not say which tables hide their
        zeros (the protection hides them in tables with a small total, and sometimes
        elsewhere, and a table with a small total may still show one of its cells as 0), so
        "< k" is read as 0 to k−1 unless its table publishes a 0 in the same report and its
        total is not "< k" itself: zeros are then published there, and "< k" means 1 to
        k−1."""
        if row.dimension == "":
            table, code = FIGURE_CELLS.get(row.indicator, ("", ""))
            if table in TABLES:
                return self._zeros_hidden(Row(table, code, None, row.mark), zeros, small)
            return True
        table = row.indicator
        if row.dimension == TOTAL and "." in TABLES[table].total:
            table = TABLES[table].total.split(".", 1)[0]  # the total is a cell of that table
        return table not in zeros or (table, TOTAL) in small

    def _report(self, pub: Publication, cells: dict) -> None:
        s, origin = self.s, ("report", pub.report)
        zeros = {r.indicator for r in pub.rows if r.value == 0 and r.dimension not in ("", TOTAL)}
        small = {(r.indicator, r.dimension) for r in pub.rows if r.mark == self.primary}
        for row in pub.rows:
            var = cells.get((row.indicator, row.dimension))
            if var is None:
                continue
            low, high = self._bounds(row, zeros, small)
            s.observations.append(
                Observation(var, pub.report, low, high, row.value is None, row.mark, row)
            )
        by_table: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for (indicator, dimension), var in cells.items():
            if indicator in TABLES and dimension not in ("", TOTAL):
                by_table[indicator].append((dimension, var))
        for table, rows in by_table.items():
            spec = TABLES[table]
            parent = s.var((*table_parent(table), (pub.kind, pub.scope), pub.period))
            if spec.additive:
                coefs: dict[int, float] = defaultdict(float)
                for _code, var in rows:
                    coefs[var] += 1
                coefs[parent] -= 1
                s.add(coefs, "=", 0, origin)
                continue
            # Multi-valued: each unit in at least one cell, "not_given" in no other.
            coefs = defaultdict(float)
            for _code, var in rows:
                coefs[var] -= 1
            coefs[parent] += 1
            s.add(coefs, "<=", 0, origin)
            real = [(code, var) for code, var in rows if var not in s.opaque]
            not_given = next((var for code, var in real if code == "not_given"), None)
            for code, var in real:
                s.add({var: 1, parent: -1}, "<=", 0, origin)
                if not_given is not None and code != "not_given":
                    s.add({var: 1, not_given: 1, parent: -1}, "<=", 0, origin)
        scope, period = (pub.kind, pub.scope), pub.period
        for total, parts in pseudo_tables().items():
            whole = figure_cell(total)
            if whole is None or (total, "") not in cells:
                continue
            coefs = {s.var((*whole, scope, period)): -1.0}
            for part in parts:
                cell = figure_cell(part)
                if cell is not None:
                    coefs[s.var((*cell, scope, period))] = 1.0
            s.add(coefs, "=", 0, origin)
        new, residents = figure_cell("new_residents"), figure_cell("residents")
        if new and residents and ("new_residents", "") in cells:
            s.add(
                {s.var((*new, scope, period)): 1, s.var((*residents, scope, period)): -1},
                "<=",
                0,
                origin,
            )

    # --- Identities between reports
    def _relate(self, whole: int, parts: list[int], how: str, origin: tuple) -> None:
        """A count and the counts of its parts (months of a quarter, structures of a
        network): "sum" whole = Σ parts; "distinct" each part ≤ whole ≤ Σ parts (distinct
        people); "at_least_parts" Σ parts ≤ whole; "each_at_most" each part ≤ whole."""
        s = self.s
        if how in ("distinct", "each_at_most"):
            for part in parts:
                s.add({part: 1.0, whole: -1.0}, "<=", 0, origin)
        if how == "distinct":
            s.add({**dict.fromkeys(parts, -1.0), whole: 1.0}, "<=", 0, origin)
        elif how == "at_least_parts":
            s.add({**dict.fromkeys(parts, 1.0), whole: -1.0}, "<=", 0, origin)
        elif how == "sum":
            s.add({**dict.fromkeys(parts, 1.0), whole: -1.0}, "=", 0, origin)

    def _over_time(self) -> None:
        s = self.s
        reports = {(pub.kind, pub.scope, pub.period) for pub in self.pubs}
        for key in list(s.keys):
            unit, filt, scope, period = key
            var = s.index[key]
            if var in s.opaque:
                continue
            if unit in DISTINCT_UNITS:
                how, partial = "distinct", "each_at_most"
            elif unit in AT_LEAST_PARTS_OVER_TIME:
                how, partial = "at_least_parts", "at_least_parts"
            else:
                how, partial = "sum", "at_least_parts"
            for parts in (period_parts(period), year_months(period)):
                present = [p for p in parts if (*scope, p) in reports]
                if not present:
                    continue
                part_vars = [s.var((unit, filt, scope, p)) for p in present]
                # Some parts not published: only what the published ones bound.
                whole = len(present) == len(parts)
                self._relate(var, part_vars, how if whole else partial, ("periods", scope))

    def _over_scopes(self) -> None:
        s = self.s
        if self.family.network is None:
            return
        network = (NETWORK, self.family.network)
        reports = {(pub.kind, pub.scope, pub.period) for pub in self.pubs}
        for key in list(s.keys):
            unit, filt, scope, period = key
            if scope != network:
                continue
            var = s.index[key]
            if any(dim == "duplicate" for dim, _code in filt):
                continue
            structures = list(self.family.structures)
            if not all((STRUCTURE, slug, period) in reports for slug in structures):
                continue
            if var in s.opaque and not all(
                (unit, filt, (STRUCTURE, slug), period) in s.index for slug in structures
            ):
                continue
            parts = [s.var((unit, filt, (STRUCTURE, slug), period)) for slug in structures]
            how = "distinct" if unit in DISTINCT_OVER_SCOPES else "sum"
            self._relate(var, parts, how, ("scopes", period))


def build_system(
    publications: list[Publication],
    family: Family,
    *,
    k: int | None = None,
    d: float | None = None,
    conservative: bool = False,
) -> System:
    """The linear system over the true counts of `publications` (one per report: see
    `pick_versions`). `k` and `d` (largest perturbation) default to `public_method()`;
    `conservative` reads every "< k" as 0 to k−1."""
    method = public_method()
    k = method["k"] if k is None else k
    d = method["max_perturbation"] if d is None else d
    return _Builder(publications, family, k, d, conservative).build()


# --- Versions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionFinding:
    """A closed period republished differently: the same row, two values."""

    report: tuple
    indicator: str
    dimension: str
    first: str
    second: str
    sources: tuple[str, str]


def _shown(row: Row) -> str:
    if row.value is None:
        return row.mark
    return f"{row.value:g}"


def pick_versions(
    publications: list[Publication],
) -> tuple[list[Publication], list[VersionFinding]]:
    """One publication per report (the first given: the live export, or the first file) for
    the linear system, and every row another version of that report shows differently."""
    main: dict[tuple, Publication] = {}
    findings = []
    for pub in publications:
        if pub.report not in main:
            main[pub.report] = pub
            continue
        first = main[pub.report]
        before = {(r.indicator, r.dimension): r for r in first.rows}
        for row in pub.rows:
            other = before.get((row.indicator, row.dimension))
            if other is not None and _shown(other) != _shown(row):
                findings.append(
                    VersionFinding(
                        pub.report,
                        row.indicator,
                        row.dimension,
                        _shown(other),
                        _shown(row),
                        (first.source, pub.source),
                    )
                )
    return list(main.values()), findings


# --- 3. Solve ---------------------------------------------------------------------------------


@dataclass
class Range:
    low: float
    high: float
    solved: bool = True  # False: only shown wide by witnesses (low/high are seen values)

    @property
    def integer(self) -> tuple[int, float]:
        low = math.ceil(self.low - EPS)
        high = math.floor(self.high + EPS) if math.isfinite(self.high) else math.inf
        return low, high

    @property
    def exact(self) -> bool:
        low, high = self.integer
        return self.solved and low == high

    @property
    def within2(self) -> bool:
        low, high = self.integer
        return self.solved and high - low <= 4


class Inconsistent(Exception):
    """The published figures contradict the constraints (a wrong assumption of the
    attacker, or versions mixed): the component cannot be solved."""


def _components(free: set[int], rows: list[dict[int, float]]) -> list[tuple[set[int], list[int]]]:
    parent = {v: v for v in free}

    def find(v):
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for coefs in rows:
        vs = [v for v in coefs if v in parent]
        for other in vs[1:]:
            a, b = find(vs[0]), find(other)
            if a != b:
                parent[a] = b
    members: dict[int, set[int]] = defaultdict(set)
    for v in free:
        members[find(v)].add(v)
    cons: dict[int, list[int]] = defaultdict(list)
    for i, coefs in enumerate(rows):
        if coefs:
            cons[find(next(iter(coefs)))].append(i)
    return [(vs, cons.get(root, [])) for root, vs in members.items()]


def solve(
    system: System,
    targets: set[int],
    *,
    constraints: Iterable[Constraint] | None = None,
    observations: Iterable[Observation] | None = None,
    seed: int = 0,
    progress=None,
    stats: dict | None = None,
    exact: bool = True,
) -> dict[int, Range]:
    """The range of each target variable over every real solution of the constraints and
    the bounds the observations give (all of them by default), component by component.

    Witness trick: a few programmes with random objectives give feasible points; a target
    seen at two values more than WITNESS_GAP apart cannot be within ±2 and gets no programme
    of its own (its Range has solved=False). `exact=False`: a target shown within ±2 needs
    no programme to tell whether it is exact. Raises nothing: an inconsistent component's
    targets are left out (and counted in stats["inconsistent"])."""
    constraints = system.constraints if constraints is None else list(constraints)
    observations = system.observations if observations is None else list(observations)
    stats = {} if stats is None else stats
    low: dict[int, float] = defaultdict(float)
    high: dict[int, float] = defaultdict(lambda: math.inf)
    seen_vars: set[int] = set()
    for obs in observations:
        low[obs.var] = max(low[obs.var], obs.low)
        high[obs.var] = min(high[obs.var], obs.high)
        seen_vars.add(obs.var)
    for c in constraints:
        seen_vars.update(c.coefs)
    result: dict[int, Range] = {}
    fixed: dict[int, float] = {}
    for v in seen_vars:
        if low[v] > high[v] + EPS:
            stats["inconsistent"] = stats.get("inconsistent", 0) + 1
            continue
        if high[v] - low[v] < EPS:
            fixed[v] = low[v]
    for v in targets & fixed.keys():
        result[v] = Range(fixed[v], fixed[v])
    # Substitute the fixed variables.
    rows: list[dict[int, float]] = []
    senses: list[str] = []
    rhs: list[float] = []
    for c in constraints:
        coefs, value = {}, c.rhs
        for v, coef in c.coefs.items():
            if v in fixed:
                value -= coef * fixed[v]
            else:
                coefs[v] = coef
        rows.append(coefs)
        senses.append(c.sense)
        rhs.append(value)
    free = {v for v in seen_vars if v not in fixed}
    rng = np.random.default_rng(seed)
    for n, (members, cons) in enumerate(_components(free, rows)):
        wanted = members & targets
        if not wanted:
            continue
        if not cons:  # bound by its own marks only
            result.update({v: Range(low[v], high[v]) for v in wanted})
            continue
        started = time.perf_counter()
        try:
            found, lps = _solve_component(
                sorted(members),
                [rows[i] for i in cons],
                [senses[i] for i in cons],
                [rhs[i] for i in cons],
                low,
                high,
                wanted,
                rng,
                exact,
            )
        except Inconsistent:
            stats["inconsistent"] = stats.get("inconsistent", 0) + len(wanted)
            continue
        result.update(found)
        stats["lps"] = stats.get("lps", 0) + lps
        if progress is not None:
            progress(
                f"composante {n} : {len(members)} variables, {len(cons)} contraintes, "
                f"{len(wanted)} cases visées, {lps} programmes, "
                f"{time.perf_counter() - started:.2f} s"
            )
    return result


def propagate(members, rows, senses, rhs, low, high, sweeps: int = 60) -> tuple[dict, dict]:
    """Integer bounds narrowed by each constraint in turn until nothing moves (the counts
    are whole numbers, so bounds are rounded inwards): cheap outer bounds that settle most
    cells before any linear programme. Raises Inconsistent on an empty range."""
    lo = {v: math.ceil(low[v] - EPS) for v in members}
    hi = {v: (math.floor(high[v] + EPS) if math.isfinite(high[v]) else math.inf) for v in members}
    # Each constraint as Σ a·x ≤ b (an equality gives two).
    le = []
    for coefs, sense, b in zip(rows, senses, rhs, strict=True):
        items = list(coefs.items())
        le.append((items, b))
        if sense == "=":
            le.append(([(v, -a) for v, a in items], -b))
    for _sweep in range(sweeps):
        changed = False
        for items, b in le:
            # The least each term can be; infinite terms counted apart.
            least, infinite, which = 0.0, 0, None
            for v, a in items:
                m = a * lo[v] if a > 0 else (a * hi[v] if math.isfinite(hi[v]) else -math.inf)
                if m == -math.inf:
                    infinite += 1
                    which = v
                else:
                    least += m
            if infinite > 1:
                continue
            for v, a in items:
                if infinite == 1 and v != which:
                    continue
                own = a * lo[v] if a > 0 else (a * hi[v] if math.isfinite(hi[v]) else -math.inf)
                rest = least - (own if own != -math.inf else 0.0)
                bound = (b - rest) / a
                if a > 0:
                    new = math.floor(bound + EPS)
                    if new < hi[v]:
                        hi[v] = new
                        changed = True
                else:
                    new = math.ceil(bound - EPS)
                    if new > lo[v]:
                        lo[v] = new
                        changed = True
                if lo[v] > hi[v]:
                    raise Inconsistent
        if not changed:
            break
    return lo, hi


def _solve_component(members, rows, senses, rhs, low, high, wanted, rng, exact=True):
    plo, phi = propagate(members, rows, senses, rhs, low, high)
    col = {v: i for i, v in enumerate(members)}
    n = len(members)
    eq = [(r, b) for r, s, b in zip(rows, senses, rhs, strict=True) if s == "="]
    ub = [(r, b) for r, s, b in zip(rows, senses, rhs, strict=True) if s != "="]

    def matrix(items):
        if not items:
            return None, None
        data, ii, jj = [], [], []
        for i, (coefs, _b) in enumerate(items):
            for v, c in coefs.items():
                data.append(c)
                ii.append(i)
                jj.append(col[v])
        return (
            sparse.csr_matrix((data, (ii, jj)), shape=(len(items), n)),
            np.array([b for _r, b in items], dtype=float),
        )

    a_eq, b_eq = matrix(eq)
    a_ub, b_ub = matrix(ub)
    bounds = [(plo[v], None if math.isinf(phi[v]) else phi[v]) for v in members]
    lps = 0
    seen_low = dict.fromkeys(wanted, math.inf)
    seen_high = dict.fromkeys(wanted, -math.inf)
    result = {}
    # Settled by propagation alone: pinned to one value.
    for v in wanted:
        if plo[v] == phi[v]:
            result[v] = Range(plo[v], phi[v])
    left = set(wanted) - result.keys()
    if not left:
        return result, lps

    def run(c):
        nonlocal lps
        lps += 1
        res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if res.status == 2:
            raise Inconsistent
        if res.status == 3:
            return None  # unbounded in this direction
        if res.status != 0:
            raise Inconsistent
        for v in left:
            x = res.x[col[v]]
            seen_low[v] = min(seen_low[v], x)
            seen_high[v] = max(seen_high[v], x)
        return res

    def wide(v):
        return seen_high[v] - seen_low[v] > WITNESS_GAP

    def settled(v) -> Range | None:
        """The verdict witnesses and propagation give without a programme of its own:
        not within ±2 (two points far apart), or within ±2 (propagation bounds it to 5
        values) and, when `exact` asks whether it is pinned, not (two points more than 2
        apart)."""
        if wide(v):
            return Range(seen_low[v], seen_high[v], solved=False)
        if phi[v] - plo[v] <= 4 and (not exact or seen_high[v] - seen_low[v] > 2 + EPS):
            return Range(plo[v], phi[v])
        return None

    # Witnesses: the targets all down, all up, then random directions over the undecided
    # ones, as long as a round still settles a few of them.
    c = np.zeros(n)
    for v in left:
        c[col[v]] = 1.0
    run(c)
    run(-c)
    undecided = [v for v in left if settled(v) is None]
    for _round in range(40):
        if not undecided:
            break
        c = np.zeros(n)
        for v in undecided:
            c[col[v]] = rng.choice((-1.0, 1.0))
        run(c)
        still = [v for v in undecided if settled(v) is None]
        progress = len(undecided) - len(still)
        undecided = still
        if progress < max(1, len(undecided) // 50):
            break
    for v in sorted(left):
        if (verdict := settled(v)) is not None:
            result[v] = verdict
            continue
        c = np.zeros(n)
        c[col[v]] = 1.0
        lo = run(c)
        bottom = max(lo.fun, plo[v]) if lo is not None else plo[v]
        if (verdict := settled(v)) is not None:
            result[v] = verdict
            continue
        hi = run(-c)
        top = min(-hi.fun, phi[v]) if hi is not None else phi[v]
        result[v] = Range(bottom, top)
    return result, lps


# --- 4. Verdicts ------------------------------------------------------------------------------


@dataclass
class Recovery:
    """A hidden count of people the attacker narrows to within ±2 (or pins exactly)."""

    var: int
    key: Key
    range: Range
    family: str
    where: list[tuple[tuple, Row]]  # (report, row) of each row that hides it
    true: float | None = None

    @property
    def small(self) -> bool:
        """A count of 1 to 10: its true value when known, else what its range allows."""
        if self.true is not None:
            return 1 <= self.true <= 10
        low, high = self.range.integer
        return high >= 1 and low <= 10


@dataclass
class Audit:
    publications: int
    rows: int
    cells: int
    hidden_rows: int
    attacked: int
    recoveries: list[Recovery]
    versions: list[VersionFinding]
    seconds: float
    lps: int
    inconsistent: int
    conservative: bool

    @property
    def exact(self) -> list[Recovery]:
        return [r for r in self.recoveries if r.range.exact]

    @property
    def small(self) -> list[Recovery]:
        return [r for r in self.recoveries if r.small]

    def by_family(self) -> dict[str, int]:
        counts = dict.fromkeys(FAMILIES, 0)
        for recovery in self.recoveries:
            counts[recovery.family] += 1
        return counts

    @property
    def contradicted(self) -> list[Recovery]:
        """Recovered cells whose true value lies outside their range: a wrong assumption of
        the attacker (a bug of the audit, never of the protection)."""
        return [
            r
            for r in self.recoveries
            if r.true is not None and not r.range.low - 1e-6 <= r.true <= r.range.high + 1e-6
        ]

    @property
    def failed(self) -> bool:
        # Cells the audit could not attack (its equations contradict the published figures)
        # are not shown safe: the verdict is incomplete.
        return bool(self.small or self.versions or self.inconsistent)

    def summary(self) -> str:
        families = self.by_family()
        parts = {
            "reports": self.publications,
            "rows": self.rows,
            "cells": self.cells,
            "hidden": self.hidden_rows,
            "attacked": self.attacked,
            "exact": len(self.exact),
            "within2": len(self.recoveries),
            "small_within2": len(self.small),
            "within_report": families[WITHIN_REPORT],
            "periods": families[PERIODS],
            "scopes": families[SCOPES],
            "combined": families[COMBINED],
            "versions": len(self.versions),
            "inconsistent": self.inconsistent,
            "lps": self.lps,
            "seconds": f"{self.seconds:.1f}",
        }
        return " ".join(f"{key}={value}" for key, value in parts.items())


def _family_subsets(system: System):
    by_origin: dict[tuple, list[Constraint]] = defaultdict(list)
    for c in system.constraints:
        by_origin[c.origin].append(c)
    by_report: dict[tuple, list[Observation]] = defaultdict(list)
    for obs in system.observations:
        by_report[obs.report].append(obs)
    return by_origin, by_report


def attribute(system: System, recovered: set[int]) -> dict[int, str]:
    """The cheapest attack family recovering each cell within ±2: its own report alone, the
    reports of its scope over time with the time identities, the reports of its period over
    the scopes with the scope identities, or only everything combined."""
    by_origin, by_report = _family_subsets(system)
    hidden_in: dict[int, set[tuple]] = defaultdict(set)
    for obs in system.observations:
        if obs.hidden and obs.var in recovered:
            hidden_in[obs.var].add(obs.report)
    family: dict[int, str] = {}
    left = set(recovered)

    def attempt(name: str, groups: dict[tuple, set[int]], select) -> None:
        for group, wanted in groups.items():
            wanted = wanted & left
            if not wanted:
                continue
            constraints, observations = select(group)
            for v, rng in solve(
                system, wanted, constraints=constraints, observations=observations, exact=False
            ).items():
                if rng.within2:
                    family[v] = name
                    left.discard(v)

    def grouped(part) -> dict[tuple, set[int]]:
        groups: dict[tuple, set[int]] = defaultdict(set)
        for v in left:
            for report in hidden_in[v]:
                groups[part(report)].add(v)
        return groups

    attempt(
        WITHIN_REPORT,
        grouped(lambda report: report),
        lambda report: (by_origin[("report", report)], by_report[report]),
    )

    def same(test, identity):
        def select(group):
            reports = [r for r in by_report if test(r, group)]
            constraints = [c for r in reports for c in by_origin[("report", r)]]
            constraints += by_origin[identity(group)]
            return constraints, [o for r in reports for o in by_report[r]]

        return select

    attempt(
        PERIODS,
        grouped(lambda report: report[:2]),
        same(lambda r, scope: r[:2] == scope, lambda scope: ("periods", scope)),
    )
    attempt(
        SCOPES,
        grouped(lambda report: report[2]),
        same(lambda r, period: r[2] == period, lambda period: ("scopes", period)),
    )
    for v in left:
        family[v] = COMBINED
    return family


def run(
    publications: list[Publication],
    family: Family,
    *,
    truth: dict[tuple, dict[tuple, float]] | None = None,
    progress=None,
) -> Audit:
    """The whole attack on `publications` (several versions of a report allowed)."""
    started = time.perf_counter()
    main, versions = pick_versions(publications)
    conservative = False
    system = build_system(main, family)
    targets = {o.var for o in system.observations if o.hidden and o.var in system.protected}
    stats: dict = {}
    ranges = solve(system, targets, progress=progress, stats=stats)
    if stats.get("inconsistent"):
        # The strict reading of "< k" (1 to k−1 where zeros are published) contradicts the
        # figures: read every "< k" as 0 to k−1 and start again.
        if progress is not None:
            progress("incohérence : « < k » relu comme 0 à k−1, nouvelle résolution")
        conservative = True
        system = build_system(main, family, conservative=True)
        stats = {}
        ranges = solve(system, targets, progress=progress, stats=stats)
    recovered = {v for v, rng in ranges.items() if rng.within2}
    families = attribute(system, recovered)
    where: dict[int, list] = defaultdict(list)
    for obs in system.observations:
        if obs.hidden and obs.var in recovered:
            where[obs.var].append((obs.report, obs.row))
    recoveries = []
    for v in sorted(recovered):
        true = None
        for report, row in where[v]:
            values = (truth or {}).get(report, {})
            value = values.get((row.indicator, row.dimension))
            if value is None and row.indicator == "accompaniments_by_place":
                value = values.get((row.indicator, "*"))  # "Hors lieu d'activité"
            if value is not None:
                true = value
                break
        recoveries.append(Recovery(v, system.keys[v], ranges[v], families[v], where[v], true))
    return Audit(
        publications=len(publications),
        rows=sum(len(p.rows) for p in publications),
        cells=len(system.keys),
        hidden_rows=sum(1 for o in system.observations if o.hidden),
        attacked=len(targets),
        recoveries=recoveries,
        versions=versions,
        seconds=time.perf_counter() - started,
        lps=stats.get("lps", 0),
        inconsistent=stats.get("inconsistent", 0),
        conservative=conservative,
    )


# --- Collecting the publications --------------------------------------------------------------


def network_structures(network) -> list:
    """The structures of a network, by slug (a structure may belong to several networks)."""
    from mediation.models import Structure

    return list(Structure.objects.in_network(network).order_by("slug"))


def closed_periods(year: int, today) -> list:
    """The months, quarters and the year of `year` that are closed on `today`
    (`reports.periods.is_closed` when it exists, else ended)."""
    from reports import periods

    is_closed = getattr(periods, "is_closed", None)
    candidates = [periods.Period.of_month(year, m) for m in range(1, 13)]
    candidates += [periods.Period.of_quarter(year, q) for q in range(1, 5)]
    candidates.append(periods.Period.of_year(year))
    if is_closed is not None:
        return [p for p in candidates if is_closed(p, today)]
    return [p for p in candidates if p.end <= today]


def scopes_of(obj) -> tuple[Family, list[tuple[str, object]]]:
    """The family audited for a network (with its structures) or a lone structure, and
    [(kind, object)] of its reports."""
    from mediation.models import Network

    if isinstance(obj, Network):
        structures = network_structures(obj)
        family = Family(obj.slug, tuple(s.slug for s in structures))
        return family, [(NETWORK, obj)] + [(STRUCTURE, s) for s in structures]
    return Family(None, (obj.slug,)), [(STRUCTURE, obj)]


def collect_database(scopes: list[tuple[str, object]], periods: list) -> list[Publication]:
    """The live anonymised CSV export of every scope and period, then every archived CSV of
    them (older versions)."""

    from reports import publish, services
    from reports.models import ReportArchive, ReportFormat

    publications = []
    with publish.batch():
        for kind, obj in scopes:
            for period in periods:
                content, _name = services.report_export(scope=obj, period=period, fmt="csv")
                publications.append(
                    Publication(kind, obj.slug, period.code, "export", parse_csv(content), content)
                )
    codes = {p.code for p in periods}
    for kind, obj in scopes:
        archives = ReportArchive.objects.filter(
            format=ReportFormat.CSV, period__in=codes, **{kind: obj}
        ).order_by("created_at", "pk")
        for archive in archives:
            publications.append(
                Publication(
                    kind,
                    obj.slug,
                    archive.period,
                    f"archive #{archive.pk}",
                    parse_csv(bytes(archive.content)),
                    bytes(archive.content),
                )
            )
    return publications


def truth_of(scopes: list[tuple[str, object]], periods: list) -> dict[tuple, dict[tuple, float]]:
    """The exact value of each published row (by report, then (indicator, dimension)), to
    tell which recovered cells are small. Never used by the attack."""
    from reports.indicators import compute

    truth: dict[tuple, dict[tuple, float]] = {}
    for kind, obj in scopes:
        for period in periods:
            exact = compute(obj, period)
            values: dict[tuple, float] = {}
            for key, value in exact["figures"].items():
                values[(key, "")] = value
            for key, table in exact["tables"].items():
                values[(key, TOTAL)] = table["total"]
                for code, value in table["cells"].items():
                    if key == "accompaniments_by_place":
                        code = exact["places"].get(code, {}).get("name", code)
                    values[(key, code)] = value
            no_place = exact["tables"]["accompaniments_by_place"]["cells"].get("no_place")
            values[("accompaniments_by_place", "*")] = no_place
            truth[(kind, obj.slug, period.code)] = values
    return truth


#: --csv-dir: files "bilan-<scope slug>-<period code>.csv"; another version of the same
#: report "bilan-<slug>-<code>.<anything>.csv"; a network's structures listed in
#: "structures.csv" (columns network, structure: slugs).
_FILE = re.compile(r"^(\d{4}-Q[1-4]|\d{4}-\d{2}|\d{4})(\.[^/]+)?\.csv$")
MANIFEST = "structures.csv"


def read_manifest(directory) -> dict[str, list[str]]:
    from pathlib import Path

    path = Path(directory) / MANIFEST
    networks: dict[str, list[str]] = defaultdict(list)
    if path.exists():
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for record in csv.DictReader(handle):
                networks[record["network"].strip()].append(record["structure"].strip())
    return dict(networks)


def collect_directory(directory, family: Family, year: int) -> list[Publication]:
    """The CSV files of the family's scopes for `year` in `directory` (see _FILE)."""
    from pathlib import Path

    scopes = ([(NETWORK, family.network)] if family.network else []) + [
        (STRUCTURE, slug) for slug in family.structures
    ]
    publications = []
    files = sorted(Path(directory).glob("bilan-*.csv"), key=lambda p: (len(p.name), p.name))
    for kind, slug in scopes:
        prefix = f"bilan-{slug}-"
        for path in files:
            if not path.name.startswith(prefix):
                continue
            match = _FILE.match(path.name[len(prefix) :])
            if match is None or not match[1].startswith(str(year)):
                continue
            content = path.read_bytes()
            publications.append(
                Publication(kind, slug, match[1], path.name, parse_csv(content), content)
            )
    return publications


def write_directory(directory, publications: list[Publication], family: Family) -> None:
    """Write the publications (and the manifest) as --csv-dir reads them back: the first
    version of a report "bilan-<slug>-<code>.csv", the next ones "….v2.csv", …"""
    from pathlib import Path

    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    versions: dict[tuple, int] = defaultdict(int)
    for pub in publications:
        versions[pub.report] += 1
        n = versions[pub.report]
        suffix = f".v{n}" if n > 1 else ""
        (path / f"bilan-{pub.scope}-{pub.period}{suffix}.csv").write_bytes(pub.content)
    if family.network:
        with (path / MANIFEST).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["network", "structure"])
            for slug in family.structures:
                writer.writerow([family.network, slug])
