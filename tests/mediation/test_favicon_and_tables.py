"""A favicon for every page (and /favicon.ico, which browsers ask for anyway); every scrollable
table container of every template takes the keyboard focus and has a name (axe
`scrollable-region-focusable`; the browser test runs axe on the pages)."""

import re
from pathlib import Path

from django.contrib.staticfiles import finders

ROOT = Path(__file__).resolve().parents[2]


def test_favicon_ico_leads_to_the_static_icon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/mediation/favicon.ico"
    assert finders.find("mediation/favicon.ico") and finders.find("mediation/favicon.svg")


def test_pages_link_the_favicon(client, db):
    body = client.get("/compte/connexion/").content.decode()
    assert 'rel="icon" href="/static/mediation/favicon.svg" type="image/svg+xml"' in body


def test_every_scrollable_table_container_is_focusable_and_named():
    templates = [
        path
        for app in ("mediation", "bookings", "cases", "reports", "api")
        for path in (ROOT / app / "templates").rglob("*.html")
    ]
    found = 0
    for path in templates:
        for tag in re.findall(r'<div class="table-responsive"[^>]*>', path.read_text()):
            found += 1
            assert 'tabindex="0"' in tag, f"{path}: {tag}"
            assert 'role="region"' in tag, f"{path}: {tag}"
            assert "aria-label" in tag, f"{path}: {tag}"
    assert found >= 14
