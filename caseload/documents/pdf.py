"""Documents a patient reads, as PDF (ReportLab): the accounting of disclosures and the copy of
their own record. Every page carries the 42 CFR 2.32 notice at its head and its page number at
its foot. Plain words, dates in the program's time zone, no internal ids but the record's own.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from caseload.models import InformationCategory, LedgerBasis
from caseload.notice import PART2_NOTICE

BASIS_LABELS = {
    LedgerBasis.CONSENT: "Your written consent (42 CFR 2.31)",
    LedgerBasis.QSOA: "Qualified service organization agreement (42 CFR 2.11, 2.12(c)(4))",
    LedgerBasis.MEDICAL_EMERGENCY: "Medical emergency (42 CFR 2.51)",
    LedgerBasis.COURT_ORDER: "Court order (42 CFR 2.61-2.67)",
    LedgerBasis.AUDIT_EVALUATION: "Audit or evaluation (42 CFR 2.53)",
    LedgerBasis.RESEARCH: "Research (42 CFR 2.52)",
}
INFORMATION_LABELS = {
    InformationCategory.DEMOGRAPHICS: "Demographics and contact details",
    InformationCategory.APPOINTMENTS: "Appointments",
    InformationCategory.ENROLLMENTS: "Enrollments",
    InformationCategory.ASSESSMENTS: "Withdrawal assessments",
    InformationCategory.MEDICATIONS: "Medications",
    InformationCategory.DRUG_SCREENS: "Drug screens",
    InformationCategory.REFERRALS: "Support-group referrals",
    InformationCategory.NOTES: "Counseling notes",
}
MARGIN = 0.7 * inch
_STYLES = getSampleStyleSheet()
BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontSize=9, leading=11)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=8, leading=10)
HEAD = ParagraphStyle("head", parent=CELL, fontName="Helvetica-Bold")
TITLE = ParagraphStyle("title", parent=_STYLES["Title"], fontSize=16, spaceAfter=6)
SECTION = ParagraphStyle("section", parent=_STYLES["Heading2"], fontSize=12, spaceBefore=10)
CELL_PADDING = 3
TABLE_STYLE = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("FONT", (0, 1), (-1, -1), CELL.fontName, CELL.fontSize, CELL.leading),
    ]
)


def text(value: object) -> str:
    """A value as safe Paragraph markup (ReportLab reads a small XML subset)."""
    return escape("" if value is None else str(value)).replace("\n", "<br/>")


def para(value: object, style: ParagraphStyle = CELL) -> Paragraph:
    return Paragraph(text(value), style)


def when(moment: datetime | date | None, *, with_time: bool = True) -> str:
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        local = timezone.localtime(moment)
        return local.strftime("%d %b %Y %H:%M" if with_time else "%d %b %Y")
    return moment.strftime("%d %b %Y")


def table(header: Sequence[str], rows: Iterable[Sequence[object]], widths: Sequence[float]):
    """A table whose header repeats on each page it runs over; cells wrap."""
    frame = LETTER[0] - 2 * MARGIN
    columns = [w * frame for w in widths]
    data = [[Paragraph(text(h), HEAD) for h in header]]
    data += [[_cell(c, width) for c, width in zip(row, columns, strict=True)] for row in rows]
    built = LongTable(data, colWidths=columns, repeatRows=1)
    built.setStyle(TABLE_STYLE)
    return built


def _cell(value: object, width: float):
    """Text that fits on one line is drawn as is; only longer text is laid out as a paragraph
    (a paragraph per cell made a 2,000-record copy several times slower)."""
    if isinstance(value, Paragraph):
        return value
    plain = "" if value is None else str(value)
    fits = stringWidth(plain, CELL.fontName, CELL.fontSize) <= width - 2 * CELL_PADDING
    if "\n" not in plain and fits:
        return plain
    return para(plain)


def facts(pairs: Iterable[tuple[str, object]]) -> list:
    return [Paragraph(f"<b>{text(label)}:</b> {text(value)}", BODY) for label, value in pairs]


def build(title: str, story: list, *, subject: str) -> bytes:
    """The document as PDF bytes: the notice heads every page, the page number ends it."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 0.35 * inch,
        bottomMargin=MARGIN,
        title=title,
        subject=subject,
        author="Caseload",
        creator="Caseload",
    )
    page = _every_page(title)
    document.build([Paragraph(text(title), TITLE), *story], onFirstPage=page, onLaterPages=page)
    return buffer.getvalue()


def _every_page(title: str) -> Callable:
    def draw(canvas, document) -> None:
        width, height = LETTER
        canvas.saveState()
        canvas.setFont("Helvetica-Bold", 8)
        canvas.drawString(MARGIN, height - MARGIN + 0.05 * inch, PART2_NOTICE)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN, height - MARGIN, width - MARGIN, height - MARGIN)
        canvas.setFont("Helvetica", 8)
        canvas.drawString(MARGIN, MARGIN - 0.3 * inch, title)
        canvas.drawRightString(width - MARGIN, MARGIN - 0.3 * inch, f"Page {document.page}")
        canvas.restoreState()

    return draw


def keep(*flowables) -> KeepTogether:
    return KeepTogether(list(flowables))


SPACE = Spacer(1, 6)
