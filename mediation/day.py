"""The panels of "Ma journée" on the home page, registered by the apps above mediation.

The home page lives on the ground floor, but a mediator's day is made of what the upper floors
hold: the appointments and workshops of the day (bookings), the walk-in button and the
follow-ups due (cases). Mediation never imports them: each app registers its panels from its
`AppConfig.ready()`, and the home page renders them in order, inside "Ma journée":

    register_day_panel(
        key="bookings.appointments",
        order=20,
        template="bookings/day/_appointments.html",
        context=appointments_panel,  # (request) -> dict, or None to leave the panel out
        refresh_seconds=45,          # polled by the page (GET day_panel), None: never
    )

A panel's `context` reads through scoped selectors (`visible_to(user, action)`) and runs a
fixed number of queries. A refreshed panel is rendered by the same function, so the page and
its refresh never differ; its `version` (a hash of its HTML) lets the refresh answer 204 when
nothing changed, so the browser swaps nothing (and keeps the focus where it is).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import reverse

PanelContext = Callable[[HttpRequest], "dict | None"]

#: The CSRF token of a form is masked anew at each rendering: it is left out of the version.
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@dataclass(frozen=True)
class DayPanel:
    key: str
    order: int
    template: str
    context: PanelContext
    refresh_seconds: int | None = None


@dataclass(frozen=True)
class RenderedPanel:
    key: str
    html: str
    version: str
    refresh_seconds: int | None

    @property
    def dom_id(self) -> str:
        return "panneau-" + re.sub(r"[^a-z0-9]+", "-", self.key.lower())

    @property
    def refresh_url(self) -> str:
        """Where the page asks for this panel again, with the version it holds."""
        if not self.refresh_seconds:
            return ""
        query = urlencode({"panneau": self.key, "v": self.version})
        return f"{reverse('day_panel')}?{query}"


_registry: dict[str, DayPanel] = {}


def register_day_panel(
    *,
    key: str,
    order: int,
    template: str,
    context: PanelContext,
    refresh_seconds: int | None = None,
) -> DayPanel:
    """Add a panel to "Ma journée". Registering the same key again replaces the panel
    (AppConfig.ready() may run more than once in tests)."""
    panel = DayPanel(
        key=key,
        order=order,
        template=template,
        context=context,
        refresh_seconds=refresh_seconds,
    )
    _registry[key] = panel
    return panel


def registered_panels() -> list[DayPanel]:
    return sorted(_registry.values(), key=lambda panel: (panel.order, panel.key))


def version_of(html: str) -> str:
    return hashlib.sha256(_CSRF.sub("", html).encode()).hexdigest()[:16]


def render_panel(request: HttpRequest, panel: DayPanel) -> RenderedPanel | None:
    """The panel's HTML for this request, or None when its app leaves it out."""
    context = panel.context(request)
    if context is None:
        return None
    # Without the request: the context processors (the navigation's queries) would run again
    # for every panel. Its forms need only the CSRF token.
    html = render_to_string(panel.template, {**context, "csrf_token": get_token(request)})
    return RenderedPanel(
        key=panel.key,
        html=html,
        version=version_of(html),
        refresh_seconds=panel.refresh_seconds,
    )


def render_panels(request: HttpRequest) -> list[RenderedPanel]:
    """Every registered panel the request's user gets, in order."""
    rendered = (render_panel(request, panel) for panel in registered_panels())
    return [panel for panel in rendered if panel is not None]


def refreshable_panel(key: str) -> DayPanel | None:
    panel = _registry.get(key)
    return panel if panel is not None and panel.refresh_seconds else None
