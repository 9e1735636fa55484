"""The figures of a report read by hand-written SQL: the yardstick of bench/report.py and
bench/national.py. Counts only (no cell keys, no protection): what the database has to do at
the least to give the published figures.

`bare_sql(network_id, period)` reads the network's figures (the statements of `compute`),
`bare_sql(network_id, period, by_structure=True)` the same figures for every structure of the
network at once (those of `compute_for_structures`): one statement per family of figures,
grouped by structure. Import after Django is set up (bench/common.py)."""

from __future__ import annotations

from collections import defaultdict

from django.db import connection, transaction

from bookings.models import Appointment
from cases.models import HelpSession, ParticipantCount, SessionTag
from mediation.choices import PlaceTimeZone
from mediation.models import Place, Resident, Structure

STATEMENTS = 8


def q(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def bare_sql(network_id: int, period, *, by_structure: bool = False) -> dict:
    """The report's figures read by hand-written SQL, one statement per family of figures,
    under the same session settings as compute() (one transaction, JIT off on PostgreSQL).

    Returns the network's figures ({"sessions": …, "residents": …, …}), or with
    `by_structure` {structure id: those figures} (structures without activity left out)."""
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
            return _bare_sql(network_id, period, by_structure)
    return _bare_sql(network_id, period, by_structure)


def _figures() -> dict:
    return {
        "sessions": 0,
        "accompaniments": 0,
        "help_minutes": 0,
        "tags": {},
        "tagged": defaultdict(int),
        "counts": {},
        "named": 0,
        "residents": 0,
        "new_residents": 0,
        "appointments": {},
        "places": [],
    }


def _bare_sql(network_id: int, period, by_structure: bool) -> dict:
    start = connection.ops.adapt_datefield_value(period.start)
    end = connection.ops.adapt_datefield_value(period.end)
    # Every statement starts its rows with the group: the structure, or 0 for the network.
    grp = "s.structure_id" if by_structure else "0"
    by = "s.structure_id, " if by_structure else ""  # (GROUP BY 0 would be a position)
    groups: dict = defaultdict(_figures)
    with connection.cursor() as cursor:
        # 0. The network's structures, as a list for the other statements.
        links = q(Structure.networks.through)
        cursor.execute(f"SELECT structure_id FROM {links} WHERE network_id = %s", [network_id])
        ids = [row[0] for row in cursor.fetchall()]
        in_network = f"s.structure_id IN ({', '.join(['%s'] * len(ids))})"
        where = f"s.report_date >= %s AND s.report_date < %s AND {in_network}"
        params = [start, end, *ids]
        # 1. One scan of the sessions: every single-valued breakdown and the monthly trend.
        columns = ["COUNT(*)", "SUM(s.people_count)", "SUM(s.duration_minutes)"]
        for kind in ("individual", "collective"):
            columns.append(f"COUNT(*) FILTER (WHERE s.kind = '{kind}')")
            columns.append(f"SUM(s.people_count) FILTER (WHERE s.kind = '{kind}')")
        for condition in (
            "s.duration_minutes < 30",
            "s.duration_minutes >= 30 AND s.duration_minutes < 60",
            "s.duration_minutes >= 60 AND s.duration_minutes < 120",
            "s.duration_minutes >= 120",
        ):
            columns.append(f"SUM(s.people_count) FILTER (WHERE {condition})")
        for field, codes in (
            ("place_type", ("place", "home", "remote", "other")),
            ("autonomy", ("fully_assisted", "partly_autonomous", "autonomous", "")),
            ("outcome", ("resolved", "to_follow_up", "resident_to_finish", "redirected", "")),
        ):
            for code in codes:
                columns.append(f"SUM(s.people_count) FILTER (WHERE s.{field} = '{code}')")
        for code in (
            "administration",
            "mediation_numerique",
            "operateur",
            "aide_sociale",
            "insertion_professionnelle",
            "france_services",
            "other",
            "",
        ):
            columns.append(
                "SUM(s.people_count) FILTER "
                f"(WHERE s.outcome = 'redirected' AND s.redirected_to = '{code}')"
            )
        month_params = []
        for _month, first, following in period.month_ranges():
            for measure in ("COUNT(*)", "SUM(s.people_count)", "SUM(s.duration_minutes)"):
                columns.append(
                    f"{measure} FILTER (WHERE s.report_date >= %s AND s.report_date < %s)"
                )
                month_params += [
                    connection.ops.adapt_datefield_value(first),
                    connection.ops.adapt_datefield_value(following),
                ]
        cursor.execute(
            f"SELECT {grp}, s.place_id, {', '.join(columns)} FROM {q(HelpSession)} s "
            f"WHERE {where} GROUP BY {by}s.place_id",
            month_params + params,
        )
        for row in cursor.fetchall():
            out = groups[row[0]]
            out["sessions"] += row[2]
            out["accompaniments"] += row[3] or 0
            out["help_minutes"] += row[4] or 0
        # 2. Themes, procedure areas, equipment; with the accompaniments of each session's
        # first code of a dimension, to count those with none.
        cursor.execute(
            "SELECT grp, dimension, code, SUM(people_count), "
            "SUM(CASE WHEN position = 1 THEN people_count ELSE 0 END) FROM ("
            f"SELECT {grp} AS grp, t.dimension, t.code, s.people_count, ROW_NUMBER() OVER "
            "(PARTITION BY t.session_id, t.dimension ORDER BY t.code) AS position "
            f"FROM {q(SessionTag)} t JOIN {q(HelpSession)} s ON s.id = t.session_id "
            f"WHERE {where}) tagged GROUP BY grp, dimension, code",
            params,
        )
        for group, dimension, code, n, first in cursor.fetchall():
            out = groups[group]
            out["tags"][(dimension, code)] = n
            out["tagged"][dimension] += first
        # 3. Anonymous participants by age band, status, gender.
        cursor.execute(
            f"SELECT {grp}, c.dimension, c.code, SUM(c.count) FROM {q(ParticipantCount)} c "
            f"JOIN {q(HelpSession)} s ON s.id = c.session_id "
            f"WHERE {where} AND s.kind = 'collective' GROUP BY {by}c.dimension, c.code",
            params,
        )
        for group, dimension, code, n in cursor.fetchall():
            groups[group]["counts"][(dimension, code)] = n
        # 4. Named participations.
        participants = connection.ops.quote_name(HelpSession.participants.through._meta.db_table)
        cursor.execute(
            f"SELECT {grp}, COUNT(*) FROM {participants} p JOIN {q(HelpSession)} s "
            f"ON s.id = p.helpsession_id WHERE {where} AND s.kind = 'collective' "
            + ("GROUP BY s.structure_id" if by_structure else ""),
            params,
        )
        for group, n in cursor.fetchall():
            groups[group]["named"] = n
        # 5. Distinct residents, new ones, by profile and commune.
        cursor.execute(
            f"""
            WITH seen AS (
                SELECT {grp} AS grp, s.resident_id FROM {q(HelpSession)} s
                WHERE s.resident_id IS NOT NULL AND {where}
                UNION
                SELECT {grp} AS grp, p.resident_id FROM {participants} p
                JOIN {q(HelpSession)} s ON s.id = p.helpsession_id WHERE {where}
            ),
            flagged AS (
                SELECT seen.grp, r.age_band, r.status, r.gender, r.commune_insee,
                    CASE WHEN (SELECT 1 FROM {q(HelpSession)} s2
                            WHERE s2.resident_id = seen.resident_id AND s2.report_date < %s LIMIT 1)
                        IS NULL AND (SELECT 1 FROM {participants} p2
                            JOIN {q(HelpSession)} s2 ON s2.id = p2.helpsession_id
                            WHERE p2.resident_id = seen.resident_id AND s2.report_date < %s LIMIT 1)
                        IS NULL THEN 1 ELSE 0 END AS is_new
                FROM seen JOIN {q(Resident)} r ON r.id = seen.resident_id
            )
            SELECT grp, 'profile', age_band, status, gender, '', COUNT(*), SUM(is_new)
            FROM flagged GROUP BY grp, age_band, status, gender
            UNION ALL
            SELECT grp, 'commune', '', '', '', commune_insee, COUNT(*), 0
            FROM flagged GROUP BY grp, commune_insee
            """,
            params + params + [start, start],
        )
        for group, part, *_profile, n, new in cursor.fetchall():
            if part == "profile":
                groups[group]["residents"] += n
                groups[group]["new_residents"] += new
        # 6. Appointments by status, by their start in their place's time zone.
        zones, zone_params, bounds = [], [], []
        for tz in PlaceTimeZone.values:
            first, following = period.bounds_in(tz)
            bounds += [first, following]
            zones.append("(p.time_zone = %s AND a.starts_at >= %s AND a.starts_at < %s)")
            zone_params += [
                tz,
                connection.ops.adapt_datetimefield_value(first),
                connection.ops.adapt_datetimefield_value(following),
            ]
        place_grp = "p.structure_id" if by_structure else "0"
        cursor.execute(
            f"SELECT {place_grp}, a.status, COUNT(*) FROM {q(Appointment)} a JOIN {q(Place)} p "
            f"ON p.id = a.place_id WHERE {in_network.replace('s.', 'p.')} "
            f"AND a.starts_at >= %s AND a.starts_at < %s AND ({' OR '.join(zones)}) "
            f"GROUP BY {by.replace('s.', 'p.')}a.status",
            [
                *ids,
                connection.ops.adapt_datetimefield_value(min(bounds)),
                connection.ops.adapt_datetimefield_value(max(bounds)),
                *zone_params,
            ],
        )
        for group, status, n in cursor.fetchall():
            groups[group]["appointments"][status] = n
        # 7. The places and their QPV / FRR flags.
        cursor.execute(
            "SELECT p.id, p.structure_id, p.name, p.commune, p.insee_code, p.is_qpv, "
            f"p.is_rural FROM {q(Place)} p WHERE {in_network.replace('s.', 'p.')}",
            ids,
        )
        for row in cursor.fetchall():
            groups[row[1] if by_structure else 0]["places"].append(row)
    if by_structure:
        return dict(groups)
    return groups[0]


def check_same_figures(report: dict, raw: dict, what: str = "") -> None:
    """Exits when `report` (from indicators.compute) and `raw` (bare_sql) disagree."""
    figures, tables = report["figures"], report["tables"]
    pairs = [
        ("sessions", figures["sessions"], raw["sessions"]),
        ("accompaniments", figures["accompaniments"], raw["accompaniments"]),
        ("help_minutes", figures["help_minutes"], raw["help_minutes"]),
        ("residents", figures["residents"], raw["residents"]),
        ("new_residents", figures["new_residents"], raw["new_residents"]),
        ("named", figures["named_workshop_participants"], raw["named"]),
        ("appointments", figures["appointments"], sum(raw["appointments"].values())),
        (
            "email",
            tables["accompaniments_by_theme"]["cells"]["email"],
            raw["tags"].get(("theme", "email"), 0),
        ),
        (
            "no equipment",
            tables["accompaniments_by_equipment"]["cells"]["not_given"],
            raw["accompaniments"] - raw["tagged"].get("equipment", 0),
        ),
    ]
    wrong = [(name, ours, theirs) for name, ours, theirs in pairs if ours != theirs]
    if wrong:
        raise SystemExit(f"compute() and the bare SQL disagree{what}: {wrong}")


def check_same_structures(reports: dict[int, dict], raw: dict[int, dict]) -> None:
    """compute_for_structures() against bare_sql(by_structure=True), structure by structure
    (a structure without activity has no rows in the bare SQL: all zeros)."""
    for pk, report in reports.items():
        check_same_figures(report, raw.get(pk, _figures()), f" for structure {pk}")
