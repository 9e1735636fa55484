"""A report as it is shown and exported: the exact indicators of `reports.indicators`, protected
by `reports.anonymise` unless a member of the structure asks for its exact figures, turned into
one plain, JSON-able dict that the dashboard, the PDF, the CSV, the XLSX and the archive all
read. Nothing downstream computes a figure: what this module returns is what is published.

    {
      "version": 1, "title": "Bilan d'activité",
      "scope": {"kind": "structure", "id": 3, "name": "…", "slug": "…", "network": "…"},
      "period": {"code": "2026-Q3", "label": "3e trimestre 2026", "start": …, "end": …},
      "previous_period": {…} or None,
      "anonymised": True, "k": 11, "generated_at": "2026-10-01T06:00:00+02:00",
      "key_figures": ["sessions", …],
      "figures": [{"key", "label", "value", "display", "suppressed", "previous", "change"}, …],
      "tables": [{"key", "title", "unit", "chart", "rows": [{"code", "label", "value",
                  "display", "suppressed", "percent"}], "total": {…}, "note"}, …],
      "places": [{"name", "commune", "is_qpv", "is_rural"}, …],
      "method_note": ["…", …], "legend": {"< 11": "…", "s": "…"},
    }

Anonymisation (the method note says the same to funders):

- every count of people goes through `anonymise.protect` with the threshold `k`
  (settings.REPORTS_THRESHOLD), together with the tables it can be recomputed from: the
  tables that share a total, the total of one table that is the cell of another (the
  orientations add up to the "orienté" outcome), and the figures that are cells or totals;
- a structure of a network is always protected *with* its network and every other structure
  of it (`protect(…, hierarchy=…)`), so that its report, the network's and the others' can be
  published side by side: the same call serves them all;
- figures that are sums of published cells (cancelled appointments, accompaniments in QPV or
  FRR places) are only shown when every cell they add up is; figures that could not be
  protected this way (sessions in QPV or FRR places: sessions by place are not published) are
  left out of the anonymised report;
- minutes and hours of help, and the places, count no one: never hidden.
"""

from __future__ import annotations

import functools
import hashlib
import math
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from cases.choices import Outcome, Theme
from mediation.models import Network, Place, Structure
from reports import anonymise as sdc
from reports.indicators import (
    DIMENSIONS,
    FIGURES,
    NO_PLACE,
    NOT_GIVEN,
    NOT_GIVEN_LABEL,
    TABLES,
    UNPROTECTED_FIGURES,
    compute,
    compute_for_structures,
)
from reports.periods import MONTH_NAMES, Period, require_whole
from reports.periods import _day_label as day_label

VERSION = 1


#: Tables that count distinct people: a network's is not the sum of its structures'.
PEOPLE_UNITS = ("residents",)

UNIT_LABELS = {
    "sessions": gettext_lazy("séances"),
    "accompaniments": gettext_lazy("accompagnements"),
    "participations": gettext_lazy("participations"),
    "residents": gettext_lazy("usagers"),
    "appointments": gettext_lazy("rendez-vous"),
    "minutes": gettext_lazy("minutes"),
}

NOTES = {
    "accompaniments_by_theme": gettext_lazy(
        "Un accompagnement peut relever de plusieurs thèmes : la somme des lignes dépasse le total."
    ),
    "accompaniments_by_procedure": gettext_lazy(
        "Parmi les accompagnements sur des démarches administratives ; plusieurs domaines "
        "possibles par accompagnement."
    ),
    "accompaniments_by_equipment": gettext_lazy(
        "Plusieurs matériels possibles par accompagnement."
    ),
    "accompaniments_by_redirection": gettext_lazy("Parmi les accompagnements orientés."),
    "residents_by_age_band": gettext_lazy("Usagers différents vus pendant la période."),
    "anonymous_by_age_band": gettext_lazy(
        "Participants des ateliers comptés sans être nommés, à chaque atelier."
    ),
    "residents_by_commune": gettext_lazy("Usagers différents (sans les participants anonymes)."),
}

#: Figures shown first, in big, on the dashboard and the PDF.
KEY_FIGURES = (
    "sessions",
    "accompaniments",
    "residents",
    "new_residents",
    "hours",
    "appointments_seen",
)

#: Figures that are a cell (or the total) of a table: published as that cell is.
FIGURE_CELLS = {
    "sessions": ("sessions_by_kind", sdc.TOTAL),
    "individual_sessions": ("sessions_by_kind", "individual"),
    "collective_sessions": ("sessions_by_kind", "collective"),
    "accompaniments": ("accompaniments_by_kind", sdc.TOTAL),
    "workshop_participants": ("accompaniments_by_kind", "collective"),
    "named_workshop_participants": ("workshop_participants", "named"),
    "anonymous_participants": ("workshop_participants", "anonymous"),
    "residents": ("residents_by_commune", sdc.TOTAL),
    "new_residents": ("new_residents", sdc.TOTAL),
    "appointments": ("appointments_by_status", sdc.TOTAL),
    "appointments_booked": ("appointments_by_status", "booked"),
    "appointments_seen": ("appointments_by_status", "seen"),
    "appointments_no_show": ("appointments_by_status", "no_show"),
}
#: Figures of the exact report only: they could be recomputed, in an anonymised report,
#: into counts the tables do not publish (sessions by place).
EXACT_ONLY = ("sessions_in_qpv", "sessions_in_frr", "residents_incl_anonymous")

# The orders of the figures, as shown.
FIGURE_ORDER = (
    "sessions",
    "individual_sessions",
    "collective_sessions",
    "accompaniments",
    "workshop_participants",
    "named_workshop_participants",
    "anonymous_participants",
    "residents",
    "new_residents",
    "residents_incl_anonymous",
    "hours",
    "help_minutes",
    "appointments",
    "appointments_booked",
    "appointments_seen",
    "appointments_no_show",
    "appointments_cancelled",
    "accompaniments_in_qpv",
    "accompaniments_in_frr",
    "sessions_in_qpv",
    "sessions_in_frr",
    "places",
    "places_in_qpv",
    "places_in_frr",
)


def threshold() -> int:
    return int(getattr(settings, "REPORTS_THRESHOLD", sdc.DEFAULT_K))


def public_method() -> dict:
    """What a reader of the published reports is told of the method (and what the disclosure
    audit assumes the attacker knows): the threshold, the largest perturbation of a published
    count (0: published counts are exact), and how hidden cells are marked."""
    k = threshold()
    return {"k": k, "max_perturbation": 0, "primary_mark": f"< {k}", "secondary_mark": "s"}


def merge_rules() -> dict:
    """The merges tried before hiding cells (see anonymise.MergeRule)."""
    rules = dict(sdc.DEFAULT_MERGES)
    # "Démarches administratives" is the total of the procedure table: never merged away.
    rules["theme"] = sdc.MergeRule(
        other_code="autres_themes",
        other_label=str(_("Autres thèmes")),
        keep=frozenset({Theme.DEMARCHES_ADMINISTRATIVES, NOT_GIVEN}),
    )
    rules["commune"] = sdc.MergeRule(
        other_code="autres_communes",
        other_label=str(_("Autres communes")),
        keep=frozenset({NOT_GIVEN}),
    )
    return rules


# --- Number formatting ----------------------------------------------------------------------


def number(value: int | float) -> str:
    """French grouping with a no-break space (in every PDF font, unlike U+202F)."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", "\u00a0").replace(".", ",")
    return f"{int(value):,}".replace(",", "\u00a0")


def change(current: int | float | None, previous: int | float | None) -> str | None:
    if current is None or previous is None or not previous:
        return None
    ratio = (current - previous) / previous * 100
    sign = "+" if ratio > 0 else ("−" if ratio < 0 else "")
    return f"{sign}{number(round(abs(ratio)))}\u00a0%"


# --- From the exact report to anonymise's model --------------------------------------------


@dataclass
class Scope:
    """The object a report covers and the family it is protected with."""

    obj: Place | Structure | Network
    kind: str  # "place", "structure", "network"

    @functools.cached_property
    def network(self) -> Network | None:
        if self.kind == "network":
            return self.obj
        structure = self.obj.structure if self.kind == "place" else self.obj
        # TODO(report protection): a structure may belong to several networks. It is protected
        # here with the first of them by name only, so its published figures are not
        # protected together with the reports of its other networks. The rewrite of the
        # protection decides how to protect such a structure with all its networks.
        return min(structure.networks.all(), key=lambda n: (n.name, n.pk), default=None)

    def as_dict(self) -> dict:
        structure = self.obj.structure if self.kind == "place" else self.obj
        return {
            "kind": self.kind,
            "id": self.obj.pk,
            "name": self.obj.name,
            "slug": getattr(self.obj, "slug", ""),
            # Shown as "Réseau : …": every network of the structure, by name.
            "network": structure.networks_display if self.kind != "network" else "",
        }


def scope_of(obj) -> Scope:
    if isinstance(obj, Place):
        return Scope(obj, "place")
    if isinstance(obj, Structure):
        return Scope(obj, "structure")
    if isinstance(obj, Network):
        return Scope(obj, "network")
    raise TypeError(f"Not a report scope: {obj!r}")


def _aligned(reports: list[dict]) -> dict[str, list[str]]:
    """The categories of the open tables (places, communes), the same in every report of a
    family: a structure's table lists the others' places as zeros (known to be zeros)."""
    order: dict[str, list[str]] = {}
    for key in ("accompaniments_by_place", "residents_by_commune"):
        seen: dict[str, None] = {}
        for report in reports:
            seen.update(dict.fromkeys(report["tables"][key]["cells"]))
        codes = [code for code in seen if code not in (NOT_GIVEN, NO_PLACE)]
        codes.sort()
        codes += [code for code in (NO_PLACE, NOT_GIVEN) if code in seen]
        order[key] = codes
    return order


def _sdc_report(exact: dict, categories: dict[str, list[str]]) -> sdc.Report:
    tables = []
    for key, spec in TABLES.items():
        if not spec.protected:
            continue
        table = exact["tables"][key]
        codes = categories.get(key) or list(spec.codes or table["cells"])
        counts = {code: int(table["cells"].get(code, 0)) for code in codes}
        dimension = DIMENSIONS[key]
        tables.append(
            sdc.Table(
                key,
                dimension,
                counts,
                total=int(table["total"]),
                categories={dimension: codes},
                multiple=() if spec.additive else (dimension,),
                additive_over_parts=spec.unit not in PEOPLE_UNITS,
            )
        )
    figures = exact["figures"]
    tables += [
        sdc.Table(
            "workshop_participants",
            "participant",
            {
                "named": int(figures["named_workshop_participants"]),
                "anonymous": int(figures["anonymous_participants"]),
            },
        ),
        sdc.Table(
            "new_residents",
            "figure",
            {"value": int(figures["new_residents"])},
            additive_over_parts=False,
        ),
    ]
    links = []
    for _total, keys in _shared_totals().items():
        if len(keys) > 1:
            links += sdc.shared_total(*keys)
    links += [
        sdc.Link(
            ("accompaniments_by_redirection", sdc.TOTAL),
            ("accompaniments_by_outcome", (Outcome.REDIRECTED.value,)),
        ),
        sdc.Link(
            ("accompaniments_by_procedure", sdc.TOTAL),
            ("accompaniments_by_theme", (Theme.DEMARCHES_ADMINISTRATIVES.value,)),
        ),
        sdc.Link(("workshop_participants", sdc.TOTAL), ("accompaniments_by_kind", ("collective",))),
        sdc.Link(("anonymous_by_age_band", sdc.TOTAL), ("workshop_participants", ("anonymous",))),
        sdc.Link(("new_residents", sdc.TOTAL), ("residents_by_commune", sdc.TOTAL), "<="),
    ]
    return sdc.Report(tables, links)


def _shared_totals() -> dict[str, list[str]]:
    """Protected tables grouped by the figure their total equals."""
    groups: dict[str, list[str]] = {}
    for key, spec in TABLES.items():
        if spec.protected and "." not in spec.total:
            groups.setdefault(spec.total, []).append(key)
    return groups


# --- Protected values -----------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    value: int | float | None
    display: str
    suppressed: bool
    reason: str = ""  # "primary", "secondary" or ""
    # A hidden "< k" that may stand for 0: in a table whose total is below k, zeros are
    # hidden too (publishing them would tell where the few people are).
    may_be_zero: bool = False

    def as_dict(self) -> dict:
        item = {
            "value": self.value,
            "display": self.display,
            "suppressed": self.suppressed,
        }
        if self.may_be_zero:
            item["may_be_zero"] = True
        return item


def _exact(value) -> Value:
    return Value(value, number(value), False)


def _from_cell(cell: sdc.ProtectedCell, zeros_hidden: bool = False) -> Value:
    if cell.suppressed:
        primary = cell.reason == sdc.Reason.PRIMARY
        return Value(None, cell.label, True, str(cell.reason or ""), primary and zeros_hidden)
    return Value(cell.value, number(cell.value), False)


class _Published:
    """Reads the values of one report of a family: exact, or protected."""

    def __init__(self, exact: dict, protected: sdc.ProtectedReport | None):
        self.exact = exact
        self.protected = protected

    def cell(self, table: str, code: str) -> Value:
        if self.protected is None or table not in self.protected.tables:
            if code == sdc.TOTAL:
                return _exact(self._exact_total(table))
            if table in self.exact["tables"]:
                return _exact(self.exact["tables"][table]["cells"].get(code, 0))
            return _exact(self._exact_extra(table, code))
        ptable = self.protected.tables[table]
        key = sdc.TOTAL if code == sdc.TOTAL else (code,)
        cell = ptable.cell(key) if isinstance(key, str) else ptable.cells[key]
        return _from_cell(cell, ptable.zeros_hidden)

    def _exact_total(self, table: str):
        if table in self.exact["tables"]:
            return self.exact["tables"][table]["total"]
        figures = self.exact["figures"]
        return {
            "workshop_participants": figures["workshop_participants"],
            "new_residents": figures["new_residents"],
        }[table]

    def _exact_extra(self, table: str, code: str):
        figures = self.exact["figures"]
        return {
            ("workshop_participants", "named"): figures["named_workshop_participants"],
            ("workshop_participants", "anonymous"): figures["anonymous_participants"],
        }[(table, code)]

    def merged_codes(self, table: str) -> list[str] | None:
        if self.protected is None:
            return None
        return list(self.protected.tables[table].categories[0])

    def merge_labels(self, table: str) -> dict[str, str]:
        if self.protected is None:
            return {}
        return {m.code: m.label for m in self.protected.tables[table].merges}

    def sum_of(self, cells: list[tuple[str, str]]) -> Value:
        values = [self.cell(table, code) for table, code in cells]
        if any(v.suppressed for v in values):
            return Value(None, sdc.SECRET_MARK, True, "secondary")
        return _exact(sum(v.value for v in values))

    def figure(self, key: str) -> Value | None:
        figures = self.exact["figures"]
        if key in UNPROTECTED_FIGURES:
            return _exact(figures[key])
        if self.protected is None:
            return _exact(figures[key])
        if key in EXACT_ONLY:
            return None
        if key in FIGURE_CELLS:
            return self.cell(*FIGURE_CELLS[key])
        if key == "appointments_cancelled":
            from bookings.choices import CANCELLED_STATUSES

            return self.sum_of([("appointments_by_status", str(s)) for s in CANCELLED_STATUSES])
        if key in ("accompaniments_in_qpv", "accompaniments_in_frr"):
            flag = "is_qpv" if key.endswith("qpv") else "is_rural"
            places = [code for code, place in self.exact["places"].items() if place[flag]]
            codes = set(self.merged_codes("accompaniments_by_place") or ())
            return self.sum_of([("accompaniments_by_place", c) for c in places if c in codes])
        raise KeyError(key)


# --- The report -----------------------------------------------------------------------------


def _labels(key: str, exact: dict, merges: dict[str, str]) -> dict[str, str]:
    spec = TABLES[key]
    labels = {code: str(label) for code, label in spec.labels.items()}
    if key == "accompaniments_by_place":
        for code, place in exact["places"].items():
            labels[code] = place["name"]
        labels[NO_PLACE] = str(_("Hors lieu d'activité (domicile, à distance)"))
    elif key == "residents_by_commune":
        for place in exact["places"].values():
            if place["insee_code"]:
                labels.setdefault(place["insee_code"], place["commune"])
        labels[NOT_GIVEN] = str(NOT_GIVEN_LABEL)
    elif DIMENSIONS[key] == "month":
        labels.update(_month_labels(exact))
    labels.update(merges)
    return labels


def _month_labels(exact: dict) -> dict[str, str]:
    labels = {}
    for code in exact["tables"]["trend_sessions"]["cells"]:
        year, month = code.split("-")
        labels[code] = f"{MONTH_NAMES[int(month) - 1]} {year}"
    return labels


def _table(key: str, exact: dict, reader: _Published, k: int, anonymised: bool) -> dict:
    spec = TABLES[key]
    own_codes = list(exact["tables"][key]["cells"])
    codes = reader.merged_codes(key) if spec.protected else None
    if codes is None:
        codes = own_codes
    elif key in ("accompaniments_by_place", "residents_by_commune"):
        # The family's other structures' places and communes: zeros of this report, known.
        merged = set(reader.merge_labels(key))
        codes = [c for c in codes if c in own_codes or c in merged]
    labels = _labels(key, exact, reader.merge_labels(key) if spec.protected else {})
    total = reader.cell(key, sdc.TOTAL) if spec.protected else _exact(exact["tables"][key]["total"])
    rows = []
    for code in codes:
        value = (
            reader.cell(key, code)
            if spec.protected
            else _exact(exact["tables"][key]["cells"][code])
        )
        percent = None
        if (
            spec.additive
            and spec.unit != "minutes"
            and value.value is not None
            and total.value is not None
            and (total.value >= k or not anonymised)
            and total.value
        ) or (
            not spec.additive
            and value.value is not None
            and total.value
            and (total.value >= k or not anonymised)
        ):
            percent = round(100 * value.value / total.value, 1)
        row = {"code": code, "label": labels.get(code, code), **value.as_dict()}
        row["percent"] = percent
        rows.append(row)
    zeros_note = ""
    if any(row.get("may_be_zero") for row in rows):
        zeros_note = _(
            "Le total de ce tableau étant petit, ses zéros sont masqués eux aussi : "
            "« < %(k)s » peut y valoir 0."
        ) % {"k": k}
    if DIMENSIONS[key] == "month":
        chart = "line"
    elif key in ("accompaniments_by_place", "residents_by_commune") and len(rows) > 25:
        chart = None
    else:
        chart = "bar"
    return {
        "key": key,
        "title": str(spec.title),
        "unit": str(UNIT_LABELS.get(spec.unit, spec.unit)),
        "additive": spec.additive,
        "chart": chart,
        "rows": rows,
        "total": {"label": str(_("Total")), **total.as_dict()},
        "note": " ".join(filter(None, [str(NOTES.get(key, "")), zeros_note])),
    }


def _figures(reader: _Published, previous: _Published | None) -> list[dict]:
    figures = []
    for key in FIGURE_ORDER:
        value = reader.figure(key)
        if value is None:
            continue
        before = previous.figure(key) if previous is not None else None
        figures.append(
            {
                "key": key,
                "label": str(FIGURES[key]),
                **value.as_dict(),
                "previous": before.display if before is not None else None,
                "previous_value": before.value if before is not None else None,
                "change": change(value.value, before.value if before is not None else None),
            }
        )
    return figures


def method_note(
    k: int, anonymised: bool, protected: sdc.ProtectedReport | None, in_progress: bool = False
) -> list[str]:
    paragraphs = []
    if in_progress:
        paragraphs.append(
            _(
                "La période n'est pas terminée : ses chiffres sont partiels et leur évolution "
                "par rapport à une période complète ne dit pas grand-chose."
            )
        )
    paragraphs += [
        _(
            "Un accompagnement correspond à une personne aidée lors d'une séance : un atelier de "
            "huit participants compte huit accompagnements. Les usagers sont comptés une fois "
            "par période, qu'ils soient venus une ou plusieurs fois ; un nouvel usager est venu "
            "pour la première fois pendant la période. Les rendez-vous sont comptés à leur date."
        ),
        _(
            "Aucun nom, numéro, adresse, date de naissance ni texte libre ne figure dans ce "
            "bilan : les personnes n'y apparaissent que sous forme d'effectifs."
        ),
    ]
    if not anonymised:
        paragraphs.append(
            _(
                "Chiffres exacts, pour l'usage interne de la structure : ce document ne doit pas "
                "être transmis à l'extérieur. Les bilans pour les financeurs sont anonymisés."
            )
        )
        return paragraphs
    paragraphs += sdc.method_note(protected, labels=_all_labels()).split("\n\n")
    paragraphs.append(
        _(
            "Le bilan d'un réseau et ceux de ses structures sont protégés ensemble : une case "
            "masquée dans le bilan d'une structure ne peut pas être retrouvée en retranchant du "
            "bilan du réseau ceux des autres structures. Les bilans anonymisés couvrent des mois, "
            "trimestres ou années entiers."
        )
    )
    return paragraphs


def _all_labels() -> dict[str, str]:
    labels = {}
    for spec in TABLES.values():
        labels.update({code: str(label) for code, label in spec.labels.items()})
    return labels


def legend(k: int) -> dict[str, str]:
    return {
        f"< {k}": _("effectif inférieur à %(k)s, masqué") % {"k": k},
        sdc.SECRET_MARK: _("masqué pour qu'une autre case ne puisse pas être recalculée"),
    }


@dataclass
class _Family:
    """The exact report of a scope and its protection, for one period (for a network, also
    its structures' exact reports, whose protection is in `protected.parts`)."""

    exact: dict
    protected: sdc.ProtectedReport | None
    parts_exact: dict | None = None


_batch: ContextVar[dict | None] = ContextVar("reports_publish_batch", default=None)


@contextmanager
def batch():
    """Within this block, a network's protected family is computed once per period and
    reused by the reports of the network and of each of its structures (the quarterly job,
    which publishes them all). Outside it nothing is kept: figures are always fresh."""
    token = _batch.set({})
    try:
        yield
    finally:
        _batch.reset(token)


def _family(scope: Scope, period: Period, k: int, anonymised: bool) -> _Family:
    memo = _batch.get()
    network = scope.network
    if memo is None or not anonymised or network is None:
        return _compute_family(scope, period, k, anonymised)
    key = (network.pk, period.code, k)
    if key not in memo:
        memo[key] = _compute_family(scope_of(network), period, k, anonymised=True), {}
    top, parts = memo[key]
    if scope.kind == "network":
        return top
    if scope.obj.pk not in parts:
        parts[scope.obj.pk] = _compute_family(scope, period, k, anonymised=True, family=top)
    return parts[scope.obj.pk]


def _compute_family(
    scope: Scope, period: Period, k: int, anonymised: bool, family: _Family | None = None
) -> _Family:
    if family is not None:
        # A structure's part of a network family already protected.
        return _Family(family.parts_exact[scope.obj.pk], family.protected.parts[str(scope.obj.pk)])
    if not anonymised:
        return _Family(compute(scope.obj, period), None)
    network = scope.network
    if scope.kind == "place":
        raise ValueError("An anonymised report covers a structure or a network.")
    if network is None:
        exact = compute(scope.obj, period)
        categories = _aligned([exact])
        protected = sdc.protect(
            _sdc_report(exact, categories), k=k, merges=merge_rules(), hierarchy=None
        )
        return _Family(exact, protected)
    top = compute(network, period)
    parts = compute_for_structures(network, period)
    categories = _aligned([top, *parts.values()])
    protected = sdc.protect(
        _sdc_report(top, categories),
        k=k,
        merges=merge_rules(),
        hierarchy={str(pk): _sdc_report(part, categories) for pk, part in parts.items()},
    )
    if scope.kind == "network":
        return _Family(top, protected, parts)
    return _Family(parts[scope.obj.pk], protected.parts[str(scope.obj.pk)])


def build(obj, period: Period, *, anonymised: bool = True, compare: bool = True) -> dict:
    """The published report of `obj` (a Place, Structure or Network) for `period`.

    Anonymised reports cover whole months, quarters or years (PeriodError otherwise) and a
    structure or a network; exact ones (staff of the structure) any period and place. The
    caller checks the user may see the scope.

    Anonymised reports are kept in the cache (settings.REPORTS_CACHE): a network's costs the
    whole family's figures for two periods, seconds on a large network. Ten minutes for a
    period that is still open or just closed, a day for one closed over a week ago (late
    entries are rare by then); the report says when it was computed."""
    seconds = _cache_seconds(period) if anonymised else 0
    key = None
    if seconds:
        key = ":".join(
            str(part)
            for part in (
                "report",
                code_version(),
                type(obj).__name__,
                obj.pk,
                period.code,
                threshold(),
                compare,
                get_language(),
            )
        )
        cached = cache.get(key)
        if cached is not None:
            return cached
    report = _build(obj, period, anonymised=anonymised, compare=compare)
    if key is not None:
        cache.set(key, report, seconds)
    return report


@functools.cache
def code_version() -> str:
    """A fingerprint of the code that computes reports: a new version never reads a report
    cached by the previous one."""
    digest = hashlib.sha256()
    for name in ("anonymise", "indicators", "publish", "periods"):
        digest.update(Path(__file__).with_name(f"{name}.py").read_bytes())
    return f"{VERSION}-{digest.hexdigest()[:12]}"


def _cache_seconds(period: Period) -> int:
    if not getattr(settings, "REPORTS_CACHE", False):
        return 0
    if period.end <= timezone.localdate() - timedelta(days=7):
        return 24 * 3600
    return 600


def _build(obj, period: Period, *, anonymised: bool, compare: bool) -> dict:
    scope = scope_of(obj)
    k = threshold()
    if anonymised:
        require_whole(period)
    current = _family(scope, period, k, anonymised)
    reader = _Published(current.exact, current.protected)
    previous = None
    previous_period = period.previous() if compare else None
    if previous_period is not None:
        before = _family(scope, previous_period, k, anonymised)
        previous = _Published(before.exact, before.protected)
    tables = [_table(key, current.exact, reader, k, anonymised) for key in TABLES]
    places = [
        {
            "name": place["name"],
            "commune": place["commune"],
            "is_qpv": place["is_qpv"],
            "is_rural": place["is_rural"],
        }
        for place in current.exact["places"].values()
    ]
    return {
        "version": VERSION,
        "title": _("Bilan d'activité"),
        "scope": scope.as_dict(),
        "period": _period_dict(period),
        "previous_period": _period_dict(previous_period) if previous_period else None,
        "anonymised": anonymised,
        "k": k,
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "key_figures": list(KEY_FIGURES),
        "figures": _figures(reader, previous),
        "tables": tables,
        "places": places,
        "method_note": method_note(
            k, anonymised, current.protected, in_progress=period.end > timezone.localdate()
        ),
        "legend": legend(k) if anonymised else {},
    }


def _period_dict(period: Period) -> dict:
    return {
        "code": period.code,
        "label": str(period.label),
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "dates": _("du %(first)s au %(last)s")
        % {"first": day_label(period.start), "last": day_label(period.last_day)},
        # Still running: its figures are partial, and its change from a whole previous
        # period means little.
        "in_progress": period.end > timezone.localdate(),
    }


def figure_map(report: dict) -> dict[str, dict]:
    return {figure["key"]: figure for figure in report["figures"]}


def max_value(table: dict) -> int:
    values = [row["value"] for row in table["rows"] if row["value"] is not None]
    return max(values, default=0) or 1


def ceil_to(value: float) -> int:
    """A round upper bound for a chart axis."""
    if value <= 0:
        return 1
    magnitude = 10 ** int(math.log10(value))
    return int(math.ceil(value / magnitude) * magnitude)
