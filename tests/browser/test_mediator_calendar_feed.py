"""A mediator subscribes their phone to their agenda from the desk agenda, renews the link
(the old one answers 410), then revokes it."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from bookings.models import CalendarFeed
from mediation.choices import Role
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, MOBILE
from tests.factories import MembershipFactory, StructureFactory, UserFactory

PASSWORD = "mot-de-passe-de-test-42"


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "mobile"])
def test_a_mediator_subscribes_renews_and_revokes_their_agenda_link(
    page, live_server, login, screenshot, viewport
):
    structure = StructureFactory(name="Mairie de Lohéac", slug="mairie-loheac")
    mediator = UserFactory(email="camille@exemple.fr", first_name="Camille", password=PASSWORD)
    MembershipFactory(user=mediator, structure=structure, role=Role.MEDIATOR)

    login(page, live_server, mediator.email, PASSWORD)
    page.goto(f"{live_server.url}/s/{structure.slug}/agenda/")
    page.get_by_role("link", name="Mon agenda sur mon téléphone").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon agenda sur mon téléphone")
    page.get_by_role("button", name="Créer mon lien d'abonnement").click()
    link = page.get_by_role("link", name="S'abonner sur ce téléphone")
    expect(link).to_be_visible()
    assert link.get_attribute("href").startswith("webcal://")
    first = page.get_by_label("Ou copiez ce lien").input_value()
    assert_accessible(page)
    screenshot(page, f"calendar-feed-{viewport['width']}")

    page.get_by_role("button", name="Créer un nouveau lien").click()
    expect(page.get_by_text("Nouveau lien créé")).to_be_visible()
    second = page.get_by_label("Ou copiez ce lien").input_value()
    assert second != first
    path = first.split("://", 1)[1].split("/", 1)[1]
    assert Client().get("/" + path).status_code == 410
    page.get_by_role("button", name="Révoquer le lien").click()
    expect(page.get_by_role("button", name="Créer mon lien d'abonnement")).to_be_visible()
    assert not CalendarFeed.objects.active().exists()
