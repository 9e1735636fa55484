"""No personal data in URLs: what the desk types to find a resident (a name, a phone number, a
year of birth) is POSTed and kept in the session (`mediation/search_terms.py`); URLs carry
only a random key. Access logs, proxies and the browser's history never see the term."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from django.conf import settings
from django.urls import reverse

from mediation import search_terms
from mediation.search_terms import FIELD, MARKER, SESSION_KEY
from tests.factories import ResidentFactory
from tests.search import search_get, search_url

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
APPS = ("mediation", "bookings", "cases", "reports")

# Field names that would put personal data in a query string.
PERSONAL_FIELD = re.compile(
    r"^(q|query|term|search|recherche|name|nom|prenom|first_name|last_name|\w*_name|full_name"
    r"|phone|\w*phone\w*|tel|telephone|mobile|email|e_mail|mail|courriel|\w*birth\w*|dob"
    r"|naissance|address|adresse|recipient|to|need|besoin|note|notes|comment|detail)$"
)


# `{{ form.q }}`, `{{ search.q|as_crispy_field }}`: a field rendered in a form (not
# `{{ place.name }}` in a label).
FIELD_REFERENCE = r"\{\{\s*(\w+)\.(\w+)\s*(\|\s*as_crispy_field)?[^}]*\}\}"
FORM_VARIABLE = r"\w*form|search|filters|create"


def _search_pages(structure, resident):
    """Every page with a resident search box, by the name of its URL."""

    def url(name, **kwargs):
        return reverse(name, kwargs={"structure": structure.slug, **kwargs})

    return {
        "resident_search": url("resident_search"),
        "resident_merge": url("resident_merge", resident=resident.pk),
        "case_create": url("case_create"),
        "session_create": url("session_create"),
        "agenda_book": url("agenda_book"),
    }


@pytest.fixture
def dupont(structure, place):
    return ResidentFactory(
        structure=structure,
        first_name="Zéphyrine",
        last_name="Dupont",
        phone="+33612345678",
        birth_year=1958,
    )


@pytest.fixture
def keep(structure):
    # The record a duplicate is merged into (the merge page searches the others).
    return ResidentFactory(structure=structure, first_name="Jean", last_name="Autre")


def _urls_in(html: str) -> list[str]:
    return re.findall(r'(?:href|action|src)="([^"]*)"', html)


# --- The searches ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "term", ["Zéphyrine", "dupont zephyrine", "06 12 34 56 78", "+33612345678", "1958"]
)
def test_the_resident_search_still_finds_by_name_phone_or_year(
    mediator_client, structure, dupont, term
):
    path = reverse("resident_search", kwargs={"structure": structure.slug})
    page = search_get(mediator_client, path, term)
    assert page.status_code == 200
    assert "DUPONT Zéphyrine" in page.content.decode()


@pytest.mark.parametrize(
    "page_name",
    ["resident_search", "resident_merge", "case_create", "session_create", "agenda_book"],
)
@pytest.mark.parametrize("term", ["Zéphyrine Dupont", "06 12 34 56 78", "dupont 1958"])
def test_no_search_puts_the_typed_term_in_a_url(
    mediator_client, structure, dupont, keep, page_name, term
):
    # The pickers of a case and of a walk-in read names only, the agenda names and phones.
    finds = page_name in ("resident_search", "resident_merge") or term == "Zéphyrine Dupont"
    finds = finds or (page_name == "agenda_book" and term.startswith("06"))
    path = _search_pages(structure, keep)[page_name]
    # Words of the term, and a phone number as its digits: not its 2-digit groups, which the
    # ids in the page's links may contain by chance ("?doublon=356" holds "56").
    typed = [word for word in re.split(r"\W+", term) if len(word) >= 3]
    digits = re.sub(r"\D", "", term)
    if len(digits) >= 6:
        typed += [digits, quote(term), quote_plus(term)]
    response = mediator_client.post(path, {FIELD: term, MARKER: "1"})
    assert response.status_code == 302
    location = response["Location"]
    assert re.fullmatch(re.escape(path) + r"\?r=[\w-]{4,20}", location), location
    page = mediator_client.get(location)
    assert page.status_code == 200
    html = page.content.decode()
    assert not finds or "Dupont" in html or "DUPONT" in html  # found…
    for url in _urls_in(html):  # …and no link, form or prefill carries the term
        for word in typed:
            assert word.lower() not in url.lower(), (url, word)


def test_the_search_box_prefills_a_new_record_through_the_key(mediator_client, structure, place):
    path = reverse("resident_search", kwargs={"structure": structure.slug})
    found = search_get(mediator_client, path, "Zoé Martin 1990")
    create = reverse("resident_create", kwargs={"structure": structure.slug})
    link = next(url for url in _urls_in(found.content.decode()) if url.startswith(create))
    assert re.fullmatch(re.escape(create) + r"\?r=[\w-]+", link)
    form = mediator_client.get(link).content.decode()
    assert 'value="Zoé"' in form and 'value="Martin"' in form and 'value="1990"' in form


def test_pagination_back_button_and_refresh_keep_the_search(
    mediator_client, structure, place, django_assert_max_num_queries
):
    for n in range(30):
        ResidentFactory(structure=structure, first_name="Éric", last_name=f"Nom{n:02d}")
    path = reverse("resident_search", kwargs={"structure": structure.slug})
    first = search_url(mediator_client, path, "eric")
    second_page = mediator_client.get(first + "&page=2").content.decode()
    assert second_page.count('<th scope="row">') == 5
    assert re.search(r'href="\?r=[\w-]+&amp;page=1"', second_page)
    search_get(mediator_client, path, "autre chose")
    # Back to the first search (the browser GETs it again): still the same results.
    assert "30 usagers trouvés" in mediator_client.get(first).content.decode()
    # Searching the same term again gives the same key.
    assert search_url(mediator_client, path, "eric") == first


@pytest.mark.parametrize("key", ["inconnu", "", "x" * 300, "%00", "../"])
def test_an_unknown_key_is_an_empty_search(mediator_client, structure, place, dupont, key):
    for path in _search_pages(structure, dupont).values():
        response = mediator_client.get(path, {"r": key, "page": "2"})
        assert response.status_code == 200, path
        assert "Personne ne correspond" not in response.content.decode()
        assert "usager trouvé" not in response.content.decode()


def test_an_expired_or_damaged_term_is_an_empty_search(
    mediator_client, structure, dupont, monkeypatch
):
    path = reverse("resident_search", kwargs={"structure": structure.slug})
    found = search_url(mediator_client, path, "dupont")
    assert "DUPONT Zéphyrine" in mediator_client.get(found).content.decode()
    later = search_terms._now() + search_terms.LIFETIME_SECONDS + 1
    monkeypatch.setattr(search_terms, "_now", lambda: later)
    expired = mediator_client.get(found).content.decode()
    assert "Vus récemment" in expired and "usager trouvé" not in expired
    monkeypatch.undo()
    session = mediator_client.session
    session[SESSION_KEY] = {"abc": "not a pair", "def": [1, 2]}
    session.save()
    assert mediator_client.get(path, {"r": "abc"}).status_code == 200


def test_a_key_means_nothing_in_another_session(client, structure, dupont, mediator):
    from tests.conftest import member

    client.force_login(mediator)
    path = reverse("resident_search", kwargs={"structure": structure.slug})
    found = search_url(client, path, "dupont")
    client.logout()
    client.force_login(member(structure))
    page = client.get(found).content.decode()
    assert "Vus récemment" in page and "usager trouvé" not in page


def test_the_session_keeps_only_the_newest_terms(mediator_client, structure, place):
    path = reverse("resident_search", kwargs={"structure": structure.slug})
    for n in range(search_terms.KEPT + 5):
        search_url(mediator_client, path, f"terme {n}")
    kept = mediator_client.session[SESSION_KEY]
    assert len(kept) == search_terms.KEPT
    assert {value[0] for value in kept.values()} >= {f"terme {search_terms.KEPT + 4}"}


def test_a_search_needs_the_csrf_token(client, structure, mediator, dupont):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(mediator)
    path = reverse("resident_search", kwargs={"structure": structure.slug})
    assert csrf_client.post(path, {FIELD: "dupont", MARKER: "1"}).status_code == 403


# --- Guards over the code -------------------------------------------------------------------


class _Forms(HTMLParser):
    """GET forms of a template's source and the names of their fields (literal `name="…"`
    attributes and `{{ form.field }}` references, which Django renders as `name="field"`)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.get_forms: list[list[str]] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").strip().lower()
            self._current = [] if method == "get" else None
            if self._current is not None:
                self.get_forms.append(self._current)
        elif self._current is not None and attrs.get("name") and tag != "a":
            self._current.append(attrs["name"])

    def handle_data(self, data):
        if self._current is not None:
            for var, field, crispy in re.findall(FIELD_REFERENCE, data):
                if crispy or re.fullmatch(FORM_VARIABLE, var):
                    self._current.append(field)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _templates():
    for app in APPS:
        yield from sorted((ROOT / app / "templates").rglob("*.html"))


def test_no_get_form_has_a_personal_data_field():
    offending = []
    checked = 0
    for path in _templates():
        parser = _Forms()
        parser.feed(path.read_text(encoding="utf-8"))
        for fields in parser.get_forms:
            checked += 1
            offending += [
                f"{path.relative_to(ROOT)}: {name}" for name in fields if PERSONAL_FIELD.match(name)
            ]
    assert checked >= 5  # the filters of the agenda, the lists, the reports, the journal…
    assert not offending, (
        "GET form with a personal-data field (POST it, see search_terms.py):\n"
        + ("\n".join(offending))
    )


def test_no_form_helper_or_view_reads_personal_data_from_the_query_string():
    patterns = [
        r"request\.GET\.get\(\s*[\"'](\w+)[\"']",
        r"request\.GET\[\s*[\"'](\w+)[\"']",
        r"[\"'](\w+)[\"']\s+in\s+request\.GET",
    ]
    offending = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if re.search(r"form_method\s*=\s*[\"']get[\"']", text, re.IGNORECASE):
                offending.append(f"{path.relative_to(ROOT)}: a crispy form helper uses GET")
            for pattern in patterns:
                offending += [
                    f"{path.relative_to(ROOT)}: request.GET[{name!r}]"
                    for name in re.findall(pattern, text)
                    if PERSONAL_FIELD.match(name)
                ]
    assert not offending, "\n".join(offending)


def test_the_guard_recognises_a_personal_data_get_form():
    parser = _Forms()
    parser.feed('<form><input name="lieu">{{ form.last_name|as_crispy_field }}</form>')
    parser.feed('<form method="post">{{ form.phone }}</form>')
    parser.feed('<form method="GET">{{ search.q }}</form>')
    assert parser.get_forms == [["lieu", "last_name"], ["q"]]
    assert [n for n in ("lieu", "last_name", "q", "mediator") if PERSONAL_FIELD.match(n)] == [
        "last_name",
        "q",
    ]
