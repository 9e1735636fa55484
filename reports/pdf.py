"""The activity report as a PDF (A4 portrait, French), drawn from the published report dict
(`reports.publish`) and from nothing else: what the dict hides, the PDF cannot show.

Pages: a cover (scope, period, generation date, and whether the figures are anonymised or exact
for internal use); the key figures (big numbers with the previous period and the change) and
every figure in a table; one section per table, with its chart when it has one (a line for the
monthly trends, horizontal bars for the breakdowns) and always the table itself (label,
displayed value, percentage), long tables running over pages under a repeated header; the
places with their QPV/FRR flags; the method note and the legend of the signs. Every page ends
with the scope, the period and "n / N".

Hidden cells ("< 11", "s") are never drawn as bars or points: they are listed as masked under
the chart, and shown as such in the table.

Drawn with reportlab's standard Helvetica (nothing to embed, works offline): its WinAnsi
encoding covers French (accents, « », œ, ’, …); anything beyond it is transliterated (narrow
no-break space → no-break space, minus sign → hyphen). Charts are plain reportlab.graphics
drawings laid out here, so that labels never overlap: long labels wrap on two lines, a bar
chart of more than `MAX_BARS` rows shows the largest ones (the table has them all), and month
labels thin out when there is no room. The palette is Okabe–Ito (colour-blind safe) and no
meaning rests on colour alone. reportlab cannot write a tagged (accessible) PDF; the HTML and
CSV exports are the accessible forms of the same figures."""

from __future__ import annotations

import io
import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from mediation.dates import day_label
from reports import charts

REGULAR = "Helvetica"
BOLD = "Helvetica-Bold"
ITALIC = "Helvetica-Oblique"

INK = colors.HexColor("#1A1A1A")
MUTED = colors.HexColor("#4D4D4D")  # 8.5:1 on white
NAVY = colors.HexColor("#1F3A5F")
RULE = colors.HexColor("#B3B3B3")
GRID = colors.HexColor("#E3E3E3")
HEADER_BG = colors.HexColor("#DCE6F2")
ZEBRA = colors.HexColor("#F5F7FA")
MASKED_BG = colors.HexColor("#EFEFEF")
CARD_BG = colors.HexColor("#EEF3F9")
NOTICE_BG = colors.HexColor("#FFF4E0")
# Okabe–Ito: blue for bars, vermillion for lines (both ≥ 3:1 against white).
BAR = colors.HexColor("#0072B2")
LINE = colors.HexColor("#D55E00")

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 16 * mm
MARGIN_BOTTOM = 20 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X
FRAME_HEIGHT = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

MAX_BARS = 20
MAX_MASKED_LISTED = 12
CHART_FONT = 8
MONTH_ABBREVIATIONS = (
    "janv.", "févr.", "mars", "avr.", "mai", "juin",
    "juil.", "août", "sept.", "oct.", "nov.", "déc.",
)  # fmt: skip
_MONTH_CODE = re.compile(r"^(\d{4})-(\d{2})$")
NBSP = "\xa0"
NO_PERCENT = "—"

# --- Text -----------------------------------------------------------------------------------

_REPLACEMENTS = {
    "\u202f": NBSP,  # narrow no-break space (French thousands, before %)
    "\u2009": " ",
    "\u2212": "-",  # minus sign
    "\u2010": "-",
    "\u2011": "-",
    "\u2264": "<=",
    "\u2265": ">=",
}


def _text(value) -> str:
    """Text that the standard fonts can draw (WinAnsi): other characters are replaced,
    decomposed (ŝ → s) or dropped."""
    text = str(value if value is not None else "")
    out = []
    for char in text:
        char = _REPLACEMENTS.get(char, char)
        if len(char) == 1 and not char.isascii():
            try:
                char.encode("cp1252")
            except UnicodeEncodeError:
                char = unicodedata.normalize("NFKD", char).encode("cp1252", "ignore")
                char = char.decode("cp1252") or "?"
        out.append(char)
    return "".join(out)


def _number(value: float) -> str:
    return f"{round(value):,}".replace(",", NBSP)


def _percent(value) -> str:
    if value is None:
        return NO_PERCENT
    return f"{value:.1f}".replace(".", ",") + NBSP + "%"


def _dates(period: dict) -> str:
    start = date.fromisoformat(period["start"])
    last = date.fromisoformat(period["end"]) - timedelta(days=1)
    if start == last:
        return _("le %(day)s") % {"day": day_label(start)}
    return _("du %(start)s au %(end)s") % {"start": day_label(start), "end": day_label(last)}


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _generated(report: dict) -> str:
    try:
        moment = datetime.fromisoformat(report["generated_at"])
    except (KeyError, TypeError, ValueError):
        return ""
    return _("%(day)s à %(time)s") % {"day": day_label(moment.date()), "time": f"{moment:%H:%M}"}


def _fit(text: str, font: str, size: float, width: float) -> str:
    """`text` cut with an ellipsis so that it fits in `width`."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _lines(text: str, font: str, size: float, width: float, most: int = 2) -> list[str]:
    lines = simpleSplit(text, font, size, width) or [""]
    if len(lines) > most:
        lines = [*lines[: most - 1], _fit(" ".join(lines[most - 1 :]), font, size, width)]
    return [_fit(line, font, size, width) for line in lines]


# --- Styles ---------------------------------------------------------------------------------


def _style(name: str, size: float, font: str = REGULAR, color=INK, **kwargs) -> ParagraphStyle:
    kwargs.setdefault("leading", size * 1.3)
    return ParagraphStyle(name, fontName=font, fontSize=size, textColor=color, **kwargs)


STYLES = {
    "cover_title": _style("cover_title", 30, BOLD, NAVY, leading=36, spaceAfter=10),
    "cover_scope": _style("cover_scope", 20, BOLD, leading=25, spaceAfter=4),
    "cover_line": _style("cover_line", 12, color=MUTED, spaceAfter=2),
    "cover_period": _style("cover_period", 18, BOLD, NAVY, leading=23, spaceAfter=3),
    "notice_title": _style("notice_title", 12, BOLD, spaceAfter=3),
    "h1": _style("h1", 17, BOLD, NAVY, leading=21, spaceAfter=8, keepWithNext=True),
    "h2": _style("h2", 12.5, BOLD, NAVY, leading=15, spaceBefore=4, spaceAfter=2),
    "body": _style("body", 9.5, leading=13, spaceAfter=5),
    "meta": _style("meta", 8.5, color=MUTED, leading=11, spaceAfter=2),
    "note": _style("note", 8.5, ITALIC, MUTED, leading=11, spaceAfter=3),
    "cell": _style("cell", 8.5, leading=10.5),
    "cell_bold": _style("cell_bold", 8.5, BOLD, leading=10.5),
    "card_value": _style("card_value", 24, BOLD, NAVY, leading=28),
    "card_label": _style("card_label", 9.5, BOLD, leading=12),
    "card_previous": _style("card_previous", 8, color=MUTED, leading=10),
    "cell_bold_right": _style("cell_bold_right", 8.5, BOLD, alignment=TA_RIGHT, leading=10.5),
    "cell_bold_center": _style("cell_bold_center", 8.5, BOLD, alignment=TA_CENTER, leading=10.5),
}


def _p(text, style: str) -> Paragraph:
    return Paragraph(escape(_text(text)), STYLES[style])


# --- Pages ----------------------------------------------------------------------------------


def _canvas_class(left: str, notice: str):
    """A canvas that holds its pages back until the end, to print "n / N" on each."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                Canvas.showPage(self)
            Canvas.save(self)

        def _footer(self, total: int) -> None:
            number = f"{self._pageNumber} / {total}"
            y = MARGIN_BOTTOM - 9 * mm
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN_X, y + 11, PAGE_WIDTH - MARGIN_X, y + 11)
            self.setFillColor(MUTED)
            self.setFont(BOLD, 8)
            self.drawRightString(PAGE_WIDTH - MARGIN_X, y, number)
            room = CONTENT_WIDTH - stringWidth(number, BOLD, 8) - 12
            self.setFont(REGULAR, 8)
            self.drawString(MARGIN_X, y, _fit(left, REGULAR, 8, room))
            self.setFont(REGULAR, 7)
            self.drawString(MARGIN_X, y - 9, _fit(notice, REGULAR, 7, room))
            self.restoreState()

    return NumberedCanvas


def _cover_decoration(canvas: Canvas, doc) -> None:
    canvas.saveState()
    canvas.setFillColor(NAVY)
    canvas.rect(0, PAGE_HEIGHT - 12 * mm, PAGE_WIDTH, 12 * mm, stroke=0, fill=1)
    canvas.setFillColor(BAR)
    canvas.rect(0, PAGE_HEIGHT - 14 * mm, PAGE_WIDTH, 2 * mm, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    canvas.setFont(BOLD, 11)
    canvas.drawString(MARGIN_X, PAGE_HEIGHT - 7.8 * mm, "Permanence")
    canvas.restoreState()


def _notice(report: dict) -> tuple[str, str]:
    """(the cover's heading, its explanation) for anonymised or exact figures."""
    if report.get("anonymised"):
        k = report.get("k") or 11
        return (
            _("Données anonymisées (seuil k = %(k)s)") % {"k": k},
            _(
                "Aucun nom, aucune note ni aucun texte libre. Les effectifs inférieurs à "
                "%(k)s sont masqués (« < %(k)s »), les autres arrondis au hasard de quelques "
                "unités, toujours de la même façon : voir la note de méthode."
            )
            % {"k": k},
        )
    return (
        _("Chiffres exacts — usage interne"),
        _(
            "Ce document donne les effectifs exacts, même les plus petits : il ne doit pas être "
            "transmis en dehors de la structure. Pour un financeur, produisez la version "
            "anonymisée."
        ),
    )


KIND_LABELS = {
    "structure": lambda: _("Structure"),
    "network": lambda: _("Réseau"),
    "place": lambda: _("Lieu d'activité"),
}


def _cover(report: dict) -> list:
    scope = report.get("scope") or {}
    period = report["period"]
    story = [
        Spacer(1, 28 * mm),
        _p(report.get("title") or _("Bilan d'activité"), "cover_title"),
        _p(scope.get("name", ""), "cover_scope"),
    ]
    kind = KIND_LABELS.get(scope.get("kind"))
    if kind:
        story.append(_p(kind(), "cover_line"))
    if scope.get("network"):
        story.append(_p(_("Réseau : %(name)s") % {"name": scope["network"]}, "cover_line"))
    story += [
        Spacer(1, 12 * mm),
        _p(_capitalised(period["label"]), "cover_period"),
        _p(_dates(period), "cover_line"),
    ]
    if period.get("in_progress"):
        story.append(
            _p(
                _("Période en cours : chiffres partiels, arrêtés à la date du document."),
                "cover_line",
            )
        )
    previous = report.get("previous_period")
    if previous:
        story.append(
            _p(
                _("Comparé à la période précédente : %(label)s") % {"label": previous["label"]},
                "cover_line",
            )
        )
    title, text = _notice(report)
    box = Table(
        [[_p(title, "notice_title")], [_p(text, "body")]],
        colWidths=[CONTENT_WIDTH],
        style=TableStyle(
            [
                (
                    "BACKGROUND",
                    (0, 0),
                    (-1, -1),
                    NOTICE_BG if not report.get("anonymised") else CARD_BG,
                ),
                ("LINEBEFORE", (0, 0), (0, -1), 4, LINE if not report.get("anonymised") else BAR),
                ("LEFTPADDING", (0, 0), (-1, -1), 12),
                ("RIGHTPADDING", (0, 0), (-1, -1), 12),
                ("TOPPADDING", (0, 0), (-1, 0), 10),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 8),
            ]
        ),
    )
    story += [Spacer(1, 14 * mm), box, Spacer(1, 10 * mm)]
    generated = _generated(report)
    if generated:
        story.append(_p(_("Produit par Permanence le %(date)s.") % {"date": generated}, "meta"))
    sections = [
        _("Chiffres clés"),
        _("Graphiques et tableaux (%(count)s)") % {"count": len(report.get("tables") or [])},
        _("Lieux d'activité (%(count)s)") % {"count": len(report.get("places") or [])},
        _("Note de méthode"),
    ]
    story += [
        Spacer(1, 6 * mm),
        _p(_("Contenu"), "notice_title"),
        *[_p(f"• {section}", "body") for section in sections],
    ]
    return story


# --- Key figures ----------------------------------------------------------------------------


def _previous_line(figure: dict, previous_label: str) -> str:
    previous = figure.get("previous")
    if not previous_label:
        return ""
    if previous is None:
        return _("%(period)s : non disponible") % {"period": _capitalised(previous_label)}
    line = f"{_capitalised(previous_label)} : {previous}"
    if figure.get("change"):
        line += f" ({figure['change']})"
    return line


def _key_figures(report: dict) -> list:
    figures = report.get("figures") or []
    by_key = {figure["key"]: figure for figure in figures}
    previous_label = (report.get("previous_period") or {}).get("label", "")
    story = [_p(_("Chiffres clés"), "h1")]
    intro = _capitalised(report["period"]["label"])
    if previous_label:
        intro += _(", comparé au %(label)s (valeur et évolution).") % {"label": previous_label}
    story.append(_p(intro, "meta"))
    story.append(Spacer(1, 3 * mm))

    cards = []
    for key in report.get("key_figures") or []:
        figure = by_key.get(key)
        if figure is None:
            continue
        cell = [_p(figure["display"], "card_value"), _p(figure["label"], "card_label")]
        if figure.get("suppressed"):
            cell.append(_p(_("Masqué (effectif trop petit)"), "card_previous"))
        previous = _previous_line(figure, previous_label)
        if previous:
            cell.append(_p(previous, "card_previous"))
        cards.append(cell)
    if cards:
        columns = 3
        grid = [cards[i : i + columns] for i in range(0, len(cards), columns)]
        grid[-1] += [""] * (columns - len(grid[-1]))
        story.append(
            Table(
                grid,
                colWidths=[CONTENT_WIDTH / columns] * columns,
                style=TableStyle(
                    [
                        ("BACKGROUND", (0, 0), (-1, -1), CARD_BG),
                        ("GRID", (0, 0), (-1, -1), 5, colors.white),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 10),
                        ("TOPPADDING", (0, 0), (-1, -1), 9),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
                    ]
                ),
            )
        )
        story.append(Spacer(1, 6 * mm))

    if figures:
        story.append(_p(_("Tous les indicateurs"), "h2"))
        header = [
            _("Indicateur"),
            _("Valeur"),
            _capitalised(previous_label) if previous_label else _("Période précédente"),
            _("Évolution"),
        ]
        widths = [CONTENT_WIDTH - 3 * 70, 70, 70, 70]
        rows = [_header(header, widths, "lrrr")]
        masked = []
        for index, figure in enumerate(figures, start=1):
            rows.append(
                [
                    _p(figure["label"], "cell"),
                    _text(figure["display"]),
                    _text(figure.get("previous") or NO_PERCENT),
                    _text(figure.get("change") or NO_PERCENT),
                ]
            )
            if figure.get("suppressed"):
                masked.append(index)
        story.append(_grid_table(rows, widths, masked_rows=masked))
    return story


# --- Tables ---------------------------------------------------------------------------------


def _grid_table(rows: list, widths: list[float], *, masked_rows=(), total_row=False) -> Table:
    """A data table: header row repeated on every page, numbers right-aligned, masked rows on
    grey, the total row in bold."""
    style = [
        ("FONT", (0, 0), (-1, -1), REGULAR, 8.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("FONT", (0, 0), (-1, 0), BOLD, 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, ZEBRA]),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, NAVY),
        ("LINEBELOW", (0, -1), (-1, -1), 0.5, RULE),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
    ]
    for index in masked_rows:
        style.append(("BACKGROUND", (0, index), (-1, index), MASKED_BG))
    if total_row:
        style += [
            ("FONT", (0, -1), (-1, -1), BOLD, 8.5),
            ("LINEABOVE", (0, -1), (-1, -1), 0.8, NAVY),
            ("BACKGROUND", (0, -1), (-1, -1), colors.white),
        ]
    return Table(rows, colWidths=widths, repeatRows=1, style=TableStyle(style), hAlign="LEFT")


def _header(cells: list[str], widths: list[float], aligns: str) -> list:
    """The header row: bold, each cell aligned as its column ("l", "r", "c")."""
    styles = {"l": "cell_bold", "r": "cell_bold_right", "c": "cell_bold_center"}
    return [
        _cell_label(cell, width, styles[align])
        for cell, width, align in zip(cells, widths, aligns, strict=True)
    ]


def _cell_label(label: str, width: float, style: str = "cell"):
    """A plain string when it fits on one line (cheaper, and one text line per row), a
    wrapping paragraph otherwise."""
    text = _text(label)
    font = BOLD if style.startswith("cell_bold") else REGULAR
    if stringWidth(text, font, 8.5) <= width - 12:
        return text
    return Paragraph(escape(text), STYLES[style])


def _data_table(table: dict) -> Table:
    is_trend = table.get("chart") == "line"
    widths = [CONTENT_WIDTH - 2 * 95, 95, 95]
    header = [
        _("Mois") if is_trend else _("Libellé"),
        _capitalised(table.get("unit") or _("Effectif")),
        _("Part"),
    ]
    rows = [_header(header, widths, "lrr")]
    masked = []
    for index, row in enumerate(table.get("rows") or [], start=1):
        rows.append(
            [
                _cell_label(row["label"], widths[0]),
                _text(row["display"]),
                NO_PERCENT if row.get("suppressed") else _percent(row.get("percent")),
            ]
        )
        if row.get("suppressed"):
            masked.append(index)
    total = table.get("total")
    if total:
        rows.append(
            [
                _cell_label(total.get("label") or _("Total"), widths[0], "cell_bold"),
                _text(total["display"]),
                "",
            ]
        )
    return _grid_table(rows, widths, masked_rows=masked, total_row=bool(total))


# --- Charts ---------------------------------------------------------------------------------


def _ticks(maximum: float, count: int = 4) -> list[float]:
    """Round axis ticks from 0 to at least `maximum` (counts: steps of at least 1)."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(step, 1)
    steps = math.ceil(maximum / step - 1e-9)
    return [i * step for i in range(steps + 1)]


def _string(x, y, text, *, size=CHART_FONT, font=REGULAR, color=INK, anchor="start") -> String:
    return String(x, y, text, fontName=font, fontSize=size, fillColor=color, textAnchor=anchor)


def _drawn_rows(table: dict) -> tuple[list[dict], list[dict]]:
    """(rows drawn, rows masked): hidden cells are never drawn. A bar chart's rows come in the
    order of its bars (`charts.bar_order`: by value, catch-alls last), a line's by month."""
    drawn, masked = [], []
    rows = charts.bar_order(table) if table.get("chart") == "bar" else table.get("rows") or []
    for row in rows:
        if row.get("suppressed") or row.get("value") is None:
            masked.append(row)
        else:
            drawn.append(row)
    return drawn, masked


def _bar_chart(table: dict, width: float = CONTENT_WIDTH) -> tuple[Drawing | None, str]:
    """Horizontal bars, one per published row, the value at the end of each bar."""
    rows, _masked = _drawn_rows(table)
    if not rows:
        return None, ""
    caption = ""
    if len(rows) > MAX_BARS:
        caption = _(
            "Le graphique montre les %(shown)s plus grandes valeurs sur %(count)s ; le tableau "
            "les donne toutes."
        ) % {"shown": MAX_BARS, "count": len(rows)}
        rows = rows[:MAX_BARS]
    labels = [_text(row["label"]) for row in rows]
    displays = [_text(row["display"]) for row in rows]
    widest = max(stringWidth(label, REGULAR, CHART_FONT) for label in labels)
    label_width = min(widest + 2, width * 0.38)
    wrapped = [_lines(label, REGULAR, CHART_FONT, label_width) for label in labels]
    value_width = max(stringWidth(text, REGULAR, CHART_FONT) for text in displays) + 8
    plot_x = label_width + 8
    plot_width = width - plot_x - value_width
    ticks = _ticks(max(row["value"] for row in rows))
    top = ticks[-1]
    leading = CHART_FONT + 1.5
    heights = [max(15, len(lines) * leading + 5) for lines in wrapped]
    axis = 13
    height = sum(heights) + axis + 2
    drawing = Drawing(width, height)
    for tick in ticks:
        x = plot_x + plot_width * tick / top
        drawing.add(Line(x, axis, x, height, strokeColor=GRID, strokeWidth=0.6))
        anchor = "end" if tick == top and x + 12 > width else "middle"
        drawing.add(_string(x, axis - 9, _number(tick), size=7, color=MUTED, anchor=anchor))
    y = height
    for row, lines, display, row_height in zip(rows, wrapped, displays, heights, strict=True):
        middle = y - row_height / 2
        bar = plot_width * row["value"] / top
        if bar > 0:
            drawing.add(Rect(plot_x, middle - 4.5, bar, 9, fillColor=BAR, strokeColor=None))
        drawing.add(_string(plot_x + bar + 3, middle - 2.8, display))
        first = middle + (len(lines) - 1) * leading / 2 - 2.8
        for index, line in enumerate(lines):
            drawing.add(_string(label_width, first - index * leading, line, anchor="end"))
        y -= row_height
    drawing.add(Line(plot_x, axis, plot_x, height, strokeColor=MUTED, strokeWidth=0.8))
    return drawing, caption


def _month_label(row: dict) -> tuple[str, str]:
    """("juil.", "2026") for a month row, (its label, "") otherwise."""
    match = _MONTH_CODE.match(str(row.get("code", "")))
    if match and 1 <= int(match[2]) <= 12:
        return MONTH_ABBREVIATIONS[int(match[2]) - 1], match[1]
    return _text(row.get("label", "")), ""


def _line_chart(table: dict, width: float = CONTENT_WIDTH) -> tuple[Drawing | None, str]:
    """The monthly trend: one point per published month, the line broken at hidden months."""
    rows = table.get("rows") or []
    drawn, _masked = _drawn_rows(table)
    if not drawn:
        return None, ""
    height, left, right, bottom, top_margin = 175, 46, 10, 30, 16
    plot_width = width - left - right
    plot_height = height - bottom - top_margin
    ticks = _ticks(max(row["value"] for row in drawn))
    top = ticks[-1]
    drawing = Drawing(width, height)
    for tick in ticks:
        y = bottom + plot_height * tick / top
        drawing.add(Line(left, y, width - right, y, strokeColor=GRID, strokeWidth=0.6))
        drawing.add(_string(left - 5, y - 2.5, _number(tick), size=7, color=MUTED, anchor="end"))
    drawing.add(Line(left, bottom, width - right, bottom, strokeColor=MUTED, strokeWidth=0.8))

    step = plot_width / len(rows)
    labels = [_month_label(row) for row in rows]
    widest = max(stringWidth(label, REGULAR, 7.5) for label, _year in labels)
    every = max(1, math.ceil((widest + 6) / step))
    previous_year = None
    points: list[tuple[float, float, str] | None] = []
    for index, (row, (label, year)) in enumerate(zip(rows, labels, strict=True)):
        x = left + step * (index + 0.5)
        if index % every == 0:
            if not year:
                label = _fit(label, REGULAR, 7.5, step * every - 4)
            drawing.add(_string(x, bottom - 11, label, size=7.5, anchor="middle"))
            if year and year != previous_year:
                drawing.add(_string(x, bottom - 21, year, size=7, color=MUTED, anchor="middle"))
                previous_year = year
        if row.get("suppressed") or row.get("value") is None:
            points.append(None)
        else:
            y = bottom + plot_height * row["value"] / top
            points.append((x, y, _text(row["display"])))

    runs, run = [], []
    for point in [*points, None]:
        if point is None:
            if len(run) > 1:
                runs.append(run)
            run = []
        else:
            run.append(point)
    for run in runs:
        coordinates = [c for x, y, _d in run for c in (x, y)]
        drawing.add(PolyLine(coordinates, strokeColor=LINE, strokeWidth=1.8))
    widest_value = max(stringWidth(p[2], REGULAR, 7) for p in points if p)
    show_values = widest_value + 4 <= step
    for index, point in enumerate(points):
        if point is None:
            continue
        x, y, display = point
        drawing.add(Circle(x, y, 2.8, fillColor=LINE, strokeColor=colors.white, strokeWidth=0.8))
        if show_values:
            neighbours = [
                points[i] if 0 <= i < len(points) else None for i in (index - 1, index + 1)
            ]
            drawing.add(_point_label(x, y, display, *neighbours))
    return drawing, ""


def _point_label(x: float, y: float, text: str, before, after) -> String:
    """The value of a point, put where the line is not: below a trough, above a peak, on the
    free upper side of a slope."""
    higher = [n is not None and n[1] > y + 1 for n in (before, after)]
    lower = [n is not None and n[1] < y - 1 for n in (before, after)]
    if not any(higher):
        return _string(x, y + 6, text, size=7, anchor="middle")
    if not any(lower):
        return _string(x, y - 11, text, size=7, anchor="middle")
    if higher[0]:  # going down: the upper right is free
        return _string(x + 4, y + 5, text, size=7)
    return _string(x - 4, y + 5, text, size=7, anchor="end")


def _masked_caption(table: dict) -> str:
    _drawn, masked = _drawn_rows(table)
    if not masked:
        return ""
    if len(masked) > MAX_MASKED_LISTED:
        return _("%(count)s lignes masquées ne sont pas représentées (voir le tableau).") % {
            "count": len(masked)
        }
    # No-break spaces keep "label (< 11)" on one line.
    items = ", ".join(
        f"{row['label']}{NBSP}({_text(row['display']).replace(' ', NBSP)})" for row in masked
    )
    return _("Non représentés car masqués : %(items)s.") % {"items": items}


def _table_section(table: dict, k) -> list:
    head = [_p(table["title"], "h2")]
    meta = []
    if table.get("unit"):
        meta.append(_("Unité : %(unit)s") % {"unit": table["unit"]})
    total = table.get("total")
    if total:
        meta.append(_("Total : %(total)s") % {"total": total["display"]})
    if meta:
        head.append(_p(" · ".join(meta), "meta"))
    if table.get("note"):
        head.append(_p(table["note"], "note"))
    chart_kind = table.get("chart")
    if chart_kind in ("bar", "line"):
        drawing, caption = (_line_chart if chart_kind == "line" else _bar_chart)(table)
        if drawing is not None:
            head += [Spacer(1, 3), drawing, Spacer(1, 3)]
        for text in (caption, _masked_caption(table)):
            if text:
                head.append(_p(text, "meta"))
    head.append(Spacer(1, 4))
    data = _data_table(table)
    after = []
    if any(row.get("suppressed") for row in table.get("rows") or []):
        text = _(
            "« < %(k)s » : masqué, moins de %(k)s ou à peine plus et arrondi ; "
            "voir la note de méthode."
        ) % {"k": k}
        after += [Spacer(1, 2), _p(text, "meta")]
    # The whole section on one page when it fits in one; otherwise a fresh page unless the
    # heading, its chart and the first rows of the table fit, the table running on under its
    # repeated header.
    head_height = sum(_height(flowable) for flowable in head)
    whole = head_height + _height(data) + sum(_height(flowable) for flowable in after)
    needed = whole if whole <= FRAME_HEIGHT else head_height + 6 * 15
    return [CondPageBreak(needed), *head, data, *after, Spacer(1, 8 * mm)]


def _height(flowable) -> float:
    _width, height = flowable.wrap(CONTENT_WIDTH, FRAME_HEIGHT)
    if isinstance(flowable, Paragraph):
        height += flowable.getSpaceBefore() + flowable.getSpaceAfter()
    return height


# --- Places and method ----------------------------------------------------------------------


def _places(report: dict) -> list:
    places = report.get("places") or []
    story = [
        CondPageBreak(60 * mm),
        _p(_("Lieux d'activité (%(count)s)") % {"count": len(places)}, "h1"),
    ]
    if not places:
        return [*story, _p(_("Aucun lieu d'activité."), "body")]
    story.append(
        _p(
            _(
                "QPV : quartier prioritaire de la politique de la ville. FRR : commune classée "
                "France Ruralités Revitalisation."
            ),
            "meta",
        )
    )
    widths = [CONTENT_WIDTH - 150 - 2 * 50, 150, 50, 50]
    rows = [_header([_("Lieu"), _("Commune"), _("QPV"), _("FRR")], widths, "llcc")]
    yes, no = _("Oui"), _("Non")
    for place in places:
        rows.append(
            [
                _cell_label(place.get("name", ""), widths[0]),
                _cell_label(place.get("commune", ""), widths[1]),
                yes if place.get("is_qpv") else no,
                yes if place.get("is_rural") else no,
            ]
        )
    table = _grid_table(rows, widths)
    table.setStyle(
        TableStyle([("ALIGN", (1, 0), (1, -1), "LEFT"), ("ALIGN", (2, 0), (-1, -1), "CENTER")])
    )
    return [*story, table]


def _method(report: dict) -> list:
    story = [CondPageBreak(80 * mm), Spacer(1, 6 * mm), _p(_("Note de méthode"), "h1")]
    story += [_p(paragraph, "body") for paragraph in report.get("method_note") or []]
    legend = dict(report.get("legend") or {})
    legend.setdefault(NO_PERCENT, _("pourcentage non publié (case masquée ou total nul)"))
    story.append(Spacer(1, 3 * mm))
    story.append(_p(_("Signes utilisés"), "h2"))
    rows = [_header([_("Signe"), _("Signification")], [60, CONTENT_WIDTH - 60], "ll")]
    rows += [[_text(sign), _p(meaning, "cell")] for sign, meaning in legend.items()]
    table = _grid_table(rows, [60, CONTENT_WIDTH - 60])
    table.setStyle(
        TableStyle([("ALIGN", (0, 0), (-1, -1), "LEFT"), ("FONT", (0, 1), (0, -1), BOLD, 9)])
    )
    story.append(table)
    return story


# --- Document -------------------------------------------------------------------------------


def render_pdf(report: dict) -> bytes:
    """The PDF of a published report (`reports.publish`), as bytes."""
    scope = report.get("scope") or {}
    period = report["period"]
    title = report.get("title") or _("Bilan d'activité")
    notice, _explanation = _notice(report)
    left = f"{_text(scope.get('name', ''))} · {_text(_capitalised(period['label']))}"

    buffer = io.BytesIO()
    frame = Frame(
        MARGIN_X,
        MARGIN_BOTTOM,
        CONTENT_WIDTH,
        FRAME_HEIGHT,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    document = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=_text(f"{title} — {scope.get('name', '')} — {period['label']}"),
        author="Permanence",
        subject=_text(f"{title}, {period['label']} ({notice})"),
        creator="Permanence",
        keywords=[_text(title), _text(scope.get("name", "")), period.get("code", "")],
        lang="fr-FR",
        pageTemplates=[
            PageTemplate(id="cover", frames=[frame], onPage=_cover_decoration),
            PageTemplate(id="body", frames=[frame]),
        ],
    )
    story = [*_cover(report), NextPageTemplate("body"), PageBreak()]
    story += _key_figures(report)
    tables = report.get("tables") or []
    if tables:
        story += [PageBreak(), _p(_("Graphiques et tableaux"), "h1")]
        for table in tables:
            story += _table_section(table, report.get("k") or 11)
    story += _places(report)
    story += _method(report)
    document.build(story, canvasmaker=_canvas_class(left, _text(notice)))
    return buffer.getvalue()
