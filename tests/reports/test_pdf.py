"""The PDF of the activity report, read back with pypdf: pages, metadata, the text of every
figure and table row (layout mode keeps a table row on one line), and hidden cells that show
their mark, never their value. No database: the reports come from `tests.reports.samples`."""

from __future__ import annotations

import copy
import io
import re

import pytest
from pypdf import PdfReader

from reports.pdf import render_pdf
from tests.reports.samples import KNOWN_HIDDEN, sample_report


def _normalise(text: str) -> str:
    """Spaces as the PDF's text gives them back: no-break spaces are spaces, and the minus sign
    is drawn as a hyphen."""
    return text.replace("\u202f", " ").replace("\xa0", " ").replace("\u2212", "-")


class Pdf:
    def __init__(self, report: dict):
        self.report = report
        self.data = render_pdf(report)
        self.reader = PdfReader(io.BytesIO(self.data))
        self.pages = [
            _normalise(page.extract_text(extraction_mode="layout")) for page in self.reader.pages
        ]
        self.text = "\n".join(self.pages)
        self.lines = [line.strip() for line in self.text.splitlines() if line.strip()]

    def row(self, *cells: str) -> list[str]:
        """The lines that hold these cells, in this order, separated by column gaps."""
        pattern = re.compile(
            r"^" + r"\s{2,}".join(re.escape(_normalise(cell)) for cell in cells) + r"$"
        )
        return [line for line in self.lines if pattern.match(line)]


@pytest.fixture(scope="module")
def pdf() -> Pdf:
    return Pdf(sample_report())


@pytest.fixture(scope="module")
def exact_pdf() -> Pdf:
    return Pdf(sample_report(anonymised=False))


@pytest.fixture(scope="module")
def network_pdf() -> Pdf:
    return Pdf(sample_report(places=60, communes=40, months=12))


def _percent(row: dict) -> str:
    if row["suppressed"] or row["percent"] is None:
        return "—"
    return f"{row['percent']:.1f}".replace(".", ",") + " %"


def test_quarterly_report_is_an_a4_pdf_of_a_dozen_pages_with_metadata(pdf):
    assert pdf.data.startswith(b"%PDF-")
    assert 10 <= len(pdf.pages) <= 18
    width, height = pdf.reader.pages[0].mediabox.width, pdf.reader.pages[0].mediabox.height
    assert (round(width), round(height)) == (595, 842)
    metadata = pdf.reader.metadata
    assert metadata.author == "Permanence"
    assert metadata.title == "Bilan d'activité — France Services de Lohéac — 3e trimestre 2026"
    assert "3e trimestre 2026" in metadata.subject


def test_cover_shows_scope_network_period_dates_and_anonymisation(pdf):
    cover = pdf.pages[0]
    for text in (
        "Bilan d'activité",
        "France Services de Lohéac",
        "Structure",
        "Réseau : Réseau des Vallons de Haute-Bretagne",
        "3e trimestre 2026",
        "du 1er juillet 2026 au 30 septembre 2026",
        "2e trimestre 2026",
        "Données anonymisées (seuil k = 11)",
        "le 1er octobre 2026 à 06:00",
    ):
        assert text in cover
    assert "usage interne" not in pdf.text


def test_exact_report_says_internal_use_on_the_cover_and_every_page(exact_pdf):
    assert "Chiffres exacts — usage interne" in exact_pdf.pages[0]
    assert all("Chiffres exacts — usage interne" in page for page in exact_pdf.pages)
    assert "Données anonymisées" not in exact_pdf.text


def test_every_page_has_its_number_scope_and_period_in_the_footer(pdf):
    count = len(pdf.pages)
    for number, page in enumerate(pdf.pages, start=1):
        assert f"{number} / {count}" in page
        assert "France Services de Lohéac · 3e trimestre 2026" in page


def test_every_figure_shows_its_display_previous_value_and_change(pdf):
    key_figures_page = pdf.pages[1]
    for figure in pdf.report["figures"]:
        cells = [figure["label"], figure["display"], figure["previous"] or "—"]
        cells.append(figure["change"] or "—")
        assert pdf.row(*cells), cells
    for key in pdf.report["key_figures"]:
        figure = next(f for f in pdf.report["figures"] if f["key"] == key)
        assert _normalise(figure["display"]) in key_figures_page
        assert _normalise(figure["label"]) in key_figures_page


def test_every_table_has_its_title_and_every_row_its_display_and_percent(pdf):
    for table in pdf.report["tables"]:
        assert _normalise(table["title"]) in pdf.text
        for row in table["rows"]:
            assert pdf.row(row["label"], row["display"], _percent(row)), (table["key"], row)
        assert pdf.row("Total", table["total"]["display"])


def test_hidden_cells_show_their_mark_and_never_their_value(pdf):
    tablet = pdf.row("Tablette", "< 11", "—")
    assert tablet
    assert KNOWN_HIDDEN["accompaniments_by_equipment", "tablet"] == 7
    assert all("7" not in line for line in pdf.lines if line.startswith("Tablette"))
    assert KNOWN_HIDDEN["residents_by_age_band", "<12"] == 3
    assert pdf.row("Moins de 12 ans", "< 11", "—")
    assert all(
        "3" not in line.removeprefix("Moins de 12 ans")
        for line in pdf.lines
        if line.startswith("Moins de 12 ans")
    )
    assert KNOWN_HIDDEN["figures", "appointments_no_show"] == 9
    no_shows = [
        line for line in pdf.lines if line.startswith(("Rendez-vous manqués (absents)", "Absent"))
    ]
    assert no_shows and all("9" not in line for line in no_shows)
    assert pdf.row("Rendez-vous manqués (absents)", "< 11", "< 11", "—")


def test_exact_report_shows_the_small_counts(exact_pdf):
    # The cells hidden above, not anonymised: a leak would look like this.
    tablet = next_row(exact_pdf, "accompaniments_by_equipment", "tablet")
    assert tablet["display"] == "7"
    assert exact_pdf.row("Tablette", "7", _percent(tablet))
    assert any(
        line.startswith("Rendez-vous manqués (absents)") and " 9 " in line
        for line in exact_pdf.lines
    )


def test_charts_leave_out_hidden_cells_and_list_them_below(pdf):
    assert "Non représentés car masqués : Tablette (< 11)." in pdf.text
    # Bars carry their value: a label with its value only (no percentage) is a bar.
    computer = next_row(pdf, "accompaniments_by_equipment", "computer")
    assert pdf.row("Ordinateur", computer["display"])
    assert not pdf.row("Tablette", "< 11")


def next_row(pdf, key, code) -> dict:
    table = next(t for t in pdf.report["tables"] if t["key"] == key)
    return next(row for row in table["rows"] if row["code"] == code)


def test_places_are_listed_with_their_qpv_and_frr_flags(pdf):
    for place in pdf.report["places"]:
        flags = ("Oui" if place["is_qpv"] else "Non", "Oui" if place["is_rural"] else "Non")
        assert pdf.row(place["name"], place["commune"], *flags), place


def test_method_note_and_legend_close_the_report(pdf):
    last = pdf.pages[-1]
    assert "Note de méthode" in last
    assert "secret secondaire" in last
    assert re.search(r"< 11\s{2,}masqué : moins de 11", last)


def test_network_year_report_runs_long_tables_over_pages_under_their_header(network_pdf):
    assert 14 <= len(network_pdf.pages) <= 24
    place_rows = [line for line in network_pdf.lines if line.startswith("Lieu ")]
    assert len([line for line in place_rows if "Commune" in line]) >= 2
    assert "Le graphique montre les 20 plus grandes valeurs sur 61" in network_pdf.text
    table = next(t for t in network_pdf.report["tables"] if t["key"] == "accompaniments_by_place")
    for row in table["rows"]:
        assert network_pdf.row(row["label"], row["display"], _percent(row))
    for month in ("janv.", "juin", "déc."):
        assert month in network_pdf.text


def test_unusual_reports_still_render():
    report = copy.deepcopy(sample_report(months=1, places=1, communes=1))
    report["previous_period"] = None
    report["places"] = []
    report["scope"]["name"] = "Maison Ŝerve \u2264 l\u2019Île\u202fnord"  # outside WinAnsi
    for figure in report["figures"]:
        figure |= {"previous": None, "change": None}
    equipment = next(t for t in report["tables"] if t["key"] == "accompaniments_by_equipment")
    for row in equipment["rows"]:
        row |= {"value": None, "display": "< 11", "suppressed": True, "percent": None}
    trend = next(t for t in report["tables"] if t["key"] == "trend_sessions")
    trend["rows"] = [
        {"code": "2026-07", "label": "juillet 2026", "value": 0, "display": "0",
         "suppressed": False, "percent": 0.0},
        {"code": "2026-08", "label": "août 2026", "value": None, "display": "< 11",
         "suppressed": True, "percent": None},
        {"code": "2026-09", "label": "septembre 2026", "value": 0, "display": "0",
         "suppressed": False, "percent": 0.0},
    ]  # fmt: skip
    report["tables"].append(
        {"key": "empty", "title": "Tableau vide", "unit": "", "chart": "bar", "rows": [],
         "total": None, "note": ""}
    )  # fmt: skip
    result = Pdf(report)
    assert "Maison Serve <= l’Île nord" in result.text
    assert "Tableau vide" in result.text
    assert "Lieux d'activité (0)" in result.text
    assert "Non représentés car masqués : juillet" not in result.text
    assert "août 2026 (< 11)" in result.text
