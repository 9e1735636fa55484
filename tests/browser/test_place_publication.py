"""A structure admin fills in a place for the national map (coordinates with a decimal comma,
services, access terms), is told at the field what is missing to publish it, publishes it, and
finds it in the open-data file anyone can read."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from mediation.choices import Role
from tests.browser.axe import assert_accessible
from tests.factories import MembershipFactory, PlaceFactory, StructureFactory, UserFactory

PASSWORD = "mot-de-passe-de-test-42"


def test_admin_publishes_a_place_in_the_national_schema(page, live_server, login, screenshot):
    structure = StructureFactory(name="Mairie de Guichen", slug="mairie-guichen")
    place = PlaceFactory(structure=structure, name="Espace numérique")
    admin = UserFactory(email="helene@exemple.fr", password=PASSWORD)
    MembershipFactory(user=admin, structure=structure, role=Role.STRUCTURE_ADMIN)

    login(page, live_server, admin.email, PASSWORD)
    page.goto(f"{live_server.url}/s/{structure.slug}/lieux/{place.pk}/")
    page.get_by_label("Latitude").fill("47,9648")
    page.get_by_label("Longitude").fill("-1,7992")
    page.get_by_label("Publier ce lieu en données ouvertes").check()
    page.get_by_role("button", name="Enregistrer").click()

    # Nothing to publish without a service and the structure's SIRET: said at the fields.
    expect(page.get_by_text("Choisissez au moins un service pour publier le lieu.")).to_be_visible()
    expect(page.get_by_text("renseignez d'abord le SIRET de la structure")).to_be_visible()
    assert_accessible(page)

    page.goto(f"{live_server.url}/s/{structure.slug}/informations/")
    page.get_by_label("SIRET").fill("21350126700024")
    page.get_by_role("button", name="Enregistrer").click()
    page.goto(f"{live_server.url}/s/{structure.slug}/lieux/{place.pk}/")
    page.get_by_label("Aide aux démarches administratives").check()
    page.get_by_label("Se présenter").check()
    page.get_by_label("Latitude").fill("47,9648")
    page.get_by_label("Longitude").fill("-1,7992")
    page.get_by_label("Publier ce lieu en données ouvertes").check()
    screenshot(page, "place-national-schema-form")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Le lieu « Espace numérique » est enregistré.")).to_be_visible()

    page.context.clear_cookies()  # anyone, without an account
    response = page.request.get(f"{live_server.url}/donnees/s/{structure.slug}/lieux.json")
    items = json.loads(response.body())
    assert [item["nom"] for item in items] == ["Espace numérique"]
    assert items[0]["pivot"] == "21350126700024"
    assert items[0]["latitude"] == 47.9648
    assert items[0]["services"] == "Aide aux démarches administratives"
    assert items[0]["modalites_acces"] == "Se présenter"
