"""Statistical disclosure control for the count tables sent to funders.

Pure Python, no ORM and no third-party package: the report code computes its figures with SQL,
wraps them in :class:`Table` and :class:`Report` objects and calls :func:`protect`; what
:func:`protect` returns is the only thing an export or a funder's view may show.
``docs/anonymisation.md`` explains the method for developers; this docstring is the reference.

Model
=====
A **report** is a set of named **tables**. A table breaks a population (accompaniments,
residents, sessions…) down along one or more **dimensions** (``theme``; ``age_band`` ×
``gender``); its cells are keyed by one category code per dimension, and its margins use
:data:`TOTAL` in place of a code: ``("email",)``, ``("<12", "female")``, ``("<12", TOTAL)``,
``(TOTAL, TOTAL)``. Counts are non-negative integers.

A dimension is either a **partition** (each unit falls in exactly one category, so the margin
is the sum of the cells) or **multiple** (each unit falls in *at least one* category, possibly
several: the themes of an accompaniment; the margin is then given, each cell is at most the
margin and the cells add up to at least the margin).

Equations an outsider can read from a publication, all of which :func:`protect` takes into
account:

- the margins of every table (``row total = Σ row``, ``grand total = Σ row totals`` …);
- **links** between tables of a report (:class:`Link`): two cells holding the same quantity,
  typically the shared total of "sessions by month" and "sessions by place type"
  (:func:`shared_total`), or a cell bounded by another (``relation="<="``);
- the **hierarchy**: a network's report is protected together with its structures' reports,
  each cell of the network being the sum of the same cell over the structures (or, for a count
  of distinct people, at least the largest and at most the sum: ``additive_over_parts=False``).

Rules
=====
1. **Merging** (optional, per dimension, :class:`MergeRule`): before anything is hidden,
   neighbouring categories may be merged (age bands into wider bands, rare communes or themes
   into an "autres" bucket). A merge is kept when it raises the number of published cells, or
   leaves it equal and lowers the number of people in hidden cells. Merges are decided per
   group of linked tables, identically in every report of the hierarchy, and reported
   (:class:`Merge`) for the method note.
2. **Threshold** (primary suppression): a count ``0 < n < k`` (``k`` = 11 by default, the
   French official-statistics practice for data on individuals) is hidden and shown as
   ``"< k"``. True zeros are published by default: they single out no one and it is the usual
   practice (INSEE, ATIH and SNDS rules mask counts "from 1 to 10"); ``suppress_zeros=True``
   hides them as well (they are then primary cells shown as ``"< k"``).
3. **Secondary suppression**: further cells (shown as ``"s"``, the INSEE mark for "secret")
   are hidden so that no primary cell can be recomputed from the rest. A fast heuristic makes
   every equation holding a hidden cell safe on its own (each primary cell of the equation keeps
   a range of at least ``min_width``, preferring the smallest cells that do not start new
   chains of suppression); an exact check then solves the whole system of published equations
   (linear programming on exact rationals, :class:`_Simplex`) and hides more cells wherever a
   primary cell is still pinned, until none is.

Guarantee
=========
The attacker knows every published value, every equation above (margins, links, hierarchy),
``k`` and the zero policy, **and which hidden cells are primary** (their value is in
``[1, k-1]``, or ``[0, k-1]`` with ``suppress_zeros`` or in a table whose total is below ``k``)
**and which are secondary** (value ``≥ k``): showing ``"< k"`` and ``"s"`` differently
therefore leaks nothing more. For every count from 1 to ``k - 1`` (and every hidden zero with
``suppress_zeros``), :func:`protect` certifies that two integer tables consistent with all of
that knowledge exist in which the cell differs by at least ``min_width`` (default 1: the cell is
never determined). Both tables are exhibited (optimal vertices of the linear programmes that are
integral, solutions found by a search near the truth, or the true data itself); when it cannot
exhibit them it hides more cells, so the certificate also holds against an attacker solving
integer programmes. (Last resort, when every cell around is hidden already and no integer
solution was found: the cell's range over the reals is checked to be at least ``min_width``.)
Zeros hidden only because their table's total is below ``k`` and
secondary cells carry no guarantee: they single out no one. Not covered: relations between
tables that are not declared, reports of the same scope for
overlapping periods (an anonymised export covers whole months, quarters or years, and a family
must be protected in one call), and an attacker who knows the algorithm's choices.

Percentages (:meth:`ProtectedTable.percent`, :meth:`ProtectedReport.percent`) come from
published counts only and are hidden when their denominator is hidden or below ``k``.
"""

from __future__ import annotations

import enum
import functools
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType

TOTAL = "total"
"""Code used in a key in place of a category for a margin: ``(TOTAL,)``, ``("<12", TOTAL)``."""

DEFAULT_K = 11
SECRET_MARK = "s"

Key = tuple[str, ...]
CellRef = tuple[str, "Key | str"]
"""``(table name, key)``; the key may be :data:`TOTAL` (grand total) or a code (1-D table)."""


class Reason(enum.StrEnum):
    PRIMARY = "primary"  # below the threshold
    SECONDARY = "secondary"  # hidden so that a primary cell cannot be recomputed


class ProtectionError(RuntimeError):
    """The tables could not be protected (should not happen; reported with the context)."""


# --------------------------------------------------------------------------------------------
# Input model
# --------------------------------------------------------------------------------------------


def _as_key(key: Key | str, ndims: int) -> Key:
    if isinstance(key, str):
        if key == TOTAL:
            return (TOTAL,) * ndims
        if ndims != 1:
            raise ValueError(f"key {key!r} needs {ndims} codes")
        return (key,)
    key = tuple(key)
    if len(key) != ndims:
        raise ValueError(f"key {key!r} needs {ndims} codes")
    return key


@dataclass(frozen=True, init=False)
class Table:
    """One breakdown of a population, with its margins.

    ``counts`` maps keys to counts; missing cells are zero. Margins over partition dimensions
    are computed (and checked when given); margins over multiple dimensions must be given
    unless every cell under them is zero. ``total`` is a shortcut for the grand total.
    ``categories`` (``{dimension: codes}``) fixes the order and lists the empty categories;
    without it the order of first appearance in ``counts`` is used.

    ``multiple``: dimensions where a unit may fall in several categories (at least one).
    ``additive_over_parts``: the table of a network is the sum of its structures' tables;
    False for counts of distinct people, who may visit several structures.
    """

    name: str
    dims: tuple[str, ...]
    counts: Mapping[Key, int]
    categories: tuple[tuple[str, ...], ...]
    multiple: frozenset[str]
    additive_over_parts: bool
    # Categories of multiple dimensions that are the sum of several merged categories: such a
    # cell counts mentions and may exceed the margin.
    summed: frozenset[tuple[str, str]]

    def __init__(
        self,
        name: str,
        dims: str | Sequence[str],
        counts: Mapping[Key | str, int],
        *,
        total: int | None = None,
        categories: Mapping[str, Sequence[str]] | None = None,
        multiple: Iterable[str] = (),
        additive_over_parts: bool = True,
        summed: Iterable[tuple[str, str]] = (),
    ) -> None:
        dims = (dims,) if isinstance(dims, str) else tuple(dims)
        if not dims or len(set(dims)) != len(dims):
            raise ValueError(f"table {name!r}: dimensions must be distinct and non-empty")
        n = len(dims)
        given: dict[Key, int] = {}
        for raw_key, value in counts.items():
            key = _as_key(raw_key, n)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"table {name!r}: count {value!r} at {key} is not a count")
            given[key] = value
        if total is not None:
            given[(TOTAL,) * n] = total
        cats: list[list[str]] = []
        for i, dim in enumerate(dims):
            order = list(categories[dim]) if categories and dim in categories else []
            for key in given:
                if key[i] != TOTAL and key[i] not in order:
                    order.append(key[i])
            if TOTAL in order or len(set(order)) != len(order):
                raise ValueError(f"table {name!r}: bad categories for {dim!r}: {order}")
            cats.append(order)
        multiple = frozenset(multiple)
        if not multiple <= set(dims):
            raise ValueError(f"table {name!r}: {sorted(multiple - set(dims))} are not dimensions")

        full: dict[Key, int] = {}
        for key in itertools.product(*cats):
            full[key] = given.get(key, 0)

        def margin(key: Key) -> int:
            if key in full:
                return full[key]
            if key in given:
                full[key] = given[key]
                return full[key]
            free = [i for i, code in enumerate(key) if code == TOTAL]
            for i in free:
                if dims[i] not in multiple:
                    full[key] = sum(margin(key[:i] + (c,) + key[i + 1 :]) for c in cats[i])
                    return full[key]
            # Only multiple dimensions are summed out: the margin cannot be computed, but it is
            # zero when every cell under it is.
            i = free[0]
            if all(margin(key[:i] + (c,) + key[i + 1 :]) == 0 for c in cats[i]):
                full[key] = 0
                return 0
            raise ValueError(f"table {name!r}: margin {key} over a multiple dimension is needed")

        for key in itertools.product(*[[*c, TOTAL] for c in cats]):
            margin(key)
        unknown = set(given) - set(full)
        if unknown:
            raise ValueError(f"table {name!r}: unknown keys {sorted(unknown)}")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "dims", dims)
        object.__setattr__(self, "counts", MappingProxyType(full))
        object.__setattr__(self, "categories", tuple(tuple(c) for c in cats))
        object.__setattr__(self, "multiple", multiple)
        object.__setattr__(self, "additive_over_parts", additive_over_parts)
        object.__setattr__(self, "summed", frozenset(summed))
        # The margins are checked (partition sums, covering inequalities) with the other
        # equations when the report is protected, so that errors name the table and the cell.

    def key(self, key: Key | str) -> Key:
        return _as_key(key, len(self.dims))

    @property
    def total(self) -> int:
        return self.counts[(TOTAL,) * len(self.dims)]


@dataclass(frozen=True)
class Link:
    """Two cells of a report holding the same quantity (``"="``) or ordered (``"<="``)."""

    left: CellRef
    right: CellRef
    relation: str = "="

    def __post_init__(self) -> None:
        if self.relation not in ("=", "<="):
            raise ValueError(f"unknown relation {self.relation!r}")


def shared_total(*tables: str) -> tuple[Link, ...]:
    """Links stating that these tables break down the same total."""
    return tuple(Link((a, TOTAL), (b, TOTAL)) for a, b in itertools.pairwise(tables))


@dataclass(frozen=True)
class Report:
    """The tables of one scope (a place, a structure, a network) and their links."""

    tables: Sequence[Table]
    links: Sequence[Link] = ()

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)


@dataclass(frozen=True)
class Group:
    """A set of neighbouring categories (or smaller groups) that may be merged into one."""

    code: str
    label: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class MergeRule:
    """How the categories of one dimension may be merged before suppression.

    ``groups``: neighbourhoods, possibly nested (a member may be the code of another group).
    ``other_code``/``other_label``: a bucket for rare categories; when ``other_code`` is already
    a category ("other"), rare categories join it. ``keep``: codes never put in the bucket.
    """

    groups: tuple[Group, ...] = ()
    other_code: str | None = None
    other_label: str = "Autres"
    keep: frozenset[str] = frozenset()


AGE_BAND_MERGES = MergeRule(
    groups=(
        Group("<18", "Moins de 18 ans", ("<12", "12-17")),
        Group("18-39", "18-39 ans", ("18-24", "25-39")),
        Group("60+", "60 ans et plus", ("60-69", "70+")),
        Group("40+", "40 ans et plus", ("40-59", "60+")),
    )
)
NOT_GIVEN = "not_given"
"""Category of the units for which a dimension was not filled in: the default rules never merge
it (an "autres communes" holding unknown communes would mean something else)."""

DEFAULT_MERGES: Mapping[str, MergeRule] = MappingProxyType(
    {
        "age_band": AGE_BAND_MERGES,
        # Bucket codes that cannot be an INSEE code, a theme or "not_given".
        "commune": MergeRule(
            other_code="autres_communes",
            other_label="Autres communes",
            keep=frozenset({NOT_GIVEN}),
        ),
        "theme": MergeRule(
            other_code="autres_themes",
            other_label="Autres thèmes",
            keep=frozenset({NOT_GIVEN}),
        ),
    }
)
"""Merges applied when :func:`protect` is called without ``merges``, by dimension name."""


# --------------------------------------------------------------------------------------------
# Output model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Merge:
    """Categories merged into one before suppression (for the method note)."""

    dimension: str
    code: str
    label: str
    members: tuple[str, ...]
    tables: tuple[str, ...]
    # In a multiple dimension the merged cell adds up mentions: an accompaniment with two of
    # the merged themes counts twice.
    mentions: bool = False


@dataclass(frozen=True)
class ProtectedCell:
    table: str
    key: Key
    value: int | None  # None when suppressed
    suppressed: bool
    reason: Reason | None
    label: str  # "42", "< 11" (primary) or "s" (secondary)
    merges: tuple[Merge, ...] = ()  # merges behind the categories of this cell

    @property
    def is_margin(self) -> bool:
        return TOTAL in self.key


@dataclass(frozen=True)
class ProtectedTable:
    name: str
    dims: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...]  # after merging
    cells: Mapping[Key, ProtectedCell]
    merges: tuple[Merge, ...]
    k: int
    # The zeros of this table are hidden too (suppress_zeros, or a total below k): its "< k"
    # cells may be 0.
    zeros_hidden: bool = False

    def cell(self, *key: str) -> ProtectedCell:
        """``cell("email")``, ``cell("<12", "female")``, ``cell(TOTAL)`` for the grand total."""
        if len(key) == 1:
            return self.cells[_as_key(key[0], len(self.dims))]
        return self.cells[tuple(key)]

    @property
    def total(self) -> ProtectedCell:
        return self.cells[(TOTAL,) * len(self.dims)]

    def percent(self, *key: str, of: str = "total") -> float | None:
        """Share of a cell, in %, rounded to 0.1, or None when it may not be shown.

        ``of``: ``"total"`` (grand total), or for a 2-D table ``"row"`` / ``"column"``.
        """
        cell = self.cell(*key)
        if of == "total":
            denominator = self.total
        elif of in ("row", "column") and len(self.dims) == 2:
            i = 1 if of == "row" else 0
            denominator = self.cells[cell.key[:i] + (TOTAL,) + cell.key[i + 1 :]]
        else:
            raise ValueError(f"cannot take a share of {of!r} in table {self.name!r}")
        return _percent(cell, denominator, self.k)

    def __iter__(self) -> Iterator[ProtectedCell]:
        return iter(self.cells.values())


def _percent(cell: ProtectedCell, denominator: ProtectedCell, k: int) -> float | None:
    if cell.value is None or denominator.value is None or denominator.value < k:
        return None
    return round(100 * cell.value / denominator.value, 1)


@dataclass(frozen=True)
class ProtectedReport:
    """What may be published of a report (and, for a network, of its structures)."""

    tables: Mapping[str, ProtectedTable]
    merges: tuple[Merge, ...]
    parts: Mapping[str, ProtectedReport]
    k: int
    suppress_zeros: bool
    min_width: int
    _audit: tuple = field(default=(), repr=False, compare=False)

    def table(self, name: str) -> ProtectedTable:
        return self.tables[name]

    def cells(self) -> Iterator[ProtectedCell]:
        for table in self.tables.values():
            yield from table

    def percent(self, numerator: CellRef, denominator: CellRef) -> float | None:
        """Ratio of two cells of the report, e.g. no-shows over booked appointments."""
        num = self.tables[numerator[0]]
        den = self.tables[denominator[0]]
        return _percent(
            num.cells[_as_key(numerator[1], len(num.dims))],
            den.cells[_as_key(denominator[1], len(den.dims))],
            self.k,
        )

    @property
    def suppressed_count(self) -> int:
        return sum(c.suppressed for c in self.cells())


# --------------------------------------------------------------------------------------------
# Exact linear programming (for the verification and for audit())
# --------------------------------------------------------------------------------------------


def _norm(x: int | Fraction) -> int | Fraction:
    if type(x) is Fraction and x.denominator == 1:
        return x.numerator
    return x


def _div(a: int | Fraction, b: int | Fraction) -> int | Fraction:
    if b == 1:
        return a
    if b == -1:
        return -a
    return _norm(Fraction(a) / b)


class _NumericalTrouble(ArithmeticError):
    pass


class _Simplex:
    """Simplex method on sparse rows, exact (rationals) or in floats.

    Variables ``y_0 … y_{n-1} ≥ 0``; ``rows`` are ``(coefficients, rhs, is_equality)`` meaning
    ``Σ coef·y (= or ≤) rhs``; ``upper`` gives optional upper bounds. The constructor runs
    phase 1 (the systems solved are feasible: the true data satisfies them); every
    :meth:`maximize` then starts from the last basis. Dantzig's rule, switching to Bland's
    (which cannot cycle) while pivots stay degenerate.

    Exact mode keeps ints while values stay integral (they mostly do: the equations are sums)
    and Fractions otherwise: it decides. Float mode is several times faster and only proposes
    solutions, which the caller checks exactly before trusting them. Rows are dicts: the
    equations are sums over a few cells, and so stay the tableau rows, mostly.
    """

    EPS = 1e-9

    def __init__(
        self,
        n: int,
        rows: Sequence[tuple[Mapping[int, int], int, bool]],
        upper: Sequence[int | None],
        *,
        exact: bool = True,
    ) -> None:
        self.exact = exact
        self.eps = 0 if exact else self.EPS
        num = int if exact else float
        cons = list(rows) + [({j: 1}, u, False) for j, u in enumerate(upper) if u is not None]
        n_slack = sum(not eq for _, _, eq in cons)
        first_art = n + n_slack
        self.t: list[dict[int, int | Fraction | float]] = []
        self.rhs: list = []
        self.basis: list[int] = []
        slack, art = n, first_art
        for coefs, rhs, eq in cons:
            row = {j: num(a) for j, a in coefs.items() if a}
            if not eq:
                row[slack] = num(1)
                slack += 1
            sign = -1 if rhs < 0 else 1
            if sign < 0:
                row = {j: -a for j, a in row.items()}
            if eq or rhs < 0:
                row[art] = num(1)
                self.basis.append(art)
                art += 1
            else:
                self.basis.append(slack - 1)
            self.t.append(row)
            self.rhs.append(num(sign * rhs))
        self.n = n
        self.ncols = art
        # Phase 1: drive the artificial variables to zero.
        value = self._maximize_cost(dict.fromkeys(range(first_art, art), -1), art)
        if value is None or abs(value) > (0 if exact else 1e-7):
            if not exact:
                raise _NumericalTrouble
            raise ProtectionError("the published equations are inconsistent with the data")
        keep: list[int] = []
        for i, row in enumerate(self.t):
            if self.basis[i] >= first_art:
                j = min(
                    (j for j, a in row.items() if j < first_art and abs(a) > self.eps), default=None
                )
                if j is None:
                    continue  # redundant equation
                self._pivot(i, j)
            keep.append(i)
        self.t = [{j: a for j, a in self.t[i].items() if j < first_art} for i in keep]
        self.rhs = [self.rhs[i] for i in keep]
        self.basis = [self.basis[i] for i in keep]
        self.ncols = first_art

    def _pivot(self, p: int, q: int) -> None:
        prow = self.t[p]
        piv = prow[q]
        exact = self.exact
        if piv != 1:
            if exact:
                prow = {j: _div(a, piv) for j, a in prow.items()}
                self.rhs[p] = _div(self.rhs[p], piv)
            else:
                prow = {j: a / piv for j, a in prow.items()}
                self.rhs[p] /= piv
            self.t[p] = prow
        b = self.rhs[p]
        items = list(prow.items())
        for i, row in enumerate(self.t):
            if i == p:
                continue
            f = row.get(q)
            if not f:
                continue
            for j, a in items:
                x = row.get(j, 0) - f * a
                if exact:
                    x = _norm(x)
                    if x:
                        row[j] = x
                    else:
                        row.pop(j, None)
                elif x > 1e-11 or x < -1e-11:
                    row[j] = x
                else:
                    row.pop(j, None)
            row.pop(q, None)
            if b:
                self.rhs[i] = _norm(self.rhs[i] - f * b) if exact else self.rhs[i] - f * b
        self.basis[p] = q

    def _maximize_cost(self, cost: Mapping[int, int], enterable: int):
        """Maximise ``Σ cost·y``; returns the optimum, or None when unbounded."""
        eps, exact = self.eps, self.exact
        reduced: dict[int, int | Fraction | float] = dict(cost)
        for i, b in enumerate(self.basis):
            cb = cost.get(b, 0)
            if cb:
                for j, a in self.t[i].items():
                    reduced[j] = _norm(reduced.get(j, 0) - cb * a)
        degenerate = 0
        for _ in range(1_000_000):
            candidates = [j for j, r in reduced.items() if r > eps and j < enterable]
            if not candidates:
                break
            if degenerate < 50:
                q = max(candidates, key=lambda j: (reduced[j], -j))
            else:
                q = min(candidates)
            ratios = [
                (_div(self.rhs[i], row[q]) if exact else self.rhs[i] / row[q], i)
                for i, row in enumerate(self.t)
                if row.get(q, 0) > eps
            ]
            if not ratios:
                return None
            least = min(r for r, _ in ratios)
            p = min((i for r, i in ratios if r <= least + eps), key=lambda i: self.basis[i])
            degenerate = degenerate + 1 if least <= eps else 0
            self._pivot(p, q)
            f = reduced[q]
            for j, a in self.t[p].items():
                x = _norm(reduced.get(j, 0) - f * a)
                if x if exact else (x > 1e-11 or x < -1e-11):
                    reduced[j] = x
                else:
                    reduced.pop(j, None)
            reduced.pop(q, None)
        else:
            raise _NumericalTrouble
        return _norm(sum(cost.get(b, 0) * self.rhs[i] for i, b in enumerate(self.basis)))

    def maximize(self, cost: Mapping[int, int]):
        return self._maximize_cost(cost, self.ncols)

    def solution(self) -> list:
        y = [0] * self.n
        for i, b in enumerate(self.basis):
            if b < self.n:
                y[b] = self.rhs[i]
        return y


# --------------------------------------------------------------------------------------------
# The system of published equations
# --------------------------------------------------------------------------------------------

PUBLISHED, PRIMARY, SECONDARY = 0, 1, 2
_INF = math.inf


@dataclass(frozen=True)
class _Row:
    coefs: tuple[tuple[int, int], ...]  # (variable, coefficient); Σ coef·x (= or ≤) 0
    eq: bool
    where: str


class _System:
    """Cells of a group of linked tables over a family of reports, as variables and rows.

    Cells known to be equal (links) share one variable. Every row reads ``Σ coef·x = 0`` or
    ``Σ coef·x ≤ 0``.
    """

    def __init__(self) -> None:
        self.cell_ids: dict[tuple[int, str, Key], int] = {}
        self.cell_values: list[int] = []
        self.cell_var: list[int] = []
        self.values: list[int] = []
        self.rows: list[_Row] = []
        self.var_rows: list[list[int]] = []
        self.var_cells: list[list[int]] = []

    def finish(self, same: list[tuple[int, int]], rows: list[tuple[dict[int, int], bool, str]]):
        parent = list(range(len(self.cell_values)))

        def find(a: int) -> int:
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            return a

        for a, b in same:
            parent[find(a)] = find(b)
        var_of_root: dict[int, int] = {}
        for cell in range(len(self.cell_values)):
            root = find(cell)
            if root not in var_of_root:
                var_of_root[root] = len(self.values)
                self.values.append(self.cell_values[root])
                self.var_cells.append([])
            var = var_of_root[root]
            self.cell_var.append(var)
            self.var_cells[var].append(cell)
        self.var_rows = [[] for _ in self.values]
        for a, b in same:
            if self.cell_values[a] != self.cell_values[b]:
                raise ValueError(
                    f"linked cells differ: {self.describe(a)} = {self.cell_values[a]}, "
                    f"{self.describe(b)} = {self.cell_values[b]}"
                )
        seen: set[tuple] = set()
        for cell_coefs, eq, where in rows:
            coefs: dict[int, int] = defaultdict(int)
            for cell, a in cell_coefs.items():
                coefs[self.cell_var[cell]] += a
            items = tuple(sorted((v, a) for v, a in coefs.items() if a))
            lhs = sum(a * self.values[v] for v, a in items)
            if (eq and lhs != 0) or lhs > 0:
                raise ValueError(f"the figures do not satisfy {where}")
            if not items or (items, eq) in seen:
                continue
            seen.add((items, eq))
            index = len(self.rows)
            self.rows.append(_Row(items, eq, where))
            for v, _ in items:
                self.var_rows[v].append(index)

    def describe(self, cell: int) -> str:
        for (report, table, key), index in self.cell_ids.items():
            if index == cell:
                return f"{table}{list(key)} of report #{report}"
        return f"cell #{cell}"


# --------------------------------------------------------------------------------------------
# Suppression on one system
# --------------------------------------------------------------------------------------------


def _ceil_div(n: int, d: int) -> int:
    return -((-n) // d) if d > 0 else -((n) // (-d))


def _floor_div(n: int, d: int) -> int:
    return n // d if d > 0 else (-n) // (-d)


class _Program:
    """The linear programme of one component, and the integer solutions known for it."""

    def __init__(self, rows, upper, lows, truth) -> None:
        self.rows = rows
        self.upper = upper
        self.lows = lows
        self.pool: list[list[int]] = [truth]

    def simplex(self, *, exact: bool) -> _Simplex:
        return _Simplex(len(self.lows), self.rows, self.upper, exact=exact)

    def satisfied_by(self, y: list[int]) -> bool:
        if any(x < 0 or (u is not None and x > u) for x, u in zip(y, self.upper, strict=True)):
            return False
        for coefs, rhs, eq in self.rows:
            total = sum(a * y[j] for j, a in coefs.items())
            if total > rhs or (eq and total != rhs):
                return False
        return True

    def keep(self, simplex: _Simplex) -> None:
        """Add the simplex's current vertex to the pool if it is an integer solution."""
        y = simplex.solution()
        if simplex.exact:
            if all(type(x) is int for x in y):
                self.pool.append(y)
            return
        rounded = [round(x) for x in y]
        if all(abs(x - r) < 1e-6 for x, r in zip(y, rounded, strict=True)) and self.satisfied_by(
            rounded
        ):
            self.pool.append(rounded)

    def spread(self, i: int) -> int:
        return max(y[i] for y in self.pool) - min(y[i] for y in self.pool)

    def certify(self, variables: list[int], width: float, *, exact: bool) -> list[int]:
        """Look for optima spreading each variable over ``width``; returns those left open."""
        try:
            simplex = self.simplex(exact=exact)
            for i in variables:
                for sign in (1, -1):
                    if self.spread(i) >= width:
                        break
                    if simplex.maximize({i: sign}) is not None:
                        self.keep(simplex)
        except _NumericalTrouble:
            pass
        return [i for i in variables if self.spread(i) < width]

    def certify_all(self, variables: list[int], width: float) -> list[int]:
        """Float simplex, then a search near the truth, then the exact simplex."""
        left = self.certify(variables, width, exact=False)
        for i in left:
            values = [y[i] for y in self.pool]
            _ = self.search(i, min(values) + width, _INF) or self.search(i, 0, max(values) - width)
        left = [i for i in left if self.spread(i) < width]
        if left:
            left = self.certify(left, width, exact=True)
        return left

    # ---- integer search near the truth (when the optima are fractional) ----------------------

    SEARCH_NODES = 2000

    def _propagate(self, domains: list, start: Iterable[int]) -> bool:
        todo, queued = list(start), set(start)
        rows, rows_of = self._search_rows
        while todo:
            index = todo.pop()
            queued.discard(index)
            coefs, rhs, eq = rows[index]
            low_sum = high_sum = 0
            for j, a in coefs:
                lo, hi = domains[j]
                low_sum += a * lo if a > 0 else a * hi
                high_sum += a * hi if a > 0 else a * lo
            if low_sum > rhs or (eq and high_sum < rhs):
                return False
            for j, a in coefs:
                lo, hi = domains[j]
                most = rhs - low_sum + (a * lo if a > 0 else a * hi)  # a·y ≤ most
                least = rhs - high_sum + (a * hi if a > 0 else a * lo)  # a·y ≥ least
                if a > 0:
                    new = (max(lo, -(-least // a)) if eq else lo, min(hi, most // a))
                else:
                    new = (max(lo, -(-most // a)), min(hi, least // a) if eq else hi)
                if new[0] > new[1]:
                    return False
                if new != (lo, hi):
                    domains[j] = new
                    for other in rows_of[j]:
                        if other not in queued:
                            queued.add(other)
                            todo.append(other)
                    break  # the sums are stale: the row was queued again
        return True

    def search(self, i: int, low: float, high: float, nodes: int = SEARCH_NODES) -> bool:
        """Look for an integer solution with ``low ≤ y_i ≤ high`` (depth first, values closest
        to the truth first, bounds propagation); adds it to the pool. Gives up after a while."""
        truth = self.pool[0]
        if not hasattr(self, "_search_rows"):
            rows = [(tuple(coefs.items()), rhs, eq) for coefs, rhs, eq in self.rows]
            rows_of: list[list[int]] = [[] for _ in truth]
            for index, (coefs, _, _) in enumerate(rows):
                for j, _ in coefs:
                    rows_of[j].append(index)
            self._search_rows = (rows, rows_of)
        # Secondary cells are searched near their true value only: a solution is a solution.
        domains = [
            (0, u if u is not None else t + 4 * max(t, 10))
            for t, u in zip(truth, self.upper, strict=True)
        ]
        lo, hi = max(domains[i][0], low), min(domains[i][1], high)
        if lo > hi:
            return False
        domains[i] = (int(lo), int(hi))
        stack = [(domains, range(len(self._search_rows[0])))]
        for _ in range(nodes):
            if not stack:
                return False
            domains, start = stack.pop()
            domains = list(domains)
            if not self._propagate(domains, start):
                continue
            open_ = [j for j, (lo, hi) in enumerate(domains) if lo < hi]
            if not open_:
                y = [lo for lo, _ in domains]
                if self.satisfied_by(y):
                    self.pool.append(y)
                    return True
                continue
            j = min(open_, key=lambda j: domains[j][1] - domains[j][0])
            lo, hi = domains[j]
            t = min(max(truth[j], lo), hi)
            pieces = (
                [(t, t)] + ([(t + 1, hi)] if t < hi else []) + ([(lo, t - 1)] if t > lo else [])
            )
            for piece in reversed(pieces):
                branch = list(domains)
                branch[j] = piece
                stack.append((branch, self._search_rows[1][j]))
        return False


class _Ranges:
    """Ranges over the reals of the variables of one component, for audit(), on demand.

    Exact rationals up to EXACT_AUDIT_LIMIT hidden cells; beyond (a network's large
    components, where exact pivots take minutes) the float simplex, rounded outwards to
    integers, with the exact one as a fallback."""

    EXACT_AUDIT_LIMIT = 150

    def __init__(self, program: _Program, *, exact: bool) -> None:
        self.program = program
        self.exact = exact
        self.simplex: _Simplex | None = None
        self.cache: dict[int, tuple] = {}

    def _bounds(self, i: int) -> tuple:
        if self.simplex is None:
            self.simplex = self.program.simplex(exact=self.exact)
        low, high = -self.simplex.maximize({i: -1}), self.simplex.maximize({i: 1})
        if self.exact:
            return low, high
        return math.floor(low + 1e-6), math.ceil(high - 1e-6)

    def range(self, i: int, offset: int) -> tuple:
        if i not in self.cache:
            try:
                self.cache[i] = self._bounds(i)
            except (_NumericalTrouble, TypeError):  # TypeError: unbounded in floats
                self.exact, self.simplex = True, None
                self.cache[i] = self._bounds(i)
        low, high = self.cache[i]
        return low + offset, high + offset


class _Protector:
    """Primary suppression, the heuristic, and the exact verification on one system."""

    def __init__(self, system: _System, *, k: int, suppress_zeros: bool, min_width: int):
        self.s = system
        self.k = k
        self.w = min_width
        self.suppress_zeros = suppress_zeros
        self.cell_table: list[tuple[int, str]] = [(0, "")] * len(system.cell_values)
        totals = {}
        for (r, name, key), cell in system.cell_ids.items():
            self.cell_table[cell] = (r, name)
            if all(code == TOTAL for code in key):
                totals[(r, name)] = system.cell_values[cell]
        # Tables whose zeros are hidden too: all of them with suppress_zeros, and any table
        # whose total is below k: it is hidden whole, or the number of non-zero cells (each
        # known to be ≥ 1) would bound its total and could pin it.
        self.masked = {t for t, v in totals.items() if suppress_zeros or 0 < v < k}
        self.status = [PUBLISHED] * len(system.values)
        self.low = [1] * len(system.values)
        self._verified: dict[tuple, bool] = {}
        # Primary variables whose range is only certified over the reals (see repair()).
        self.lp_only: set[int] = set()
        self.witnesses: dict[int, tuple[dict[int, int], dict[int, int]]] = {}
        self.certified: set[int] = set()
        self.attempts: dict[int, int] = {}
        self.apply_masks()

    def apply_masks(self) -> list[int]:
        """Mark the primary cells; returns the variables whose status or bounds changed."""
        changed = []
        for v, cells in enumerate(self.s.var_cells):
            masked = all(self.cell_table[c] in self.masked for c in cells)
            value = self.s.values[v]
            low = 0 if masked else 1
            if self.status[v] == PUBLISHED and (0 < value < self.k or (value == 0 and masked)):
                self.status[v] = PRIMARY
                changed.append(v)
            elif self.status[v] == PRIMARY and low != self.low[v]:
                changed.append(v)
            self.low[v] = low
        return changed

    def guarded(self, v: int) -> bool:
        """Whether the guarantee covers this variable: a count below k, or any hidden zero with
        suppress_zeros. Zeros hidden only to protect their table need no range of their own
        (they may well be known, e.g. from a zero of the network)."""
        return self.status[v] == PRIMARY and (self.s.values[v] > 0 or self.suppress_zeros)

    def required(self, v: int) -> int:
        """Width an equation alone must leave to a hidden variable (see deficit())."""
        if self.status[v] == PRIMARY:
            return self.w if self.guarded(v) else 0
        return 1

    # Bounds every reader knows about a hidden variable: "< k" cells are at least 1 unless
    # zeros are hidden in their table; "s" cells are at least k.
    def bounds(self, v: int) -> tuple[int, float]:
        if self.status[v] == PRIMARY:
            return self.low[v], self.k - 1
        return self.k, _INF

    def deficit(self, row: _Row) -> int:
        """How far the hidden cells of an equation are from being safe, from it alone.

        Safe: each primary cell keeps a range of ``min_width``, each secondary cell is not
        determined (a determined secondary cell is as good as published: the classic rule that
        an equation never holds exactly one hidden cell, refined with the known bounds).
        """
        if not row.eq:
            return 0
        status, values = self.status, self.s.values
        c = 0
        hidden = []
        for v, a in row.coefs:
            if status[v] == PUBLISHED:
                c -= a * values[v]
            else:
                hidden.append((v, a))
        if not hidden:
            return 0
        # Range of Σ a·x over the hidden variables, kept as finite part + count of infinities.
        smin = smax = 0
        inf_min = inf_max = 0
        parts = []
        for v, a in hidden:
            lo, hi = self.bounds(v)
            lo_t, hi_t = (a * lo, a * hi) if a > 0 else (a * hi, a * lo)
            parts.append((v, a, lo_t, hi_t))
            if lo_t == -_INF:
                inf_min += 1
            else:
                smin += lo_t
            if hi_t == _INF:
                inf_max += 1
            else:
                smax += hi_t
        total = 0
        for v, a, lo_t, hi_t in parts:
            # Range of Σ over the other hidden variables.
            o_min = -_INF if inf_min - (lo_t == -_INF) else smin - (0 if lo_t == -_INF else lo_t)
            o_max = _INF if inf_max - (hi_t == _INF) else smax - (0 if hi_t == _INF else hi_t)
            lo, hi = self.bounds(v)
            # a·x = c - others
            if a > 0:
                low = -_INF if o_max == _INF else _ceil_div(int(c - o_max), a)
                high = _INF if o_min == -_INF else _floor_div(int(c - o_min), a)
            else:
                low = -_INF if o_min == -_INF else _ceil_div(int(c - o_min), a)
                high = _INF if o_max == _INF else _floor_div(int(c - o_max), a)
            width = min(high, hi) - max(low, lo)
            total += max(0, self.required(v) - width)
        return int(total)

    def _cost(self, v: int, skip_row: int) -> float:
        breaks = fixes = 0
        for r in self.s.var_rows[v]:
            if r == skip_row or not self.s.rows[r].eq:
                continue
            row = self.s.rows[r]
            if all(self.status[u] == PUBLISHED for u, _ in row.coefs):
                breaks += 1
            elif self.deficit(row):
                fixes += 1
        return self.s.values[v] * (1 + breaks) / (1 + fixes)

    def hideable(self, v: int) -> bool:
        # Published zeros stay published: a hidden cell is known to be ≥ k unless primary.
        return self.status[v] == PUBLISHED and self.s.values[v] >= self.k

    def hide(self, v: int, queue: list[int]) -> None:
        self.status[v] = SECONDARY
        queue.extend(self.s.var_rows[v])

    def make_locally_safe(self, queue: list[int]) -> None:
        """Hide cells until every equation is safe on its own (necessary, not sufficient)."""
        rows = self.s.rows
        while queue:
            r = queue.pop()
            row = rows[r]
            current = self.deficit(row)
            while current:
                candidates = [v for v, _ in row.coefs if self.hideable(v)]
                if not candidates:
                    break
                scored = []
                for v in candidates:
                    self.status[v] = SECONDARY
                    after = self.deficit(row)
                    self.status[v] = PUBLISHED
                    # Safe first, then improving, then the cheapest.
                    rank = 0 if after == 0 else (1 if after < current else 2)
                    scored.append((rank, self._cost(v, r), after, v))
                _, _, current, chosen = min(scored)
                self.hide(chosen, queue)

    def primary_pass(self) -> None:
        queue = [r for v, st in enumerate(self.status) if st for r in self.s.var_rows[v]]
        self.make_locally_safe(queue)

    # ---- exact verification ---------------------------------------------------------------

    def components(self) -> list[list[int]]:
        parent = {v: v for v, st in enumerate(self.status) if st}

        def find(a: int) -> int:
            while parent[a] != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            return a

        for row in self.s.rows:
            hidden = [v for v, _ in row.coefs if self.status[v]]
            for a, b in itertools.pairwise(hidden):
                parent[find(a)] = find(b)
        comps: dict[int, list[int]] = defaultdict(list)
        for v in parent:
            comps[find(v)].append(v)
        return [sorted(c) for c in comps.values()]

    def program(self, comp: list[int]) -> _Program:
        """The linear programme of a component, in ``y = x - lower bound ≥ 0``."""
        index = {v: i for i, v in enumerate(comp)}
        lows = [self.bounds(v)[0] for v in comp]
        upper = [
            (self.k - 1 - lows[i]) if self.status[v] == PRIMARY else None
            for i, v in enumerate(comp)
        ]
        row_ids = sorted({r for v in comp for r in self.s.var_rows[v]})
        rows = []
        for r in row_ids:
            row = self.s.rows[r]
            coefs: dict[int, int] = {}
            rhs = 0
            for v, a in row.coefs:
                if v in index:
                    coefs[index[v]] = a
                    rhs -= a * lows[index[v]]
                else:
                    rhs -= a * self.s.values[v]
            rows.append((coefs, rhs, row.eq))
        truth = [self.s.values[v] - lo for v, lo in zip(comp, lows, strict=True)]
        return _Program(rows, upper, lows, truth)

    # Components up to SMALL hidden cells are solved whole. Larger ones (a network with many
    # structures) are solved a few reports at a time, the other cells keeping their true
    # values: a cell of a structure moves with the same cell of the network or of other
    # structures (1, then 3, then 7 partners, those sharing most hidden cells first). Then the
    # whole component if it is not above FULL_LIMIT (a float simplex over 600 hidden cells
    # takes a fraction of a second); beyond, a cell left uncertified is repaired (safe, if
    # wasteful). A cell certified once stays certified (see certify()).
    SMALL = 250
    DEEP_SEARCH_NODES = 100_000
    PARTNERS = (1, 3, 7)
    FULL_LIMIT = 800

    def report_of(self, v: int) -> int:
        return self.cell_table[self.s.var_cells[v][0]][0]

    def subsets(self, comp: list[int], left: set[int]) -> Iterator[tuple[list[int], list[int]]]:
        """Sub-programmes to try: (hidden variables set free, variables to certify)."""
        if len(comp) > self.SMALL:
            by_report: dict[int, list[int]] = defaultdict(list)
            keys: dict[int, set[tuple]] = defaultdict(set)
            names = {index: (t, key) for (_, t, key), index in self.s.cell_ids.items()}
            for v in comp:
                r = self.report_of(v)
                by_report[r].append(v)
                keys[r].update(names[c] for c in self.s.var_cells[v])
            for r, own in sorted(by_report.items()):
                others = sorted(
                    (p for p in by_report if p != r), key=lambda p: (-len(keys[r] & keys[p]), p)
                )
                for count in self.PARTNERS:
                    wanted = [v for v in own if v in left]
                    if not wanted or count >= len(others):
                        break  # (the whole component is tried last)
                    subset = own + [v for p in others[:count] for v in by_report[p]]
                    if len(subset) <= self.FULL_LIMIT:
                        yield sorted(subset), wanted
        if len(comp) <= self.FULL_LIMIT:
            yield comp, [v for v in comp if v in left]

    def certify(self, comp: list[int]) -> list[int]:
        """Guarded variables of a component not certified to range over ``min_width``.

        Certified: two integer solutions of the published equations differ by ``min_width`` on
        the variable. Each (sub-)programme (see subsets(); in a sub-programme the hidden cells
        left out keep their true values, so that a solution there is a solution of the whole
        system) is tried with the float simplex (optima rounded and checked exactly), a search
        near the truth, then the exact simplex. Records the two furthest solutions found per
        variable in ``witnesses``.
        """
        values = self.s.values
        # Hiding more cells only removes equations and widens bounds: a solution found earlier
        # still holds, and a variable certified once stays certified.
        targets = [
            v for v in comp if self.guarded(v) and v not in self.lp_only and v not in self.certified
        ]
        lowest = {v: (values[v], {}) for v in targets}
        highest = {v: (values[v], {}) for v in targets}
        left = set(targets)
        for subset, wanted in self.subsets(comp, left):
            wanted = [v for v in wanted if v in left]
            if not wanted:
                continue
            program = self.program(subset)
            index = {u: j for j, u in enumerate(subset)}
            program.certify_all([index[u] for u in wanted], self.w)
            for y in program.pool[1:]:
                x = {u: y[j] + program.lows[j] for u, j in index.items()}
                changed = {u: value for u, value in x.items() if value != values[u]}
                for u, value in changed.items():
                    if u in lowest and value < lowest[u][0]:
                        lowest[u] = (value, changed)
                    if u in highest and value > highest[u][0]:
                        highest[u] = (value, changed)
            left = {u for u in left if highest[u][0] - lowest[u][0] < self.w}
            if not left:
                break
        for v in targets:
            self.witnesses[v] = (lowest[v][1], highest[v][1])
        self.certified.update(v for v in targets if v not in left)
        return sorted(left)

    def unsafe_in(self, comp: list[int]) -> list[int]:
        cache_key = tuple((v, self.status[v]) for v in comp)
        if cache_key not in self._verified:
            self._verified[cache_key] = self.certify(comp)
        return [
            v
            for v in self._verified[cache_key]
            if v not in self.lp_only and v not in self.certified
        ]

    def verify_and_repair(self) -> None:
        while True:
            unsafe = [(comp, self.unsafe_in(comp)) for comp in self.components()]
            if not any(open_ for _, open_ in unsafe):
                return
            for comp, open_ in unsafe:
                touched: set[int] = set()
                for v in open_:
                    # One repair may protect several cells: skip those it came near.
                    if not touched.intersection(self.s.var_rows[v]):
                        touched.update(self.repair(comp, v))

    def repair(self, comp: list[int], v: int) -> set[int]:
        """Hide more cells near a pinned one; returns the equations it touched.

        First the cheapest cell in its equations. When the cell is still pinned at the next
        round, what pins it lies further: the a-th attempt hides the a cheapest cells of the
        equations within a hops of it (equations linked through hidden cells), so that a
        pathological cell costs a few rounds, not one round per cell of its component."""
        rows = self.s.rows
        attempt = self.attempts[v] = self.attempts.get(v, 0) + 1
        near = set(self.s.var_rows[v])
        for _ in range(attempt - 1):
            hidden = {u for r in near for u, _ in rows[r].coefs if self.status[u]}
            near |= {r for u in hidden for r in self.s.var_rows[u]}
        around = [r for u in comp for r in self.s.var_rows[u]]
        for row_ids in (near, around):
            candidates = {u for r in row_ids for u, _ in rows[r].coefs if self.hideable(u)}
            if candidates:
                ranked = sorted(candidates, key=lambda u: (self._cost(u, -1), u))
                queue: list[int] = []
                touched: set[int] = set()
                for chosen in ranked[:attempt]:
                    if self.hideable(chosen):  # (make_locally_safe may have hidden it)
                        self.hide(chosen, queue)
                        self.make_locally_safe(queue)
                        touched.update(self.s.var_rows[chosen])
                return touched
        # Every cell around is hidden and the cell is still pinned, by the lower bounds of
        # non-zero cells: hide the zeros of the tables involved too.
        tables = {self.cell_table[c] for u in comp for c in self.s.var_cells[u]} - self.masked
        if tables:
            self.masked |= tables
            self._verified.clear()
            self.make_locally_safe([r for u in self.apply_masks() for r in self.s.var_rows[u]])
            return set(around)
        # Cells hidden by an earlier repair of the same round may have joined the component:
        # certify it again, whole, before concluding that nothing is left to hide.
        current = next(c for c in self.components() if v in c)
        if current != comp:
            return set(around)
        # Nothing left to hide: fractional optima and a search that gave up. A much longer
        # search for an integer solution first; failing that, settle for the range over the
        # reals if it is wide enough (recorded in ``lp_only``).
        program = self.program(comp)
        i = comp.index(v)
        truth = program.pool[0][i]
        for low, high in ((truth + self.w, _INF), (0, truth - self.w)):
            if program.search(i, low, high, self.DEEP_SEARCH_NODES):
                y = program.pool[-1]
                changed = {
                    u: y[j] + program.lows[j]
                    for j, u in enumerate(comp)
                    if y[j] + program.lows[j] != self.s.values[u]
                }
                self.witnesses[v] = ({}, changed) if low > truth else (changed, {})
                self.certified.add(v)
                return set()
        simplex = program.simplex(exact=True)
        if simplex.maximize({i: 1}) + simplex.maximize({i: -1}) >= self.w:
            self.lp_only.add(v)
            self._verified.clear()
            return set()
        raise ProtectionError(
            f"cannot protect {self.s.describe(self.s.var_cells[v][0])}: "
            "every cell it depends on is already hidden"
        )

    def intervals(self) -> dict[int, tuple]:
        """Per guarded variable: a function giving its range over the reals (computed on
        demand, one linear programme per bound), and two integer solutions
        (``{variable: value}`` over its component) furthest apart found on it.

        The solutions found while verifying are reused: the published system only loses
        equations as cells get hidden, so a solution found earlier still holds."""
        result: dict[int, tuple] = {}
        for comp in self.components():
            primaries = [i for i, v in enumerate(comp) if self.guarded(v)]
            if not primaries:
                continue
            if any(self._witness_spread(comp[i]) < self.w for i in primaries):
                self.certify(comp)
            ranges = _Ranges(self.program(comp), exact=len(comp) <= _Ranges.EXACT_AUDIT_LIMIT)
            truth = {v: self.s.values[v] for v in comp}
            for i in primaries:
                v = comp[i]
                found = self.witnesses.get(v, ({}, {}))
                witnesses = tuple({**truth, **changed} for changed in found)
                result[v] = (functools.partial(ranges.range, i, self.low[v]), witnesses)
        return result

    def _witness_spread(self, v: int) -> int:
        if v not in self.witnesses:
            return 0
        low, high = self.witnesses[v]
        return high.get(v, self.s.values[v]) - low.get(v, self.s.values[v])

    def score(self) -> tuple[int, int]:
        published = hidden_mass = 0
        for cell, var in enumerate(self.s.cell_var):
            if self.status[var]:
                hidden_mass += self.s.cell_values[cell]
            else:
                published += 1
        return published, -hidden_mass


# --------------------------------------------------------------------------------------------
# Merging
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DimState:
    collapsed: frozenset[str] = frozenset()  # codes of groups merged
    others: frozenset[str] = frozenset()  # categories put in the bucket


def _group_leaves(rule: MergeRule) -> dict[str, tuple[str, ...]]:
    groups = {g.code: g for g in rule.groups}

    def leaves(code: str, seen: frozenset[str]) -> tuple[str, ...]:
        if code not in groups:
            return (code,)
        if code in seen:
            raise ValueError(f"merge group {code!r} contains itself")
        return tuple(x for m in groups[code].members for x in leaves(m, seen | {code}))

    return {code: leaves(code, frozenset()) for code in groups}


def _mapping(rule: MergeRule, state: _DimState) -> dict[str, str]:
    """Category → merged code for the categories that move."""
    mapping: dict[str, str] = {}
    leaves = _group_leaves(rule)
    # Collapse the largest groups last so that they win over their subgroups.
    for code in sorted(state.collapsed, key=lambda c: len(leaves[c])):
        for leaf in leaves[code]:
            mapping[leaf] = code
    for code in state.others:
        mapping[code] = rule.other_code  # type: ignore[assignment]
    return mapping


def _merge_table(table: Table, mappings: Mapping[str, Mapping[str, str]]) -> Table:
    maps = [mappings.get(d, {}) for d in table.dims]
    if not any(maps):
        return table
    counts: dict[Key, int] = defaultdict(int)
    for key, value in table.counts.items():
        new = tuple(
            code if code == TOTAL else m.get(code, code) for code, m in zip(key, maps, strict=True)
        )
        counts[new] += value
    categories = {}
    summed = set(table.summed)
    for dim, cats, m in zip(table.dims, table.categories, maps, strict=True):
        order: list[str] = []
        sizes: dict[str, int] = defaultdict(int)
        for code in cats:
            new = m.get(code, code)
            sizes[new] += 1
            if new not in order:
                order.append(new)
        categories[dim] = order
        if dim in table.multiple:
            summed |= {(dim, code) for code, size in sizes.items() if size > 1}
    return Table(
        table.name,
        table.dims,
        counts,
        categories=categories,
        multiple=table.multiple,
        additive_over_parts=table.additive_over_parts,
        summed=summed,
    )


# --------------------------------------------------------------------------------------------
# Families of reports
# --------------------------------------------------------------------------------------------


class _Family:
    def __init__(
        self,
        reports: list[Report],
        *,
        k: int,
        merges: Mapping[str, MergeRule],
        suppress_zeros: bool,
        min_width: int,
    ) -> None:
        self.k = k
        self.suppress_zeros = suppress_zeros
        self.min_width = min_width
        self.rules = merges
        first = reports[0]
        names = [t.name for t in first.tables]
        if len(set(names)) != len(names):
            raise ValueError("two tables share a name")
        self.names = names
        for report in reports[1:]:
            if sorted(t.name for t in report.tables) != sorted(names):
                raise ValueError("the reports of a hierarchy must have the same tables")
        # Same categories everywhere, in the order of the top report first.
        self.tables: list[dict[str, Table]] = [{} for _ in reports]
        for name in names:
            versions = [r.table(name) for r in reports]
            shape = {(t.dims, t.multiple, t.additive_over_parts) for t in versions}
            if len(shape) != 1:
                raise ValueError(f"table {name!r} differs in shape between reports")
            categories = {}
            for i, dim in enumerate(versions[0].dims):
                order: list[str] = []
                for t in versions:
                    order += [c for c in t.categories[i] if c not in order]
                categories[dim] = order
            for i, t in enumerate(versions):
                self.tables[i][name] = Table(
                    name,
                    t.dims,
                    t.counts,
                    categories=categories,
                    multiple=t.multiple,
                    additive_over_parts=t.additive_over_parts,
                )
        # Links, with full keys.
        self.links: list[list[tuple[tuple[str, Key], tuple[str, Key], str]]] = []
        for i, report in enumerate(reports):
            resolved = []
            for link in report.links:
                ends = []
                for name, key in (link.left, link.right):
                    if name not in self.tables[i]:
                        raise ValueError(f"link to unknown table {name!r}")
                    ends.append((name, self.tables[i][name].key(key)))
                resolved.append((ends[0], ends[1], link.relation))
            self.links.append(resolved)
        # Groups of tables connected by links.
        parent = {n: n for n in names}

        def find(a: str) -> str:
            while parent[a] != a:
                a = parent[a]
            return a

        for links in self.links:
            for (a, _), (b, _), _ in links:
                parent[find(a)] = find(b)
        groups: dict[str, list[str]] = defaultdict(list)
        for n in names:
            groups[find(n)].append(n)
        self.groups = list(groups.values())
        self._merged: dict[tuple, Table] = {}

    # ---- building ------------------------------------------------------------------------

    def dims_of(self, group: list[str]) -> list[str]:
        dims: list[str] = []
        for name in group:
            dims += [d for d in self.tables[0][name].dims if d not in dims]
        return dims

    def merged(self, report: int, name: str, mappings: Mapping[str, Mapping[str, str]]) -> Table:
        table = self.tables[report][name]
        relevant = tuple(tuple(sorted(mappings.get(d, {}).items())) for d in table.dims)
        key = (report, name, relevant)
        if key not in self._merged:
            self._merged[key] = _merge_table(table, mappings)
        return self._merged[key]

    def build(self, group: list[str], mappings: Mapping[str, Mapping[str, str]]) -> _System:
        s = _System()
        rows: list[tuple[dict[int, int], bool, str]] = []
        same: list[tuple[int, int]] = []

        def cell(report: int, name: str, key: Key) -> int:
            return s.cell_ids[(report, name, key)]

        for r in range(len(self.tables)):
            for name in group:
                table = self.merged(r, name, mappings)
                for key, value in table.counts.items():
                    s.cell_ids[(r, name, key)] = len(s.cell_values)
                    s.cell_values.append(value)
        for r in range(len(self.tables)):
            for name in group:
                table = self.merged(r, name, mappings)
                for key in table.counts:
                    for i, code in enumerate(key):
                        if code != TOTAL:
                            continue
                        dim = table.dims[i]
                        parts = [key[:i] + (c,) + key[i + 1 :] for c in table.categories[i]]
                        where = f"table {name!r} ({dim} margin {list(key)}) of report #{r}"
                        total = cell(r, name, key)
                        sum_row = {total: 1}
                        for p in parts:
                            sum_row[cell(r, name, p)] = sum_row.get(cell(r, name, p), 0) - 1
                        if dim not in table.multiple:
                            rows.append((sum_row, True, where))
                            continue
                        # At least one category per unit: Σ parts ≥ total; each ≤ total.
                        rows.append((sum_row, False, where))
                        for p, code in zip(parts, table.categories[i], strict=True):
                            if (dim, code) not in table.summed:
                                rows.append(({cell(r, name, p): 1, total: -1}, False, where))
            for (a, ka), (b, kb), relation in self.links[r]:
                if a not in group or b not in group:
                    continue  # (a merge is scored on the tables of its dimension only)
                ka = self._map_key(a, ka, mappings)
                kb = self._map_key(b, kb, mappings)
                ca, cb = cell(r, a, ka), cell(r, b, kb)
                if relation == "=":
                    same.append((ca, cb))
                else:
                    rows.append(({ca: 1, cb: -1}, False, f"link {a}{list(ka)} <= {b}{list(kb)}"))
        # Hierarchy: the top report against the sum of the parts.
        if len(self.tables) > 1:
            for name in group:
                table = self.merged(0, name, mappings)
                for key in table.counts:
                    top = cell(0, name, key)
                    parts = [cell(r, name, key) for r in range(1, len(self.tables))]
                    where = f"table {name!r} {list(key)}: network and structures"
                    hierarchy_row = {top: 1}
                    for p in parts:
                        hierarchy_row[p] = -1
                    if table.additive_over_parts:
                        rows.append((hierarchy_row, True, where))
                    else:
                        rows.append((hierarchy_row, False, where))
                        rows += [({p: 1, top: -1}, False, where) for p in parts]
        s.finish(same, rows)
        return s

    def _map_key(self, name: str, key: Key, mappings) -> Key:
        dims = self.tables[0][name].dims
        return tuple(
            code if code == TOTAL else mappings.get(d, {}).get(code, code)
            for code, d in zip(key, dims, strict=True)
        )

    def protector(self, group: list[str], mappings) -> _Protector:
        p = _Protector(
            self.build(group, mappings),
            k=self.k,
            suppress_zeros=self.suppress_zeros,
            min_width=self.min_width,
        )
        p.primary_pass()
        return p

    # ---- merge search ----------------------------------------------------------------------

    def frozen(self, group: list[str]) -> set[tuple[str, str]]:
        """Categories named by a link to a different cell: merging them would break the link."""
        frozen = set()
        for links in self.links:
            for (a, ka), (b, kb), _ in links:
                if a not in group:
                    continue
                da, db = self.tables[0][a].dims, self.tables[0][b].dims
                if tuple(zip(da, ka, strict=True)) != tuple(zip(db, kb, strict=True)):
                    for dims, key in ((da, ka), (db, kb)):
                        frozen |= {(d, c) for d, c in zip(dims, key, strict=True) if c != TOTAL}
        return frozen

    def mappings_of(self, states: Mapping[str, _DimState]) -> dict[str, dict[str, str]]:
        return {d: _mapping(self.rules[d], st) for d, st in states.items()}

    def candidates(self, group, states, frozen) -> Iterator[dict[str, _DimState]]:
        for dim, state in states.items():
            rule = self.rules[dim]
            cats = self.categories(group, dim)
            present = set(cats)
            leaves = _group_leaves(rule)
            inside_collapsed = {x for c in state.collapsed for x in leaves[c]}
            for g in rule.groups:
                mine = set(leaves[g.code])
                if g.code in state.collapsed or any(
                    mine & set(leaves[c]) and not set(leaves[c]) <= mine for c in state.collapsed
                ):
                    continue  # already merged, inside a merged group, or overlapping one
                members = [x for x in leaves[g.code] if x in present]
                if len(members) < 2 or any(
                    x in state.others or (dim, x) in frozen for x in members
                ):
                    continue
                grown = {c for c in state.collapsed if not set(leaves[c]) <= mine} | {g.code}
                yield {**states, dim: _DimState(frozenset(grown), state.others)}
            if rule.other_code is None:
                continue
            eligible = [
                c
                for c in cats
                if c != rule.other_code
                and c not in rule.keep
                and c not in state.others
                and c not in inside_collapsed
                and (dim, c) not in frozen
                and self.rare(group, dim, c)
            ]
            eligible.sort(key=lambda c: (self.mass(group, dim, c), cats.index(c)))
            already = len(state.others) + (rule.other_code in present)
            for m in range(max(1, 2 - already), len(eligible) + 1):
                others = state.others | set(eligible[:m])
                yield {**states, dim: _DimState(state.collapsed, frozenset(others))}

    def categories(self, group: list[str], dim: str) -> list[str]:
        cats: list[str] = []
        for name in group:
            table = self.tables[0][name]
            if dim in table.dims:
                cats += [c for c in table.categories[table.dims.index(dim)] if c not in cats]
        return cats

    def _values_with(self, group: list[str], dim: str, code: str) -> Iterator[int]:
        for tables in self.tables:
            for name in group:
                table = tables[name]
                if dim in table.dims:
                    i = table.dims.index(dim)
                    yield from (v for key, v in table.counts.items() if key[i] == code)

    def rare(self, group: list[str], dim: str, code: str) -> bool:
        return any(
            v < self.k and (v > 0 or self.suppress_zeros)
            for v in self._values_with(group, dim, code)
        )

    def mass(self, group: list[str], dim: str, code: str) -> int:
        return sum(self._values_with(group, dim, code))

    def search_merges(self, group: list[str]) -> dict[str, _DimState]:
        """Greedy search, one dimension at a time: a merge is scored by the suppression it
        leads to in the tables of its dimension alone (every report of the family, their
        margins and the hierarchy; not the links to other tables). Scoring on the whole group
        gave the same choices on realistic reports for many times the cost (a full primary
        pass per candidate). The choice only affects how much is published: the protection
        of whatever is chosen is decided on the whole group afterwards."""
        states = {d: _DimState() for d in self.dims_of(group) if d in self.rules}
        frozen = self.frozen(group)
        for dim in list(states):
            tables = [n for n in group if dim in self.tables[0][n].dims]
            if not any(self.rare(tables, dim, c) for c in self.categories(tables, dim)):
                continue  # nothing below k: no merge can publish more
            best = self.protector(tables, self.mappings_of(states)).score()
            while True:
                top = None
                for candidate in self.candidates(group, {dim: states[dim]}, frozen):
                    trial = {**states, **candidate}
                    score = self.protector(tables, self.mappings_of(trial)).score()
                    if score > best and (top is None or score > top[0]):
                        top = (score, trial)
                if top is None:
                    break
                best, states = top
        return states

    def merge_records(self, group: list[str], states) -> dict[tuple[str, str], Merge]:
        records = {}
        for dim, state in states.items():
            rule = self.rules[dim]
            cats = self.categories(group, dim)
            tables = tuple(n for n in group if dim in self.tables[0][n].dims)
            multiple = any(dim in self.tables[0][n].multiple for n in tables)
            labels = {g.code: g.label for g in rule.groups}
            mapping = _mapping(rule, state)
            targets = list(state.collapsed) + ([rule.other_code] if state.others else [])
            first = {
                code: min(cats.index(c) for c in cats if mapping.get(c, c) == code)
                for code in targets
            }
            targets.sort(key=first.__getitem__)
            for code in targets:
                members = tuple(c for c in cats if mapping.get(c) == code)
                if code == rule.other_code:
                    label = rule.other_label
                    if code in cats:
                        members = (*members, code)
                else:
                    label = labels[code]
                records[(dim, code)] = Merge(dim, code, label, members, tables, multiple)
        return records


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def protect(
    report: Report,
    *,
    k: int = DEFAULT_K,
    hierarchy: Mapping[str, Report] | None = None,
    merges: Mapping[str, MergeRule] | None = None,
    suppress_zeros: bool = False,
    min_width: int = 1,
) -> ProtectedReport:
    """Apply merging, the threshold rule and secondary suppression to a report.

    ``hierarchy``: the reports of the parts of ``report`` (``{structure slug: Report}`` for a
    network), protected together with it; every table of ``report`` must then equal the sum
    of the same table over the parts (or bound it, for ``additive_over_parts=False``). The
    protected parts are in ``result.parts``: publish a structure's figures from there whenever
    the network's are published too, never from a separate call.
    ``merges``: :class:`MergeRule` by dimension name (default :data:`DEFAULT_MERGES`; ``{}``
    for none). ``suppress_zeros``: hide true zeros too. ``min_width``: how far apart the two
    certified values of every primary cell must be (see the module docstring).

    Raises ``ValueError`` when the figures contradict the declared equations.
    """
    if k < 2:
        raise ValueError("k must be at least 2")
    if not 1 <= min_width <= k - 2:
        raise ValueError(f"min_width must be between 1 and k - 2 = {k - 2}")
    hierarchy = dict(hierarchy or {})
    family = _Family(
        [report, *hierarchy.values()],
        k=k,
        merges=DEFAULT_MERGES if merges is None else merges,
        suppress_zeros=suppress_zeros,
        min_width=min_width,
    )
    n_reports = 1 + len(hierarchy)
    cells: list[dict[str, dict[Key, ProtectedCell]]] = [{} for _ in range(n_reports)]
    categories: dict[str, tuple[tuple[str, ...], ...]] = {}
    table_merges: dict[str, tuple[Merge, ...]] = {}
    zeros_hidden: set[tuple[int, str]] = set()
    all_merges: list[Merge] = []
    audit = []
    for group in family.groups:
        states = family.search_merges(group)
        mappings = family.mappings_of(states)
        records = family.merge_records(group, states)
        all_merges += records.values()
        protector = family.protector(group, mappings)
        protector.verify_and_repair()
        audit.append((group, protector))
        zeros_hidden |= protector.masked
        s = protector.s
        for (r, name, key), index in s.cell_ids.items():
            table = family.merged(r, name, mappings)
            categories[name] = table.categories
            table_merges[name] = tuple(m for m in records.values() if name in m.tables)
            status = protector.status[s.cell_var[index]]
            value = s.cell_values[index]
            reason = {PUBLISHED: None, PRIMARY: Reason.PRIMARY, SECONDARY: Reason.SECONDARY}
            label = {PUBLISHED: str(value), PRIMARY: f"< {k}", SECONDARY: SECRET_MARK}
            cell_merges = tuple(
                records[(d, c)]
                for d, c in zip(table.dims, key, strict=True)
                if (d, c) in records and c != TOTAL
            )
            cells[r].setdefault(name, {})[key] = ProtectedCell(
                table=name,
                key=key,
                value=None if status else value,
                suppressed=bool(status),
                reason=reason[status],
                label=label[status],
                merges=cell_merges,
            )

    def assemble(r: int, parts: Mapping[str, ProtectedReport], audit_data: tuple):
        return ProtectedReport(
            tables={
                name: ProtectedTable(
                    name=name,
                    dims=family.tables[r][name].dims,
                    categories=categories[name],
                    cells=MappingProxyType(cells[r][name]),
                    merges=table_merges[name],
                    k=k,
                    zeros_hidden=(r, name) in zeros_hidden,
                )
                for name in family.names
            },
            merges=tuple(all_merges),
            parts=MappingProxyType(parts),
            k=k,
            suppress_zeros=suppress_zeros,
            min_width=min_width,
            _audit=audit_data,
        )

    parts = {name: assemble(i + 1, {}, ()) for i, name in enumerate(hierarchy)}
    return assemble(0, parts, (family, tuple(audit), tuple(hierarchy)))


class Exposure:
    """What the published figures tell about one primary cell (see :func:`audit`).

    ``witnesses``: the values of the hidden cells, ``{(part, table, key): value}``, in two
    integer tables consistent with everything published (the truth may be one of them) whose
    values of this cell are the furthest apart found. Checking them needs no solver.
    ``low``/``high``: the cell's range over the reals (see :func:`audit`), computed when first
    read (two linear programmes).
    """

    __slots__ = ("_bounds", "_range", "witnesses")

    def __init__(self, bounds, witnesses: tuple[Mapping[tuple, int], Mapping[tuple, int]]):
        self._bounds = bounds
        self._range: tuple | None = None
        self.witnesses = witnesses

    def _get(self) -> tuple:
        if self._range is None:
            self._range = self._bounds()
        return self._range

    @property
    def low(self) -> int | Fraction:
        return self._get()[0]

    @property
    def high(self) -> int | Fraction:
        return self._get()[1]

    def __repr__(self) -> str:
        return f"Exposure(low={self.low}, high={self.high})"


def audit(protected: ProtectedReport) -> dict[tuple[str | None, str, Key], Exposure]:
    """What an attacker can learn about every primary cell from everything published.

    Keys are ``(part name or None for the top report, table, key)``. Ranges are over the
    reals (linear programming: exact rationals for components of up to
    ``_Ranges.EXACT_AUDIT_LIMIT`` hidden cells; beyond, floats rounded outwards to integers);
    the witnesses make the integer guarantee checkable by anyone, with no solver.
    The witnesses are those found by :func:`protect` (completed where needed); a range costs
    two linear programmes, solved when ``low`` or ``high`` is first read. For tests and audits,
    not for every export.
    """
    if not protected._audit:
        raise ValueError("audit() needs the report returned by protect(), not one of its parts")
    _, groups, part_names = protected._audit
    names = (None, *part_names)
    result = {}
    for _, protector in groups:
        s = protector.s
        refs: dict[int, list[tuple]] = defaultdict(list)
        for (r, name, key), index in s.cell_ids.items():
            refs[s.cell_var[index]].append((names[r], name, key))
        for var, (bounds, witnesses) in protector.intervals().items():
            witnesses = tuple(
                {ref: value for v, value in w.items() for ref in refs[v]} for w in witnesses
            )
            exposure = Exposure(bounds, witnesses)
            for ref in refs[var]:
                result[ref] = exposure
    return result


def _(message: str) -> str:
    """gettext inside the app; the French msgid itself where Django is not set up (bench)."""
    try:
        from django.conf import settings
        from django.utils.translation import gettext
    except ImportError:  # pragma: no cover - Django is a dependency of the project
        return message
    return gettext(message) if settings.configured else message


def method_note(protected: ProtectedReport, labels: Mapping[str, str] | None = None) -> str:
    """The French paragraphs explaining the anonymisation, for the PDF and the dashboard
    (separated by blank lines). ``labels``: display labels of category codes."""
    labels = labels or {}
    values = {"k": protected.k, "secret": SECRET_MARK}
    text = [
        _(
            "Secret statistique : aucun effectif inférieur à %(k)s n'est publié ; il est "
            "remplacé par « < %(k)s ». D'autres cases, marquées « %(secret)s », sont masquées "
            "pour qu'aucune valeur masquée ne puisse être recalculée à partir des totaux, des "
            "autres tableaux du bilan ou des bilans des autres structures du réseau. Les "
            "pourcentages sont calculés sur les seuls effectifs publiés et omis quand leur base "
            "est inférieure à %(k)s."
        )
        % values,
        _("Les zéros sont masqués comme les petits effectifs.")
        if protected.suppress_zeros
        else _(
            "Les zéros sont publiés : ils ne concernent personne ; seul un tableau dont le "
            "total est inférieur à %(k)s est masqué en entier, zéros compris."
        )
        % values,
    ]
    if protected.merges:
        lines = []
        for m in protected.merges:
            members = ", ".join(labels.get(c, c) for c in m.members)
            line = _("« %(label)s » regroupe %(members)s") % {"label": m.label, "members": members}
            if NOT_GIVEN in m.members:
                line += " " + _("(y compris les réponses non renseignées)")
            if m.mentions:
                line += " " + _("(un accompagnement peut y être compté plusieurs fois)")
            lines.append(line)
        text.append(
            _(
                "Avant le masquage, des catégories voisines ont été regroupées pour publier "
                "davantage de chiffres : %(merges)s."
            )
            % {"merges": " ; ".join(lines)}
        )
        if not any(NOT_GIVEN in m.members for m in protected.merges):
            text.append(
                _("Les réponses non renseignées n'ont été regroupées avec aucune autre catégorie.")
            )
    return "\n\n".join(text)
