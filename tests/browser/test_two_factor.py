"""Second factor, in a browser: a coordinator's first login sets up an app, and a demo
structure admin gets in with the code of the moment."""

from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from mediation.choices import Role
from mediation.demo import DEMO_PASSWORD, demo_current_code
from tests.browser.axe import assert_accessible
from tests.conftest import member
from tests.factories import DEFAULT_PASSWORD, StructureFactory
from tests.otp import current_code
from tests.seeded import seeded_demo


def test_a_coordinators_first_login_sets_up_an_app_and_shows_recovery_codes(
    page, live_server, screenshot
):
    structure = StructureFactory(name="Mairie de Lohéac")
    coordinator = member(structure, Role.COORDINATOR)

    page.goto(f"{live_server.url}/compte/connexion/")
    page.get_by_label("Adresse e-mail").fill(coordinator.email)
    page.get_by_label("Mot de passe", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Activer la double authentification")
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    screenshot(page, "two-factor-setup")
    assert_accessible(page)
    page.get_by_label("Code de vérification").fill("000000")
    page.get_by_role("button", name="Activer").click()
    code_field = page.get_by_label("Code de vérification")
    expect(code_field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Ce code n'est pas le bon")).to_be_visible()
    assert_accessible(page)

    device = TOTPDevice.objects.get(user=coordinator)
    device.throttle_reset()
    code_field.fill(current_code(device))
    page.get_by_role("button", name="Activer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Vos codes de secours")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    screenshot(page, "two-factor-recovery-codes")
    assert_accessible(page)
    page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
    expect(page).to_have_url(f"{live_server.url}/")


def test_a_demo_admin_gets_in_with_the_code_shown_on_the_demo(
    page, live_server, settings, transactional_db, screenshot
):
    settings.DEMO_MODE = True
    seeded_demo()  # the demo as seed_demo leaves it (tests/seeded.py)

    page.goto(f"{live_server.url}/compte/connexion/")
    page.get_by_label("Adresse e-mail").fill("admin@permanence.demo")
    page.get_by_label("Mot de passe", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Code de vérification")
    screenshot(page, "two-factor-code-step")
    assert_accessible(page)
    from mediation.models import User

    # The code changes every 30 s: the one shown must be the app's code of just before or just
    # after reading the page, whichever step the clock was in.
    admin = User.objects.get(email="admin@permanence.demo")
    before = demo_current_code(admin)
    shown = page.get_by_text("Code du moment").inner_text()
    after = demo_current_code(admin)
    code = before if before in shown else after
    assert code in shown, (shown, before, after)
    page.get_by_label("Code de vérification").fill(code)
    page.get_by_role("button", name="Valider").click()

    expect(page).to_have_url(f"{live_server.url}/")
    page.get_by_role("link", name="Hélène Robin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    # The demo app comes without recovery codes: the page says to make some.
    expect(page.get_by_text("Il ne vous reste aucun code de secours.")).to_be_visible()
    assert_accessible(page)
