"""fpdf2 behind `Paper`: the page's header and footer, fields, a table whose header repeats on each page, and the
signature boxes. Loaded only when a paper is made (fpdf2 loads Pillow)."""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF

from console.i18n import t
from console.papers.paper import (
    BODY_PT,
    FACES,
    LINE_MM,
    MARGIN_MM,
    ROW_MM,
    SIGNATURE_ROOM_MM,
    SIGNATURES_A_ROW,
    SMALLEST_PT,
    TABLE_PT,
    Column,
    Paper,
)

SANS, MONO = "DejaVu", "DejaVuMono"


class _Sheet(FPDF):
    def __init__(self, paper: Paper) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.paper = paper
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(True, margin=MARGIN_MM + 4)
        self.set_creation_date(paper.made_at)
        self.set_title(paper.title)
        self.set_author(paper.office)
        self.set_creator("ktpel-station")
        for (family, style), path in FACES.items():
            self.add_font(family, style, str(path))

    def header(self) -> None:
        self.set_font(SANS, size=8)
        self.cell(0, 4, self.paper.office, align="L", new_x="LMARGIN", new_y="NEXT")
        self.line(MARGIN_MM, self.get_y() + 1, self.w - MARGIN_MM, self.get_y() + 1)
        self.ln(4)

    def footer(self) -> None:
        self.set_y(-MARGIN_MM)
        self.set_font(SANS, size=8)
        self.cell(0, 4, t("paper.page", page=self.page_no(), pages="{nb}"), align="C")


def typeset(paper: Paper) -> bytes:
    sheet = _Sheet(paper)
    sheet.add_page()
    width = sheet.w - 2 * MARGIN_MM
    if paper.title:
        sheet.set_font(SANS, style="B", size=13)
        sheet.multi_cell(width, 7, paper.title, align="C", new_x="LMARGIN", new_y="NEXT")
    if paper.number:
        sheet.set_font(SANS, size=BODY_PT)
        sheet.multi_cell(width, LINE_MM, paper.number, align="C", new_x="LMARGIN", new_y="NEXT")
    sheet.ln(4)
    _paragraphs(sheet, paper.opening, width)
    _fields(sheet, paper.fields, width)
    if paper.columns:
        _table(sheet, paper.columns, paper.rows, width)
    if paper.total:
        sheet.set_font(SANS, style="B", size=BODY_PT)
        sheet.multi_cell(width, LINE_MM, paper.total, new_x="LMARGIN", new_y="NEXT")
        sheet.ln(2)
    if paper.monospaced:
        sheet.set_font(MONO, size=8.5)
        for line in paper.monospaced:
            sheet.cell(width, 3.5, line, new_x="LMARGIN", new_y="NEXT")
        sheet.ln(2)
    _paragraphs(sheet, paper.closing, width)
    _signatures(sheet, paper, width)
    return bytes(sheet.output())


def _paragraphs(sheet: _Sheet, paragraphs: Sequence[str], width: float) -> None:
    sheet.set_font(SANS, size=BODY_PT)
    for paragraph in paragraphs:
        sheet.multi_cell(width, LINE_MM, paragraph, new_x="LMARGIN", new_y="NEXT")
        sheet.ln(1.5)


def _fields(sheet: _Sheet, fields: Sequence[tuple[str, str]], width: float) -> None:
    if not fields:
        return
    label_width = min(60.0, max(sheet.get_string_width(label) for label, _ in fields) + 4)
    for label, value in fields:
        sheet.set_font(SANS, size=BODY_PT)
        sheet.cell(label_width, LINE_MM, label)
        sheet.multi_cell(width - label_width, LINE_MM, f": {value}", new_x="LMARGIN", new_y="NEXT")
    sheet.ln(3)


def _fitted_size(sheet: _Sheet, text: str, room: float) -> float:
    size = float(TABLE_PT)
    while size > SMALLEST_PT:
        sheet.set_font_size(size)
        if sheet.get_string_width(text) <= room:
            return size
        size -= 0.5
    return SMALLEST_PT


def _table(sheet: _Sheet, columns: Sequence[Column], rows: Sequence[Sequence[str]], width: float) -> None:
    shares = sum(column.share for column in columns)
    widths = [width * column.share / shares for column in columns]

    def header_row() -> None:
        sheet.set_font(SANS, style="B", size=TABLE_PT)
        for column, cell_width in zip(columns, widths, strict=True):
            sheet.cell(cell_width, ROW_MM, column.header, border=1, align="C")
        sheet.ln(ROW_MM)

    header_row()
    for row in rows:
        if sheet.get_y() + ROW_MM > sheet.page_break_trigger:
            sheet.add_page()
            header_row()
        sheet.set_font(SANS, size=TABLE_PT)
        for text, column, cell_width in zip(row, columns, widths, strict=True):
            sheet.set_font_size(_fitted_size(sheet, text, cell_width - 2))
            sheet.cell(cell_width, ROW_MM, text, border=1, align=column.align)
        sheet.ln(ROW_MM)
    sheet.ln(3)


def _signatures(sheet: _Sheet, paper: Paper, width: float) -> None:
    signatures = list(paper.signatures)
    if not signatures and not paper.place_date:
        return
    rows = [signatures[i : i + SIGNATURES_A_ROW] for i in range(0, len(signatures), SIGNATURES_A_ROW)]
    block = LINE_MM * 4 + SIGNATURE_ROOM_MM
    if sheet.get_y() + LINE_MM * 2 + block > sheet.page_break_trigger:  # the place, date and first row together
        sheet.add_page()
    sheet.set_font(SANS, size=BODY_PT)
    if paper.place_date:
        sheet.cell(width, LINE_MM, paper.place_date, align="R", new_x="LMARGIN", new_y="NEXT")
        sheet.ln(2)
    for row in rows:
        if sheet.get_y() + block > sheet.page_break_trigger:
            sheet.add_page()
        box = width / len(row)
        top = sheet.get_y()
        for i, signature in enumerate(row):
            left = MARGIN_MM + i * box
            sheet.set_xy(left, top)
            sheet.set_font(SANS, size=BODY_PT)
            sheet.cell(box, LINE_MM, signature.role, align="C")
            sheet.set_xy(left, top + LINE_MM + SIGNATURE_ROOM_MM)
            name = f"( {signature.name} )" if signature.name else "( " + "_" * 24 + " )"
            sheet.set_font_size(_fitted_size(sheet, name, box - 2) if signature.name else BODY_PT)
            sheet.cell(box, LINE_MM, name, align="C")
            if signature.detail:
                sheet.set_xy(left, top + 2 * LINE_MM + SIGNATURE_ROOM_MM)
                sheet.set_font_size(8)
                sheet.cell(box, LINE_MM, signature.detail, align="C")
        sheet.set_xy(MARGIN_MM, top + block)
