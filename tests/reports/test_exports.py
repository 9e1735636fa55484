"""CSV and XLSX of the published report (no database: the sample report)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from openpyxl import load_workbook

from reports.exports import (
    CSV_COLUMNS,
    FORMATS,
    LABELS,
    csv_to_excel,
    filename,
    render,
    render_csv,
    render_csv_excel,
    render_xlsx,
    safe_text,
)
from reports.indicators import DIMENSIONS, TABLES
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


# --- The two CSV variants -------------------------------------------------------------------


def report_with_decimal_hours() -> dict:
    report = sample_report()
    hours = next(f for f in report["figures"] if f["key"] == "hours")
    hours.update(value=511.5, display="511,5")
    return report


def read_excel_csv(content: bytes) -> list[dict]:
    assert content.startswith("\ufeff".encode()), "a byte-order mark: the accents read right"
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_the_standard_csv_is_rfc_4180_with_numbers_unquoted():
    content = render_csv(report_with_decimal_hours())

    assert content.startswith(b"indicator,dimension,label,value,suppressed\r\n")
    assert b",511.5,false\r\n" in content
    assert b'"511.5"' not in content
    hours = next(row for row in read_csv(content) if row["indicator"] == "hours")
    assert float(hours["value"]) == 511.5


def test_the_excel_csv_has_a_bom_semicolons_and_decimal_commas_unquoted():
    content = render_csv_excel(report_with_decimal_hours())
    text = content.decode("utf-8-sig")

    assert text.startswith("indicator;dimension;label;value;suppressed\r\n")
    assert ";511,5;" in text and '"511,5"' not in text
    rows = read_excel_csv(content)
    hours = next(row for row in rows if row["indicator"] == "hours")
    assert float(hours["value"].replace(",", ".")) == 511.5
    sessions = next(row for row in rows if row["indicator"] == "sessions")
    assert sessions["value"].isdigit()


def test_a_hidden_cell_stays_text_in_the_excel_csv():
    rows = read_excel_csv(render_csv_excel(sample_report()))
    tablet = next(
        row
        for row in rows
        if row["indicator"] == "accompaniments_by_equipment" and row["dimension"] == "tablet"
    )

    assert (tablet["value"], tablet["suppressed"]) == ("< 11", "true")


def test_both_csv_variants_hold_the_same_cells():
    report = report_with_decimal_hours()
    standard = read_csv(render_csv(report))
    excel = read_excel_csv(render_csv_excel(report))

    assert len(standard) == len(excel)
    for a, b in zip(standard, excel, strict=True):
        assert {k: v for k, v in a.items() if k != "value"} == {
            k: v for k, v in b.items() if k != "value"
        }
        assert a["value"] == b["value"].replace(",", ".")


def test_the_excel_csv_neutralises_formulas_too():
    report = sample_report()
    report["tables"][0]["rows"][0]["label"] = "=1+1"
    text = render_csv_excel(report).decode("utf-8-sig")
    assert ";'=1+1;" in text


def test_an_archived_csv_converts_to_the_excel_variant():
    report = report_with_decimal_hours()
    assert csv_to_excel(render_csv(report)) == render_csv_excel(report)
    # Archives written before the variants carried a byte-order mark.
    assert csv_to_excel("\ufeff".encode() + render_csv(report)) == render_csv_excel(report)


def test_every_format_is_rendered_and_offered():
    report = sample_report()
    assert set(LABELS) == set(FORMATS)
    for fmt in FORMATS:
        assert render(report, fmt)
    assert filename(report, "csv-excel").endswith("-2026-Q3-excel.csv")


# --- The workbook ---------------------------------------------------------------------------


def workbook_of(report: dict):
    return load_workbook(io.BytesIO(render_xlsx(report)))


def test_every_table_declares_a_short_unique_sheet_name():
    names = [str(spec.sheet) for spec in TABLES.values()]

    assert all(names), "every table needs its sheet name (TableSpec.sheet)"
    assert all(len(name) <= 31 for name in names), [n for n in names if len(n) > 31]
    assert len({name.lower() for name in names}) == len(names)
    assert not {name.lower() for name in names} & {"chiffres clés", "lieux", "méthode"}
    assert not [name for name in names if set(name) & set("[]:*?/\\")]


def test_sheet_names_are_the_declared_ones_never_cut_nor_numbered():
    report = sample_report()
    names = workbook_of(report).sheetnames

    expected = [str(TABLES[table["key"]].sheet) for table in report["tables"]]
    assert names == ["Chiffres clés", *expected, "Lieux", "Méthode"]
    assert not [name for name in names if name.endswith(")") and "(" in name[-5:]]


def test_every_data_sheet_has_its_header_row_frozen():
    workbook = workbook_of(sample_report())
    for sheet in workbook.worksheets[:-1]:  # not the method: paragraphs, no header
        assert sheet.freeze_panes, f"{sheet.title}: header not frozen"
        header_row = int(sheet.freeze_panes[1:]) - 1
        assert all(cell.font.bold for cell in sheet[header_row] if cell.value), sheet.title


def test_columns_are_as_wide_as_their_content():
    report = sample_report()
    report["places"][0]["name"] = "Espace France Services de Saint-Jacques-de-la-Lande"
    workbook = workbook_of(report)
    for sheet in workbook.worksheets:
        header_row = int(sheet.freeze_panes[1:]) - 1 if sheet.freeze_panes else 1
        for row in sheet.iter_rows(min_row=header_row):
            for cell in row:
                if isinstance(cell.value, str) and len(cell.value) < 80:
                    width = sheet.column_dimensions[cell.column_letter].width
                    assert width >= len(cell.value), (sheet.title, cell.coordinate, width)


def test_numbers_are_typed_and_formatted():
    report = report_with_decimal_hours()
    sheet = workbook_of(report)["Chiffres clés"]
    cells = {row[0].value: row[1] for row in sheet.iter_rows() if row[0].value}
    hours = next(f for f in report["figures"] if f["key"] == "hours")
    sessions = next(f for f in report["figures"] if f["key"] == "sessions")

    assert cells[hours["label"]].value == 511.5
    assert cells[hours["label"]].number_format == "#,##0.0"
    assert isinstance(cells[sessions["label"]].value, int)
    assert cells[sessions["label"]].number_format == "#,##0"


def test_dates_are_dates():
    report = sample_report()
    workbook = workbook_of(report)
    cells = {row[0].value: row[1].value for row in workbook["Chiffres clés"].iter_rows()}

    assert cells["Du"] == datetime(2026, 7, 1)
    assert cells["Au"] == datetime(2026, 9, 30)
    assert isinstance(cells["Calculé le"], datetime)
    trend = next(t for t in report["tables"] if DIMENSIONS[t["key"]] == "month")
    sheet = workbook[str(TABLES[trend["key"]].sheet)]
    months = [row[0].value for row in sheet.iter_rows() if isinstance(row[0].value, datetime)]
    assert [m.date() for m in months] == [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)]
    assert all(
        row[0].number_format == "mmmm yyyy"
        for row in sheet.iter_rows()
        if isinstance(row[0].value, datetime)
    )
