"""Fuzzes every URL of the project and every form on it: whatever a visitor sends, the answer
is never a server error.

The URLs come from the resolver (as in tests/mediation/test_scoping_every_url.py, whose helpers
and kwarg values this test reuses), so a new URL is fuzzed without editing this file. Each page
is opened as a user allowed to see it (a member holding every role; an operator for
/operateurs/; an anonymous visitor for the public pages), the fields of its forms are read from
the HTML (input, select, textarea; a POST-only URL's form is looked for on its parent pages), and
hypothesis then sends:

- GET with a random query string (the page's GET-form fields, the names the views read from
  `request.GET`, random names);
- POST with each field left out, kept, or replaced by hostile values: huge text (10k+
  characters), right-to-left and emoji text, NUL bytes, invalid UTF-8 (what a client sends for a
  lone surrogate), numbers where text is expected and text where numbers or dates are expected,
  negative and huge integers, dates out of range, unknown choices and ids, repeated fields.

The answer must be below 500, and one of: a page (200, with the form's errors when the input is
wrong), a redirection, or a refusal (400, 403, 404, 405, 409, 429). Every example runs in a
savepoint rolled back afterwards, so a deletion in one example does not starve the next. Few
examples per URL and a fixed seed (derandomize) keep the walk to about a minute.
"""

from __future__ import annotations

import copy
import os
import re
import traceback
from datetime import time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bookings.slots import next_free_slots
from mediation.choices import Role
from tests.bookings.factories import OpeningHoursFactory
from tests.factories import MembershipFactory, UserFactory
from tests.mediation.test_scoping_every_url import (
    BEARER_API,
    PUBLIC,
    build,
    iter_urls,
    kwarg_values,
    make_alpha,
)

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
APPS = ("mediation", "bookings", "cases", "reports", "api")
#: Examples per URL: the walk covers ~200 URLs; the admin's generic pages get fewer.
# FUZZ_EXAMPLES=50 FUZZ_RANDOM=1 runs a longer, unseeded hunt locally.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 4))
ADMIN_EXAMPLES = max(1, EXAMPLES // 3)
DERANDOMIZE = os.environ.get("FUZZ_RANDOM", "") != "1"
WEBHOOK_SECRET = "fuzz-webhook-secret"
OK_STATUSES = {200, 204, 301, 302, 303, 400, 403, 404, 405, 409, 410, 429}


# --- What the pages and the views read --------------------------------------------------------


def _request_get_names() -> set[str]:
    """Query-string names the views read (request.GET.get("x"), request.GET["x"],
    "x" in request.GET), so a new parameter is fuzzed without editing this test."""
    names: set[str] = set()
    patterns = [
        r"request\.GET\.get\(\s*[\"'](\w+)[\"']",
        r"request\.GET\[\s*[\"'](\w+)[\"']",
        r"[\"'](\w+)[\"']\s+in\s+request\.GET",
    ]
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for pattern in patterns:
                names.update(re.findall(pattern, text))
    return names


GET_NAMES = sorted(_request_get_names() | {"q", "page", "next", "lang", "o", "p", "e"})


class FormParser(HTMLParser):
    """Forms of a page: method, action, and their fields with the values offered."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self._form = {
                "method": (attrs.get("method") or "get").lower(),
                "action": attrs.get("action") or "",
                "fields": {},
            }
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in ("input", "button", "textarea") and attrs.get("name"):
            kind = (attrs.get("type") or "text").lower() if tag == "input" else tag
            field = self._form["fields"].setdefault(attrs["name"], {"type": kind, "values": []})
            if attrs.get("value") is not None:
                field["values"].append(attrs["value"])
        elif tag == "select" and attrs.get("name"):
            self._select = attrs["name"]
            self._form["fields"].setdefault(attrs["name"], {"type": "select", "values": []})
        elif tag == "option" and self._select and attrs.get("value") is not None:
            self._form["fields"][self._select]["values"].append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def parse_page(response) -> FormParser:
    parser = FormParser()
    if "html" in response.get("Content-Type", ""):
        parser.feed(response.content.decode(errors="replace"))
    return parser


def _same_path(action: str, path: str) -> bool:
    return action == "" or urlsplit(action).path == path


# --- Hostile values -------------------------------------------------------------------------

NASTY_TEXT = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "-999999999999999999999999",
    "99999999999999999999999999999",
    str(2**63),
    "1e309",
    "NaN",
    "Infinity",
    "None",
    "null",
    "true",
    "[]",
    "{}",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-13-45",
    "0000-00-00",
    "31/02/2026",
    "25:61",
    "00:00",
    "23:59:59.999999",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2026-03-29T02:30:00",
    "2026-10-25T02:30:00+99:00",
    "' OR 1=1 --",
    '"><script>alert(1)</script>',
    "../../../../etc/passwd",
    '=HYPERLINK("http://x")',
    "a\x00b",
    "\x00",
    "\u202edésolé\u202c",
    "مرحبا بالعالم",
    "שלום",
    "👩‍👩‍👧‍👦🇫🇷🏳️‍🌈",
    "\ufeff\u200b\u200d",
    "Ω≈ç√∫˜µ≤≥÷",
    "+33612345678",
    "0612345678",
    "+262692123456",
    "+999999999999999999",
    "a@b",
    "@",
    "x" * 10_001,
    "é" * 12_000,
    "🙂" * 5_000,
]
#: Tried on every parameter and field, whatever the random draws.
BOUNDARY = [
    "",
    "-1",
    "99999999999999999999",
    "abc",
    "9999-12-31",
    "9999-12-31T23:59:59+00:00",
    "a\x00b",
    "x" * 10_001,
]
# Bytes go into the body as they are: what a client sends for a lone surrogate (CESU-8) or
# for text that is not UTF-8.
NASTY_BYTES = [b"\xed\xa0\x80", b"\xff\xfe", b"caf\xe9", b"\xc0\xaf"]

text_value = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.integers(min_value=10_000, max_value=30_000).map(lambda n: "a" * n),
    st.sampled_from(NASTY_BYTES),
)


@st.composite
def field_pairs(draw, fields: dict[str, dict]) -> list[tuple[str, str | bytes]]:
    """Form data as (name, value) pairs: a field left out, kept (one of the values the page
    offers), hostile, or repeated; plus, sometimes, a field nobody asked for."""
    pairs: list[tuple[str, str | bytes]] = []
    for name, field in fields.items():
        action = draw(st.sampled_from(["omit", "keep", "nasty", "nasty", "repeat"]))
        offered = field["values"]
        if action == "omit":
            continue
        if action == "keep":
            pairs.append((name, draw(st.sampled_from(offered)) if offered else "1"))
        elif action == "nasty":
            pairs.append((name, draw(text_value)))
        else:
            for _ in range(draw(st.integers(min_value=2, max_value=4))):
                pairs.append((name, draw(text_value)))
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        pairs.append(
            (
                draw(st.sampled_from([*GET_NAMES, "id", "pk", "csrfmiddlewaretoken"])),
                draw(text_value),
            )
        )
    return pairs


def encode(pairs) -> str:
    return urlencode(pairs)


def shorten(pairs) -> str:
    """Form data for a failure message: long values cut, their length given."""
    if pairs is None:
        return ""
    return repr([(k, v if len(v) <= 40 else f"{v[:20]!r}… ({len(v)} long)") for k, v in pairs])


def where(exc: BaseException) -> str:
    """The project's frames of a traceback (the last one raised), or its last frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if str(ROOT) in f.filename and "site-packages" not in f.filename]
    return " < ".join(f"{Path(f.filename).name}:{f.lineno}" for f in (ours or frames)[-1:-4:-1])


# --- Who opens what ------------------------------------------------------------------------


def _all_patterns() -> list[tuple[str | None, str, list[str]]]:
    return list(iter_urls())


PATTERNS = _all_patterns()


def _id(entry) -> str:
    name, regex, _params = entry
    return name or regex


@pytest.fixture(scope="module")
def world_once(django_db_setup, django_db_blocker):
    """The rows of `world`, written once for the module's ~280 tests inside a transaction rolled
    back after the last one; each test's own transaction is a savepoint within it, so what a
    test writes (its examples are rolled back one by one anyway) is undone before the next."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world(make_alpha())
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(world_once, db):
    """The alpha structure of the scoping walk, its admin holding every role, an operator, and
    free times to book from the public pages (the next free one looked up for each test: the
    clock moves on while the module runs)."""
    motif = world_once["appointment"].motif
    free = next_free_slots(place=world_once["place"], motif=motif, count=1)
    world_once["free_start"] = free[0].starts_at.isoformat() if free else timezone.now().isoformat()
    cache.clear()
    yield world_once
    cache.clear()


def _build_world(alpha: dict) -> dict:
    staff = alpha["staff"]
    for role in (Role.MEDIATOR, Role.COORDINATOR):
        MembershipFactory(user=staff, structure=alpha["structure"], role=role)
    motif = alpha["appointment"].motif
    motif.bookable_online = True
    motif.min_delay_minutes = 0
    motif.save()
    OpeningHoursFactory(
        place=alpha["place"],
        mediator=staff,
        motifs=[motif],
        weekdays=list(range(7)),
        start_time=time(0, 0),
        end_time=time(23, 59),
        first_day=timezone.localdate() - timedelta(days=1),
    )
    alpha["operator"] = UserFactory(is_staff=True, is_superuser=True)
    return alpha


def seed_queries(name: str | None, world) -> list[dict[str, str]]:
    """Query strings that open the form of a page that needs them (the public booking
    screens), on top of those found in the page's links."""
    place, motif = str(world["place"].pk), str(world["appointment"].motif_id)
    choice = {"lieu": place, "motif": motif}
    return {
        "public_start": [choice],
        "public_slots": [choice],
        "public_waitlist": [choice],
        "public_details": [{**choice, "debut": world["free_start"]}],
        "agenda_book_slot": [{"place": place, "motif": motif}],
        # The read API's parameters (it reads no form).
        **{
            api: [{"page[size]": "2", "filter[creation][depuis]": "2026-01-01T00:00:00Z"}]
            for api in ("api_v1:activites", "api_v1:structures")
        },
        "api_v1:lieux_activite": [{"page[size]": "2"}],
    }.get(name, [])


def login(client, user) -> None:
    """Log the walk's user in. If staff pages come to need more than a session (a second
    factor), do it here: the control test below fails when pages answer with a redirection."""
    client.force_login(user)


def _parents(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(len(parts) - 1, 0, -1)]


# --- The walk -------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", PATTERNS, ids=[_id(e) for e in PATTERNS])
def test_no_input_makes_a_page_fail(client, world, entry, request):
    name, regex, params = entry
    values = kwarg_values(world)
    if name and name.startswith("public_") and "token" in params:
        values["token"] = world["appointment"].token
    if name == "brevo_sms_webhook":
        # The real secret, so that the fuzzed bodies reach the handler (a wrong one: 403).
        values["token"] = WEBHOOK_SECRET
        request.getfixturevalue("settings").BREVO_WEBHOOK_SECRET = WEBHOOK_SECRET
    url = build(name, regex, params, values)
    path = urlsplit(url).path
    operator_page = path.startswith("/operateurs/")
    user = None if name in PUBLIC else world["operator"] if operator_page else world["staff"]

    def fresh_client():
        client.logout()
        if user is not None:
            login(client, user)

    if name in BEARER_API:
        # The read API takes a token of an API client of the structure, not a session.
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world['api_token']}"

    # Read the page (and, for a URL that only takes POSTs, its parents) for forms and links.
    fresh_client()
    get_fields: dict[str, dict] = {}
    post_fields: dict[str, dict] = {}
    queries = [dict(q) for q in seed_queries(name, world)]
    for query in [None, *queries]:
        sources = [url + ("?" + urlencode(query) if query else "")]
        if query is None:
            sources += _parents(path)
        for source in sources:
            response = client.get(source)
            page = parse_page(response)
            for form in page.forms:
                if not _same_path(form["action"], path):
                    continue
                target = post_fields if form["method"] == "post" else get_fields
                for field_name, field in form["fields"].items():
                    known = target.setdefault(field_name, {"type": field["type"], "values": []})
                    known["values"].extend(field["values"])
            for link in page.links:
                split = urlsplit(link)
                if split.path == path and split.query:
                    queries.append(dict(parse_qsl(split.query)))
            if post_fields:
                break
    get_names = sorted(set(get_fields) | set(GET_NAMES))
    base_queries = queries or [{}]
    # Each example starts from this session: signed in once here, its rows are those the
    # rollback of every example brings back; only the client's cookies (a logout, a login as
    # someone else) need putting back. Signing in again for each request cost a fifth of the
    # walk.
    fresh_client()
    signed_in = copy.deepcopy(client.cookies)

    def send(method: str, target: str, body=None) -> None:
        with transaction.atomic():
            client.cookies = copy.deepcopy(signed_in)
            try:
                if method == "GET":
                    response = client.get(target)
                else:
                    response = client.post(
                        target, data=encode(body), content_type="application/x-www-form-urlencoded"
                    )
            except Exception as exc:
                raise AssertionError(
                    f"{method} {target[:300]} with {shorten(body)} → 500: "
                    f"{type(exc).__name__}: {str(exc)[:300]} at {where(exc)}"
                ) from exc
            finally:
                transaction.set_rollback(True)
        # /healthz answers 503 when no task cluster runs (none does under test).
        healthz_down = target.startswith("/healthz") and response.status_code == 503
        assert response.status_code in OK_STATUSES or healthz_down, (
            f"{method} {target[:300]} → {response.status_code}"
        )

    # Boundaries first, deterministically: each parameter the page uses, then every field of
    # its form at once, set to each boundary value (random draws rarely hit year 9999).
    base = base_queries[0]
    page_keys = sorted(set(base) | set(get_fields))[: 1 if operator_page else 5]
    for key in page_keys:
        for value in BOUNDARY:
            send("GET", f"{url}?{encode([*{**base, key: value}.items()])}")
    if post_fields:
        for value in BOUNDARY:
            send("POST", f"{url}?{encode(list(base.items()))}", [(n, value) for n in post_fields])

    @hsettings(
        max_examples=ADMIN_EXAMPLES if operator_page else EXAMPLES,
        deadline=None,
        derandomize=DERANDOMIZE,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        base=st.sampled_from(base_queries),
        get_pairs=st.lists(st.tuples(st.sampled_from(get_names), text_value), max_size=4),
        post_pairs=field_pairs(post_fields),
        with_query=st.booleans(),
    )
    def one_example(base, get_pairs, post_pairs, with_query):
        send("GET", f"{url}?{encode([*base.items(), *get_pairs])}")
        send("POST", f"{url}?{encode(list(base.items()))}" if with_query else url, post_pairs)

    one_example()


def test_the_walk_reads_the_forms_of_the_pages(client, world):
    """Control: the form reader finds the fields of a real form, so an empty field list in
    the walk means the page has no form, not that the reader is blind."""
    login(client, world["staff"])
    slug = world["structure"].slug
    response = client.get(f"/s/{slug}/rdv/motifs/nouveau/")
    assert response.status_code == 200, "the walk's user cannot open staff pages: see login()"
    page = parse_page(response)
    names = {n for form in page.forms if form["method"] == "post" for n in form["fields"]}
    assert {"name", "duration_minutes"} <= names
