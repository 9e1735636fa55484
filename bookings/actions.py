"""Extra actions on an appointment of the desk agenda, registered by the apps above bookings.

Bookings knows nothing of them: `cases` registers "Terminer et saisir" from its `ready()`, and
the agenda shows, next to "Honoré" and "Absent", every registered action whose condition holds.

    register_appointment_action(
        key="cases.session",
        label=_("Terminer et saisir"),
        url="session_from_appointment",  # reversed with structure= and appointment=
        condition=lambda appointment, now: ...,
        prepare=lambda appointments, user: ...,  # one query for the whole page, not one a row
        day_label=_("Honoré → saisir l'accompagnement"),  # its label on "Ma journée"
    )
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse

Condition = Callable[[object, datetime], bool]
Prepare = Callable[[list, object], None]
UrlBuilder = Callable[[object, object], str]


@dataclass(frozen=True)
class AppointmentAction:
    key: str
    label: str
    #: A URL name taking `structure` (slug) and `appointment` (id), or a callable
    #: (structure, appointment) -> URL.
    url: str | UrlBuilder
    #: (appointment, now) -> whether the action is offered for this appointment.
    condition: Condition | None = None
    #: (appointments, user) -> None: annotates the appointments of a page in bulk, so that
    #: `condition` and `url` read attributes instead of querying once per appointment.
    prepare: Prepare | None = None
    #: Bootstrap button class.
    style: str = "btn-outline-primary"
    #: The label on "Ma journée" (the home page), where the plain outcome buttons are fewer;
    #: None: the same as on the agenda.
    day_label: str | None = None

    def url_for(self, structure, appointment) -> str:
        if callable(self.url):
            return self.url(structure, appointment)
        return reverse(
            self.url, kwargs={"structure": structure.slug, "appointment": appointment.pk}
        )


_registry: dict[str, AppointmentAction] = {}


def register_appointment_action(
    label,
    url: str | UrlBuilder,
    condition: Condition | None = None,
    *,
    key: str | None = None,
    prepare: Prepare | None = None,
    style: str = "btn-outline-primary",
    day_label: str | None = None,
) -> AppointmentAction:
    """Offer an action on the agenda's appointments. Registering the same key again replaces
    the action (AppConfig.ready() may run more than once in tests)."""
    key = key or (url if isinstance(url, str) else str(label))
    action = AppointmentAction(
        key=key,
        label=label,
        url=url,
        condition=condition,
        prepare=prepare,
        style=style,
        day_label=day_label,
    )
    _registry[key] = action
    return action


def registered_actions() -> list[AppointmentAction]:
    return list(_registry.values())


def prepare_appointments(appointments: Iterable, user) -> None:
    """Run every registered `prepare` once over the page's appointments."""
    appointments = list(appointments)
    if not appointments:
        return
    for action in _registry.values():
        if action.prepare is not None:
            action.prepare(appointments, user)


def actions_for(structure, appointment, now: datetime, *, day: bool = False) -> list[dict]:
    """The registered actions offered for `appointment`: [{"label", "url", "style"}]; with
    `day`, as "Ma journée" labels them."""
    return [
        {
            "key": action.key,
            "label": (action.day_label or action.label) if day else action.label,
            "url": action.url_for(structure, appointment),
            "style": action.style,
        }
        for action in _registry.values()
        if action.condition is None or action.condition(appointment, now)
    ]
