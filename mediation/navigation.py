"""Counts beside the links of the staff navigation ("Suivis 3"), given by the floors above.

The navigation is drawn by the ground floor (`mediation/context_processors.py`, `base.html`),
which never imports an upper app: an app registers, for a link of the menu named by its URL
name, a function `(user, structure, now) -> Expression | None`. The expression counts, for the
structure of the row it is evaluated on (`OuterRef("pk")` of a `Structure` query), what the
link leads to; None when the user may not see it there. The navigation evaluates the
registered counts for the current structure only, inside the query that already reads the
user's structures: a count costs no query of its own. Filled by `cases/apps.py` ("Mes suivis").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db.models import Case, Expression, IntegerField, Value, When

NavCount = Callable[..., Expression | None]

_counts: dict[str, NavCount] = {}

#: Prefix of the annotations the navigation's structure query carries.
PREFIX = "nav_count_"


def register_nav_count(url_name: str, count: NavCount) -> None:
    """Show beside the menu link `url_name` the number `count(user, structure, now)` counts."""
    _counts[url_name] = count


def nav_count_annotations(user, structure, now: datetime) -> dict[str, Expression]:
    """Annotations for a `Structure` query: each registered count for `structure`, None on the
    other rows (the CASE keeps the database from counting for them)."""
    annotations = {}
    for url_name, count in _counts.items():
        expression = count(user, structure, now)
        if expression is not None:
            annotations[PREFIX + url_name] = Case(
                When(pk=structure.pk, then=expression),
                default=Value(None),
                output_field=IntegerField(),
            )
    return annotations


def nav_counts_of(row) -> dict[str, int]:
    """{url name: count} read from a structure annotated by `nav_count_annotations`."""
    return {
        name[len(PREFIX) :]: value
        for name, value in vars(row).items()
        if name.startswith(PREFIX) and value is not None
    }
