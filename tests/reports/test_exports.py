"""CSV and XLSX of the published report (no database: the sample report)."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from reports.exports import CSV_COLUMNS, filename, render_csv, render_xlsx, safe_text
from tests.reports.samples import KNOWN_HIDDEN, sample_report


def read_csv(content: bytes) -> list[dict]:
    text = content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_is_one_tidy_table_with_the_four_columns():
    rows = read_csv(render_csv(sample_report()))

    assert tuple(rows[0]) == CSV_COLUMNS
    assert {row["suppressed"] for row in rows} == {"true", "false"}


def test_every_breakdown_ends_with_its_total_row():
    report = sample_report()
    rows = read_csv(render_csv(report))
    totals = {row["indicator"]: row for row in rows if row["dimension"] == "total"}

    for table in report["tables"]:
        assert table["key"] in totals
        expected = table["total"]["display"] if table["total"]["suppressed"] else table["total"]
        if not table["total"]["suppressed"]:
            assert totals[table["key"]]["value"] == str(expected["value"])


def test_a_hidden_cell_is_marked_and_its_value_is_not_in_the_csv():
    rows = read_csv(render_csv(sample_report()))
    tablet = next(
        row
        for row in rows
        if row["indicator"] == "accompaniments_by_equipment" and row["dimension"] == "tablet"
    )

    assert tablet["suppressed"] == "true"
    assert tablet["value"] == "< 11"
    assert tablet["value"] != str(KNOWN_HIDDEN[("accompaniments_by_equipment", "tablet")])


def test_figures_have_an_empty_dimension():
    rows = read_csv(render_csv(sample_report()))
    sessions = next(row for row in rows if row["indicator"] == "sessions")

    assert sessions["dimension"] == ""
    assert sessions["value"].isdigit()


def test_text_a_spreadsheet_would_run_is_neutralised():
    report = sample_report()
    places = next(t for t in report["tables"] if t["key"] == "accompaniments_by_place")
    places["rows"][0]["label"] = '=HYPERLINK("http://evil.example","clic")'
    places["rows"][1]["label"] = "+33 6 00 00 00 00"
    report["places"][0]["name"] = "@SUM(A1:A9)"

    csv_text = render_csv(report).decode("utf-8-sig")
    assert "\n=HYPERLINK" not in csv_text and ",=HYPERLINK" not in csv_text
    assert "'=HYPERLINK" in csv_text
    assert "'+33 6" in csv_text

    workbook = load_workbook(io.BytesIO(render_xlsx(report)))
    values = [
        cell.value
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]
    assert not [v for v in values if v.startswith(("=", "+", "-", "@"))]
    assert "'@SUM(A1:A9)" in values


def test_safe_text_leaves_numbers_and_ordinary_text_alone():
    assert safe_text(42) == 42
    assert safe_text("Lohéac") == "Lohéac"
    assert safe_text("-5") == "'-5"
    assert safe_text("\t=1") == "'\t=1"


def test_the_workbook_has_a_sheet_per_table_with_short_unique_names():
    report = sample_report()
    workbook = load_workbook(io.BytesIO(render_xlsx(report)))
    names = workbook.sheetnames

    assert len(names) == len(set(names))
    assert all(len(name) <= 31 for name in names)
    assert len(names) >= len(report["tables"]) + 2  # key figures and method too
    sheet = workbook[names[1]]
    assert sheet["A1"].value == report["tables"][0]["title"]


def test_the_workbook_keeps_hidden_cells_as_marks_and_numbers_as_numbers():
    report = sample_report()
    workbook = load_workbook(io.BytesIO(render_xlsx(report)))
    values = [
        cell.value for sheet in workbook.worksheets[1:] for row in sheet.iter_rows() for cell in row
    ]

    assert "< 11" in values
    assert any(isinstance(value, int) and value > 11 for value in values)


def test_the_file_name_says_scope_period_and_internal_use():
    assert filename(sample_report(), "pdf").endswith("-2026-Q3.pdf")
    assert filename(sample_report(anonymised=False), "csv").endswith("-interne.csv")


def test_the_workbook_gives_previous_values_and_changes_as_numbers():
    report = sample_report()
    sessions = next(f for f in report["figures"] if f["key"] == "sessions")
    sessions["previous_value"] = sessions["value"] // 2
    workbook = load_workbook(io.BytesIO(render_xlsx(report)))
    rows = {row[0]: row for row in workbook.worksheets[0].iter_rows(values_only=True) if row}

    label = sessions["label"]
    assert rows[label][2] == sessions["value"] // 2
    assert isinstance(rows[label][3], int | float) and rows[label][3] > 0


def test_long_sheet_names_are_cut_at_a_word():
    from reports.exports import _sheet_title

    name = _sheet_title("Accompagnements par autonomie à la fin", set())
    assert name == "Accompagnements par autonomie"
