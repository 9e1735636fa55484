"""A structure admin copies the iframe snippet from "Publier sur votre site" and pastes it in
the mairie's own website (another origin): the frame shows, resizes to its content, and its
links open the booking in a new tab (issue #14)."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.utils import timezone
from playwright.sync_api import expect

from mediation.choices import Role
from tests.bookings.factories import MotifFactory, OpeningHoursFactory
from tests.browser.axe import assert_accessible
from tests.factories import MembershipFactory, PlaceFactory, StructureFactory, UserFactory

PASSWORD = "mot-de-passe-de-test-42"


@contextmanager
def _host_site(html: str):
    """The mairie's site: another origin than the live server's (localhost:<port>), served on
    the loopback by a second server, so that Chromium's local-network checks let it frame a
    local page (a page routed by Playwright would count as public and be refused)."""
    body = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/mairie/"
    finally:
        server.shutdown()
        server.server_close()


def test_the_iframe_snippet_works_on_the_mairies_site(
    page, live_server, login, screenshot, settings
):
    settings.SITE_URL = live_server.url
    structure = StructureFactory(name="Mairie de Guichen", slug="mairie-guichen")
    place = PlaceFactory(structure=structure, name="Espace numérique")
    motif = MotifFactory(structure=structure, name="Aide CAF", min_delay_minutes=0)
    OpeningHoursFactory(
        place=place,
        mediator=UserFactory(),
        motifs=[motif],
        weekdays=list(range(7)),
        start_time=time(8),
        end_time=time(20),
        first_day=timezone.localdate(),
    )
    admin = UserFactory(email="helene@exemple.fr", password=PASSWORD)
    MembershipFactory(user=admin, structure=structure, role=Role.STRUCTURE_ADMIN)

    login(page, live_server, admin.email, PASSWORD)
    page.goto(f"{live_server.url}/s/{structure.slug}/rdv/")
    page.get_by_role("link", name="Publier sur votre site (lien, cadre, bouton)").click()
    assert_accessible(page)
    snippet = page.locator("#iframe-structure").input_value()
    assert f"{live_server.url}/rdv/{structure.slug}/integration/" in snippet

    # The mairie's page, on another origin, with the snippet pasted in.
    html = f"<!doctype html><html><body><h1>Mairie de Guichen</h1>{snippet}</body></html>"
    with _host_site(html) as host:
        page.goto(host)
        frame = page.frame_locator("iframe[data-permanence-embed]")
        expect(frame.get_by_role("link", name="Aide CAF")).to_be_visible()
        # embed.js set the height the framed page reported (the snippet starts at 420px).
        page.wait_for_function(
            "() => document.querySelector('iframe[data-permanence-embed]').style.height !== '420px'"
        )
        iframe = page.locator("iframe[data-permanence-embed]")
        height = iframe.evaluate("el => el.getBoundingClientRect().height")
        assert 120 <= height < 420
        screenshot(page, "embed-on-host")

        with page.context.expect_page() as new_tab:
            frame.get_by_role("link", name="Aide CAF").click()
        booking = new_tab.value
        booking.wait_for_load_state()
        assert f"/rdv/{structure.slug}/creneaux/" in booking.url
        expect(booking.get_by_role("heading", level=1)).to_be_visible()
    page.goto(f"{live_server.url}/rdv/{structure.slug}/integration/")
    assert_accessible(page)
