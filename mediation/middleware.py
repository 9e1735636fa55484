"""Staff session lifetime, two-factor enforcement and caching of personal pages."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from mediation.scoping import structure_roles

LAST_SEEN = "permanence_last_seen"
STARTED = "permanence_started"
#: Sent by a page's own refreshes ("Ma journée"), which are not someone at the desk.
BACKGROUND_HEADER = "X-Background-Refresh"


def _to_login(request, url: str):
    """A redirection the browser follows with the whole page: an htmx request (a panel's
    refresh) would otherwise put the login page inside the panel."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


class SessionTimeoutMiddleware:
    """Ends a staff session after SESSION_IDLE_TIMEOUT seconds without a request, and in any
    case SESSION_ABSOLUTE_TIMEOUT seconds after login (a desk computer left open). A page's
    background refresh (BACKGROUND_HEADER) is not activity: the home page polling its panels
    must not keep an unattended session open."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            started = request.session.get(STARTED)
            last_seen = request.session.get(LAST_SEEN, now)
            if started is None:
                request.session[STARTED] = now
            elif (
                now - last_seen > settings.SESSION_IDLE_TIMEOUT
                or now - started > settings.SESSION_ABSOLUTE_TIMEOUT
            ):
                logout(request)
                messages.info(request, _("Votre session a expiré : reconnectez-vous."))
                back = reverse("home") if getattr(request, "htmx", False) else request.path
                return _to_login(request, f"{reverse('login')}?next={back}")
            # Someone removed from their last structure loses access at once (platform
            # operators have no structure and keep theirs). A deactivated account is already
            # logged out by Django's authentication backend.
            if not user.is_staff and not structure_roles(user):
                logout(request)
                messages.warning(
                    request,
                    _(
                        "Votre compte n'est rattaché à aucune structure : demandez à "
                        "l'administrateur·rice de votre structure de vous inviter."
                    ),
                )
                return _to_login(request, reverse("login"))
            if request.headers.get(BACKGROUND_HEADER) and LAST_SEEN in request.session:
                return self.get_response(request)
            # Written at most once a minute: not a session save on every request.
            if now - last_seen >= 60 or LAST_SEEN not in request.session:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


class NoStoreMiddleware:
    """Pages with personal data are never kept by a browser or a proxy cache: every page of a
    signed-in user, and residents' private appointment links."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith("/rdv/a/"):
            patch_cache_control(response, no_store=True, private=True)
        return response


def mark_login(sender, request, user, **kwargs):
    """user_logged_in receiver: the session's clock starts at login."""
    now = int(time.time())
    request.session[STARTED] = now
    request.session[LAST_SEEN] = now


# Pages an unverified session may open: signing in and out, the code step, setting up a
# second factor, and what needs no account at all.
TWO_FACTOR_OPEN_URL_NAMES = frozenset(
    {
        "login",
        "login_code",
        "logout",
        "two_factor_setup",
        "two_factor_codes",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        "invitation_accept",
        "healthz",
        "favicon",
    }
)
TWO_FACTOR_OPEN_PATHS = ("/rdv/", "/static/")


class TwoFactorMiddleware:
    """The one place where a second factor is enforced: a signed-in user who must use one
    (mediation.two_factor) and whose session has not been verified by a code opens no staff page
    (structure pages, account, operators' admin, home). They are sent to the code step, or to
    the setting-up of their second factor if they have none yet."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from mediation.two_factor import two_factor_state

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return None
        match = request.resolver_match
        if (match is not None and match.view_name in TWO_FACTOR_OPEN_URL_NAMES) or (
            request.path.startswith(TWO_FACTOR_OPEN_PATHS)
        ):
            return None
        state = two_factor_state(user)
        if not state.must_verify:
            return None
        target = "login_code" if state.enabled else "two_factor_setup"
        next_path = request.get_full_path() if request.method == "GET" else "/"
        return redirect(f"{reverse(target)}?{urlencode({'next': next_path})}")
