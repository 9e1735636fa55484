"""Cases' panels of "Ma journée" (the home page), registered into `mediation/day.py` by
`cases/apps.py`: the walk-in button ("Accueillir quelqu'un sans rendez-vous") and the
follow-ups due today."""

from __future__ import annotations

from django.utils import timezone

from cases.selectors import day as selectors
from mediation.scoping import visible_structure_ids


def walk_in_panel(request) -> dict | None:
    # The button leads to `desk_walk_in`, which picks the structure: the panel only needs to
    # know there is one, from the roles already read for the request (no query).
    if not visible_structure_ids(request.user, "log_session"):
        return None
    return {}


def followups_panel(request) -> dict | None:
    # The site's day: a case's next action is a date without a place, hence without a zone.
    today = timezone.localdate()
    cases, total = selectors.followups_due(request.user, today=today)
    for case in cases:
        case.late_days = (today - case.next_action_on).days
    return {
        "cases": cases,
        "total": total,
        "more": total - len(cases),
        "structures": list({case.structure.slug: case.structure for case in cases}.values()),
        "show_structure": len({case.structure_id for case in cases}) > 1,
    }
