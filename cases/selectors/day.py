"""Reads of cases for "Ma journée" (the home page): the follow-ups due, across every structure
of the user. Scoped, and a fixed number of queries whatever the number of structures."""

from __future__ import annotations

from datetime import date

from cases.choices import CLOSED_CASE_STATUSES
from cases.models import Case

#: Follow-ups listed on the home page; "Mes suivis" has the rest.
DAY_FOLLOWUPS = 10


def followups_due(user, *, today: date) -> tuple[list[Case], int]:
    """Open cases the user is the referent of whose next action is `today` or overdue, in every
    structure where they may follow cases, the oldest date first: (the first DAY_FOLLOWUPS,
    how many in all). Two queries at most."""
    cases = (
        Case.objects.visible_to(user, "follow_case")
        .filter(mediator=user, next_action_on__lte=today)
        .exclude(status__in=CLOSED_CASE_STATUSES)
    )
    rows = list(
        cases.select_related("resident", "structure")
        .only(
            "title",
            "status",
            "next_action_on",
            "structure__name",
            "structure__slug",
            "resident__first_name",
            "resident__last_name",
            "resident__is_anonymous",
        )
        .order_by("next_action_on", "pk")[:DAY_FOLLOWUPS]
    )
    total = len(rows) if len(rows) < DAY_FOLLOWUPS else cases.count()
    return rows, total
