"""A structure admin creates an API client, copies its secret (shown once), and a script pulls
every activity of the structure page by page with it; revoked, the token is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect

from mediation.choices import Role
from tests.browser.axe import assert_accessible
from tests.cases.factories import HelpSessionFactory
from tests.factories import MembershipFactory, StructureFactory, UserFactory

PASSWORD = "mot-de-passe-de-test-42"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pull_activities.py"


def _pull(live_server, token, size=4):
    return subprocess.run(
        [sys.executable, SCRIPT, live_server.url, token, "--size", str(size)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_admin_creates_a_client_and_a_script_pulls_every_activity(
    page, live_server, login, screenshot
):
    structure = StructureFactory(name="Mairie de Lohéac", slug="mairie-loheac")
    admin = UserFactory(email="helene@exemple.fr", first_name="Hélène", password=PASSWORD)
    MembershipFactory(user=admin, structure=structure, role=Role.STRUCTURE_ADMIN)
    sessions = [HelpSessionFactory(structure=structure) for _ in range(10)]
    HelpSessionFactory()  # another structure's

    login(page, live_server, admin.email, PASSWORD)
    page.goto(f"{live_server.url}/s/{structure.slug}/")
    page.get_by_role("link", name="Accès API").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Accès API")
    assert_accessible(page)
    page.get_by_label("Nom").fill("Coop de la médiation numérique")
    page.get_by_role("button", name="Créer le client et afficher son secret").click()

    expect(page.get_by_text("il ne s'affichera plus jamais")).to_be_visible()
    token = page.get_by_label("Jeton (identifiant:secret)").input_value()
    assert ":" in token
    assert_accessible(page)
    screenshot(page, "api-client-created")
    page.get_by_role("link", name="J'ai copié le jeton").click()
    expect(page.get_by_role("cell", name="Coop de la médiation numérique")).to_be_visible()
    assert token.partition(":")[2] not in page.content()

    done = _pull(live_server, token)
    assert done.returncode == 0, done.stderr
    pulled = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted(a["id"] for a in pulled) == sorted(str(s.uuid) for s in sessions)
    assert "10 activités" in done.stderr

    page.get_by_role("button", name="Révoquer Coop de la médiation numérique").click()
    expect(page.get_by_text("est révoqué")).to_be_visible()
    refused = _pull(live_server, token)
    assert refused.returncode == 1 and "401" in refused.stderr
