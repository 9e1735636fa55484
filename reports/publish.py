"""A report as it is shown and exported: the exact indicators of `reports.indicators`, protected
by `reports.protect` unless a member of the structure asks for its exact figures, turned into
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
import math
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation.communes import commune_label
from mediation.dates import MONTH_NAMES, day_label
from mediation.models import Network, Place, Structure
from reports import protect
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
from reports.periods import Period, require_closed, require_whole

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

TOTAL = "total"

#: Figures that are a cell (or the total) of a table: the same records, hence the same cell
#: key and the same published value (the disclosure audit reads this as identities).
FIGURE_CELLS = {
    "sessions": ("sessions_by_kind", TOTAL),
    "individual_sessions": ("sessions_by_kind", "individual"),
    "collective_sessions": ("sessions_by_kind", "collective"),
    "accompaniments": ("accompaniments_by_kind", TOTAL),
    "workshop_participants": ("accompaniments_by_kind", "collective"),
    "named_workshop_participants": ("workshop_participants", "named"),
    "anonymous_participants": ("workshop_participants", "anonymous"),
    "residents": ("residents_by_commune", TOTAL),
    "new_residents": ("new_residents", TOTAL),
    "appointments": ("appointments_by_status", TOTAL),
    "appointments_booked": ("appointments_by_status", "booked"),
    "appointments_seen": ("appointments_by_status", "seen"),
    "appointments_no_show": ("appointments_by_status", "no_show"),
}
#: Figures of the exact report only: residents and anonymous participants added up, which
#: published beside the residents would give the anonymous participants away.
EXACT_ONLY = ("residents_incl_anonymous",)

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
    return int(getattr(settings, "REPORTS_THRESHOLD", protect.DEFAULT_K))


def public_method() -> dict:
    """What a reader of the published reports is told of the method (and what the disclosure
    audit assumes the attacker knows): the threshold, the largest perturbation of a published
    count, and how hidden cells are marked."""
    k = threshold()
    return {
        "k": k,
        "max_perturbation": protect.MAX_PERTURBATION,
        "primary_mark": protect.PRIMARY_MARK.format(k=k),
        # "< k" stands for 0 to k − 1 + the largest perturbation: zeros are hidden too, and
        # so is a count whose perturbed value falls below k.
        "hidden_range": list(protect.hidden_values(k)),
    }


number = protect.number


def change(current: int | float | None, previous: int | float | None) -> str | None:
    if current is None or previous is None or not previous:
        return None
    ratio = (current - previous) / previous * 100
    sign = "+" if ratio > 0 else ("−" if ratio < 0 else "")
    return f"{sign}{number(round(abs(ratio)))}\u00a0%"


# --- Scope ----------------------------------------------------------------------------------


@dataclass
class Scope:
    """The object a report covers."""

    obj: Place | Structure | Network
    kind: str  # "place", "structure", "network"

    @functools.cached_property
    def network(self) -> Network | None:
        if self.kind == "network":
            return self.obj
        structure = self.obj.structure if self.kind == "place" else self.obj
        # A structure may belong to several networks: any of them does for `batch()` (which
        # computes the exact reports of a network's structures at once). Protection needs no
        # network: cell keys make a structure's figures the same in every network's report.
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


# --- Published values -----------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    value: int | float | None
    display: str
    suppressed: bool

    def as_dict(self) -> dict:
        return {"value": self.value, "display": self.display, "suppressed": self.suppressed}


def _exact(value) -> Value:
    return Value(value, number(value), False)


def _value(published: protect.Published) -> Value:
    return Value(published.value, published.display, published.suppressed)


class _Published:
    """Reads the values of one report: exact (staff of the structure), or protected cell by
    cell (`reports.protect`), each count with its own cell key."""

    def __init__(self, exact: dict, k: int, anonymised: bool):
        self.exact = exact
        self.k = k
        self.anonymised = anonymised

    def _protect(self, value, cell_key: int) -> Value:
        if not self.anonymised:
            return _exact(value)
        return _value(protect.protect(value, cell_key, self.k))

    def cell(self, table: str, code: str) -> Value:
        exact, keys = self.exact["tables"][table], self.exact["keys"]["tables"][table]
        if code == TOTAL:
            return self._protect(exact["total"], keys["total"])
        return self._protect(exact["cells"].get(code, 0), keys["cells"].get(code, 0))

    def figure(self, key: str) -> Value | None:
        figures = self.exact["figures"]
        if key in UNPROTECTED_FIGURES or not self.anonymised:
            return _exact(figures[key])
        if key in EXACT_ONLY:
            return None
        if key == "hours":
            # From the published minutes, never from the exact ones.
            minutes = self.figure("help_minutes")
            if minutes.value is None:
                return minutes
            return _exact(round(minutes.value / 60, 1))
        return self._protect(figures[key], self.exact["keys"]["figures"][key])


# --- The report -----------------------------------------------------------------------------


def _labels(key: str, exact: dict) -> dict[str, str]:
    spec = TABLES[key]
    labels = {code: str(label) for code, label in spec.labels.items()}
    if key == "accompaniments_by_place":
        for code, place in exact["places"].items():
            labels[code] = place["name"]
        labels[NO_PLACE] = str(_("Hors lieu d'activité (domicile, à distance)"))
    elif DIMENSIONS[key] == "commune":
        # "Guichen (35126)": by name, with the code (two communes may share a name).
        for code in exact["tables"][key]["cells"]:
            if code != NOT_GIVEN:
                labels[code] = commune_label(code)
        labels[NOT_GIVEN] = str(NOT_GIVEN_LABEL)
    elif DIMENSIONS[key] == "month":
        labels.update(_month_labels(exact))
    return labels


def label_communes(report: dict) -> dict:
    """The rows of the commune tables labelled by name ("Guichen (35126)"), in place. Reports
    stored before communes had names (`reports.frozen`) said the bare code of the communes
    without a place: they get the same labels when served. Only labels change, never a
    figure or a code."""
    for table in report.get("tables", ()):
        if DIMENSIONS.get(table.get("key")) != "commune":
            continue
        for row in table["rows"]:
            if row["code"] != NOT_GIVEN:
                row["label"] = commune_label(row["code"])
    return report


def _month_labels(exact: dict) -> dict[str, str]:
    labels = {}
    for code in exact["tables"]["trend_sessions"]["cells"]:
        year, month = code.split("-")
        labels[code] = f"{MONTH_NAMES[int(month) - 1]} {year}"
    return labels


def _table(key: str, exact: dict, reader: _Published, k: int) -> dict:
    spec = TABLES[key]
    codes = list(exact["tables"][key]["cells"])
    labels = _labels(key, exact)
    total = reader.cell(key, TOTAL) if spec.protected else _exact(exact["tables"][key]["total"])
    rows = []
    for code in codes:
        if spec.protected:
            value = reader.cell(key, code)
        else:
            value = _exact(exact["tables"][key]["cells"][code])
        percent = None
        if (
            spec.unit != "minutes"
            and value.value is not None
            and total.value
            and (total.value >= k or not reader.anonymised)
        ):
            percent = round(100 * value.value / total.value, 1)
        row = {"code": code, "label": labels.get(code, code), **value.as_dict()}
        row["percent"] = percent
        rows.append(row)
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
        "note": str(NOTES.get(key, "")),
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


def method_note(k: int, anonymised: bool, in_progress: bool = False) -> list[str]:
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
            "pour la première fois pendant la période. Les séances saisies après la clôture d'un "
            "mois sont comptées dans le mois de leur saisie ; les rendez-vous sont comptés à "
            "leur date."
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
    paragraphs.append(
        _(
            "Ce que garantissent ces chiffres : aucun effectif inférieur à %(k)s n'est publié "
            "(« < %(k)s » signale un effectif masqué : inférieur à %(k)s, ou à peine plus grand "
            "et arrondi en dessous) ; les autres effectifs sont arrondis au hasard "
            "de quelques unités "
            "(deux fois sur dix de plus d'une unité, exceptionnellement jusqu'à %(max)s), de sorte "
            "qu'un total peut différer de quelques unités de la somme de ses lignes ; les mêmes "
            "personnes donnent toujours le même chiffre, dans tous les bilans, périodes et "
            "formats, si bien qu'aucune soustraction entre bilans ne permet de retrouver un "
            "petit effectif ; les durées d'accompagnement sont arrondies de même, le nombre de "
            "lieux est exact. Les bilans anonymisés couvrent des mois, trimestres ou années "
            "entiers et clos : une fois publié, le bilan d'une période ne change plus."
        )
        % {"k": k, "max": protect.MAX_PERTURBATION}
    )
    return paragraphs


def legend(k: int) -> dict[str, str]:
    return {
        protect.PRIMARY_MARK.format(k=k): _("masqué : moins de %(k)s, ou à peine plus et arrondi")
        % {"k": k},
    }


_batch: ContextVar[dict | None] = ContextVar("reports_publish_batch", default=None)


@contextmanager
def batch():
    """Within this block, the exact reports of every structure of a network are computed
    once per period, with the network's (8 queries for them all), and reused by the reports
    of each structure (the quarterly job, which publishes them all). Outside it nothing is
    kept: figures are always fresh."""
    token = _batch.set({})
    try:
        yield
    finally:
        _batch.reset(token)


def _exact_report(scope: Scope, period: Period) -> dict:
    memo = _batch.get()
    if memo is None or scope.kind != "structure" or scope.network is None:
        return compute(scope.obj, period)
    network = scope.network
    key = (network.pk, period.code)
    if key not in memo:
        memo[key] = compute_for_structures(network, period)
    return memo[key][scope.obj.pk]


def build(obj, period: Period, *, anonymised: bool = True, compare: bool = True) -> dict:
    """The published report of `obj` (a Place, Structure or Network) for `period`.

    Anonymised reports cover whole, closed months, quarters or years (PeriodError otherwise)
    and a structure or a network, and are published once: `reports.frozen` stores the first
    one and serves it ever after. Exact ones (staff of the structure) cover any period and
    place, running ones included, and are always computed live. The caller checks the user
    may see the scope.

    The report says when it was computed (for a stored one, when it was first published).
    Nothing is cached: a published period is one stored row, read back."""
    if anonymised:
        require_whole(period)
        require_closed(period)
    return _published(obj, period, anonymised=anonymised, compare=compare)


def _published(obj, period: Period, *, anonymised: bool, compare: bool) -> dict:
    if anonymised:
        from reports import frozen

        return frozen.published(obj, period, compare=compare)
    return _build(obj, period, anonymised=False, compare=compare)


def compute_published(obj, period: Period) -> dict:
    """The anonymised report of `obj` for `period` computed now, without comparison: what
    `reports.frozen` stores the first time a closed period is published."""
    return _build(obj, period, anonymised=True, compare=False)


def _build(obj, period: Period, *, anonymised: bool, compare: bool) -> dict:
    scope = scope_of(obj)
    k = threshold()
    if anonymised:
        require_whole(period)
        if scope.kind == "place":
            raise ValueError("An anonymised report covers a structure or a network.")
    exact = _exact_report(scope, period)
    reader = _Published(exact, k, anonymised)
    previous = None
    previous_period = period.previous() if compare else None
    if previous_period is not None:
        previous = _Published(_exact_report(scope, previous_period), k, anonymised)
    tables = [_table(key, exact, reader, k) for key in TABLES]
    places = [
        {
            "name": place["name"],
            "commune": place["commune"],
            "is_qpv": place["is_qpv"],
            "is_rural": place["is_rural"],
        }
        for place in exact["places"].values()
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
        "method_note": method_note(k, anonymised, in_progress=period.end > timezone.localdate()),
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
