"""Time reports.anonymise.protect() on realistic report shapes (no database, no Django).

(a) one structure's quarterly report: the tables reports/publish.py builds (about twenty 1-D
    tables of 2 to 30 categories, shared totals, links to cells, "<=" links, counts of distinct
    people), filled from a simulation of sessions with skewed distributions (a few big cells,
    many small ones);
(b) a network of 12 such structures of different sizes, protected with the hierarchy.

Run: `.venv/bin/python bench/anonymise.py [--structures N] [--seed S] [--repeat R]`.
Last line: `structure_ms=… network_ms=… structures=… cells=… hidden=… network_cells=…
network_hidden=…` (medians over the repeats).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reports.anonymise import (
    DEFAULT_MERGES,
    TOTAL,
    Link,
    MergeRule,
    Report,
    Table,
    protect,
    shared_total,
)  # noqa: E402,I001

MONTHS = ("2026-07", "2026-08", "2026-09")
KINDS = ("individual", "collective")
DURATIONS = ("under_30", "30_59", "60_119", "120_plus")
PLACE_TYPES = ("place", "home", "remote", "other")
AUTONOMY = ("fully_assisted", "partly_autonomous", "autonomous", "not_given")
OUTCOMES = ("resolved", "to_follow_up", "resident_to_finish", "redirected", "not_given")
REDIRECTIONS = (
    "administration",
    "mediation_numerique",
    "operateur",
    "aide_sociale",
    "insertion_professionnelle",
    "france_services",
    "other",
    "not_given",
)
THEMES = (
    "demarches_administratives",
    "email",
    "navigation_internet",
    "prise_en_main_materiel",
    "bureautique",
    "sante",
    "banque_achats_en_ligne",
    "securite_numerique",
    "reseaux_sociaux",
    "diagnostic_numerique",
    "maintenance_materiel",
    "contenus_numeriques",
    "insertion_professionnelle",
    "accompagner_professionnel",
    "parentalite",
    "scolarite",
    "creer_avec_numerique",
    "culture_numerique",
    "intelligence_artificielle",
    "not_given",
)
PROCEDURES = (
    "social_sante",
    "papiers_citoyennete",
    "argent_impots",
    "travail_formation",
    "famille_scolarite",
    "logement",
    "retraite",
    "etrangers_europe",
    "transports_mobilite",
    "justice",
    "loisirs_sport_culture",
    "associations",
    "not_given",
)
EQUIPMENT = ("computer", "phone", "tablet", "other", "none", "not_given")
AGE_BANDS = ("<12", "12-17", "18-24", "25-39", "40-59", "60-69", "70+", "not_given")
STATUSES = ("in_school", "unemployed", "employed", "retired", "not_given")
GENDERS = ("female", "male", "not_given")
APPOINTMENTS = ("booked", "seen", "no_show", "cancelled_by_resident", "cancelled_by_staff")
COMMUNES = tuple(f"35{n:03d}" for n in range(1, 31))

ACCOMPANIMENT_TABLES = (
    "accompaniments_by_kind",
    "accompaniments_by_duration",
    "accompaniments_by_place_type",
    "accompaniments_by_autonomy",
    "accompaniments_by_outcome",
    "accompaniments_by_theme",
    "accompaniments_by_equipment",
    "accompaniments_by_place",
    "trend_accompaniments",
)
PEOPLE_TABLES = ("people", "residents_by_age_band", "residents_by_status", "residents_by_gender")


def skewed(rng: random.Random, codes, weight=1.3):
    """A Zipf-like pick: the first codes are common, the last rare."""
    return rng.choices(codes, weights=[1 / (i + 1) ** weight for i in range(len(codes))])[0]


def simulate(rng: random.Random, size: int, places: tuple[str, ...], residents_pool: range):
    """Sessions of one structure over a quarter, as counters per table."""
    c: dict[str, Counter] = {name: Counter() for name in ACCOMPANIMENT_TABLES}
    for name in ("sessions_by_kind", "trend_sessions", "accompaniments_by_redirection"):
        c[name] = Counter()
    c["accompaniments_by_procedure"] = Counter()
    c["workshop_participants"] = Counter()
    totals = Counter()
    seen_residents: dict[int, tuple] = {}
    anonymous = 0
    for _ in range(size):
        kind = "individual" if rng.random() < 0.85 else "collective"
        month = rng.choice(MONTHS)
        c["sessions_by_kind"][kind] += 1
        c["trend_sessions"][month] += 1
        people = 1 if kind == "individual" else rng.randint(3, 10)
        for _ in range(people):
            named = kind == "individual" or rng.random() < 0.6
            if named:
                resident = rng.choice(residents_pool)
                seen_residents.setdefault(resident, resident)
            else:
                anonymous += 1
            if kind == "collective":
                c["workshop_participants"]["named" if named else "anonymous"] += 1
            totals["accompaniments"] += 1
            c["accompaniments_by_kind"][kind] += 1
            c["trend_accompaniments"][month] += 1
            c["accompaniments_by_duration"][skewed(rng, DURATIONS, 0.8)] += 1
            c["accompaniments_by_place_type"][skewed(rng, PLACE_TYPES, 2)] += 1
            c["accompaniments_by_autonomy"][skewed(rng, AUTONOMY, 0.7)] += 1
            outcome = skewed(rng, OUTCOMES, 1.0)
            c["accompaniments_by_outcome"][outcome] += 1
            if outcome == "redirected":
                c["accompaniments_by_redirection"][skewed(rng, REDIRECTIONS)] += 1
            themes = {skewed(rng, THEMES) for _ in range(rng.choice((1, 1, 2, 3)))}
            for theme in themes:
                c["accompaniments_by_theme"][theme] += 1
            if "demarches_administratives" in themes:
                for p in {skewed(rng, PROCEDURES) for _ in range(rng.choice((1, 1, 2)))}:
                    c["accompaniments_by_procedure"][p] += 1
            for e in {skewed(rng, EQUIPMENT, 1.5) for _ in range(rng.choice((1, 1, 2)))}:
                c["accompaniments_by_equipment"][e] += 1
            c["accompaniments_by_place"][skewed(rng, places, 1.0)] += 1
    return c, totals, set(seen_residents), anonymous


class Population:
    """Residents with fixed attributes, shared by the structures of a network."""

    def __init__(self, rng: random.Random, n: int):
        self.age = [
            skewed(
                rng, ("40-59", "25-39", "60-69", "70+", "18-24", "not_given", "12-17", "<12"), 0.9
            )
            for _ in range(n)
        ]
        self.status = [
            skewed(rng, ("retired", "unemployed", "employed", "not_given", "in_school"), 0.9)
            for _ in range(n)
        ]
        self.gender = [skewed(rng, GENDERS, 1.0) for _ in range(n)]
        self.commune = [skewed(rng, COMMUNES + ("not_given",), 1.4) for _ in range(n)]
        self.new = [rng.random() < 0.4 for _ in range(n)]


def report_of(simulated, population: Population, appointments: Counter, places) -> Report:
    c, totals, residents, anonymous = simulated
    ages = Counter(population.age[r] for r in residents)
    ages["not_given"] += anonymous
    statuses = Counter(population.status[r] for r in residents)
    statuses["not_given"] += anonymous
    genders = Counter(population.gender[r] for r in residents)
    genders["not_given"] += anonymous
    communes = Counter(population.commune[r] for r in residents)

    def one_way(name, dim, codes, counts, **kw):
        return Table(
            name, dim, {code: counts.get(code, 0) for code in codes}, categories={dim: codes}, **kw
        )

    accompaniments = totals["accompaniments"]
    tables = [
        one_way("sessions_by_kind", "kind", KINDS, c["sessions_by_kind"]),
        one_way("accompaniments_by_kind", "kind", KINDS, c["accompaniments_by_kind"]),
        one_way(
            "accompaniments_by_duration", "duration", DURATIONS, c["accompaniments_by_duration"]
        ),
        one_way(
            "accompaniments_by_place_type",
            "place_type",
            PLACE_TYPES,
            c["accompaniments_by_place_type"],
        ),
        one_way(
            "accompaniments_by_autonomy", "autonomy", AUTONOMY, c["accompaniments_by_autonomy"]
        ),
        one_way("accompaniments_by_outcome", "outcome", OUTCOMES, c["accompaniments_by_outcome"]),
        one_way(
            "accompaniments_by_redirection",
            "redirection",
            REDIRECTIONS,
            c["accompaniments_by_redirection"],
        ),
        one_way(
            "accompaniments_by_theme",
            "theme",
            THEMES,
            c["accompaniments_by_theme"],
            total=accompaniments,
            multiple={"theme"},
        ),
        one_way(
            "accompaniments_by_procedure",
            "procedure",
            PROCEDURES,
            c["accompaniments_by_procedure"],
            total=c["accompaniments_by_theme"]["demarches_administratives"],
            multiple={"procedure"},
        ),
        one_way(
            "accompaniments_by_equipment",
            "equipment",
            EQUIPMENT,
            c["accompaniments_by_equipment"],
            total=accompaniments,
            multiple={"equipment"},
        ),
        one_way("accompaniments_by_place", "place", places, c["accompaniments_by_place"]),
        one_way("residents_by_age_band", "age_band", AGE_BANDS, ages, additive_over_parts=False),
        one_way("residents_by_status", "status", STATUSES, statuses, additive_over_parts=False),
        one_way("residents_by_gender", "gender", GENDERS, genders, additive_over_parts=False),
        one_way(
            "residents_by_commune",
            "commune",
            COMMUNES + ("not_given",),
            communes,
            additive_over_parts=False,
        ),
        one_way("appointments_by_status", "appointment_status", APPOINTMENTS, appointments),
        one_way("trend_sessions", "month", MONTHS, c["trend_sessions"]),
        one_way("trend_accompaniments", "month", MONTHS, c["trend_accompaniments"]),
        one_way(
            "workshop_participants",
            "participant",
            ("named", "anonymous"),
            c["workshop_participants"],
        ),
        Table(
            "people",
            "people",
            {"residents": len(residents), "anonymous": anonymous},
            additive_over_parts=False,
        ),
        Table(
            "new_residents",
            "figure",
            {"value": sum(population.new[r] for r in residents)},
            additive_over_parts=False,
        ),
    ]
    links = [
        *shared_total(*ACCOMPANIMENT_TABLES),
        *shared_total(*PEOPLE_TABLES),
        *shared_total("sessions_by_kind", "trend_sessions"),
        Link(
            ("accompaniments_by_redirection", TOTAL), ("accompaniments_by_outcome", ("redirected",))
        ),
        Link(
            ("accompaniments_by_procedure", TOTAL),
            ("accompaniments_by_theme", ("demarches_administratives",)),
        ),
        Link(("workshop_participants", TOTAL), ("accompaniments_by_kind", ("collective",))),
        Link(("people", ("anonymous",)), ("workshop_participants", ("anonymous",))),
        Link(("people", ("residents",)), ("residents_by_commune", TOTAL)),
        Link(("new_residents", TOTAL), ("people", ("residents",)), "<="),
    ]
    return Report(tables, links)


def appointments_for(sessions: int) -> Counter:
    shares = (0.1, 0.5, 0.08, 0.06, 0.01)
    return Counter({s: int(sessions * w) for s, w in zip(APPOINTMENTS, shares, strict=True)})


def merges() -> dict[str, MergeRule]:
    return dict(DEFAULT_MERGES)


def structure_report(rng: random.Random, size: int = 600) -> Report:
    population = Population(rng, size)
    places = ("place_1", "place_2", "place_3", "no_place")
    simulated = simulate(rng, size, places, range(size))
    appointments = appointments_for(size)
    return report_of(simulated, population, appointments, places)


def network_reports(
    rng: random.Random, structures: int, sizes: tuple[int, ...] = (40, 120, 300, 600, 900)
) -> tuple[Report, dict[str, Report]]:
    """A network's report and its structures' (each of one of ``sizes`` sessions; a few
    residents go to several structures, so the network's distinct people are fewer than the
    sum)."""
    n_residents = 4000
    population = Population(rng, n_residents)
    places = tuple(f"place_{i}" for i in range(2 * structures)) + ("no_place",)
    parts = {}
    sims = []
    for i in range(structures):
        size = rng.choice(sizes)
        own = places[2 * i : 2 * i + 2] + ("no_place",)
        start = (i * 300) % n_residents
        pool = range(start, min(n_residents, start + size + 80))
        sim = simulate(rng, size, own, pool)
        sims.append(sim)
        appointments = appointments_for(size)
        parts[f"s{i:02d}"] = (sim, appointments)
    # The network: sums of the counters; distinct residents over the union.
    total_c: dict[str, Counter] = {}
    totals: Counter = Counter()
    residents: set[int] = set()
    anonymous = 0
    appointments_all: Counter = Counter()
    for (c, t, r, a), appointments in parts.values():
        for name, counter in c.items():
            total_c.setdefault(name, Counter()).update(counter)
        totals.update(t)
        residents |= r
        anonymous += a
        appointments_all.update(appointments)
    network = report_of(
        (total_c, totals, residents, anonymous), population, appointments_all, places
    )
    hierarchy = {
        name: report_of(sim, population, appointments, places)
        for name, (sim, appointments) in parts.items()
    }
    return network, hierarchy


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--structures", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", type=int, default=150, help="sessions of structure (a)")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    report = structure_report(rng, args.size)
    structure_ms, protected = timed(lambda: protect(report, merges=merges()), args.repeat)
    cells = sum(1 for _ in protected.cells())
    hidden = protected.suppressed_count
    print(
        f"(a) one structure: {len(report.tables)} tables, {cells} cells, {hidden} hidden, "
        f"{len(protected.merges)} merges: {structure_ms:.0f} ms"
    )

    network, hierarchy = network_reports(rng, args.structures)
    network_ms, protected = timed(
        lambda: protect(network, hierarchy=hierarchy, merges=merges()), args.repeat
    )
    all_reports = [protected, *protected.parts.values()]
    network_cells = sum(1 for r in all_reports for _ in r.cells())
    network_hidden = sum(r.suppressed_count for r in all_reports)
    print(
        f"(b) network of {args.structures} structures: {network_cells} cells, "
        f"{network_hidden} hidden, {len(protected.merges)} merges: {network_ms:.0f} ms"
    )
    print(
        f"structure_ms={structure_ms:.0f} network_ms={network_ms:.0f} "
        f"structures={args.structures} cells={cells} hidden={hidden} "
        f"network_cells={network_cells} network_hidden={network_hidden}"
    )


if __name__ == "__main__":
    main()
