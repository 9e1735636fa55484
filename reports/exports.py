"""The published report (reports.publish) as CSV, XLSX and PDF files.

Every export is written from the published dict only: an anonymised report's hidden cells are
not in it, so no export can leak them. Text that a spreadsheet would run as a formula (a cell
starting with =, +, -, @, or a tab or carriage return) is neutralised with a leading
apostrophe: place names and labels are typed by users.
"""

from __future__ import annotations

import csv
import io
import re

from django.utils.text import slugify
from django.utils.translation import gettext as _

FORMATS = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CSV_COLUMNS = ("indicator", "dimension", "label", "value", "suppressed")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_text(value):
    """A value a spreadsheet shows as text, never runs (OWASP "CSV injection")."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def filename(report: dict, fmt: str) -> str:
    scope = report["scope"]
    name = slugify(scope.get("slug") or scope["name"])[:60] or "bilan"
    suffix = "" if report["anonymised"] else "-interne"
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


def render_csv(report: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for indicator, dimension, label, value, suppressed in csv_rows(report):
        writer.writerow(
            [
                safe_text(indicator),
                safe_text(dimension),
                safe_text(label),
                safe_text(value) if isinstance(value, str) else value,
                "true" if suppressed else "false",
            ]
        )
    # A byte-order mark: spreadsheets then read the accents right.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _ratio(value, previous):
    """The change as a number (shown as a percentage), None when it cannot be computed."""
    if not isinstance(value, int | float) or not isinstance(previous, int | float) or not previous:
        return None
    return round((value - previous) / previous, 3)


def _sheet_title(title: str, used: set[str]) -> str:
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


def render_xlsx(report: dict) -> bytes:
    """One sheet for the key figures and the scope, one per table, one for the method."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    workbook = Workbook()
    used: set[str] = set()

    def cell_value(item: dict):
        return safe_text(item["display"]) if item["suppressed"] else item["value"]

    sheet = workbook.active
    sheet.title = _sheet_title(_("Chiffres clés"), used)
    scope, period = report["scope"], report["period"]
    sheet.append([safe_text(report["title"])])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([_("Périmètre"), safe_text(scope["name"])])
    dates = period.get("dates") or f"{period['start']} – {period['end']}"
    sheet.append([_("Période"), f"{period['label']} ({dates})"])
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
    sheet.append([])
    previous = report.get("previous_period")
    header = [_("Indicateur"), _("Valeur")]
    if previous:
        header += [previous["label"], _("Évolution")]
    sheet.append(header)
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for figure in report["figures"]:
        row = [safe_text(figure["label"]), cell_value(figure)]
        if previous:
            before = figure.get("previous_value")
            if before is None and figure.get("previous"):
                before = safe_text(figure["previous"])  # hidden then: its mark
            row += [before, _ratio(figure.get("value"), figure.get("previous_value"))]
        sheet.append(row)
        if previous:
            sheet.cell(row=sheet.max_row, column=4).number_format = "+0%;-0%;0%"
    sheet.column_dimensions["A"].width = 48
    for column in "BCD":
        sheet.column_dimensions[column].width = 16

    for table in report["tables"]:
        sheet = workbook.create_sheet(_sheet_title(table["title"], used))
        sheet.append([safe_text(table["title"])])
        sheet["A1"].font = Font(bold=True, size=13)
        if table["note"]:
            sheet.append([safe_text(table["note"])])
        sheet.append([_("Catégorie"), table["unit"].capitalize(), _("Part (%)")])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        sheet.freeze_panes = f"A{sheet.max_row + 1}"
        for row in table["rows"]:
            sheet.append([safe_text(row["label"]), cell_value(row), row["percent"]])
        sheet.append([_("Total"), cell_value(table["total"]), None])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        sheet.column_dimensions["A"].width = 48
        sheet.column_dimensions["B"].width = 16
        sheet.column_dimensions["C"].width = 12
        for row in sheet.iter_rows(min_row=2, min_col=2, max_col=3):
            for cell in row:
                cell.alignment = Alignment(horizontal="right")

    if report["places"]:
        sheet = workbook.create_sheet(_sheet_title(_("Lieux"), used))
        sheet.append([_("Lieu"), _("Commune"), _("QPV"), _("FRR")])
        for cell in sheet[1]:
            cell.font = bold
        for place in report["places"]:
            sheet.append(
                [
                    safe_text(place["name"]),
                    safe_text(place["commune"]),
                    _("oui") if place["is_qpv"] else _("non"),
                    _("oui") if place["is_rural"] else _("non"),
                ]
            )
        sheet.column_dimensions["A"].width = 40
        sheet.column_dimensions["B"].width = 28

    sheet = workbook.create_sheet(_sheet_title(_("Méthode"), used))
    for paragraph in report["method_note"]:
        sheet.append([safe_text(paragraph)])
    for mark, meaning in report.get("legend", {}).items():
        sheet.append([safe_text(f"« {mark} » : {meaning}")])
    sheet.column_dimensions["A"].width = 120
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index in range(1, 2):
        sheet.column_dimensions[get_column_letter(index)].width = 120

    workbook.properties.title = f"{report['title']} — {scope['name']} — {period['label']}"
    workbook.properties.creator = "Permanence"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def render(report: dict, fmt: str) -> bytes:
    if fmt == "csv":
        return render_csv(report)
    if fmt == "xlsx":
        return render_xlsx(report)
    if fmt == "pdf":
        from reports.pdf import render_pdf

        return render_pdf(report)
    raise ValueError(f"Unknown format: {fmt}")
