"""The indicators of the activity reports (DOMAIN.md, "Reports for funders"), computed in the
database: conditional aggregates over one scan of the period's sessions, GROUP BY for the
multi-valued fields, COUNT over a UNION for distinct residents. No session, tag or resident row
is ever loaded into Python: what comes back is bounded by the reference lists, the places and
the months of the period, whatever the volume of activity. A report costs 7 to 9 queries
(`compute`), and 8 or 9 for every structure of a network at once (`compute_for_structures`).

A report is a plain dict, exact counts (staff views); `reports.protect` protects it before it
leaves the structure:

    {
      "scope":   {"kind": "network", "id": 3, "name": "Réseau du Pays de Lohéac"},
      "period":  {"code": "2026-Q3", "label": "3e trimestre 2026",
                  "start": "2026-07-01", "end": "2026-10-01"},          # end excluded
      "figures": {"sessions": 1250, "accompaniments": 1730, "residents": 910, ...},
      "tables":  {"accompaniments_by_theme": {"total": 1730, "cells": {"email": 210, ...}},
                  ...},
      "places":  {"12": {"name": "Salle du conseil", "commune": "Lohéac",
                         "insee_code": "35155", "is_qpv": False, "is_rural": True}, ...},
    }

`FIGURES` lists the scalar figures and `TABLES` every breakdown: its unit, the figure (or the
cell of another table) its total equals, and whether its cells add up to that total. Tables
that share a total are linked for secondary suppression (`tables_sharing_total`).

Definitions (the method note of the PDF repeats them):

- *sessions*: logged sessions (individual or workshops). *accompaniments*: one per person
  helped per session (`HelpSession.people_count`: 1 for an individual session; named plus
  anonymous participants for a workshop). Breakdowns count accompaniments.
- *residents*: distinct residents seen in the period, as the resident of an individual session
  (named or anonymous record: an anonymous session keeps a record of its own) or as a named
  workshop participant. *new residents*: those among them whose first session ever (in any
  structure: only residents shared within a network are seen by several) is in the period.
- *anonymous participants*: workshop participants counted, not named (workshop accompaniments
  minus named participations). They cannot be told apart from one workshop to the next (a
  participant of two workshops counts twice), so they have age band, status and gender tables
  of their own (`anonymous_by_*`, total `anonymous_participants`), beside the residents' (total
  `residents`); a split a workshop left blank goes to "not_given". They have no commune.
  `residents_incl_anonymous` adds the two (exact reports only: published beside `residents`,
  it would give the anonymous count away).
- duration buckets are half-open: under 30 min, [30, 60), [60, 120), 120 and more; a session
  of exactly 1 h is in "1 h à 2 h".
- appointments: by their start in the period, in the time zone of their place; a moved
  appointment counts once, as the new one (the old half is not a cancellation).
- a place scope counts the sessions held at that place (not those at home or remote).
- sessions are selected for a period by their `report_date`, not their `date`: a session
  recorded after the month of its date was closed (REPORTS_GRACE_DAYS after its end) counts
  in the month it was recorded, so a closed period's figures never change (the monthly trend,
  the "new residents" probe and every table alike). Appointments are counted by their start.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, F, Q, QuerySet, Sum
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from bookings.choices import CANCELLED_STATUSES, AppointmentStatus
from bookings.models import Appointment
from cases.choices import (
    Autonomy,
    CountDimension,
    Equipment,
    Outcome,
    PlaceType,
    ProcedureArea,
    RedirectedTo,
    SessionKind,
    TagDimension,
    Theme,
)
from cases.models import HelpSession, ParticipantCount, SessionTag
from mediation.choices import AgeBand, Gender, PlaceTimeZone, ResidentStatus
from mediation.models import Network, Place, Resident, Structure
from mediation.report_keys import KEY_SPACE
from reports.periods import Period

NOT_GIVEN = "not_given"
NO_PLACE = "no_place"
NOT_GIVEN_LABEL = _("Non renseigné")

#: (code, label, lowest minutes included, first minutes excluded)
DURATION_BUCKETS = (
    ("under_30", _("Moins de 30 min"), None, 30),
    ("30_59", _("30 min à 1 h"), 30, 60),
    ("60_119", _("1 h à 2 h"), 60, 120),
    ("120_plus", _("2 h et plus"), 120, None),
)


# --- What a report holds --------------------------------------------------------------------


@dataclass(frozen=True)
class TableSpec:
    """A breakdown of a report.

    `total` names what the table's total equals: a key of `figures`, or "table.cell" for a
    cell of another table (the redirections add up to the "redirected" outcome). `additive`
    says whether the cells add up to that total (each unit in exactly one cell). Tables that
    are not are the multi-valued fields (a session has one or more themes, procedure areas,
    equipment): there each unit is in at least one cell ("not_given" for a session without
    any), so each cell is at most the total and the cells add up to at least the total.
    `codes` is the fixed list of cells (zeros included), None for open lists (communes,
    places, months). `protected`: published through `reports.protect` (every count, and the
    minutes: they bound the counts of sessions)."""

    title: str
    unit: str
    total: str
    additive: bool
    codes: tuple[str, ...] | None
    labels: dict
    protected: bool = True
    #: The name of its sheet in the XLSX: at most 31 characters (the spreadsheets' limit),
    #: unique among the tables, meaningful on its own (the title cut short would not be).
    sheet: str = ""


def _choices(choices, *extra: str) -> tuple[tuple[str, ...], dict]:
    labels = dict(choices.choices)
    for code in extra:
        labels[code] = NOT_GIVEN_LABEL
    return tuple(labels), labels


_KIND = _choices(SessionKind)
_AUTONOMY = _choices(Autonomy, NOT_GIVEN)
_OUTCOME = _choices(Outcome, NOT_GIVEN)
_REDIRECTION = _choices(RedirectedTo, NOT_GIVEN)
_DURATION = (
    tuple(code for code, *_rest in DURATION_BUCKETS),
    {code: label for code, label, *_rest in DURATION_BUCKETS},
)

TABLES: dict[str, TableSpec] = {
    "sessions_by_kind": TableSpec(
        _("Séances par type"), "sessions", "sessions", True, *_KIND, sheet=_("Séances par type")
    ),
    "accompaniments_by_kind": TableSpec(
        _("Accompagnements par type"),
        "accompaniments",
        "accompaniments",
        True,
        *_KIND,
        sheet=_("Accompagnements par type"),
    ),
    "accompaniments_by_duration": TableSpec(
        _("Accompagnements par durée"),
        "accompaniments",
        "accompaniments",
        True,
        *_DURATION,
        sheet=_("Accompagnements par durée"),
    ),
    "accompaniments_by_place_type": TableSpec(
        _("Accompagnements par lieu"),
        "accompaniments",
        "accompaniments",
        True,
        *_choices(PlaceType),
        sheet=_("Accomp. par type de lieu"),
    ),
    "accompaniments_by_autonomy": TableSpec(
        _("Accompagnements par autonomie à la fin"),
        "accompaniments",
        "accompaniments",
        True,
        *_AUTONOMY,
        sheet=_("Accompagnements par autonomie"),
    ),
    "accompaniments_by_outcome": TableSpec(
        _("Accompagnements par résultat"),
        "accompaniments",
        "accompaniments",
        True,
        *_OUTCOME,
        sheet=_("Accompagnements par résultat"),
    ),
    "accompaniments_by_redirection": TableSpec(
        _("Orientations"),
        "accompaniments",
        "accompaniments_by_outcome.redirected",
        True,
        *_REDIRECTION,
        sheet=_("Orientations"),
    ),
    "accompaniments_by_theme": TableSpec(
        _("Accompagnements par thème"),
        "accompaniments",
        "accompaniments",
        False,
        *_choices(Theme, NOT_GIVEN),
        sheet=_("Accompagnements par thème"),
    ),
    "accompaniments_by_procedure": TableSpec(
        _("Démarches administratives"),
        "accompaniments",
        "accompaniments_by_theme.demarches_administratives",
        False,
        *_choices(ProcedureArea, NOT_GIVEN),
        sheet=_("Démarches administratives"),
    ),
    "accompaniments_by_equipment": TableSpec(
        _("Matériel utilisé"),
        "accompaniments",
        "accompaniments",
        False,
        *_choices(Equipment, NOT_GIVEN),
        sheet=_("Matériel utilisé"),
    ),
    "accompaniments_by_place": TableSpec(
        _("Accompagnements par lieu d'activité"),
        "accompaniments",
        "accompaniments",
        True,
        None,
        {NO_PLACE: _("Hors lieu d'activité")},
        sheet=_("Accomp. par lieu d'activité"),
    ),
    "residents_by_age_band": TableSpec(
        _("Usagers par tranche d'âge"),
        "residents",
        "residents",
        True,
        *_choices(AgeBand),
        sheet=_("Usagers par tranche d'âge"),
    ),
    "residents_by_status": TableSpec(
        _("Usagers par situation"),
        "residents",
        "residents",
        True,
        *_choices(ResidentStatus),
        sheet=_("Usagers par situation"),
    ),
    "residents_by_gender": TableSpec(
        _("Usagers par genre"),
        "residents",
        "residents",
        True,
        *_choices(Gender),
        sheet=_("Usagers par genre"),
    ),
    "anonymous_by_age_band": TableSpec(
        _("Participants anonymes des ateliers par tranche d'âge"),
        "participations",
        "anonymous_participants",
        True,
        *_choices(AgeBand),
        sheet=_("Anonymes par tranche d'âge"),
    ),
    "anonymous_by_status": TableSpec(
        _("Participants anonymes des ateliers par situation"),
        "participations",
        "anonymous_participants",
        True,
        *_choices(ResidentStatus),
        sheet=_("Anonymes par situation"),
    ),
    "anonymous_by_gender": TableSpec(
        _("Participants anonymes des ateliers par genre"),
        "participations",
        "anonymous_participants",
        True,
        *_choices(Gender),
        sheet=_("Anonymes par genre"),
    ),
    "residents_by_commune": TableSpec(
        _("Usagers par commune de résidence"),
        "residents",
        "residents",
        True,
        None,
        {NOT_GIVEN: NOT_GIVEN_LABEL},
        sheet=_("Usagers par commune"),
    ),
    "appointments_by_status": TableSpec(
        _("Rendez-vous par statut"),
        "appointments",
        "appointments",
        True,
        *_choices(AppointmentStatus),
        sheet=_("Rendez-vous par statut"),
    ),
    "trend_sessions": TableSpec(
        _("Séances par mois"), "sessions", "sessions", True, None, {}, sheet=_("Séances par mois")
    ),
    "trend_accompaniments": TableSpec(
        _("Accompagnements par mois"),
        "accompaniments",
        "accompaniments",
        True,
        None,
        {},
        sheet=_("Accompagnements par mois"),
    ),
    "trend_help_minutes": TableSpec(
        _("Durée d'accompagnement par mois (minutes)"),
        "minutes",
        "help_minutes",
        True,
        None,
        {},
        sheet=_("Durée par mois (minutes)"),
    ),
}

#: The attribute each table breaks its unit down by ("month": the trend tables, whose cells
#: are the months of the period; "place": place ids). Cells of two tables with the same unit,
#: parent and dimension are the same counts.
DIMENSIONS = {
    "sessions_by_kind": "kind",
    "accompaniments_by_kind": "kind",
    "accompaniments_by_duration": "duration",
    "accompaniments_by_place_type": "place_type",
    "accompaniments_by_autonomy": "autonomy",
    "accompaniments_by_outcome": "outcome",
    "accompaniments_by_redirection": "redirection",
    "accompaniments_by_theme": "theme",
    "accompaniments_by_procedure": "procedure",
    "accompaniments_by_equipment": "equipment",
    "accompaniments_by_place": "place",
    "residents_by_age_band": "age_band",
    "residents_by_status": "status",
    "residents_by_gender": "gender",
    "residents_by_commune": "commune",
    "anonymous_by_age_band": "age_band",
    "anonymous_by_status": "status",
    "anonymous_by_gender": "gender",
    "appointments_by_status": "appointment_status",
    "trend_sessions": "month",
    "trend_accompaniments": "month",
    "trend_help_minutes": "month",
}

#: Units that count distinct people: a quarter's count is not the sum of its months' (nor a
#: network's the sum of its structures'): it lies between their largest and their sum.
DISTINCT_UNITS = frozenset({"residents"})

#: Figures of distinct people over time and scopes. "New residents" (first session ever in
#: the period) of a quarter are at least the sum of its months' (one first seen elsewhere in
#: month 1 and here in month 2 is new here in the quarter only); over a network they lie
#: between the largest structure's and the sum, as distinct units do.
AT_LEAST_SUM_OVER_TIME = frozenset({"new_residents"})
DISTINCT_FIGURES = frozenset({"new_residents"})

#: Identities of the data model between units, for the same filter: an individual session
#: counts exactly one accompaniment. ((unit, dimension, code), (unit, dimension, code)).
SAME_COUNTS = ((("accompaniments", "kind", "individual"), ("sessions", "kind", "individual")),)

#: The scalar figures, with their labels. Counts of people unless said otherwise.
FIGURES: dict[str, str] = {
    "sessions": _("Séances"),
    "individual_sessions": _("Accompagnements individuels"),
    "collective_sessions": _("Ateliers collectifs"),
    "accompaniments": _("Accompagnements"),
    "workshop_participants": _("Participations aux ateliers"),
    "named_workshop_participants": _("dont participants nommés"),
    "anonymous_participants": _("dont participants anonymes"),
    "residents": _("Usagers différents"),
    "new_residents": _("Nouveaux usagers"),
    "residents_incl_anonymous": _("Usagers et participants anonymes"),
    "help_minutes": _("Durée d'accompagnement (minutes)"),
    "hours": _("Heures d'accompagnement"),
    "appointments": _("Rendez-vous pris"),
    "appointments_booked": _("Rendez-vous à venir"),
    "appointments_seen": _("Rendez-vous honorés"),
    "appointments_no_show": _("Rendez-vous manqués (absents)"),
    "appointments_cancelled": _("Rendez-vous annulés"),
    "sessions_in_qpv": _("Séances en quartier prioritaire (QPV)"),
    "accompaniments_in_qpv": _("Accompagnements en quartier prioritaire (QPV)"),
    "sessions_in_frr": _("Séances en zone France Ruralités Revitalisation (FRR)"),
    "accompaniments_in_frr": _("Accompagnements en zone France Ruralités Revitalisation (FRR)"),
    "places": _("Lieux d'activité"),
    "places_in_qpv": _("Lieux en QPV"),
    "places_in_frr": _("Lieux en FRR"),
}
#: Figures that count no one and bound no count: published exact. (Minutes bound the
#: sessions, a session lasting at least a minute: they are protected like counts, and the
#: hours derived from the published minutes.)
UNPROTECTED_FIGURES = frozenset({"places", "places_in_qpv", "places_in_frr"})


def tables_sharing_total() -> dict[str, list[str]]:
    """{total: [tables whose total it is]}: the tables linked through a common total.

    e.g. "accompaniments" → by kind, duration, place type, autonomy, outcome, place and the
    monthly trend (additive), and by theme and equipment (not additive)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for key, spec in TABLES.items():
        groups[spec.total].append(key)
    return dict(groups)


# --- Scope ----------------------------------------------------------------------------------

PLACE, STRUCTURE, NETWORK, STRUCTURES = "place", "structure", "network", "structures"

TAG_TABLES = {
    TagDimension.THEME: "accompaniments_by_theme",
    TagDimension.PROCEDURE: "accompaniments_by_procedure",
    TagDimension.EQUIPMENT: "accompaniments_by_equipment",
}


@dataclass(frozen=True)
class Scope:
    """What a report covers: a place (`pk`), or a set of structures (`structure_ids`)."""

    kind: str
    pk: int | None = None
    name: str = ""
    structure_ids: tuple[int, ...] = ()


def as_scope(scope) -> Scope:
    """A Scope from a Place, a Structure, a Network, a queryset of structures (or of their
    ids) or an iterable of structure ids. A network or a queryset costs one query: its
    structure ids, which every later query then takes as a plain list (no join, and the
    planner knows how many there are)."""
    if isinstance(scope, Scope):
        return scope
    if isinstance(scope, Place):
        return Scope(PLACE, scope.pk, scope.name)
    if isinstance(scope, Structure):
        return Scope(STRUCTURE, scope.pk, scope.name, (scope.pk,))
    if isinstance(scope, Network):
        ids = Structure.objects.in_network(scope).order_by().values_list("pk", flat=True)
        return Scope(NETWORK, scope.pk, scope.name, tuple(ids))
    if isinstance(scope, QuerySet):
        if scope.model is Structure:
            scope = scope.order_by().values_list("pk", flat=True)
        return Scope(STRUCTURES, structure_ids=tuple(int(pk) for pk in scope))
    if isinstance(scope, Iterable) and not isinstance(scope, str | bytes):
        return Scope(STRUCTURES, structure_ids=tuple(int(pk) for pk in scope))
    raise TypeError(f"Unknown report scope: {scope!r}")


def _scope_q(scope: Scope, structure: str, place: str) -> Q:
    """The scope as a filter, for a model reaching its structure by `structure` and its
    place by `place` ("" for Place itself)."""
    if scope.kind == PLACE:
        return Q(**{f"{place}_id" if place else "pk": scope.pk})
    return Q(**{f"{structure}_id__in": scope.structure_ids})


def _scope_sql(scope: Scope, alias: str) -> tuple[str, list]:
    """The scope as SQL on a session table aliased `alias`."""
    if scope.kind == PLACE:
        return f"{alias}.place_id = %s", [scope.pk]
    if not scope.structure_ids:
        return "1 = 0", []
    placeholders = ", ".join(["%s"] * len(scope.structure_ids))
    return f"{alias}.structure_id IN ({placeholders})", list(scope.structure_ids)


# --- Queries --------------------------------------------------------------------------------


DEMARCHES = Theme.DEMARCHES_ADMINISTRATIVES


def _period_q(period: Period, prefix: str = "") -> Q:
    return Q(**{f"{prefix}report_date__gte": period.start, f"{prefix}report_date__lt": period.end})


#: A session's key times its people: the key sum of its accompaniments (bigint: no overflow).
_PEOPLE_KEY = Cast("report_key", BigIntegerField()) * F("people_count")


def _session_cells(period: Period) -> tuple[dict, dict, dict]:
    """The conditional aggregates of the one scan of the sessions: ({alias: aggregate},
    {(table, code): alias}, {(table, code): alias of its cell key})."""
    aggregates: dict = {}
    cells: dict[tuple[str, str], str] = {}
    keys: dict[tuple[str, str], str] = {}

    def add(table: str, code: str, aggregate, key=None) -> None:
        alias = f"c{len(aggregates)}"
        aggregates[alias] = aggregate
        cells[(table, code)] = alias
        if key is not None:
            keys[(table, code)] = f"k{alias}"
            aggregates[f"k{alias}"] = key

    def people(condition: Q | None = None) -> tuple:
        return Sum("people_count", filter=condition), Sum(_PEOPLE_KEY, filter=condition)

    def sessions(condition: Q | None = None) -> tuple:
        return Count("id", filter=condition), Sum("report_key", filter=condition)

    add("figures", "sessions", *sessions())
    add("figures", "accompaniments", *people())
    add("figures", "help_minutes", Sum("duration_minutes"), Sum("report_key"))
    for kind in SessionKind.values:
        add("sessions_by_kind", kind, *sessions(Q(kind=kind)))
        add("accompaniments_by_kind", kind, *people(Q(kind=kind)))
    for code, _label, low, high in DURATION_BUCKETS:
        condition = Q()
        if low is not None:
            condition &= Q(duration_minutes__gte=low)
        if high is not None:
            condition &= Q(duration_minutes__lt=high)
        add("accompaniments_by_duration", code, *people(condition))
    for place_type in PlaceType.values:
        add("accompaniments_by_place_type", place_type, *people(Q(place_type=place_type)))
    for table, field, codes in (
        ("accompaniments_by_autonomy", "autonomy", Autonomy.values),
        ("accompaniments_by_outcome", "outcome", Outcome.values),
    ):
        for code in codes:
            add(table, code, *people(Q(**{field: code})))
        add(table, NOT_GIVEN, *people(Q(**{field: ""})))
    redirected = Q(outcome=Outcome.REDIRECTED)
    for code in RedirectedTo.values:
        add("accompaniments_by_redirection", code, *people(redirected & Q(redirected_to=code)))
    add("accompaniments_by_redirection", NOT_GIVEN, *people(redirected & Q(redirected_to="")))
    for month, start, end in period.month_ranges():
        in_month = Q(report_date__gte=start, report_date__lt=end)
        add("trend_sessions", month, *sessions(in_month))
        add("trend_accompaniments", month, *people(in_month))
        add(
            "trend_help_minutes",
            month,
            Sum("duration_minutes", filter=in_month),
            Sum("report_key", filter=in_month),
        )
    return aggregates, cells, keys


def _session_rows(scope: Scope, period: Period, by_structure: bool):
    """One scan of the period's sessions, grouped by place (and structure)."""
    aggregates, cells, keys = _session_cells(period)
    group = ["structure_id", "place_id"] if by_structure else ["place_id"]
    rows = (
        HelpSession.objects.filter(_scope_q(scope, "structure", "place"), _period_q(period))
        .order_by()
        .values(*group)
        .annotate(**aggregates)
    )
    return rows, cells, keys


TAGS_SQL = """
SELECT grp, dimension, code, SUM(people_count),
    SUM(CASE WHEN position = 1 THEN people_count ELSE 0 END),
    SUM(people_key), SUM(CASE WHEN position = 1 THEN people_key ELSE 0 END)
FROM (
    SELECT {group} AS grp, t.dimension AS dimension, t.code AS code,
        s.people_count AS people_count,
        CAST(s.report_key AS BIGINT) * s.people_count AS people_key,
        ROW_NUMBER() OVER (PARTITION BY t.session_id, t.dimension ORDER BY t.code) AS position
    FROM {tags} t JOIN {sessions} s ON s.id = t.session_id
    WHERE s.report_date >= %s AND s.report_date < %s AND {scope}
) tagged
GROUP BY grp, dimension, code
"""


def _tag_rows(scope: Scope, period: Period, by_structure: bool) -> list[tuple]:
    """(group, dimension, code, accompaniments, accompaniments of the sessions for which
    this is the first code of the dimension, and the key sums of both). The fifth column,
    added up over the codes of a dimension, is the accompaniments with at least one code: what
    the "not_given" cells are computed from, in the same join (a window function, not a probe
    per session)."""
    quote = connection.ops.quote_name
    scope_sql, scope_params = _scope_sql(scope, "s")
    sql = TAGS_SQL.format(
        group="s.structure_id" if by_structure else "0",
        tags=quote(SessionTag._meta.db_table),
        sessions=quote(HelpSession._meta.db_table),
        scope=scope_sql,
    )
    start = connection.ops.adapt_datefield_value(period.start)
    end = connection.ops.adapt_datefield_value(period.end)
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, end, *scope_params])
        return cursor.fetchall()


def _participant_count_rows(scope: Scope, period: Period, by_structure: bool):
    group = ["session__structure_id"] if by_structure else []
    return (
        ParticipantCount.objects.filter(
            _scope_q(scope, "session__structure", "session__place"),
            _period_q(period, "session__"),
            session__kind=SessionKind.COLLECTIVE,
        )
        .order_by()
        .values(*group, "dimension", "code")
        .annotate(
            n=Sum("count"),
            key=Sum(Cast("session__report_key", BigIntegerField()) * F("count")),
        )
    )


def _named_participant_rows(scope: Scope, period: Period, by_structure: bool):
    through = HelpSession.participants.through
    participations = through.objects.filter(
        _scope_q(scope, "helpsession__structure", "helpsession__place"),
        _period_q(period, "helpsession__"),
        helpsession__kind=SessionKind.COLLECTIVE,
    ).order_by()
    counts = {"n": Count("id"), "key": Sum("helpsession__report_key")}
    if not by_structure:
        return [participations.aggregate(**counts)]
    return participations.values("helpsession__structure_id").annotate(**counts)


def _appointment_rows(scope: Scope, period: Period, by_structure: bool):
    in_zone, starts, ends = Q(), [], []
    for tz in PlaceTimeZone.values:
        start, end = period.bounds_in(tz)
        in_zone |= Q(place__time_zone=tz, starts_at__gte=start, starts_at__lt=end)
        starts.append(start)
        ends.append(end)
    # The range that covers every time zone, for the index on (place, starts_at).
    in_period = Q(starts_at__gte=min(starts), starts_at__lt=max(ends)) & in_zone
    group = ["place__structure_id"] if by_structure else []
    # A move cancels the old appointment and books a new one: one need, counted once, by
    # the new appointment (the old half is not a cancellation).
    return (
        Appointment.objects.filter(_scope_q(scope, "place__structure", "place"), in_period)
        .not_moved_away()
        .order_by()
        .values(*group, "status")
        .annotate(n=Count("id"), key=Sum("report_key"))
    )


def _place_rows(scope: Scope):
    return (
        Place.objects.filter(_scope_q(scope, "structure", ""))
        .order_by("name", "pk")
        .values("pk", "structure_id", "name", "commune", "insee_code", "is_qpv", "is_rural")
    )


RESIDENTS_SQL = """
WITH seen AS (
    SELECT {group}s.resident_id AS resident_id
    FROM {sessions} s
    WHERE s.resident_id IS NOT NULL AND s.report_date >= %s AND s.report_date < %s
        AND {scope}
    UNION
    SELECT {group}p.{p_resident} AS resident_id
    FROM {participants} p JOIN {sessions} s ON s.id = p.{p_session}
    WHERE s.report_date >= %s AND s.report_date < %s AND {scope}
),
flagged AS (
    SELECT {seen_group} AS grp, r.age_band AS age_band, r.status AS status, r.gender AS gender,
        r.commune_insee AS commune, CAST(r.report_key AS BIGINT) AS report_key,
        CASE WHEN (
                SELECT 1 FROM {sessions} s2
                WHERE s2.resident_id = seen.resident_id AND s2.report_date < %s LIMIT 1
            ) IS NULL AND (
                SELECT 1 FROM {participants} p2 JOIN {sessions} s2 ON s2.id = p2.{p_session}
                WHERE p2.{p_resident} = seen.resident_id AND s2.report_date < %s
                LIMIT 1
            ) IS NULL THEN 1 ELSE 0 END AS is_new
    FROM seen JOIN {residents} r ON r.id = seen.resident_id
)
SELECT grp, 'profile', age_band, status, gender, '', COUNT(*), SUM(is_new),
    SUM(report_key), SUM(is_new * report_key)
FROM flagged GROUP BY grp, age_band, status, gender
UNION ALL
SELECT grp, 'commune', '', '', '', commune, COUNT(*), 0, SUM(report_key), 0
FROM flagged GROUP BY grp, commune
"""


def _resident_rows(scope: Scope, period: Period, by_structure: bool) -> list[tuple]:
    """Distinct residents seen in the period, counted by (age band, status, gender) with how
    many are new, and by commune: one statement (the ORM has no UNION in FROM).

    "New" is probed per resident on the index (resident, report_date) of the sessions, and on the
    participants' index (resident): scalar subqueries with LIMIT 1 rather than EXISTS, which
    PostgreSQL may turn into a hash of every earlier session."""
    quote = connection.ops.quote_name
    field = HelpSession._meta.get_field("participants")
    scope_sql, scope_params = _scope_sql(scope, "s")
    sql = RESIDENTS_SQL.format(
        group="s.structure_id AS grp, " if by_structure else "",
        seen_group="seen.grp" if by_structure else "0",
        sessions=quote(HelpSession._meta.db_table),
        participants=quote(field.remote_field.through._meta.db_table),
        p_session=quote(field.m2m_column_name()),
        p_resident=quote(field.m2m_reverse_name()),
        residents=quote(Resident._meta.db_table),
        scope=scope_sql,
    )
    start = connection.ops.adapt_datefield_value(period.start)
    end = connection.ops.adapt_datefield_value(period.end)
    params = [start, end, *scope_params, start, end, *scope_params, start, start]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- Assembling -----------------------------------------------------------------------------


class _Report:
    """The figures and tables of one report while its query results are added up."""

    def __init__(self, scope: dict, period: Period):
        self.scope = scope
        self.period = period
        self.figures: dict[str, int | float] = dict.fromkeys(FIGURES, 0)
        self.cells: dict[str, dict[str, int]] = {}
        for key, spec in TABLES.items():
            self.cells[key] = dict.fromkeys(spec.codes or (), 0)
        for month in period.months():
            for key in ("trend_sessions", "trend_accompaniments", "trend_help_minutes"):
                self.cells[key][month] = 0
        self.places: dict[str, dict] = {}
        # Accompaniments with at least one code, per multi-valued table.
        self.tagged: dict[str, int] = dict.fromkeys(TAG_TABLES.values(), 0)
        self.anonymous_by: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        # The cell keys (sums of the record keys) beside the counts, in the same shapes.
        self.figure_keys: dict[str, int] = defaultdict(int)
        self.keys: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.tagged_keys: dict[str, int] = defaultdict(int)
        self.anonymous_keys: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add_place(self, row: dict) -> None:
        key = str(row["pk"])
        self.places[key] = {
            "name": row["name"],
            "commune": row["commune"],
            "insee_code": row["insee_code"],
            "is_qpv": row["is_qpv"],
            "is_rural": row["is_rural"],
        }
        self.cells["accompaniments_by_place"].setdefault(key, 0)
        self.figures["places"] += 1
        self.figures["places_in_qpv"] += row["is_qpv"]
        self.figures["places_in_frr"] += row["is_rural"]

    def add_sessions(self, row: dict, cells: dict, keys: dict, places: dict[int, dict]) -> None:
        for (table, code), alias in cells.items():
            value = row[alias] or 0
            target = self.figures if table == "figures" else self.cells[table]
            target[code] = target.get(code, 0) + value
        for (table, code), alias in keys.items():
            target = self.figure_keys if table == "figures" else self.keys[table]
            target[code] += int(row[alias] or 0)
        sessions, people = (
            row[cells[("figures", "sessions")]] or 0,
            row[cells[("figures", "accompaniments")]] or 0,
        )
        session_key = int(row[keys[("figures", "sessions")]] or 0)
        people_key = int(row[keys[("figures", "accompaniments")]] or 0)
        key = NO_PLACE if row["place_id"] is None else str(row["place_id"])
        by_place = self.cells["accompaniments_by_place"]
        by_place[key] = by_place.get(key, 0) + people
        self.keys["accompaniments_by_place"][key] += people_key
        place = places.get(row["place_id"])
        if place is not None:
            for flag, zone in (("is_qpv", "qpv"), ("is_rural", "frr")):
                if place[flag]:
                    self.figures[f"sessions_in_{zone}"] += sessions
                    self.figures[f"accompaniments_in_{zone}"] += people
                    self.figure_keys[f"sessions_in_{zone}"] += session_key
                    self.figure_keys[f"accompaniments_in_{zone}"] += people_key

    def add_tag(self, dimension: str, code: str, n: int, first: int, key, first_key) -> None:
        table = TAG_TABLES.get(dimension)
        if table is not None:
            self.cells[table][code] = self.cells[table].get(code, 0) + (n or 0)
            self.tagged[table] += first or 0
            self.keys[table][code] += int(key or 0)
            self.tagged_keys[table] += int(first_key or 0)

    def add_residents(self, row: tuple) -> None:
        _grp, part, age_band, status, gender, commune, n, new, key, new_key = row
        key, new_key = int(key or 0), int(new_key or 0)
        if part == "profile":
            self.figures["residents"] += n
            self.figures["new_residents"] += new or 0
            self.figure_keys["residents"] += key
            self.figure_keys["new_residents"] += new_key
            for table, code in (
                ("residents_by_age_band", age_band),
                ("residents_by_status", status),
                ("residents_by_gender", gender),
            ):
                self.cells[table][code] = self.cells[table].get(code, 0) + n
                self.keys[table][code] += key
        else:
            code = commune or NOT_GIVEN
            cells = self.cells["residents_by_commune"]
            cells[code] = cells.get(code, 0) + n
            self.keys["residents_by_commune"][code] += key

    def add_appointments(self, status: str, n: int, key) -> None:
        cells = self.cells["appointments_by_status"]
        cells[status] = cells.get(status, 0) + n
        self.keys["appointments_by_status"][status] += int(key or 0)

    def as_dict(self) -> dict:
        figures = self.figures
        figures["individual_sessions"] = self.cells["sessions_by_kind"][SessionKind.INDIVIDUAL]
        figures["collective_sessions"] = self.cells["sessions_by_kind"][SessionKind.COLLECTIVE]
        figures["workshop_participants"] = self.cells["accompaniments_by_kind"][
            SessionKind.COLLECTIVE
        ]
        anonymous = max(
            0, figures["workshop_participants"] - figures["named_workshop_participants"]
        )
        figures["anonymous_participants"] = anonymous
        figures["residents_incl_anonymous"] = figures["residents"] + anonymous
        for dimension, table in (
            (CountDimension.AGE_BAND, "anonymous_by_age_band"),
            (CountDimension.STATUS, "anonymous_by_status"),
            (CountDimension.GENDER, "anonymous_by_gender"),
        ):
            counted = self.anonymous_by.get(dimension, {})
            cells = self.cells[table]
            for code, n in counted.items():
                cells[code] = cells.get(code, 0) + n
            # A workshop may give its anonymous participants by age band only: the others
            # are "not given" in the status and gender tables.
            cells[NOT_GIVEN] += max(0, anonymous - sum(counted.values()))
        # Sessions without any code of a multi-valued field (no equipment noted; the
        # administrative theme without a procedure area): "not_given", so that every
        # accompaniment is in at least one cell.
        themes = self.cells["accompaniments_by_theme"]
        for table, total in (
            ("accompaniments_by_theme", figures["accompaniments"]),
            ("accompaniments_by_equipment", figures["accompaniments"]),
            ("accompaniments_by_procedure", themes[Theme.DEMARCHES_ADMINISTRATIVES]),
        ):
            self.cells[table][NOT_GIVEN] = max(0, total - self.tagged[table])
        figures["hours"] = round(figures["help_minutes"] / 60, 1)
        appointments = self.cells["appointments_by_status"]
        figures["appointments"] = sum(appointments.values())
        figures["appointments_booked"] = appointments[AppointmentStatus.BOOKED]
        figures["appointments_seen"] = appointments[AppointmentStatus.SEEN]
        figures["appointments_no_show"] = appointments[AppointmentStatus.NO_SHOW]
        figures["appointments_cancelled"] = sum(appointments[s] for s in CANCELLED_STATUSES)

        commune = self.cells["residents_by_commune"]
        self.cells["residents_by_commune"] = dict(
            sorted(commune.items(), key=lambda item: (item[0] == NOT_GIVEN, item[0]))
        )
        by_place = self.cells["accompaniments_by_place"]
        if not by_place.get(NO_PLACE):
            by_place.pop(NO_PLACE, None)
        tables = {}
        for key, spec in TABLES.items():
            if "." in spec.total:
                table, code = spec.total.split(".")
                total = self.cells[table].get(code, 0)
            else:
                total = figures[spec.total]
            tables[key] = {"total": total, "cells": self.cells[key]}
        return {
            "keys": self._keys(anonymous),
            "scope": self.scope,
            "period": {
                "code": self.period.code,
                "label": self.period.label,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
            },
            "figures": figures,
            "tables": tables,
            "places": self.places,
        }

    def _keys(self, anonymous: int) -> dict:
        """The cell key of every figure and cell (the sum of the keys of the records it
        counts, modulo KEY_SPACE), derived as the counts are in `as_dict`."""
        fk, ck = self.figure_keys, self.keys
        fk["individual_sessions"] = ck["sessions_by_kind"][SessionKind.INDIVIDUAL]
        fk["collective_sessions"] = ck["sessions_by_kind"][SessionKind.COLLECTIVE]
        fk["workshop_participants"] = ck["accompaniments_by_kind"][SessionKind.COLLECTIVE]
        fk["anonymous_participants"] = (
            fk["workshop_participants"] - fk["named_workshop_participants"] if anonymous else 0
        )
        fk["residents_incl_anonymous"] = fk["residents"] + fk["anonymous_participants"]
        for dimension, table in (
            (CountDimension.AGE_BAND, "anonymous_by_age_band"),
            (CountDimension.STATUS, "anonymous_by_status"),
            (CountDimension.GENDER, "anonymous_by_gender"),
        ):
            counted = self.anonymous_keys.get(dimension, {})
            for code, key in counted.items():
                ck[table][code] += key
            if anonymous - sum(self.anonymous_by.get(dimension, {}).values()) > 0:
                ck[table][NOT_GIVEN] += fk["anonymous_participants"] - sum(counted.values())
        for table, total in (
            ("accompaniments_by_theme", fk["accompaniments"]),
            ("accompaniments_by_equipment", fk["accompaniments"]),
            ("accompaniments_by_procedure", ck["accompaniments_by_theme"][DEMARCHES]),
        ):
            if self.cells[table][NOT_GIVEN]:
                ck[table][NOT_GIVEN] = total - self.tagged_keys[table]
        appointments = ck["appointments_by_status"]
        fk["appointments"] = sum(appointments.values())
        fk["appointments_booked"] = appointments[AppointmentStatus.BOOKED]
        fk["appointments_seen"] = appointments[AppointmentStatus.SEEN]
        fk["appointments_no_show"] = appointments[AppointmentStatus.NO_SHOW]
        fk["appointments_cancelled"] = sum(appointments[s] for s in CANCELLED_STATUSES)
        tables = {}
        for key, spec in TABLES.items():
            if "." in spec.total:
                table, code = spec.total.split(".")
                total = ck[table][code]
            else:
                total = fk[spec.total]
            tables[key] = {
                "total": total % KEY_SPACE,
                "cells": {code: ck[key][code] % KEY_SPACE for code in self.cells[key]},
            }
        return {
            "figures": {name: fk[name] % KEY_SPACE for name in FIGURES},
            "tables": tables,
        }


def _run(scope: Scope, period: Period, groups: dict, by_structure: bool) -> None:
    """Run the queries of a report and add their rows to `groups` ({group key: _Report};
    the key is the structure id when `by_structure`, else None)."""

    def report(key) -> _Report | None:
        return groups.get(key if by_structure else None)

    places = {}
    for row in _place_rows(scope):
        places[row["pk"]] = row
        target = report(row["structure_id"])
        if target is not None:
            target.add_place(row)

    rows, cells, keys = _session_rows(scope, period, by_structure)
    for row in rows:
        target = report(row.get("structure_id"))
        if target is not None:
            target.add_sessions(row, cells, keys, places)

    for group, dimension, code, *counts in _tag_rows(scope, period, by_structure):
        target = report(group)
        if target is not None:
            target.add_tag(dimension, code, *counts)

    for row in _participant_count_rows(scope, period, by_structure):
        target = report(row.get("session__structure_id"))
        if target is not None:
            target.anonymous_by[row["dimension"]][row["code"]] += row["n"] or 0
            target.anonymous_keys[row["dimension"]][row["code"]] += int(row["key"] or 0)

    for row in _named_participant_rows(scope, period, by_structure):
        target = report(row.get("helpsession__structure_id"))
        if target is not None:
            target.figures["named_workshop_participants"] += row["n"]
            target.figure_keys["named_workshop_participants"] += int(row["key"] or 0)

    for row in _resident_rows(scope, period, by_structure):
        target = report(row[0])
        if target is not None:
            target.add_residents(row)

    for row in _appointment_rows(scope, period, by_structure):
        target = report(row.get("place__structure_id"))
        if target is not None:
            target.add_appointments(row["status"], row["n"], row["key"])


@contextmanager
def _report_queries():
    """On PostgreSQL, the report's queries run in one transaction without JIT compilation:
    compiling them (with inlining and optimisation, which their estimated costs trigger)
    takes longer than running them. The setting is local to the transaction (to the
    caller's, if one is open). Elsewhere nothing: an SQLite transaction would take the write
    lock (IMMEDIATE mode) for a read."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('jit', 'off', true)")
        yield


def compute(scope, period: Period) -> dict:
    """Every indicator of `scope` (a Place, Structure, Network, a queryset of structures or
    of their ids, or a list of structure ids) over `period`, exact (not anonymised).

    7 queries whatever the volume, plus one for the structure ids of a network or a
    queryset, plus one on PostgreSQL (JIT off); see the module docstring for the format and
    the definitions. The caller checks the user may see the scope."""
    with _report_queries():
        scope = as_scope(scope)
        groups = {None: _Report({"kind": scope.kind, "id": scope.pk, "name": scope.name}, period)}
        _run(scope, period, groups, by_structure=False)
    return groups[None].as_dict()


def has_activity(scope, period: Period) -> bool:
    """Whether `scope` has any session (by report_date) or appointment (by start) in `period`:
    two EXISTS probes on the indexes, for the command that refuses an empty report."""
    scope = as_scope(scope)
    sessions = HelpSession.objects.filter(_scope_q(scope, "structure", "place"), _period_q(period))
    if sessions.exists():
        return True
    in_zone = Q()
    for tz in PlaceTimeZone.values:
        start, end = period.bounds_in(tz)
        in_zone |= Q(place__time_zone=tz, starts_at__gte=start, starts_at__lt=end)
    return Appointment.objects.filter(
        _scope_q(scope, "place__structure", "place"), in_zone
    ).exists()


def compute_for_structures(network: Network, period: Period) -> dict[int, dict]:
    """{structure id: report} for every structure of `network` (those without activity
    included, all zeros): the structures, then each query of `compute` grouped by structure
    (8 queries, 9 on PostgreSQL).

    For the hierarchical protection: the network's own report (`compute(network, period)`)
    is not the sum of these for distinct and new residents (a resident shared in the network
    is counted once there, once in each structure that saw them)."""
    with _report_queries():
        structures = list(
            Structure.objects.in_network(network).order_by("name").values("pk", "name")
        )
        groups = {
            row["pk"]: _Report({"kind": STRUCTURE, "id": row["pk"], "name": row["name"]}, period)
            for row in structures
        }
        scope = Scope(NETWORK, network.pk, network.name, tuple(groups))
        _run(scope, period, groups, by_structure=True)
    return {pk: report.as_dict() for pk, report in groups.items()}
