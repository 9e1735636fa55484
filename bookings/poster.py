"""The poster a structure prints for its desk and the town-hall noticeboard: what help is
offered, where, and how to book (address in large type and a QR code to the booking page).

Drawn with reportlab's standard Helvetica, whose encoding (WinAnsi) covers French accents,
« », œ and the middle dot of "médiateur·rice"; anything beyond it is transliterated rather than
printed as a black box."""

from __future__ import annotations

import io
import unicodedata
from xml.sax.saxutils import escape

from django.conf import settings
from django.urls import reverse
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Frame, KeepInFrame, Paragraph, Spacer, Table, TableStyle

from mediation.models import Structure
from mediation.phones import phone_national

MAX_MOTIFS = 8
MAX_PLACES = 4

BLUE = colors.HexColor("#000091")
LIGHT = colors.HexColor("#ECECFE")
INK = colors.HexColor("#161616")
GREY = colors.HexColor("#3A3A3A")

BOLD = "Helvetica-Bold"
REGULAR = "Helvetica"

MARGIN = 16 * mm


def public_booking_url(structure: Structure) -> str:
    """The absolute address of the structure's public booking page (/rdv/<slug>/)."""
    return settings.SITE_URL + reverse("public_start", kwargs={"structure": structure.slug})


def _printable(text: str) -> str:
    """Text that the standard PDF fonts can draw (WinAnsi): other characters are decomposed
    (ŝ → s) or replaced."""
    text = (text or "").replace("\u202f", " ").replace("\u00a0", " ")
    out = []
    for char in text:
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            char = unicodedata.normalize("NFKD", char).encode("cp1252", "ignore").decode("cp1252")
            char = char or "?"
        out.append(char)
    return "".join(out)


def _fit(text: str, font: str, size: float, width: float, smallest: float) -> float:
    """The largest font size ≤ `size` at which `text` fits in `width` (not below smallest)."""
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    from reportlab.lib.utils import simpleSplit

    return simpleSplit(text, font, size, width)


def _style(name, font=REGULAR, size=16, leading=None, color=INK, **kwargs) -> ParagraphStyle:
    return ParagraphStyle(
        name,
        fontName=font,
        fontSize=size,
        leading=leading or size * 1.25,
        textColor=color,
        alignment=TA_LEFT,
        **kwargs,
    )


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(_printable(text)), style)


def _draw_header(canvas: Canvas, structure: Structure, width: float, top: float) -> float:
    """Blue band with the structure's name; returns its lower edge."""
    inner = width - 2 * MARGIN
    name = _printable(structure.name)
    size = 30
    lines = _wrap(name, BOLD, size, inner)
    while len(lines) > 2 and size > 18:
        size -= 1
        lines = _wrap(name, BOLD, size, inner)
    lines = lines[:2]
    band = 14 * mm + len(lines) * size * 1.2
    canvas.setFillColor(BLUE)
    canvas.rect(0, top - band, width, band, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    canvas.setFont(BOLD, size)
    y = top - 7 * mm - size * 0.85
    for line in lines:
        canvas.drawString(MARGIN, y, line)
        y -= size * 1.2
    return top - band


def _draw_booking_box(
    canvas: Canvas, *, url: str, phone: str, width: float, bottom: float
) -> float:
    """The box at the foot: QR code, booking address, phone. Returns its upper edge."""
    inner = width - 2 * MARGIN
    qr_size = 52 * mm
    pad = 6 * mm
    url_size = _fit(url, BOLD, 26, inner - 2 * pad, 12)
    phone_block = 20 * mm if phone else 0
    height = pad + qr_size + 6 * mm + url_size * 1.3 + phone_block + pad
    top = bottom + height

    canvas.setFillColor(LIGHT)
    canvas.setStrokeColor(BLUE)
    canvas.setLineWidth(2)
    canvas.roundRect(MARGIN, bottom, inner, height, 4 * mm, stroke=1, fill=1)

    # QR code, on white with its quiet zone, top left of the box.
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(
        qr_size, qr_size, transform=[qr_size / (x1 - x0), 0, 0, qr_size / (y1 - y0), 0, 0]
    )
    drawing.add(widget)
    qr_x, qr_y = MARGIN + pad, top - pad - qr_size
    canvas.setFillColor(colors.white)
    canvas.rect(qr_x, qr_y, qr_size, qr_size, stroke=0, fill=1)
    renderPDF.draw(drawing, canvas, qr_x, qr_y)

    # Beside the code: how to use it.
    text_x = qr_x + qr_size + 7 * mm
    text_width = MARGIN + inner - pad - text_x
    canvas.setFillColor(BLUE)
    size = _fit("Réservez en ligne", BOLD, 28, text_width, 16)
    y = top - pad - size
    canvas.setFont(BOLD, size)
    canvas.drawString(text_x, y, _printable("Réservez en ligne"))
    y -= 10 * mm
    canvas.setFillColor(INK)
    canvas.setFont(REGULAR, 15)
    for line in _wrap(
        _printable(
            "Scannez ce code avec l'appareil photo de votre téléphone, ou tapez l'adresse "
            "ci-dessous. Pas de compte ni de mot de passe : votre numéro de téléphone suffit."
        ),
        REGULAR,
        15,
        text_width,
    ):
        canvas.drawString(text_x, y, line)
        y -= 19

    # The address, large, under the code.
    y = qr_y - 6 * mm - url_size
    canvas.setFillColor(BLUE)
    canvas.setFont(BOLD, url_size)
    canvas.drawCentredString(width / 2, y, url)

    if phone:
        canvas.setStrokeColor(colors.HexColor("#B8B8F0"))
        canvas.setLineWidth(1)
        line_y = y - 6 * mm
        canvas.line(MARGIN + pad, line_y, MARGIN + inner - pad, line_y)
        canvas.setFillColor(INK)
        label = _printable("Ou par téléphone : ")
        label_size, number_size = 18, 26
        total = stringWidth(label, REGULAR, label_size) + stringWidth(phone, BOLD, number_size)
        x = width / 2 - total / 2
        base = line_y - 11 * mm
        canvas.setFont(REGULAR, label_size)
        canvas.drawString(x, base, label)
        canvas.setFont(BOLD, number_size)
        canvas.drawString(x + stringWidth(label, REGULAR, label_size), base, phone)
    return top


def _columns(cells: list, width: float, gap: float, below: float = 0) -> Table:
    """Flowables in two columns, filled row by row."""
    rows = [cells[i : i + 2] for i in range(0, len(cells), 2)]
    rows[-1] += [""] * (2 - len(rows[-1]))
    table = Table(rows, colWidths=[width / 2, width / 2], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), gap),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), below),
            ]
        )
    )
    return table


def _middle(motifs: list, places: list, width: float, scale: float) -> list:
    """Headline, services and places: the part whose type shrinks, step by step, if a
    structure has a lot to say."""

    def style(name, font, size, color=INK, **kwargs):
        return _style(name, font, size * scale, size * scale * 1.22, color, **kwargs)

    headline = style("headline", BOLD, 32, BLUE, spaceAfter=4 * mm)
    lead = style("lead", REGULAR, 17, GREY, spaceAfter=6 * mm)
    heading = style("heading", BOLD, 21, spaceBefore=2 * mm, spaceAfter=2.5 * mm)
    bullet = style("bullet", REGULAR, 18, leftIndent=6 * mm, bulletIndent=0, spaceAfter=1 * mm)
    place_name = style("place", BOLD, 17)
    address = style("address", REGULAR, 16, GREY, spaceAfter=2.5 * mm)

    story = [
        _p("Prenez rendez-vous avec un·e médiateur·rice numérique", headline),
        _p(
            "Pour apprendre à utiliser un ordinateur, un smartphone ou Internet, "
            "et pour être accompagné·e dans vos démarches en ligne.",
            lead,
        ),
    ]
    if motifs:
        story.append(_p("Nous vous aidons pour :", heading))
        items = [
            Paragraph(escape(_printable(motif.name)), bullet, bulletText="\u2022")
            for motif in motifs
        ]
        # Many short names read better in two columns than in a long, small-type list.
        short = all(stringWidth(i.text, REGULAR, bullet.fontSize) < width / 2.4 for i in items)
        if len(items) > 4 and short:
            story.append(_columns(items, width, 4 * mm))
        else:
            story.extend(items)
        story.append(Spacer(1, 4 * mm))
    if places:
        story.append(_p("Où nous trouver :" if len(places) > 1 else "Où ?", heading))
        cells = [
            [
                _p(place.name, place_name),
                _p(f"{place.address}, {place.postcode} {place.commune}", address),
            ]
            for place in places
        ]
        if len(cells) <= 2:
            story.extend(flowable for cell in cells for flowable in cell)
        else:
            story.append(_columns(cells, width, 5 * mm, below=2 * mm))
    return story


def _fits(story: list, width: float, height: float) -> bool:
    """Whether the story fits the frame, tried on a throw-away canvas."""
    frame = Frame(0, 0, width, height, leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    pending = list(story)
    frame.addFromList(pending, Canvas(io.BytesIO()))
    return not pending


def _fitting_middle(motifs: list, places: list, width: float, height: float) -> list:
    """The middle at the largest type that fits (down to 60 %), then shrunk as a last resort
    so that the poster always stays on one page."""
    for scale in (1, 0.96, 0.92, 0.88, 0.84, 0.8, 0.76, 0.72, 0.68, 0.64, 0.6):
        if _fits(_middle(motifs, places, width, scale), width, height):
            return _middle(motifs, places, width, scale)
    return [KeepInFrame(width, height, _middle(motifs, places, width, 0.6), mode="shrink")]


def poster_pdf(structure: Structure, *, motifs=None, places=None) -> bytes:
    """The structure's A4 poster as PDF bytes.

    `motifs` and `places` are what to show (a view passes its scoped querysets); by default the
    structure's active motifs (those bookable online first) and active places."""
    if motifs is None:
        motifs = structure.motifs.filter(is_active=True).order_by("-bookable_online", "name")
    if places is None:
        places = structure.places.filter(is_active=True).order_by("name")
    motifs, places = list(motifs)[:MAX_MOTIFS], list(places)[:MAX_PLACES]
    phone = phone_national(structure.phone)
    url = public_booking_url(structure)

    buffer = io.BytesIO()
    width, height = A4
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(_printable(f"Prenez rendez-vous — {structure.name}"))
    canvas.setAuthor(_printable(structure.name))
    canvas.setSubject(url)

    header_bottom = _draw_header(canvas, structure, width, height)
    box_top = _draw_booking_box(canvas, url=url, phone=phone, width=width, bottom=MARGIN)

    inner = width - 2 * MARGIN
    bottom = box_top + 6 * mm
    frame_height = header_bottom - 9 * mm - bottom
    frame = Frame(
        MARGIN,
        bottom,
        inner,
        frame_height,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        showBoundary=0,
    )
    frame.addFromList(_fitting_middle(motifs, places, inner, frame_height), canvas)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
