"""A resident asks for their data, then objects: the mediator downloads the export and
anonymises the record after a confirmation step."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from mediation.choices import Role
from mediation.models import Resident
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, MOBILE
from tests.cases.factories import HelpSessionFactory
from tests.factories import (
    MembershipFactory,
    PlaceFactory,
    ResidentFactory,
    StructureFactory,
    UserFactory,
)

PASSWORD = "mot-de-passe-de-test-42"


@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360px", "1280px"])
def test_mediator_exports_then_anonymises_a_resident(
    page, live_server, transactional_db, login, screenshot, viewport
):
    structure = StructureFactory(name="France Services de Guichen", slug="fs-guichen")
    place = PlaceFactory(structure=structure)
    mediator = UserFactory(email="camille@exemple.fr", first_name="Camille", last_name="Le Goff")
    MembershipFactory(user=mediator, structure=structure, role=Role.MEDIATOR)
    resident = ResidentFactory(
        structure=structure, first_name="Éric", last_name="Dupont", phone="+33612345678"
    )
    HelpSessionFactory(
        structure=structure, place=place, mediator=mediator, resident=resident, notes="Éric"
    )
    login(page, live_server, mediator.email, PASSWORD)
    page.goto(f"{live_server.url}/s/{structure.slug}/usagers/{resident.pk}/")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export PDF").click()
    assert download.value.suggested_filename == f"usager-{resident.pk}.pdf"

    page.get_by_role("link", name="Effacement ou opposition…").click()
    page.wait_for_url("**/effacer/")
    assert_accessible(page)
    page.get_by_role("button", name="Anonymiser la fiche").click()
    # The click submits a form: wait for the answer rather than read the page at once.
    expect(page.get_by_text("Le formulaire contient des erreurs")).to_be_visible()
    page.get_by_label("Opposition de l'usager").check()
    page.get_by_label("Je confirme").check()
    screenshot(page, f"erase-{viewport['width']}")
    page.get_by_role("button", name="Anonymiser la fiche").click()

    page.get_by_role("heading", name=f"Usager anonyme n°{resident.pk}").wait_for()
    expect(page.get_by_text("La fiche est anonymisée")).to_be_visible()
    resident.refresh_from_db()
    assert resident.is_anonymous and resident.last_name == "Anonyme"
    assert not Resident.history.filter(id=resident.pk, last_name="Dupont").exists()
