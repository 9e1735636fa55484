"""Communes are picked by name or postcode: a structure admin types "guichen" for a new place
and takes the suggestion with the keyboard; a mediator types a postcode on a resident's form
and taps the commune; a name that is not a commune is refused at the field, the text kept."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from mediation import communes
from mediation.choices import Role
from mediation.models import Place, Resident
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, MOBILE
from tests.factories import MembershipFactory, StructureFactory, UserFactory

PASSWORD = "mot-de-passe-de-test-42"
both_widths = pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360px", "1280px"])


@pytest.fixture
def structure(transactional_db):
    communes._index()  # read once per process: the live server's first suggestions wait less
    return StructureFactory(name="Mairie de Guichen", slug="mairie-guichen")


def person(structure, role, email):
    user = UserFactory(email=email, password=PASSWORD)
    MembershipFactory(user=user, structure=structure, role=role)
    return user


def submit(page, name):
    # The answer is awaited by the `expect` that follows (a loaded machine may take more than
    # the click's own wait for the navigation).
    page.get_by_role("button", name=name).click(no_wait_after=True)


@both_widths
def test_a_place_gets_its_commune_by_typing_its_name(
    page, live_server, login, screenshot, structure, viewport
):
    admin = person(structure, Role.STRUCTURE_ADMIN, "helene@exemple.fr")
    login(page, live_server, admin.email, PASSWORD)
    page.goto(f"{live_server.url}/s/{structure.slug}/lieux/nouveau/")
    page.get_by_label("Nom du lieu").fill("Espace numérique")
    page.locator("#id_address").fill("1 place de la Mairie")

    commune = page.get_by_role("combobox", name="Commune")
    commune.press_sequentially("guichen", delay=30)
    option = page.get_by_role("option", name="Guichen (35126)")
    expect(option).to_be_visible(timeout=15_000)
    expect(commune).to_have_attribute("aria-expanded", "true")
    assert_accessible(page)
    screenshot(page, f"commune-picker-place-{viewport['width']}")
    commune.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    commune.press("Enter")  # picks; does not send the form
    expect(commune).to_have_value("Guichen (35126)")
    expect(commune).to_have_attribute("aria-expanded", "false")
    submit(page, "Enregistrer")

    expect(page.get_by_text("Le lieu « Espace numérique » est enregistré.")).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_text("35580 Guichen (35126)")).to_be_visible()
    place = Place.objects.get(name="Espace numérique")
    assert (place.insee_code, place.commune, place.postcode) == ("35126", "Guichen", "35580")


@both_widths
def test_a_resident_commune_is_picked_by_postcode_and_a_wrong_one_refused(
    page, live_server, login, screenshot, structure, viewport
):
    mediator = person(structure, Role.MEDIATOR, "camille@exemple.fr")
    login(page, live_server, mediator.email, PASSWORD)
    page.goto(f"{live_server.url}/s/{structure.slug}/usagers/nouveau/")
    page.get_by_label("Prénom").fill("Monique")
    page.get_by_label("Nom (ou initiales)").fill("Hamon")

    commune = page.get_by_role("combobox", name="Commune de résidence")
    commune.fill("Guichn")
    submit(page, "Créer la fiche")
    expect(page.get_by_text("« Guichn » n'est pas le nom d'une commune.")).to_be_visible(
        timeout=30_000
    )
    commune = page.get_by_role("combobox", name="Commune de résidence")
    expect(commune).to_have_value("Guichn")
    assert_accessible(page)

    commune.fill("")
    commune.press_sequentially("35580", delay=30)
    option = page.get_by_role("option", name="Guichen (35126)")
    expect(option).to_be_visible(timeout=15_000)
    option.click()
    expect(commune).to_have_value("Guichen (35126)")
    screenshot(page, f"commune-picker-resident-{viewport['width']}")
    submit(page, "Créer la fiche")

    expect(page.get_by_role("heading", name="Monique Hamon")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Guichen (35126)")).to_be_visible()
    assert Resident.objects.get(first_name="Monique").commune_insee == "35126"
    assert_accessible(page)
