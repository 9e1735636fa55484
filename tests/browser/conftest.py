"""Playwright (sync API) on Debian's Chromium against pytest-django's `live_server`.

Every test in this folder gets the `browser` marker, so `pytest -m "not browser"` runs the rest.
Chromium is not downloaded by Playwright: the harness drives the system one (`apt-get install -y
chromium`). Without it the tests are skipped, except when PERMANENCE_REQUIRE_BROWSER=1 (CI),
where a missing browser must not turn a red build into a silently green one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("PERMANENCE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

MOBILE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

BROWSER_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A conftest hook sees every collected item, not only those of its folder.
    for item in items:
        if BROWSER_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    # Keep the outcome on the item so the `page` fixture can screenshot a failing test.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _unavailable(reason: str) -> None:
    if os.environ.get("PERMANENCE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (PERMANENCE_REQUIRE_BROWSER=1: browser tests may not be skipped)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing: run `apt-get install -y chromium`")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in the test thread; Django would then
    # refuse every ORM call made by the test itself (SynchronousOnlyOperation). The test thread
    # never awaits anything, so the guard has nothing to protect while Playwright runs. Set here
    # rather than at import so that `pytest -m "not browser"` keeps the guard.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def viewport() -> dict[str, int]:
    """Override with `@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP])`."""
    return DESKTOP


def context_options(viewport) -> dict:
    """Every test browser: French, Paris time, and reduced motion. Bootstrap then drops its
    transitions: axe measures colours as they are, not half-way through a focused button's
    fade from outline to filled (a contrast failure that came and went)."""
    return {
        "viewport": viewport,
        "locale": "fr-FR",
        "timezone_id": "Europe/Paris",
        "reduced_motion": "reduce",
    }


@pytest.fixture
def page(browser, viewport, live_server, transactional_db, request) -> Iterator:
    # live_server serves from another thread: the data a test creates must be committed,
    # hence transactional_db rather than db.
    context = browser.new_context(**context_options(viewport))
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        _save_screenshot(page, f"FAILED-{request.node.name}")
    context.close()


def _save_screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.-]+", "-", name).strip("-")
    path = SCREENSHOTS / f"{safe}.png"
    page.screenshot(path=path, full_page=True)
    return path


@pytest.fixture
def screenshot() -> Callable:
    """`screenshot(page, name)` saves a full-page PNG to test-artifacts/screenshots/."""
    return _save_screenshot


def _login(page, live_server, email: str, password: str) -> None:
    from mediation.models import User
    from mediation.two_factor import two_factor_state
    from tests.otp import current_code, totp_app

    # A user who must use a second factor gets an authenticator app (tests/otp.py), whose
    # current code is typed at the code step like a person reading their phone.
    user = User.objects.filter(email__iexact=email).first()
    app = totp_app(user) if user is not None and two_factor_state(user).must_verify else None
    page.goto(f"{live_server.url}/compte/connexion/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    if app is not None and "/compte/connexion/code/" in page.url:
        page.get_by_label("Code de vérification").fill(current_code(app))
        page.get_by_role("button", name="Valider").click()
        page.wait_for_load_state()


@pytest.fixture
def login() -> Callable:
    """`login(page, live_server, email, password)` signs in through the login form (and the
    code step, for a user who must use a second factor)."""
    return _login
