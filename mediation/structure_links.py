"""Links with a count on a structure's home page, registered by the apps above mediation.

The ground floor knows nothing of them: `bookings` registers "Rendez-vous à réaffecter" from its
`ready()`; the structure home shows each link whose action the user may do there
(mediation/permissions.py) and whose count is not zero.

    register_structure_link(
        key="bookings.reassign",
        label=_("Rendez-vous à réaffecter"),
        url_name="agenda_reassign_list",  # reversed with structure=<slug>
        action="book_at_desk",
        count=lambda user, structure: ...,  # one query
    )
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from mediation.permissions import roles_for, user_can


@dataclass(frozen=True)
class StructureLink:
    key: str
    label: str
    url_name: str
    action: str
    count: Callable[[object, object], int]


_registry: dict[str, StructureLink] = {}


def register_structure_link(
    *, key: str, label, url_name: str, action: str, count: Callable[[object, object], int]
) -> StructureLink:
    """Registering the same key again replaces the link (ready() may run more than once)."""
    roles_for(action)  # an unknown action fails here, not on a page
    link = StructureLink(key=key, label=label, url_name=url_name, action=action, count=count)
    _registry[key] = link
    return link


def structure_links(user, structure) -> list[dict]:
    """[{"label", "url", "count"}] of the registered links to show `user` on the home page."""
    shown = []
    for link in _registry.values():
        if not user_can(user, link.action, structure):
            continue
        count = link.count(user, structure)
        if count:
            url = reverse(link.url_name, kwargs={"structure": structure.slug})
            shown.append({"key": link.key, "label": link.label, "url": url, "count": count})
    return shown
