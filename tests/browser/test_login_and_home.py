"""Signing in, the home page of each role, and the first staff journey (inviting a colleague)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from mediation.demo import DEMO_PASSWORD
from mediation.models import Membership, User
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, MOBILE
from tests.seeded import seeded_demo

MEDIATOR = "mediatrice@permanence.demo"
COORDINATOR = "coordinatrice@permanence.demo"
STRUCTURE_ADMIN = "admin@permanence.demo"

HOME_SECTIONS = {
    "mediator": "Ma journée",
    "coordinator": "Vue d'ensemble des structures coordonnées",
    "structure_admin": "Administration de structure",
}

both_widths = pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360px", "1280px"])


@pytest.fixture
def demo(transactional_db):
    # seed_demo's rows, seeded once for the whole file (tests/seeded.py).
    return seeded_demo()


def assert_no_horizontal_scroll(page) -> None:
    # WCAG 1.4.10 (reflow): at 320 CSS px wide nothing but tables and maps may scroll sideways.
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at {page.viewport_size}"


@both_widths
def test_login_page_is_accessible(page, live_server, demo, viewport, screenshot):
    page.goto(f"{live_server.url}/compte/connexion/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    screenshot(page, f"login-{viewport['width']}")
    assert_no_horizontal_scroll(page)
    assert_accessible(page)


def test_wrong_password_shows_a_french_error(page, live_server, login, screenshot):
    User.objects.create_user(email="camille@example.org", password="le-bon-mot-de-passe")

    login(page, live_server, "camille@example.org", "un-mauvais-mot-de-passe")

    error = page.get_by_role("alert")
    expect(error).to_contain_text("Adresse e-mail ou mot de passe incorrect")
    expect(page.get_by_label("Mot de passe", exact=True)).to_have_attribute("aria-invalid", "true")
    assert page.url.endswith("/compte/connexion/")
    screenshot(page, "login-wrong-password")
    assert_accessible(page)


@pytest.mark.parametrize(
    ("email", "role"),
    [(MEDIATOR, "mediator"), (COORDINATOR, "coordinator"), (STRUCTURE_ADMIN, "structure_admin")],
    ids=["mediator", "coordinator", "structure_admin"],
)
def test_each_role_lands_on_its_home_section(
    page, live_server, demo, login, screenshot, email, role
):
    login(page, live_server, email, DEMO_PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    for other_role, section in HOME_SECTIONS.items():
        heading = page.get_by_role("heading", level=2, name=section, exact=True)
        # The demo gives each of these accounts exactly one role.
        expect(heading).to_have_count(1 if other_role == role else 0)
    for viewport in (DESKTOP, MOBILE):
        page.set_viewport_size(viewport)
        screenshot(page, f"home-{role}-{viewport['width']}")
        assert_no_horizontal_scroll(page)
        assert_accessible(page)


def test_skip_link_is_first_in_tab_order_and_focuses_main(page, live_server, demo, login):
    login(page, live_server, MEDIATOR, DEMO_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")

    page.keyboard.press("Tab")

    skip_link = page.get_by_role("link", name="Aller au contenu")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_structure_admin_invites_a_mediator(page, live_server, demo, login, mailoutbox, screenshot):
    login(page, live_server, STRUCTURE_ADMIN, DEMO_PASSWORD)

    page.get_by_role("link", name="Gérer l'équipe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Équipe")
    page.get_by_role("link", name="Inviter une personne").click()
    page.get_by_label("Adresse e-mail").fill("Gaelle.Kerherve@Example.org")
    page.get_by_label("Prénom").fill("Gaëlle")
    # crispy-forms appends "*" to the labels of required fields.
    page.get_by_label("Nom*", exact=True).fill("Kerhervé")
    page.get_by_label("Rôle").select_option(label="Médiateur·rice numérique")
    assert_accessible(page)
    page.get_by_role("button", name="Envoyer l'invitation").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Équipe")
    expect(page.get_by_role("status")).to_contain_text("Gaëlle Kerhervé a été ajouté·e")
    row = page.get_by_role("row").filter(has_text="Gaëlle Kerhervé")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("gaelle.kerherve@example.org")
    expect(row).to_contain_text("Médiateur·rice numérique")
    expect(row).to_contain_text("invitation en attente")
    for viewport in (DESKTOP, MOBILE):
        page.set_viewport_size(viewport)
        screenshot(page, f"team-after-invitation-{viewport['width']}")
        assert_no_horizontal_scroll(page)
        assert_accessible(page)

    membership = Membership.objects.get(user__email="gaelle.kerherve@example.org")
    assert (membership.structure.slug, membership.role) == ("france-services-guichen", "mediator")
    assert [m.to for m in mailoutbox] == [["gaelle.kerherve@example.org"]]


def assert_tables_do_not_scroll(page) -> None:
    """Every table fits the page: no sideways scroller hiding columns (they stack as cards)."""
    hidden = page.evaluate(
        """() => [...document.querySelectorAll('.table-responsive')]
             .map(el => el.scrollWidth - el.clientWidth).filter(d => d > 0)"""
    )
    assert not hidden, f"{page.url}: a table scrolls sideways by {hidden}px"


@pytest.mark.parametrize(
    ("email", "path"),
    [(STRUCTURE_ADMIN, "/s/france-services-guichen/equipe/"), (COORDINATOR, "/")],
    ids=["team", "coordinator-home"],
)
def test_staff_tables_stack_as_cards_on_a_phone(
    page, live_server, demo, login, screenshot, email, path
):
    login(page, live_server, email, DEMO_PASSWORD)
    page.set_viewport_size(MOBILE)
    page.goto(f"{live_server.url}{path}")

    screenshot(page, f"stacked-{email.split('@')[0]}-360")
    assert_tables_do_not_scroll(page)
    assert_no_horizontal_scroll(page)
    assert_accessible(page)


def test_the_desktop_menu_keeps_every_entry_on_one_line(page, live_server, demo, login):
    login(page, live_server, MEDIATOR, DEMO_PASSWORD)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/s/france-services-guichen/agenda/")

    boxes = page.evaluate(
        """() => [...document.querySelectorAll('#nav-main .nav-link')].map(el => {
             const r = el.getBoundingClientRect(); return [el.textContent.trim(), r.top, r.height];
           })"""
    )
    tops = {round(top) for _, top, _ in boxes}
    assert max(tops) - min(tops) <= 2, boxes
    assert max(height for _, _, height in boxes) < 48, boxes


def test_removing_a_team_member_asks_first_and_can_be_cancelled(page, live_server, demo, login):
    login(page, live_server, STRUCTURE_ADMIN, DEMO_PASSWORD)
    page.goto(f"{live_server.url}/s/france-services-guichen/equipe/")
    row = page.get_by_role("row").filter(has_text=MEDIATOR)

    row.get_by_role("link", name="Retirer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retirer un rôle")
    assert_accessible(page)
    page.get_by_role("link", name="Annuler").click()
    expect(page.get_by_role("row").filter(has_text=MEDIATOR)).to_have_count(1)

    row.get_by_role("link", name="Retirer").click()
    page.get_by_role("button", name="Confirmer").click()
    expect(page.get_by_role("status")).to_contain_text("n'a plus le rôle")
    expect(page.get_by_role("row").filter(has_text=MEDIATOR)).to_have_count(0)
