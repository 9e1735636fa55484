"""A realistic published report (the dict `reports.publish` produces and `reports.pdf` draws),
built without a database: tests and benchmarks of the renderers reuse it.

The figures hang together like real ones: every table adds up to the figure it breaks down
(or, for multi-valued fields, each cell is at most the total), the monthly trends add up to the
period, the communes follow a long tail. With `anonymised=True, suppressed=True` some cells are
hidden as a publication would show them ("< 11" for a count under the threshold), with
`value` and `percent` set to None; `KNOWN_HIDDEN` gives the true
value of a few of them, so that a test can check that it is shown nowhere.

Labels and titles come from `reports.indicators` (Django settings needed, no database)."""

from __future__ import annotations

import random
from datetime import date

from mediation.dates import MONTH_NAMES
from reports.indicators import FIGURES, NO_PLACE, NOT_GIVEN, NOT_GIVEN_LABEL, TABLES
from reports.periods import Period

K = 11
NBSP = "\xa0"

#: {(table key or "figures", cell code or figure key): true value} of small cells of the sample
#: (with `suppressed=True`): shown "< 11" when anonymised, as they are when not.
KNOWN_HIDDEN = {
    ("accompaniments_by_equipment", "tablet"): 7,
    ("residents_by_age_band", "<12"): 3,
    ("figures", "appointments_no_show"): 9,
    ("appointments_by_status", "no_show"): 9,
}

KEY_FIGURES = [
    "sessions",
    "accompaniments",
    "residents",
    "new_residents",
    "hours",
    "appointments_seen",
]

UNITS = {
    "sessions": "séances",
    "accompaniments": "accompagnements",
    "participations": "participations",
    "residents": "usagers",
    "appointments": "rendez-vous",
    "minutes": "minutes",
}

NOTES = {
    "accompaniments_by_theme": "Un accompagnement peut relever de plusieurs thèmes.",
    "accompaniments_by_procedure": (
        "Accompagnements du thème « Démarches administratives » ; un accompagnement peut "
        "relever de plusieurs domaines."
    ),
    "accompaniments_by_equipment": "Plusieurs matériels peuvent servir au même accompagnement.",
    "residents_by_age_band": "Usagers différents vus pendant la période.",
    "anonymous_by_age_band": "Participants des ateliers comptés sans nom, à chaque atelier.",
    "residents_by_commune": "Les participants anonymes aux ateliers n'ont pas de commune.",
    "trend_help_minutes": "Une durée n'est pas un effectif de personnes : elle n'est pas masquée.",
}

NO_CHART = {"accompaniments_by_redirection"}

COMMUNES = [
    "Lohéac", "Guichen", "Guignen", "Pipriac", "Maure-de-Bretagne", "Bain-de-Bretagne",
    "Messac", "Guipry", "Bourg-des-Comptes", "Laillé", "Goven", "Baulon", "Lassy",
    "Saint-Senoux", "Pléchâtel", "Saint-Malo-de-Phily", "Crevin", "Bovel", "Maxent",
    "Mernel", "Loutehel", "Comblessac", "Les Brulais", "Sixt-sur-Aff", "Renac",
    "La Chapelle-Bouëxic", "Saint-Séglin", "Bréal-sous-Montfort", "Mordelles", "Chavagne",
    "Le Rheu", "Saint-Jacques-de-la-Lande", "Vern-sur-Seiche", "Janzé", "Châteaugiron",
    "Plélan-le-Grand", "Paimpont", "Treffendel", "Monterfil", "Saint-Thurial", "Iffendic",
    "Montfort-sur-Meu", "Redon", "Val d'Anast", "Saint-Ganton", "Langon", "Sainte-Marie",
]  # fmt: skip

PLACE_KINDS = [
    "Mairie de {}", "Médiathèque de {}", "Espace France Services de {}", "Centre social de {}",
    "Salle polyvalente de {}", "CCAS de {}", "Maison des associations de {}",
]  # fmt: skip

#: Relative weights of the cells of the fixed tables (the rest get a random weight).
WEIGHTS = {
    "sessions_by_kind": {"individual": 8.5, "collective": 1.5},
    "residents_by_gender": {"female": 58, "male": 40, "not_given": 2},
    "accompaniments_by_duration": {"under_30": 3, "30_59": 5, "60_119": 2.5, "120_plus": 0.6},
    "accompaniments_by_theme": {"demarches_administratives": 14, "email": 6},
}
#: Multi-valued tables: how many cells an accompaniment has on average.
MULTI = {
    "accompaniments_by_theme": 1.3,
    "accompaniments_by_procedure": 1.1,
    "accompaniments_by_equipment": 1.05,
}


def fmt(value: int) -> str:
    """French display of a count: "1 250" (no-break space, as Django's "fr" formats)."""
    return f"{value:,}".replace(",", NBSP)


def fmt_change(current: int, previous: int) -> str | None:
    if not previous:
        return None
    change = round((current - previous) * 100 / previous)
    sign = "+" if change > 0 else ("\u2212" if change < 0 else "")
    return f"{sign}{abs(change)}{NBSP}%"


def _period_dict(period: Period) -> dict:
    return {
        "code": period.code,
        "label": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }


def _period(months: int) -> Period:
    if months == 12:
        return Period.of_year(2026)
    if months == 3:
        return Period.of_quarter(2026, 3)
    if months == 1:
        return Period.of_month(2026, 9)
    end = date(2026, 10, 1)
    index = end.year * 12 + end.month - 1 - months
    return Period.between(date(index // 12, index % 12 + 1, 1), date(2026, 9, 30))


def _split(total: int, weights: list[float]) -> list[int]:
    """`total` shared out along `weights` (largest remainder): the parts add up to it."""
    if not weights:
        return []
    whole = sum(weights) or 1
    raw = [total * w / whole for w in weights]
    parts = [int(r) for r in raw]
    for index in sorted(range(len(raw)), key=lambda i: parts[i] - raw[i])[: total - sum(parts)]:
        parts[index] += 1
    return parts


class _Builder:
    def __init__(self, *, anonymised, months, places, communes, suppressed, seed):
        self.rng = random.Random(seed)
        self.anonymised = anonymised
        # `suppressed`: the report has counts under the threshold (those of KNOWN_HIDDEN
        # among them), which an anonymised report hides and an exact one shows.
        self.small = suppressed
        self.hide = anonymised and suppressed
        self.period = _period(months)
        self.places = self._places(places)
        self.communes = [COMMUNES[i % len(COMMUNES)] for i in range(communes)]
        if communes > len(COMMUNES):
            self.communes = [
                name if i < len(COMMUNES) else f"{name} ({i // len(COMMUNES) + 1})"
                for i, name in enumerate(self.communes)
            ]
        self.figures = self._figures(places, months)

    def _places(self, count: int) -> list[dict]:
        places = []
        for index in range(count):
            commune = COMMUNES[index % len(COMMUNES)]
            kind = PLACE_KINDS[(index // len(COMMUNES)) % len(PLACE_KINDS)]
            places.append(
                {
                    "name": kind.format(commune),
                    "commune": commune,
                    "is_qpv": index % 7 == 3,
                    "is_rural": index % 3 != 0,
                }
            )
        return places

    def _figures(self, places: int, months: int) -> dict[str, int]:
        rng = self.rng
        sessions = places * months * rng.randint(40, 50)
        collective = round(sessions * 0.15)
        individual = sessions - collective
        participants = collective * 6
        named = round(participants * 0.6)
        accompaniments = individual + participants
        residents = round(individual * 0.45) + round(named * 0.5)
        help_minutes = accompaniments * rng.randint(38, 46)
        appointments = round(individual * 0.4)
        no_show = 9 if self.small else round(appointments * 0.06)
        cancelled = round(appointments * 0.08)
        booked = round(appointments * 0.05)
        places_in_qpv = sum(p["is_qpv"] for p in self.places)
        places_in_frr = sum(p["is_rural"] for p in self.places)
        return {
            "sessions": sessions,
            "individual_sessions": individual,
            "collective_sessions": collective,
            "accompaniments": accompaniments,
            "workshop_participants": participants,
            "named_workshop_participants": named,
            "anonymous_participants": participants - named,
            "residents": residents,
            "new_residents": round(residents * 0.38),
            "residents_incl_anonymous": residents + participants - named,
            "help_minutes": help_minutes,
            "hours": round(help_minutes / 60),
            "appointments": appointments,
            "appointments_booked": booked,
            "appointments_seen": appointments - no_show - cancelled - booked,
            "appointments_no_show": no_show,
            "appointments_cancelled": cancelled,
            "sessions_in_qpv": round(sessions * places_in_qpv / max(places, 1)),
            "accompaniments_in_qpv": round(accompaniments * places_in_qpv / max(places, 1)),
            "sessions_in_frr": round(sessions * places_in_frr / max(places, 1)),
            "accompaniments_in_frr": round(accompaniments * places_in_frr / max(places, 1)),
            "places": places,
            "places_in_qpv": places_in_qpv,
            "places_in_frr": places_in_frr,
        }

    # --- Cells ------------------------------------------------------------------------------

    def _total(self, key: str) -> int:
        spec = TABLES[key]
        if "." in spec.total:
            table, code = spec.total.split(".")
            return self.cells[table][code]
        return self.figures[spec.total]

    def _codes(self, key: str) -> tuple[list[str], dict]:
        spec = TABLES[key]
        if key.startswith("trend_"):
            months = self.period.months()
            labels = {m: f"{MONTH_NAMES[int(m[5:]) - 1]} {m[:4]}" for m in months}
            return months, labels
        if key == "accompaniments_by_place":
            codes = [str(100 + i) for i in range(len(self.places))] + [NO_PLACE]
            labels = {str(100 + i): p["name"] for i, p in enumerate(self.places)}
            return codes, labels | {NO_PLACE: str(spec.labels[NO_PLACE])}
        if key == "residents_by_commune":
            codes = [f"35{i:03d}" for i in range(len(self.communes))] + [NOT_GIVEN]
            labels = dict(zip(codes, self.communes, strict=False))
            return codes, labels | {NOT_GIVEN: str(NOT_GIVEN_LABEL)}
        return list(spec.codes), {code: str(label) for code, label in spec.labels.items()}

    def _weights(self, key: str, codes: list[str]) -> list[float]:
        rng = self.rng
        if key.startswith("trend_"):
            # Quieter in August and at Christmas.
            season = {"08": 0.45, "12": 0.75, "07": 0.85}
            return [season.get(code[5:], 1.0) * rng.uniform(0.9, 1.1) for code in codes]
        if key == "residents_by_commune":
            weights = [1 / (rank + 1) ** 1.15 for rank in range(len(codes) - 1)]
            return [*weights, 0.04 * sum(weights)]
        if key == "accompaniments_by_place":
            return [rng.uniform(0.3, 1.6) for _ in codes[:-1]] + [0.05 * len(codes)]
        fixed = WEIGHTS.get(key, {})
        weights = []
        for index, code in enumerate(codes):
            if code in fixed:
                weights.append(fixed[code])
            elif code == NOT_GIVEN:
                weights.append(0.3)
            else:
                weights.append(rng.uniform(0.4, 3.0) * (1.6 if index < 3 else 1.0))
        return weights

    def build_cells(self) -> None:
        self.cells: dict[str, dict[str, int]] = {}
        self.labels: dict[str, dict[str, str]] = {}
        for key, spec in TABLES.items():
            codes, labels = self._codes(key)
            total = self._total(key)
            weights = self._weights(key, codes)
            if key == "appointments_by_status":
                f = self.figures
                by_resident = round(f["appointments_cancelled"] * 0.7)
                values = [
                    f["appointments_booked"],
                    f["appointments_seen"],
                    f["appointments_no_show"],
                    by_resident,
                    f["appointments_cancelled"] - by_resident,
                ]
            elif key in ("sessions_by_kind", "accompaniments_by_kind"):
                f = self.figures
                collective = (
                    "collective_sessions" if key == "sessions_by_kind" else "workshop_participants"
                )
                values = [f["individual_sessions"], f[collective]]
            elif spec.additive:
                values = _split(total, weights)
            else:
                # Each unit in one cell or more: cells ≤ total, adding up to more than it.
                share = MULTI.get(key, 1.1) / sum(weights)
                values = [min(total, round(total * w * share)) for w in weights]
            cells = dict(zip(codes, values, strict=True))
            for (table, code), value in KNOWN_HIDDEN.items():
                if table == key and self.small and cells[code] != value:
                    self._set(cells, code, value, spec.additive)
            if not self.small and self.anonymised and spec.protected:
                for code, value in list(cells.items()):
                    if 0 < value < K:
                        self._set(cells, code, K + self.rng.randint(0, 6), spec.additive)
            self.cells[key] = cells
            self.labels[key] = labels

    @staticmethod
    def _set(cells: dict[str, int], code: str, value: int, additive: bool) -> None:
        """Set a cell, keeping the total of an additive table (taken from its largest cell)."""
        if additive:
            largest = max((c for c in cells if c != code), key=cells.__getitem__)
            cells[largest] += cells[code] - value
        cells[code] = value

    # --- Publication ----------------------------------------------------------------------

    def _hidden(self, cells: dict[str, int], protected: bool) -> dict[str, str]:
        """{code: "< 11"}: the threshold rule (zeros included), as reports.protect applies it
        (the sample's published values are not perturbed: renderers do not care)."""
        if not (self.hide and protected):
            return {}
        return {code: f"< {K}" for code, value in cells.items() if value < K}

    def table(self, key: str) -> dict:
        spec = TABLES[key]
        cells = self.cells[key]
        total = self._total(key)
        hidden = self._hidden(cells, spec.protected)
        rows = []
        for code, value in cells.items():
            mark = hidden.get(code)
            rows.append(
                {
                    "code": code,
                    "label": self.labels[key][code],
                    "value": None if mark else value,
                    "display": mark or fmt(value),
                    "suppressed": bool(mark),
                    "percent": None if mark or not total else round(value * 100 / total, 1),
                }
            )
        chart = "line" if key.startswith("trend_") else (None if key in NO_CHART else "bar")
        return {
            "key": key,
            "title": str(spec.title),
            "unit": UNITS[spec.unit],
            "chart": chart,
            "rows": rows,
            "total": {
                "label": "Total",
                "value": total,
                "display": fmt(total),
                "suppressed": False,
            },
            "note": NOTES.get(key, ""),
        }

    def figure(self, key: str) -> dict:
        value = self.figures[key]
        previous = max(0, round(value * self.rng.uniform(0.82, 1.08)))
        hidden = self.hide and (key, value) == ("appointments_no_show", 9)
        return {
            "key": key,
            "label": str(FIGURES[key]),
            "value": None if hidden else value,
            "display": f"< {K}" if hidden else fmt(value),
            "suppressed": hidden,
            "previous": f"< {K}" if hidden else (fmt(previous) if previous else None),
            "change": None if hidden else fmt_change(value, previous),
        }


def _method_note(anonymised: bool) -> list[str]:
    note = [
        "Une séance est un temps d'accompagnement saisi par un médiateur, individuel ou en "
        "atelier collectif. Un accompagnement correspond à une personne aidée lors d'une "
        "séance : une séance individuelle compte pour un, un atelier pour chacun de ses "
        "participants, nommés ou non.",
        "Les usagers différents sont les personnes vues au moins une fois dans la période ; "
        "les nouveaux usagers sont ceux dont la première séance a eu lieu dans la période. Les "
        "rendez-vous sont comptés à leur date, dans le fuseau horaire de leur lieu.",
    ]
    if anonymised:
        note += [
            f"Ce bilan est anonymisé : aucun nom, aucune note ni aucun texte libre n'y figure, "
            f"et tout effectif de personnes compris entre 1 et {K - 1} est masqué (règle du "
            f"seuil, k = {K}, pratique de la statistique publique). Les zéros sont publiés.",
            "D'autres cases sont masquées à leur tour (secret secondaire) lorsqu'une case masquée "
            "pourrait être retrouvée par différence avec les totaux ou avec un autre tableau. "
            "Les pourcentages sont calculés sur les seuls effectifs publiés.",
        ]
    else:
        note.append(
            "Ce bilan donne les chiffres exacts, sans masquage : il est réservé à un usage "
            "interne et ne doit pas être transmis en dehors de la structure."
        )
    return note


def sample_report(
    *,
    anonymised: bool = True,
    months: int = 3,
    places: int = 8,
    communes: int = 25,
    suppressed: bool = True,
    kind: str | None = None,
    seed: int = 3,
) -> dict:
    """A published report of a structure (a network when `kind="network"`, the default for
    more than 20 places) over `months` months (the third quarter of 2026 for 3, the year 2026
    for 12, months ending in September 2026 otherwise). `suppressed=False` gives an anonymised
    report with no cell to hide."""
    builder = _Builder(
        anonymised=anonymised,
        months=months,
        places=places,
        communes=communes,
        suppressed=suppressed,
        seed=seed,
    )
    builder.build_cells()
    kind = kind or ("network" if places > 20 else "structure")
    if kind == "network":
        scope = {"kind": "network", "id": 2, "name": "Réseau des Vallons de Haute-Bretagne"}
        scope |= {"slug": "vallons-haute-bretagne", "network": ""}
    elif kind == "place":
        place = builder.places[0]
        scope = {"kind": "place", "id": 12, "name": place["name"], "slug": "mairie-loheac"}
        scope |= {"network": "Réseau des Vallons de Haute-Bretagne"}
    else:
        scope = {"kind": "structure", "id": 3, "name": "France Services de Lohéac"}
        scope |= {"slug": "fs-loheac", "network": "Réseau des Vallons de Haute-Bretagne"}
    return {
        "version": 1,
        "title": "Bilan d'activité",
        "scope": scope,
        "period": _period_dict(builder.period),
        "previous_period": _period_dict(builder.period.previous()),
        "anonymised": anonymised,
        "k": K,
        "generated_at": f"{builder.period.end.isoformat()}T06:00:00+02:00",
        "key_figures": list(KEY_FIGURES),
        "figures": [builder.figure(key) for key in FIGURES],
        "tables": [builder.table(key) for key in TABLES],
        "places": builder.places,
        "method_note": _method_note(anonymised),
        "legend": (
            {f"< {K}": f"masqué : moins de {K}, ou à peine plus et arrondi"} if anonymised else {}
        ),
    }
