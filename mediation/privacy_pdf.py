"""The right-of-access export as a PDF a person can read (French), from `resident_data()`.

Drawn with reportlab's Helvetica, whose WinAnsi encoding covers French; characters outside it
are replaced rather than lost silently."""

from __future__ import annotations

import io
from datetime import date, datetime
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from mediation.privacy import exported

# Internal values, kept in the JSON: ids and the pseudonymous key of the reports.
HIDDEN_IN_PDF = {"id", "structure", "history_id", "is_anonymous", "report_key"}


def _sections() -> list[tuple[str, str, set[str]]]:
    """(key, title, fields hidden) of each section, in order: the record, the sections the apps
    declare (`Export` in mediation.privacy), the record's history."""
    return [
        ("resident", "Votre fiche", HIDDEN_IN_PDF),
        *(
            (e.export.key, e.export.title, HIDDEN_IN_PDF | set(e.export.hidden_in_pdf))
            for e in exported()
        ),
        ("history", "Historique des modifications de votre fiche", HIDDEN_IN_PDF),
    ]


def _text(value) -> str:
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, dict) and "label" in value:
        return str(value["label"])
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if len(value) == 10:
            return date.fromisoformat(value).strftime("%d/%m/%Y")
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return moment.strftime("%d/%m/%Y %H:%M")
    text = str(value)
    # WinAnsi: replace what Helvetica cannot draw.
    return text.encode("cp1252", errors="replace").decode("cp1252")


def _first_upper(text: str) -> str:
    # Not str.capitalize(): it lowercases the rest ("code INSEE" → "code insee").
    return text[:1].upper() + text[1:]


def render_resident_pdf(data: dict, *, structure_name: str) -> bytes:
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=9, leading=11)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title="Vos données personnelles",
        author=_text(structure_name),
        lang="fr-FR",
    )
    # By section: the same field name means different things ("title" of a workshop, of a case).
    field_labels = data.get("field_labels", {})
    story = [
        Paragraph("Vos données personnelles", styles["Title"]),
        Paragraph(
            escape(
                _text(
                    f"Données conservées par {structure_name} à votre sujet, "
                    f"au {_text(data['generated_at'])}. Vous pouvez demander leur "
                    "rectification ou leur effacement, ou vous opposer à leur traitement, "
                    "auprès de la structure."
                )
            ),
            styles["BodyText"],
        ),
        Spacer(1, 6 * mm),
    ]

    def block(row: dict, hidden: set[str], labels: dict[str, str]) -> Table:
        lines = [
            [
                Paragraph(escape(_first_upper(_text(labels.get(name, name)))), small),
                Paragraph(escape(_text(value)), small),
            ]
            for name, value in row.items()
            if name not in hidden and _text(value)
        ] or [[Paragraph("—", small), Paragraph("", small)]]
        table = Table(lines, colWidths=[55 * mm, 119 * mm])
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BOX", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("LINEBELOW", (0, 0), (-1, -2), 0.25, colors.lightgrey),
                    ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ]
            )
        )
        return table

    for key, title, hidden in _sections():
        rows = data.get(key)
        if rows is None:
            continue
        rows = [rows] if isinstance(rows, dict) else rows
        story.append(Paragraph(escape(title), styles["Heading2"]))
        if not rows:
            story.append(Paragraph("Aucun.", styles["BodyText"]))
        for row in rows:
            story += [block(row, hidden, field_labels.get(key, {})), Spacer(1, 3 * mm)]
    doc.build(story)
    return buffer.getvalue()
