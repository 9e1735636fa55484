"""Logging the help given: "Terminer et saisir" on an appointment of the day, saved with the
keyboard in a few presses; an anonymous walk-in; the form's accessibility."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings.choices import AppointmentStatus
from bookings.models import Appointment
from cases.choices import Theme
from cases.models import HelpSession
from mediation.choices import Role
from tests.bookings.factories import MotifFactory, SlotFactory
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, MOBILE
from tests.factories import (
    MembershipFactory,
    PlaceFactory,
    ResidentFactory,
    StructureFactory,
    UserFactory,
)

PASSWORD = "mot-de-passe-de-test-42"
MAX_INTERACTIONS = 5
both_widths = pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360px", "1280px"])


@pytest.fixture
def desk(transactional_db):
    structure = StructureFactory(name="France Services de Guichen", slug="fs-guichen")
    place = PlaceFactory(structure=structure, name="France Services — accueil")
    motif = MotifFactory(structure=structure, name="Dossier CAF", duration_minutes=30)
    mediator = UserFactory(email="camille@exemple.fr", first_name="Camille", last_name="Le Goff")
    MembershipFactory(user=mediator, structure=structure, role=Role.MEDIATOR)
    # An appointment at the start of today: it has taken place.
    midnight = datetime.combine(timezone.localdate(), time(0), tzinfo=place.tzinfo)
    slot = SlotFactory(place=place, motif=motif, mediator=mediator, starts_at=midnight)
    appointment = Appointment.objects.create(
        place=place,
        motif=motif,
        mediator=mediator,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        resident=ResidentFactory(structure=structure, first_name="Monique", last_name="Hamon"),
        need="Prime d'activité",
    )
    return structure, place, mediator, appointment


class Interactions:
    """Every key press and click the person makes, counted."""

    def __init__(self, page):
        self.page = page
        self.count = 0

    def press(self, key: str) -> None:
        self.count += 1
        self.page.keyboard.press(key)

    def click(self, locator) -> None:
        self.count += 1
        locator.click()


def test_terminer_et_saisir_saves_the_common_case_in_a_few_keystrokes(
    page, live_server, desk, login, screenshot
):
    structure, place, mediator, appointment = desk
    login(page, live_server, mediator.email, PASSWORD)
    page.goto(f"{live_server.url}/s/{structure.slug}/agenda/")
    page.get_by_role("link", name="Terminer et saisir — Monique Hamon, 00:00").click()

    # The page opens prefilled, the focus on the first theme.
    expect(page.get_by_role("heading", name="Terminer et saisir l'accompagnement")).to_be_visible()
    expect(page.get_by_text("Prime d'activité")).to_be_visible()
    first_theme = page.get_by_role("checkbox", name="Démarches administratives")
    expect(first_theme).to_be_focused()
    expect(page.get_by_role("radio", name="30 min")).to_be_checked()
    screenshot(page, "session-from-appointment-open")

    person = Interactions(page)
    person.press("Space")  # tick the first theme
    expect(first_theme).to_be_checked()
    with page.expect_navigation():
        person.press("Enter")  # save
    assert person.count <= MAX_INTERACTIONS, f"{person.count} interactions"

    # Back on the agenda: saved, the appointment is "Honoré".
    expect(page.get_by_text("rendez-vous « Honoré »")).to_be_visible()
    expect(page.locator(".appointment .badge").first).to_have_text("Honoré")
    expect(page.get_by_role("link", name="Voir la saisie — Monique Hamon, 00:00")).to_be_visible()
    screenshot(page, "session-from-appointment-saved")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SEEN
    session = appointment.help_session
    assert session.created_by == mediator and session.duration_minutes == 30
    assert list(session.tags.values_list("code", flat=True)) == [Theme.DEMARCHES_ADMINISTRATIVES]


def test_an_anonymous_walk_in_is_logged(page, live_server, desk, login, screenshot):
    structure, place, mediator, _appointment = desk
    login(page, live_server, mediator.email, PASSWORD)
    page.goto(f"{live_server.url}/s/{structure.slug}/accompagnements/nouveau/")
    page.get_by_text("Anonyme", exact=True).click()
    expect(page.get_by_label("Tranche d'âge")).to_be_focused()
    page.get_by_label("Tranche d'âge").select_option(label="70 ans et plus")
    page.get_by_label("Situation").select_option(label="Retraité")
    page.locator("#id_commune_insee").fill("35155")
    page.get_by_role("checkbox", name="Messagerie (e-mail)").check()
    page.get_by_text("45 min", exact=True).click()
    assert_accessible(page)
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("heading", name="Accompagnements", exact=True)).to_be_visible()
    expect(page.get_by_text("Usager anonyme n°").first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "session-anonymous-walk-in-list")
    session = HelpSession.objects.get()
    person = session.resident
    assert person.is_anonymous and (person.first_name, person.last_name) == ("", "")
    assert (person.age_band, person.status, person.commune_insee) == ("70+", "retired", "35155")
    assert session.duration_minutes == 45


def test_the_procedure_areas_appear_with_the_administrative_theme(page, live_server, desk, login):
    structure, place, mediator, appointment = desk
    login(page, live_server, mediator.email, PASSWORD)
    page.goto(f"{live_server.url}/s/{structure.slug}/accompagnements/rdv/{appointment.pk}/")
    areas = page.get_by_role("group", name="Démarches administratives : domaines")
    expect(areas).to_be_hidden()
    page.get_by_role("checkbox", name="Démarches administratives").check()
    expect(areas).to_be_visible()


@both_widths
def test_the_session_form_is_accessible(page, live_server, desk, login, screenshot, viewport):
    structure, place, mediator, appointment = desk
    login(page, live_server, mediator.email, PASSWORD)
    page.goto(f"{live_server.url}/s/{structure.slug}/accompagnements/rdv/{appointment.pk}/")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    # With errors shown at the fields.
    page.get_by_role("radio", name="Autre lieu").check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Cochez au moins un thème.")).to_be_visible()
    expect(page.get_by_role("alert").first).to_be_focused()
    assert_accessible(page)
    screenshot(page, f"session-form-errors-{viewport['width']}")
    # The workshop form too.
    page.goto(f"{live_server.url}/s/{structure.slug}/accompagnements/atelier/nouveau/")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
