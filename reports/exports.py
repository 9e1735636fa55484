"""The published report (reports.publish) as CSV, XLSX and PDF files.

Every export is written from the published dict only: an anonymised report's hidden cells are
not in it, so no export can leak them. Text that a spreadsheet would run as a formula (a cell
starting with =, +, -, @, or a tab or carriage return) is neutralised with a leading
apostrophe: place names and labels are typed by users.

The CSV comes in two variants of the same table: "csv" (RFC 4180: comma, decimal point, UTF-8
without byte-order mark), for programs, and "csv-excel", which a French spreadsheet opens right
with a double click (byte-order mark, semicolon, decimal comma). Numbers stay numbers in both:
511.5 hours are written `511.5` and `511,5`, never quoted; only a hidden cell ("< 11") is text.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

FORMATS = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "csv-excel": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: What the download buttons say, in the order they are offered.
LABELS = {
    "pdf": gettext_lazy("PDF"),
    "xlsx": gettext_lazy("Tableur (XLSX)"),
    "csv-excel": gettext_lazy("CSV (Excel)"),
    "csv": gettext_lazy("CSV"),
}
#: What each download is for, said to screen readers and in the button's tooltip.
HINTS = {
    "pdf": gettext_lazy("bilan anonymisé"),
    "xlsx": gettext_lazy("un onglet par tableau"),
    "csv-excel": gettext_lazy(
        "point-virgule et virgule décimale : s'ouvre d'un double clic dans un tableur en français"
    ),
    "csv": gettext_lazy(
        "format standard (virgule, point décimal) pour les traitements automatiques"
    ),
}
CSV_COLUMNS = ("indicator", "dimension", "label", "value", "suppressed")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
EXCEL_SUFFIX = "-excel"


def safe_text(value):
    """A value a spreadsheet shows as text, never runs (OWASP "CSV injection")."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def filename(report: dict, fmt: str) -> str:
    scope = report["scope"]
    name = slugify(scope.get("slug") or scope["name"])[:60] or "bilan"
    suffix = "" if report["anonymised"] else "-interne"
    if fmt == "csv-excel":
        return f"bilan-{name}-{report['period']['code']}{suffix}{EXCEL_SUFFIX}.csv"
    return f"bilan-{name}-{report['period']['code']}{suffix}.{fmt}"


def _csv_value(item: dict):
    return item["display"] if item["suppressed"] else item["value"]


def csv_rows(report: dict):
    """The tidy rows: one per figure (dimension "") and per cell of every table, each table
    ending with its "total" row: (indicator, dimension, label, value, suppressed). The
    dimension is the cell's code (a place's id, a commune's INSEE code: two places may share a
    name), the label what a person reads."""
    for figure in report["figures"]:
        yield (figure["key"], "", figure["label"], _csv_value(figure), figure["suppressed"])
    for table in report["tables"]:
        for row in table["rows"]:
            yield (table["key"], row["code"], row["label"], _csv_value(row), row["suppressed"])
        total = table["total"]
        yield (table["key"], "total", total["label"], _csv_value(total), total["suppressed"])


def _excel_number(value):
    """A number as a French spreadsheet reads it: 511.5 → "511,5" (written unquoted)."""
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    return value


def _write_csv(rows, *, excel: bool) -> bytes:
    out = io.StringIO()
    # QUOTE_MINIMAL: a number (or "511,5" under a semicolon) is never quoted.
    writer = csv.writer(out, delimiter=";" if excel else ",", lineterminator="\r\n")
    for row in rows:
        writer.writerow([_excel_number(value) for value in row] if excel else row)
    if excel:
        # The byte-order mark tells the spreadsheet the file is UTF-8: accents read right.
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    return out.getvalue().encode("utf-8")


def _tidy_rows(report: dict):
    yield CSV_COLUMNS
    for indicator, dimension, label, value, suppressed in csv_rows(report):
        yield [
            safe_text(indicator),
            safe_text(dimension),
            safe_text(label),
            safe_text(value) if isinstance(value, str) else value,
            "true" if suppressed else "false",
        ]


def render_csv(report: dict) -> bytes:
    """The tidy table as RFC 4180 CSV (comma, decimal point, no byte-order mark)."""
    return _write_csv(_tidy_rows(report), excel=False)


def render_csv_excel(report: dict) -> bytes:
    """The same table for a French spreadsheet: byte-order mark, semicolon, decimal comma."""
    return _write_csv(_tidy_rows(report), excel=True)


_DECIMAL = re.compile(r"^-?\d+\.\d+$")


def csv_to_excel(content: bytes) -> bytes:
    """An RFC 4180 CSV written by `render_csv` (an archived one, perhaps with the byte-order
    mark older files had) rewritten as `render_csv_excel` would have written it: the same cells,
    decimal numbers of the value column with a comma."""
    rows = list(csv.reader(io.StringIO(bytes(content).decode("utf-8-sig"))))
    if not rows:
        return _write_csv([], excel=True)
    header = rows[0]
    value_index = header.index("value") if "value" in header else None
    converted = [header]
    for row in rows[1:]:
        row = list(row)
        if value_index is not None and value_index < len(row) and _DECIMAL.match(row[value_index]):
            row[value_index] = float(row[value_index])
        converted.append(row)
    return _write_csv(converted, excel=True)


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
#: Number formats: counts with a thousands separator (shown "1 250" by a French spreadsheet),
#: decimals with one digit, dates and months in the spreadsheet's language.
COUNT_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.0"
DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
MONTH_FORMAT = "mmmm yyyy"
CHANGE_FORMAT = "+0%;-0%;0%"
#: Column widths (in characters) a sized column stays within.
MIN_WIDTH, MAX_WIDTH = 8, 80


def _ratio(value, previous):
    """The change as a number (shown as a percentage), None when it cannot be computed."""
    if not isinstance(value, int | float) or not isinstance(previous, int | float) or not previous:
        return None
    return round((value - previous) / previous, 3)


def _sheet_title(title: str, used: set[str]) -> str:
    """A sheet name from a title: forbidden characters out, cut at a word to the 31 characters
    spreadsheets allow. Tables have their own short names (`TableSpec.sheet`): this serves
    the fixed sheets and, in a frozen report, a table that no longer exists."""
    base = _SHEET_FORBIDDEN.sub(" ", title).strip() or "Tableau"
    if len(base) > 31:
        # Cut at a word, not in its middle.
        base = base[:31].rsplit(" ", 1)[0].rstrip(" ,;:'’-")
    name, n = base, 2
    while name.lower() in used:
        tail = f" ({n})"
        name = base[: 31 - len(tail)] + tail
        n += 1
    used.add(name.lower())
    return name


def sheet_name(table: dict) -> str:
    """The name of a table's sheet: the short name its specification gives."""
    from reports.indicators import TABLES

    spec = TABLES.get(table["key"])
    return str(spec.sheet) if spec is not None and spec.sheet else table["title"]


def _number_format(value) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return COUNT_FORMAT
    if isinstance(value, float):
        return DECIMAL_FORMAT
    return None


def _month(code: str) -> date | str:
    """The first day of a month cell ("2026-07"), so that the sheet holds a date."""
    try:
        return date(int(code[:4]), int(code[5:7]), 1)
    except (ValueError, IndexError):
        return code


def _cell_text(value) -> str:
    if isinstance(value, datetime):
        return "00/00/0000 00:00"
    if isinstance(value, date):
        return "00/00/0000"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _size_columns(sheet, *, first_row: int = 1) -> None:
    """Each column as wide as its longest value from `first_row` (the header: a title above
    it spills over the empty cells on its right), within MIN_WIDTH and MAX_WIDTH."""
    from openpyxl.utils import get_column_letter

    widths: dict[int, int] = {}
    for row in sheet.iter_rows(min_row=first_row):
        for cell in row:
            if cell.value is None:
                continue
            longest = max(len(line) for line in _cell_text(cell.value).splitlines() or [""])
            widths[cell.column] = max(widths.get(cell.column, 0), longest)
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(
            MAX_WIDTH, max(MIN_WIDTH, width + 2)
        )


def _header(sheet, values: list, bold) -> None:
    """Append the header row, in bold, and freeze the rows down to it."""
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    sheet.freeze_panes = f"A{sheet.max_row + 1}"


def _local_datetime(text: str | None) -> datetime | None:
    """An ISO date-time as the naive local time a spreadsheet holds (no time zones there)."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        return None


def render_xlsx(report: dict) -> bytes:
    """One sheet for the key figures and the scope, one per table, one for the places, one
    for the method. Every sheet has its own meaningful name, its header row frozen and its
    columns sized; numbers are numbers (with a number format), dates are dates, a hidden cell
    is its mark ("< 11")."""
    from datetime import timedelta

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from reports.indicators import DIMENSIONS

    bold = Font(bold=True)
    workbook = Workbook()
    used: set[str] = set()

    def cell_value(item: dict):
        return safe_text(item["display"]) if item["suppressed"] else item["value"]

    def format_numbers(row, columns) -> None:
        for column in columns:
            cell = row[column - 1]
            number_format = _number_format(cell.value)
            if number_format:
                cell.number_format = number_format

    sheet = workbook.active
    sheet.title = _sheet_title(_("Chiffres clés"), used)
    scope, period = report["scope"], report["period"]
    sheet.append([safe_text(report["title"])])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([_("Périmètre"), safe_text(scope["name"])])
    sheet.append([_("Période"), period["label"]])
    first_day = date.fromisoformat(period["start"])
    last_day = date.fromisoformat(period["end"]) - timedelta(days=1)
    for label, day in ((_("Du"), first_day), (_("Au"), last_day)):
        sheet.append([label, day])
        sheet.cell(row=sheet.max_row, column=2).number_format = DATE_FORMAT
    if period.get("in_progress"):
        sheet.append(["", _("Période en cours : chiffres partiels.")])
    sheet.append(
        [
            _("Diffusion"),
            _("Données anonymisées (seuil k = %(k)s)") % {"k": report["k"]}
            if report["anonymised"]
            else _("Chiffres exacts — usage interne"),
        ]
    )
    generated_at = _local_datetime(report.get("generated_at"))
    if generated_at is not None:
        sheet.append([_("Calculé le"), generated_at])
        sheet.cell(row=sheet.max_row, column=2).number_format = DATETIME_FORMAT
    for row in sheet.iter_rows(min_row=2, max_col=2):
        row[1].alignment = Alignment(horizontal="left")
    sheet.append([])
    previous = report.get("previous_period")
    header = [_("Indicateur"), _("Valeur")]
    if previous:
        header += [previous["label"], _("Évolution")]
    _header(sheet, header, bold)
    for figure in report["figures"]:
        row = [safe_text(figure["label"]), cell_value(figure)]
        if previous:
            before = figure.get("previous_value")
            if before is None and figure.get("previous"):
                before = safe_text(figure["previous"])  # hidden then: its mark
            row += [before, _ratio(figure.get("value"), figure.get("previous_value"))]
        sheet.append(row)
        format_numbers(sheet[sheet.max_row], (2, 3) if previous else (2,))
        if previous:
            sheet.cell(row=sheet.max_row, column=4).number_format = CHANGE_FORMAT
    # From the scope's name down: the report's title spills over the empty cells.
    _size_columns(sheet, first_row=2)

    for table in report["tables"]:
        sheet = workbook.create_sheet(_sheet_title(sheet_name(table), used))
        sheet.append([safe_text(table["title"])])
        sheet["A1"].font = Font(bold=True, size=13)
        if table["note"]:
            sheet.append([safe_text(table["note"])])
        months = DIMENSIONS.get(table["key"]) == "month"
        first_column = _("Mois") if months else _("Catégorie")
        _header(sheet, [first_column, table["unit"].capitalize(), _("Part (%)")], bold)
        header_row = sheet.max_row
        for row in table["rows"]:
            category = _month(row["code"]) if months else safe_text(row["label"])
            sheet.append([category, cell_value(row), row["percent"]])
            line = sheet[sheet.max_row]
            if isinstance(category, date):
                line[0].number_format = MONTH_FORMAT
                line[0].alignment = Alignment(horizontal="left")
            format_numbers(line, (2,))
            if isinstance(row["percent"], int | float):
                line[2].number_format = DECIMAL_FORMAT
        sheet.append([_("Total"), cell_value(table["total"]), None])
        format_numbers(sheet[sheet.max_row], (2,))
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for row in sheet.iter_rows(min_row=header_row, min_col=2, max_col=3):
            for cell in row:
                cell.alignment = Alignment(horizontal="right")
        _size_columns(sheet, first_row=header_row)

    if report["places"]:
        sheet = workbook.create_sheet(_sheet_title(_("Lieux"), used))
        _header(sheet, [_("Lieu"), _("Commune"), _("QPV"), _("FRR")], bold)
        for place in report["places"]:
            sheet.append(
                [
                    safe_text(place["name"]),
                    safe_text(place["commune"]),
                    _("oui") if place["is_qpv"] else _("non"),
                    _("oui") if place["is_rural"] else _("non"),
                ]
            )
        _size_columns(sheet)

    sheet = workbook.create_sheet(_sheet_title(_("Méthode"), used))
    for paragraph in report["method_note"]:
        sheet.append([safe_text(paragraph)])
    for mark, meaning in report.get("legend", {}).items():
        sheet.append([safe_text(f"« {mark} » : {meaning}")])
    # Paragraphs: one wide column, wrapped.
    sheet.column_dimensions["A"].width = 120
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    workbook.properties.title = f"{report['title']} — {scope['name']} — {period['label']}"
    workbook.properties.creator = "Permanence"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def render(report: dict, fmt: str) -> bytes:
    if fmt == "csv":
        return render_csv(report)
    if fmt == "csv-excel":
        return render_csv_excel(report)
    if fmt == "xlsx":
        return render_xlsx(report)
    if fmt == "pdf":
        from reports.pdf import render_pdf

        return render_pdf(report)
    raise ValueError(f"Unknown format: {fmt}")
