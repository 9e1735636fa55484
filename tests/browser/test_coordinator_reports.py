"""A network coordinator opens last quarter's dashboard, changes the period, downloads the PDF
and the spreadsheet, and finds the same figures in them as on the screen."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader

from bench.generate import generate_activity
from mediation.models import Network
from reports.periods import last_closed_quarter
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, MOBILE, SCREENSHOTS
from tests.factories import NetworkMembershipFactory, UserFactory

PASSWORD = "mot-de-passe-de-test-42"
both_widths = pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360px", "1280px"])


@pytest.fixture
def coordination(transactional_db):
    generate_activity(sessions=400, structures=3, years=1, seed=5, out=None)
    network = Network.objects.get(slug="activite")
    user = UserFactory(
        email="sophie@exemple.fr", first_name="Sophie", last_name="Martin", password=PASSWORD
    )
    NetworkMembershipFactory(user=user, network=network)
    return network, user


def key_figures(page) -> dict[str, str]:
    figures = {}
    for element in page.locator(".key-figures [data-figure]").all():
        figures[element.get_attribute("data-figure")] = element.inner_text().strip()
    return figures


@both_widths
def test_coordinator_reads_the_dashboard_and_downloads_pdf_and_xlsx(
    page, live_server, login, screenshot, coordination, viewport
):
    network, user = coordination
    login(page, live_server, user.email, PASSWORD)
    page.get_by_role("link", name=f"Réseau : {network.name}").click()

    quarter = last_closed_quarter()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bilan d'activité")
    expect(page.get_by_role("heading", name=quarter.label.capitalize())).to_be_visible()
    expect(page.get_by_text("Données anonymisées (seuil 11)")).to_be_visible()
    shown = key_figures(page)
    assert shown["sessions"] and shown["accompaniments"]
    assert_accessible(page)
    name = "coordinator-dashboard-" + ("mobile" if viewport == MOBILE else "desktop")
    screenshot(page, name)

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="PDF").click()
    pdf_path = Path(pdf_download.value.path())
    text = "\n".join(p.extract_text() for p in PdfReader(pdf_path).pages)
    assert network.name in text
    assert quarter.label in text
    for key, display in shown.items():
        assert display in text, f"{key}: {display!r} is on the dashboard, not in the PDF"
    assert 6 <= len(PdfReader(pdf_path).pages) <= 30

    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Tableur (XLSX)").click()
    workbook = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    first = workbook.worksheets[0]
    values = {row[0]: row[1] for row in first.iter_rows(values_only=True) if row and row[0]}
    assert str(values["Séances"]).replace("\xa0", "") == shown["sessions"].replace("\xa0", "")

    if viewport == DESKTOP:
        # Look at the PDF's first pages as a person would (artifacts kept for review).
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", "-l", "3", str(pdf_path), str(SCREENSHOTS / "pdf")],
            check=False,
        )

    # Another period: the previous quarter, from the period picker.
    page.get_by_label("Période").select_option(quarter.previous().code)
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_role("heading", name=quarter.previous().label.capitalize())).to_be_visible()
