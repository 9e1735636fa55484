"""A structure admin sets a motif's day limits; a limit of 0 is refused at the field, in French,
with the typed values kept (issue #14)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from bookings.models import Motif
from mediation.choices import Role
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, MOBILE
from tests.factories import MembershipFactory, StructureFactory, UserFactory

PASSWORD = "mot-de-passe-de-test-42"
both_widths = pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360px", "1280px"])


@both_widths
def test_an_admin_sets_day_limits_and_a_zero_is_refused_at_the_field(
    page, live_server, login, screenshot, viewport
):
    structure = StructureFactory(name="France Services de Guichen", slug="fs-guichen")
    admin = UserFactory(email="dominique@exemple.fr", password=PASSWORD)
    MembershipFactory(user=admin, structure=structure, role=Role.STRUCTURE_ADMIN)
    login(page, live_server, admin.email, PASSWORD)

    page.goto(live_server.url + reverse("motif_create", kwargs={"structure": structure.slug}))
    page.locator("#id_name").fill("Dossier CAF")
    total = page.get_by_label("Rendez-vous par jour au plus (toute l'équipe)")
    total.fill("0")
    page.get_by_label("Rendez-vous par jour au plus (par médiateur·rice)").fill("4")
    page.get_by_role("button", name="Enregistrer").click()

    error = page.get_by_text("Au moins 1 rendez-vous par jour : laissez vide pour ne pas limiter.")
    expect(error).to_be_visible()
    expect(total).to_have_value("0")
    assert not Motif.objects.exists()
    assert_accessible(page)
    screenshot(page, f"motif-limits-error-{viewport['width']}")

    total.fill("")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Dossier CAF").first).to_be_visible()
    motif = Motif.objects.get()
    assert (motif.max_per_day, motif.max_per_mediator_per_day) == (None, 4)
