"""The waiting list end to end (issue #14): a resident leaves the list from the link in their
SMS on a phone; a mediator sees the motif's list and books someone from it, which takes them
off the list."""

from __future__ import annotations

from datetime import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings.choices import WaitlistStatus
from bookings.models import WaitlistEntry
from bookings.services import booking as services
from mediation.choices import Role
from tests.bookings.factories import MotifFactory, OpeningHoursFactory
from tests.browser.axe import assert_accessible
from tests.browser.conftest import MOBILE
from tests.browser.test_login_and_home import assert_no_horizontal_scroll
from tests.factories import MembershipFactory, PlaceFactory, StructureFactory, UserFactory

PASSWORD = "mot-de-passe-de-test-42"


@pytest.fixture
def desk(transactional_db):
    structure = StructureFactory(name="Mairie de Lohéac", slug="mairie-loheac")
    place = PlaceFactory(structure=structure, name="Salle du conseil")
    motif = MotifFactory(structure=structure, name="Aide CAF", min_delay_minutes=0)
    mediator = UserFactory(email="camille@exemple.fr", password=PASSWORD)
    MembershipFactory(user=mediator, structure=structure, role=Role.MEDIATOR)
    OpeningHoursFactory(
        place=place,
        mediator=mediator,
        motifs=[motif],
        weekdays=list(range(7)),
        start_time=time(8),
        end_time=time(20),
        first_day=timezone.localdate(),
    )
    return structure, place, motif, mediator


@pytest.mark.parametrize("viewport", [MOBILE], ids=["360px"])
def test_a_resident_leaves_the_list_from_the_sms_link(page, live_server, desk, screenshot):
    _structure, place, motif, _mediator = desk
    entry = services.waitlist_join(place=place, motif=motif, first_name="Awa", phone="+33612345678")
    page.goto(f"{live_server.url}/rdv/attente/{entry.token}/")
    expect(page.get_by_role("heading", name="Ma place sur la liste d'attente")).to_be_visible()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    screenshot(page, "waitlist-entry-360")
    page.get_by_role("button", name="Quitter la liste d'attente").click()
    expect(page.get_by_text("Vous ne figurez plus sur la liste d'attente.")).to_be_visible()
    assert_accessible(page)
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.LEFT


def test_a_mediator_books_someone_from_the_list(page, live_server, login, desk, screenshot):
    structure, place, motif, mediator = desk
    entry = services.waitlist_join(place=place, motif=motif, first_name="Awa", phone="+33612345678")
    login(page, live_server, mediator.email, PASSWORD)
    page.goto(f"{live_server.url}/s/{structure.slug}/agenda/")
    page.get_by_role("link", name="Liste d'attente").click()
    expect(page.get_by_role("heading", name="Aide CAF")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "waitlist-staff")
    page.get_by_role("link", name="Prendre rendez-vous — Awa, Aide CAF").click()
    page.get_by_label("Nom (ou initiales)").fill("Diallo")
    page.get_by_role("button", name="Créer et continuer").click()
    # Step 2 opens on the entry's place and motif: pick the first free time, then confirm.
    page.locator("a[href*='/confirmer/']").first.click()
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(page.get_by_text("Rendez-vous pris pour")).to_be_visible()
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.BOOKED
    assert not WaitlistEntry.objects.active().exists()
