"""Reads of cases (dossiers), always scoped: the case page and its timeline, the sessions that
may be attached to a case, and "Mes suivis".

Queryset helpers that would naturally be `CaseQuerySet` methods (`waiting_too_long`,
`needing_followup`) live here as functions taking a queryset: models.py is shared."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Case as SqlCase
from django.db.models import (
    Count,
    Expression,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact, In
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cases.choices import (
    CLOSED_CASE_STATUSES,
    NOTE_CHANGE_REASON,
    CaseEventKind,
    CaseStatus,
    Equipment,
    ProcedureArea,
    TagDimension,
    Theme,
)
from cases.models import Case, CaseEvent, HelpSession, SessionTag
from mediation.choices import PlaceTimeZone, Role
from mediation.models import Membership, Place, Resident, User
from mediation.permissions import roles_for, user_can
from mediation.scoping import structure_roles

WAITING_STATUSES = (CaseStatus.WAITING_RESIDENT, CaseStatus.WAITING_ADMINISTRATION)
#: Sessions offered for attaching to a case (the most recent ones).
ATTACH_CHOICES = 30
#: What `session_label` needs of a session (and its mediator).
LABEL_FIELDS = (
    "structure_id",
    "case_id",
    "kind",
    "date",
    "created_at",
    "duration_minutes",
    "title",
    "mediator__first_name",
    "mediator__last_name",
    "mediator__email",
)
#: A case waiting on someone for longer than this needs a nudge.
WAITING_TOO_LONG_DAYS = 14

TAG_LABELS = {
    TagDimension.THEME: dict(Theme.choices),
    TagDimension.PROCEDURE: dict(ProcedureArea.choices),
    TagDimension.EQUIPMENT: dict(Equipment.choices),
}


# --- Queryset helpers -----------------------------------------------------------------------


def waiting_too_long(cases: QuerySet, *, now: datetime | None = None) -> QuerySet:
    """Cases waiting on the resident or the administration, unchanged for more than
    WAITING_TOO_LONG_DAYS days."""
    now = now or timezone.now()
    return cases.filter(
        status__in=WAITING_STATUSES,
        status_changed_at__lt=now - timedelta(days=WAITING_TOO_LONG_DAYS),
    )


def needing_followup(
    cases: QuerySet, *, today: date | None = None, now: datetime | None = None
) -> QuerySet:
    """Open cases needing action: next-action date passed or today, or waiting too long."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    waiting = Q(
        status__in=WAITING_STATUSES,
        status_changed_at__lt=now - timedelta(days=WAITING_TOO_LONG_DAYS),
    )
    return cases.exclude(status__in=CLOSED_CASE_STATUSES).filter(
        Q(next_action_on__lte=today) | waiting
    )


# --- Small helpers --------------------------------------------------------------------------


def initials(first_name: str, last_name: str) -> str:
    """Initials of a name, what a coordinator sees of a resident: "Éric Le Goff" → "É. L"."""
    letters = [part.strip()[:1].upper() for part in (first_name, last_name) if part.strip()]
    return " ".join(f"{letter}." for letter in letters) or "—"


def user_name(user: User | None) -> str:
    if user is None:
        return _("quelqu'un")
    return user.get_full_name() or user.email


def structure_referents(user, structure, *, also: int | None = None) -> QuerySet:
    """The people who may be a case's referent: those who may `follow_case` in the structure
    (plus the user `also`, a case's current referent)."""
    memberships = Membership.objects.visible_to(user).filter(
        structure=structure, role__in=roles_for("follow_case")
    )
    wanted = Q(pk__in=memberships.values("user_id"), is_active=True)
    if also is not None:
        wanted |= Q(pk=also)
    return (
        User.objects.filter(wanted)
        .only("first_name", "last_name", "email")
        .order_by("last_name", "first_name")
    )


def structure_mediators(user, structure) -> QuerySet:
    memberships = Membership.objects.visible_to(user).filter(
        structure=structure, role=Role.MEDIATOR
    )
    return (
        User.objects.filter(pk__in=memberships.values("user_id"))
        .only("first_name", "last_name", "email")
        .order_by("last_name", "first_name")
    )


def _tags_prefetch() -> Prefetch:
    return Prefetch("tags", queryset=SessionTag.objects.order_by("dimension", "pk"))


def decorate_session(session: HelpSession) -> HelpSession:
    """Labels of a session's themes, procedure areas and equipment (tags prefetched)."""
    labels: dict[str, list[str]] = {dimension: [] for dimension in TagDimension.values}
    for tag in session.tags.all():
        labels.setdefault(tag.dimension, []).append(
            str(TAG_LABELS.get(tag.dimension, {}).get(tag.code, tag.code))
        )
    session.theme_labels = labels[TagDimension.THEME]
    session.procedure_labels = labels[TagDimension.PROCEDURE]
    session.equipment_labels = labels[TagDimension.EQUIPMENT]
    return session


def session_label(session: HelpSession) -> str:
    """One line to recognise a session in a list: date, duration, themes, mediator."""
    decorate_session(session)
    parts = [
        date_format(session.date, "d/m/Y"),
        _("%(minutes)s min") % {"minutes": session.duration_minutes},
    ]
    if session.kind == "collective":
        parts.append(session.title or session.get_kind_display())
    if session.theme_labels:
        parts.append(", ".join(session.theme_labels))
    parts.append(user_name(session.mediator))
    return " — ".join(parts)


# --- The case page ----------------------------------------------------------------------------


def case_queryset(user, action="follow_case") -> QuerySet:
    return Case.objects.visible_to(user, action).select_related("resident", "mediator", "structure")


def attachable_sessions(user, case: Case, action="follow_case") -> QuerySet:
    """Sessions of the case's resident (helped alone or in a workshop), in the case's
    structure, attached to no case yet. What a form checks a chosen session against (by
    primary key); `attachable_session_list` reads the ones to offer."""
    workshops = HelpSession.participants.through.objects.filter(
        resident_id=case.resident_id
    ).values("helpsession_id")
    return (
        HelpSession.objects.visible_to(user, action)
        .filter(structure_id=case.structure_id, case__isnull=True)
        .filter(Q(resident_id=case.resident_id) | Q(pk__in=workshops))
    )


def attachable_session_list(
    user, case: Case, action="follow_case", *, limit: int = ATTACH_CHOICES
) -> list[HelpSession]:
    """The `limit` most recent sessions of `attachable_sessions`, with their tags.

    Read through the resident's index: with the structure and "no case yet" in the same
    WHERE, SQLite's planner walks every session of the structure instead (200 ms for
    100 000 sessions). A resident has at most a few hundred sessions: their keys are sorted
    out here as plain tuples, and only the `limit` kept are loaded as sessions (building a
    model per session was most of the case page's time)."""
    visible = HelpSession.objects.visible_to(user, action)
    keys = ("pk", "structure_id", "case_id", "date", "created_at")
    workshops = HelpSession.participants.through.objects.filter(
        resident_id=case.resident_id
    ).values("helpsession_id")
    # Two SELECTs in one query, each with its own plan: the resident's index, then the
    # workshops by primary key.
    rows = (
        visible.filter(resident_id=case.resident_id)
        .order_by()
        .values_list(*keys)
        .union(visible.filter(pk__in=workshops).order_by().values_list(*keys), all=True)
    )
    kept = sorted(
        {
            (day, created_at, pk)
            for pk, structure_id, case_id, day, created_at in rows
            if structure_id == case.structure_id and case_id is None
        },
        reverse=True,
    )[:limit]
    if not kept:
        return []
    sessions = {
        session.pk: session
        for session in visible.filter(pk__in=[pk for _day, _at, pk in kept])
        .order_by()
        .select_related("mediator")
        .only(*LABEL_FIELDS)
        .prefetch_related(_tags_prefetch())
    }
    return [sessions[pk] for _day, _at, pk in kept if pk in sessions]


@dataclass
class TimelineEntry:
    """One thing that happened to a case. `kind`: "opened", "status", "note", "session" or
    "edit"."""

    kind: str
    at: datetime
    rank: int
    by: str = ""
    event: CaseEvent | None = None
    session: HelpSession | None = None
    changes: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def display_at(self) -> datetime:
        # Naive wall-clock time of the structure: templates would convert an aware datetime
        # to the site's zone (Paris), wrong for a Réunion desk.
        return self.at.replace(tzinfo=None)


#: Fields of a case whose edits the timeline shows (status changes come from CaseEvent).
EDIT_FIELDS = ("title", "procedure_area", "mediator_id", "next_action_on", "resident_id")


def _field_label(name: str) -> str:
    return {
        "title": _("Intitulé"),
        "procedure_area": _("Domaine de la démarche"),
        "mediator_id": _("Référent·e"),
        "next_action_on": _("Prochaine action"),
        "resident_id": _("Usager"),
    }[name]


def _display(name: str, value, names: dict[str, dict]) -> str:
    if value in (None, ""):
        return "—"
    if name == "procedure_area":
        return str(dict(ProcedureArea.choices).get(value, value))
    if name == "next_action_on":
        return date_format(value, "d/m/Y")
    if name == "mediator_id":
        return names["users"].get(value, _("compte supprimé"))
    if name == "resident_id":
        return names["residents"].get(value, _("fiche supprimée"))
    return str(value)


def _session_moment(session: HelpSession, tz) -> datetime:
    """Sessions have a day, not a time: place them at the moment they were logged when that
    was the same day, else at noon of their day."""
    logged = timezone.localtime(session.created_at, tz)
    if logged.date() == session.date:
        return logged
    return datetime.combine(session.date, time(12), tzinfo=tz)


def case_timeline(user, case: Case, *, tz, action="follow_case") -> list[TimelineEntry]:
    """Everything that happened to `case`, newest first: its sessions, status changes, notes
    and edits (django-simple-history). A fixed number of queries whatever the history's length:
    events, sessions, their tags, history rows, the names the edits mention."""
    entries: list[TimelineEntry] = []
    events = (
        CaseEvent.objects.visible_to(user, action)
        .filter(case=case)
        .select_related("by")
        .order_by("at", "pk")
    )
    for event in events:
        if event.kind == CaseEventKind.NOTE:
            kind = "note"
        else:
            kind = "opened" if not event.from_status else "status"
        entries.append(
            TimelineEntry(
                kind=kind,
                at=timezone.localtime(event.at, tz),
                rank=1,
                by=user_name(event.by),
                event=event,
            )
        )
    sessions = (
        HelpSession.objects.visible_to(user, action)
        .filter(case=case)
        .select_related("mediator")
        .prefetch_related(_tags_prefetch())
    )
    for session in sessions:
        decorate_session(session)
        entries.append(
            TimelineEntry(
                kind="session",
                at=_session_moment(session, tz),
                rank=0,
                by=user_name(session.mediator),
                session=session,
            )
        )
    entries.extend(_edit_entries(case, tz))
    entries.sort(key=lambda e: (e.at, e.rank), reverse=True)
    return entries


def _edit_entries(case: Case, tz) -> list[TimelineEntry]:
    rows = list(
        Case.history.filter(id=case.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    diffs = []
    user_ids, resident_ids = set(), set()
    for previous, row in zip(rows, rows[1:], strict=False):
        changed = [name for name in EDIT_FIELDS if getattr(previous, name) != getattr(row, name)]
        if "next_action_on" in changed and (
            row.status != previous.status or row.history_change_reason == NOTE_CHANGE_REASON
        ):
            # The date set with a status change or a note is shown on the event itself.
            changed.remove("next_action_on")
        if not changed:
            continue
        diffs.append((previous, row, changed))
        if "mediator_id" in changed:
            user_ids |= {previous.mediator_id, row.mediator_id}
        if "resident_id" in changed:
            resident_ids |= {previous.resident_id, row.resident_id}
    names: dict[str, dict] = {"users": {}, "residents": {}}
    user_ids.discard(None)
    if user_ids:
        names["users"] = {
            u.pk: user_name(u)
            for u in User.objects.filter(pk__in=user_ids).only("first_name", "last_name", "email")
        }
    if resident_ids:
        # Only a merge moves a case; the case page is for desk roles of the case's structure.
        names["residents"] = {
            r.pk: str(r)
            for r in Resident.objects.filter(pk__in=resident_ids).only(
                "first_name", "last_name", "is_anonymous"
            )
        }
    entries = []
    for previous, row, changed in diffs:
        entries.append(
            TimelineEntry(
                kind="edit",
                at=timezone.localtime(row.history_date, tz),
                rank=2,
                by=user_name(row.history_user),
                changes=[
                    (
                        _field_label(name),
                        _display(name, getattr(previous, name), names),
                        _display(name, getattr(row, name), names),
                    )
                    for name in changed
                ],
            )
        )
    return entries


# --- "Mes suivis" ---------------------------------------------------------------------------


@dataclass
class FollowupFilters:
    status: str = ""
    procedure_area: str = ""
    mediator_id: int | None = None  # None: the whole team
    all_open: bool = False  # False: only the cases needing action


def followup_cases(
    user,
    structure,
    filters: FollowupFilters,
    *,
    today: date | None = None,
    now: datetime | None = None,
) -> QuerySet:
    """Open cases of `structure` (the ones needing action unless `filters.all_open`), the most
    urgent first: the oldest next-action date, then the longest wait."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    cases = Case.objects.visible_to(user, "view_followups").filter(structure=structure)
    cases = cases.exclude(status__in=CLOSED_CASE_STATUSES)
    if not filters.all_open:
        cases = needing_followup(cases, today=today, now=now)
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.procedure_area:
        cases = cases.filter(procedure_area=filters.procedure_area)
    if filters.mediator_id is not None:
        cases = cases.filter(mediator_id=filters.mediator_id)
    return (
        cases.select_related("resident", "mediator")
        .only(
            "title",
            "procedure_area",
            "status",
            "next_action_on",
            "status_changed_at",
            "opened_at",
            "structure_id",
            "resident__first_name",
            "resident__last_name",
            "resident__is_anonymous",
            "mediator__first_name",
            "mediator__last_name",
            "mediator__email",
        )
        .order_by(F("next_action_on").asc(nulls_last=True), "status_changed_at", "pk")
    )


def followups_of_own(user, structure) -> bool:
    """Does "Mes suivis" show the user's own cases first (a mediator's), rather than the whole
    structure's? Who someone is, not what they may do: outside the permissions table."""
    return Role.MEDIATOR in structure_roles(user).get(structure.pk, frozenset())


def _structure_local_day(now: datetime, per_day) -> Expression:
    """`per_day(day)` for the local day of the structure of the row (`OuterRef("pk")` of a
    Structure query), as one SQL expression: the day in the time zone its active places share
    (bookings.selectors.structure_time_zone), else the site's. Most of the day every zone has
    the same date and this is `per_day(that day)`."""
    site_day = timezone.localdate(now, zoneinfo.ZoneInfo(settings.TIME_ZONE))
    zones_by_day: dict[date, list[str]] = {}
    for zone in PlaceTimeZone.values:
        day = timezone.localdate(now, zoneinfo.ZoneInfo(zone))
        if day != site_day:
            zones_by_day.setdefault(day, []).append(zone)
    if not zones_by_day:
        return per_day(site_day)
    places = Place.objects.filter(structure=OuterRef("pk"), is_active=True).order_by()
    first = Subquery(places.order_by("time_zone").values("time_zone")[:1])
    last = Subquery(places.order_by("-time_zone").values("time_zone")[:1])
    return SqlCase(
        *(
            When(
                Exact(first, last) & In(first, zones),
                then=per_day(day),
            )
            for day, zones in zones_by_day.items()
        ),
        default=per_day(site_day),
    )


def followups_count(user, structure, now: datetime) -> Expression | None:
    """The number beside "Suivis" in the menu: the cases "Mes suivis" lists by default (to
    handle: next action come, or waiting too long; the mediator's own, or the whole structure's
    for the others), as an expression on a Structure query (`mediation/navigation.py`)."""
    if not user_can(user, "view_followups", structure):
        return None
    own = followups_of_own(user, structure)

    def per_day(today: date) -> Expression:
        cases = needing_followup(
            Case.objects.filter(structure=OuterRef("pk")), today=today, now=now
        )
        if own:
            cases = cases.filter(mediator_id=user.pk)
        counted = cases.order_by().values("structure").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(counted[:1]), 0)

    return _structure_local_day(now, per_day)


def decorate_followup(case: Case, *, today: date, now: datetime, tz, show_names: bool) -> Case:
    """What "Mes suivis" shows of a case: the resident (name for desk roles, initials for
    coordinators), how long it has kept its status, and why it needs action."""
    resident = case.resident
    case.resident_label = (
        f"{resident.first_name} {resident.last_name}".strip()
        if show_names
        else initials(resident.first_name, resident.last_name)
    )
    changed_on = timezone.localtime(case.status_changed_at, tz).date()
    case.days_in_status = max((today - changed_on).days, 0)
    case.is_waiting_too_long = case.status in WAITING_STATUSES and (
        now - case.status_changed_at > timedelta(days=WAITING_TOO_LONG_DAYS)
    )
    if case.next_action_on is not None and case.next_action_on < today:
        case.late_days = (today - case.next_action_on).days
    else:
        case.late_days = 0
    case.action_today = case.next_action_on == today
    case.mediator_name = user_name(case.mediator) if case.mediator_id else ""
    return case
