"""Reads of residents at the desk: a resident's page (identity, appointments, sessions,
cases), the search results' open cases, duplicates and merge candidates. The search itself is
`mediation.selectors.resident_search`, shared with the desk agenda. Always scoped: every
queryset starts from `visible_to(user)`, and each function runs a fixed number of queries
whatever the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q

from bookings.models import Appointment
from cases.models import Case, HelpSession
from mediation.clock import wall_time
from mediation.models import Resident, Structure, User, fold_name
from mediation.selectors import ResidentQuery, desk_residents, resident_search

SEARCH_PAGE_SIZE = 25
SESSION_PAGE_SIZE = 20
#: Upcoming appointments shown on a resident's page (a resident rarely has more than a few).
UPCOMING_LIMIT = 30


def with_open_cases(user, residents) -> list[Resident]:
    """The search results as the residents' list shows them, for the rows of one page: each
    with `open_cases` (the open cases the user may see), counted in one query for the page.
    (A count in the search's own query ran for every matching resident before the sort and
    the LIMIT: 90 ms for a desk of 20 000.) `residents` should carry its structure
    (`select_related`), shown for residents shared by another structure."""
    residents = list(residents)
    counts = dict(
        Case.objects.visible_to(user, "manage_residents")
        .open()
        .filter(resident_id__in=[resident.pk for resident in residents])
        .order_by()
        .values("resident_id")
        .annotate(n=Count("pk"))
        .values_list("resident_id", "n")
    )
    for resident in residents:
        resident.open_cases = counts.get(resident.pk, 0)
    return residents


def resident_duplicates(
    user,
    structure: Structure,
    *,
    first_name: str,
    last_name: str,
    birth_year: int | None,
    phones: list[str],
    exclude: int | None = None,
    limit: int = 10,
) -> list[Resident]:
    """Followed residents who may be the same person: same phone number, or same name
    (accents and case ignored) and same year of birth (or a year unknown on either side)."""
    same = Q(pk__in=[])
    if phones:
        same |= Q(phone__in=phones)
    name = fold_name(first_name, last_name)
    if name:
        if birth_year:
            same |= Q(search_name=name) & (Q(birth_year=birth_year) | Q(birth_year__isnull=True))
        else:
            same |= Q(search_name=name)
    residents = desk_residents(user, structure).followed().filter(same)
    if exclude is not None:
        residents = residents.exclude(pk=exclude)
    return list(residents.select_related("structure").order_by("last_name", "first_name")[:limit])


# --- A resident's page ----------------------------------------------------------------------


def resident_sessions(user, resident: Resident):
    """Sessions of the resident (helped individually, or a named workshop participant) that the
    user may see, most recent first: a queryset to paginate. Tags come in one more query.

    The ids come from a UNION of two index lookups (the resident's own sessions, the workshops
    they attended): an OR of the two conditions would have the database scan every session of
    the structure (SQLite has no statistics to choose better)."""
    through = HelpSession.participants.through
    ids = (
        HelpSession.objects.filter(resident=resident)
        .order_by()
        .values("pk")
        .union(through.objects.filter(resident_id=resident.pk).order_by().values("helpsession_id"))
    )
    return (
        HelpSession.objects.visible_to(user, "manage_residents")
        .filter(pk__in=ids)
        .select_related("mediator", "place", "structure", "case")
        .prefetch_related("tags")
        .order_by("-date", "-created_at", "-pk")
    )


def resident_cases(user, resident: Resident) -> tuple[list[Case], list[Case]]:
    """(open cases, closed cases) of the resident that the user may see, in one query: open
    ones by next action date, closed ones most recent first."""
    from cases.choices import CLOSED_CASE_STATUSES

    rows = list(
        Case.objects.visible_to(user, "manage_residents")
        .filter(resident=resident)
        .select_related("mediator", "structure")
        .order_by("-opened_at", "-pk")
    )
    opened = [c for c in rows if c.status not in CLOSED_CASE_STATUSES]
    closed = [c for c in rows if c.status in CLOSED_CASE_STATUSES]
    opened.sort(key=lambda c: (c.next_action_on or date.max, -c.pk))
    closed.sort(key=lambda c: c.closed_at or c.status_changed_at, reverse=True)
    return opened, closed


def resident_upcoming_appointments(user, resident: Resident) -> list[Appointment]:
    """Upcoming booked appointments of the resident the user may see, with their local times
    (`local_starts_at`, naive, in the place's time zone)."""
    rows = list(
        Appointment.objects.visible_to(user, "manage_residents")
        .filter(resident=resident)
        .upcoming()
        .select_related("place", "motif", "mediator")
        .order_by("starts_at", "pk")[:UPCOMING_LIMIT]
    )
    for appointment in rows:
        tz = appointment.place.tzinfo
        appointment.local_starts_at = wall_time(appointment.starts_at, tz)
    return rows


@dataclass(frozen=True)
class SharingRecord:
    shared: bool
    at: object  # datetime
    by: User | None


def sharing_record(resident: Resident) -> SharingRecord | None:
    """When and by whom the current network-sharing choice was recorded (from the history):
    the first history row with the current value after the last row with the other value.
    None when the choice was never recorded as such (never shared since creation)."""
    history = resident.history.all()
    current = resident.shared_with_network
    last_other = (
        history.exclude(shared_with_network=current)
        .order_by("-history_date", "-history_id")
        .values_list("history_date", flat=True)
        .first()
    )
    since = history.filter(shared_with_network=current)
    if last_other is not None:
        since = since.filter(history_date__gt=last_other)
    elif not current:
        return None
    row = since.select_related("history_user").order_by("history_date", "history_id").first()
    if row is None:
        return None
    return SharingRecord(shared=current, at=row.history_date, by=row.history_user)


def merge_candidates(
    user, structure: Structure, resident: Resident, query: ResidentQuery, *, limit: int = 25
):
    """Followed residents of `structure`, the one `resident` belongs to, that match `query`
    and could be its duplicate, by name."""
    if query.empty:
        return []
    residents = resident_search(user, structure, query, shared=False).exclude(pk=resident.pk)
    return list(residents.order_by("last_name", "first_name", "pk")[:limit])


@dataclass(frozen=True)
class MergeSummary:
    sessions: int
    cases: int
    appointments: int


def merge_summary(user, resident: Resident) -> MergeSummary:
    """What the user can see of what a merge would move from `resident`."""
    return MergeSummary(
        sessions=resident_sessions(user, resident).count(),
        cases=Case.objects.visible_to(user, "manage_residents").filter(resident=resident).count(),
        appointments=Appointment.objects.visible_to(user, "manage_residents")
        .filter(resident=resident)
        .count(),
    )
