"""Search terms never travel in URLs.

A resident search types a name, a phone number or a year of birth: in a query string
(`?q=Dupont`) it would land in the server's and the proxies' access logs and in the browser's
history. Instead the search form POSTs the term (with its CSRF token); `search_via_post` keeps
it in the staff member's session under a short random key and redirects to `?r=<key>`
(POST/redirect/GET), so that pagination (`?r=<key>&page=2`), the back button and a refresh
keep working. The page reads the term back with `search_term(request)`. An unknown or expired
key reads as an empty search. The session ends at logout or after the idle timeout, and the
terms with it; a term is also forgotten after `LIFETIME_SECONDS`.

A template renders the search form as `<form method="post">` with
`{% include "mediation/_search_fields.html" %}` (CSRF token and the marker field).
`tests/mediation/test_no_personal_data_in_urls.py` fails on any GET form with a field named like
personal data.
"""

from __future__ import annotations

import secrets
import time
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponseRedirect, QueryDict

SESSION_KEY = "search_terms"
URL_PARAM = "r"
FIELD = "q"
MARKER = "search"  # the hidden field that tells a search from the page's own POST form
KEPT = 30  # the newest terms of a session
LIFETIME_SECONDS = 4 * 3600
MAX_LENGTH = 200  # longer than any search field, so that the form still says "too long"


def search_term_keep(request: HttpRequest, term: str) -> str:
    """Keep `term` in the session; the key to put in the URL."""
    now = _now()
    term = term[:MAX_LENGTH]
    kept = {
        key: value for key, value in _kept(request).items() if now - value[1] < LIFETIME_SECONDS
    }
    # The same term again keeps its key: the pages of history that show it stay valid.
    key = next((key for key, value in kept.items() if value[0] == term), None)
    key = key or secrets.token_urlsafe(6)
    kept[key] = [term, now]
    newest = sorted(kept.items(), key=lambda item: item[1][1])[-KEPT:]
    request.session[SESSION_KEY] = dict(newest)
    return key


def search_key(request: HttpRequest) -> str:
    """The key of the URL (`?r=`), or ""."""
    return request.GET.get(URL_PARAM, "")[:20]


def search_term(request: HttpRequest) -> str | None:
    """The term behind `?r=<key>`: None when the URL has no key (no search made), "" when the
    key is unknown or expired."""
    if URL_PARAM not in request.GET:
        return None
    value = _kept(request).get(search_key(request))
    if not value or _now() - value[1] >= LIFETIME_SECONDS:
        return ""
    return value[0]


def search_data(request: HttpRequest) -> QueryDict | None:
    """Data to bind a search form (`{"q": term}`), or None when no search was made."""
    term = search_term(request)
    if term is None:
        return None
    data = QueryDict(mutable=True)
    data[FIELD] = term
    return data


def search_query_string(request: HttpRequest) -> str:
    """`r=<key>` for links that keep the current search (pagination, prefill), or ""."""
    return urlencode({URL_PARAM: search_key(request)}) if URL_PARAM in request.GET else ""


def search_via_post(view):
    """A search form POSTed to `view` (it carries the MARKER field): keep the term and
    redirect to the same page with `?r=<key>`. Other requests go to the view."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "POST" and MARKER in request.POST:
            key = search_term_keep(request, request.POST.get(FIELD, ""))
            return HttpResponseRedirect(f"{request.path}?{urlencode({URL_PARAM: key})}")
        return view(request, *args, **kwargs)

    return wrapper


def _now() -> int:
    return int(time.time())


def _kept(request: HttpRequest) -> dict:
    kept = request.session.get(SESSION_KEY)
    if not isinstance(kept, dict):
        return {}
    return {
        key: value
        for key, value in kept.items()
        if isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
    }
