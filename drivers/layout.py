"""The KTP-el front laid out for the printer: lines of text for `Wt`, photo and signature on the black panel.

`drivers/` knows printers, not residents: the layout takes plain field values (`CardFields`) and gives the
encoded body of the card (`CardLayout.frames`), which the driver wraps in `Sr ... Se`. Everything that could be
refused is refused here, naming the field, before a blank leaves the feeder. See docs/card-layout.md.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from drivers.card_bitmap import CARD_WIDTH, BadImage, Box, Panel, decode_image, first_inked_line, panel_picture
from drivers.protocol import LINES, RIBBONS, EncodeError, compress_dbc, dbc_command, encode_command, text_command

NORMAL, BOLD = 0, 1

# ---------------------------------------------------------------------------------------------- geometry (dots)

MARGIN = 40
PHOTO_BOX = Box(x=684, y=104, width=288, height=366)  # 24.4 x 31.0 mm
SIGNATURE_BOX = Box(x=684, y=540, width=288, height=88)
FIELD_X = MARGIN
FIELD_RIGHT = PHOTO_BOX.x - 22  # the field column stops short of the photo
GOL_DARAH_X = 440  # "Gol. Darah" shares the row of "Jenis kelamin", as on the printed card
SUB_INDENT = 30  # RT/RW, Kel/Desa and Kecamatan sit under Alamat, indented

HEADER_TOPS = (16, 56)
HEADER_HEIGHT, HEADER_SMALLEST = 34, 24
NIK_Y, NIK_HEIGHT = 104, 40
ROWS_TOP, ROWS_BOTTOM = 156, 628
ROW_HEIGHT, ROW_SMALLEST, ROW_WRAPPED_SMALLEST = 28, 24, 20
ROW_GAP, ROW_GAP_SMALLEST = 11, 3
ISSUE_TOPS = (PHOTO_BOX.bottom + 8, PHOTO_BOX.bottom + 36)
ISSUE_HEIGHT, ISSUE_SMALLEST = 24, 18
ISSUE_WIDTH = 330  # centred under the photo, a little wider than it
PLACEHOLDER_TEXT, PLACEHOLDER_HEIGHT = "TANPA FOTO", 32
RULE = 3  # thickness of drawn lines
SIGNATURE_MARGIN = 8

# ------------------------------------------------------------------------------------------------- the types


@dataclass(frozen=True)
class CardFields:
    provinsi: str
    kabupaten: str
    nik: str
    nama: str
    tempat_lahir: str
    tanggal_lahir: str  # DD-MM-YYYY, as printed
    jenis_kelamin: str
    gol_darah: str
    alamat: str
    rt_rw: str  # "002/001"
    kel_desa: str
    kecamatan: str
    agama: str
    status_perkawinan: str
    pekerjaan: str
    kewarganegaraan: str
    berlaku_hingga: str
    tempat_terbit: str  # place of issue, printed under the photo
    tanggal_terbit: str  # date of issue, under the place
    photo: bytes | None = None  # JPEG/PNG bytes; None draws a placeholder that says so
    signature: bytes | None = None  # JPEG/PNG bytes; None leaves a line to sign on


@dataclass(frozen=True)
class TextItem:
    x: int
    y: int
    font: int  # 0 normal, 1 bold
    height: int
    text: str


@dataclass(frozen=True)
class CardLayout:
    texts: tuple[TextItem, ...]
    black_panel: bytes  # the raw 1-bit panel, 82,296 bytes
    frames: tuple[bytes, ...]  # Dbc;k;..., one Wt per text, Wcb;o;255


class LayoutError(EncodeError):
    """A card that cannot be laid out. `field` names the CardFields attribute; `code` says why, for translation."""

    def __init__(self, field: str, code: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.code = code
        self.detail = detail


IMAGE_FIELDS = ("photo", "signature")
TEXT_FIELDS = tuple(f.name for f in dataclass_fields(CardFields) if f.name not in IMAGE_FIELDS)

# --------------------------------------------------------------------------------------------------- the card


def layout_card(fields: CardFields, ribbon: str = "ko") -> CardLayout:
    """The card's texts, panel and encoded frames. Raises LayoutError, naming the field, for what cannot print."""
    if ribbon not in RIBBONS:
        raise LayoutError("ribbon", "bad_ribbon", f"{ribbon!r} is not one of {', '.join(RIBBONS)}")
    for name in TEXT_FIELDS:
        check_text(name, getattr(fields, name))
    if not re.fullmatch(r"[0-9]{16}", fields.nik):
        raise LayoutError("nik", "bad_nik", f"{fields.nik!r} is not 16 digits")
    texts = _texts(fields)
    panel = _panel(fields)
    return CardLayout(texts=tuple(texts), black_panel=panel, frames=_frames(texts, panel))


def check_text(field: str, value: object) -> None:
    """Refuse what cannot be printed by `Wt`: not text, blank, outside ISO-8859-1, control characters."""
    if not isinstance(value, str):
        raise LayoutError(field, "not_text", f"expected text, got {type(value).__name__}")
    if not value.strip():
        raise LayoutError(field, "empty", "is empty: a card never leaves a field blank")
    for position, char in enumerate(value, start=1):
        if ord(char) > 0xFF:
            raise LayoutError(
                field, "not_latin1", f"{char!r} (U+{ord(char):04X}) at position {position} is not ISO-8859-1 text"
            )
        if unicodedata.category(char) == "Cc":
            raise LayoutError(field, "control_character", f"control character U+{ord(char):04X} at position {position}")


def _frames(texts: list[TextItem], panel: bytes) -> tuple[bytes, ...]:
    first = first_inked_line(panel)
    if first is None:  # a blank panel still goes down as one white line, so that the printer gets a bitmap
        first = LINES - 1
    frames = [dbc_command("k", first, compress_dbc(panel, first))]
    frames += [text_command(t.x, t.y, t.font, t.height, t.text) for t in texts]
    frames.append(encode_command("Wcb", "o", 255))
    return tuple(frames)


# -------------------------------------------------------------------------------------------------- the panel


def _panel(fields: CardFields) -> bytes:
    panel = Panel()
    if fields.photo is None:
        panel.placeholder(PHOTO_BOX, _placeholder_clearing(), RULE)
    else:
        panel.put_photo(_image("photo", fields.photo, PHOTO_BOX), PHOTO_BOX)
    if fields.signature is None:
        panel.signature_line(SIGNATURE_BOX, SIGNATURE_MARGIN, RULE)
    else:
        panel.put_signature(_image("signature", fields.signature, SIGNATURE_BOX), SIGNATURE_BOX, SIGNATURE_MARGIN)
    return panel.pack()


def _image(field: str, data: object, box: Box) -> Image.Image:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise LayoutError(field, "bad_image", f"expected image bytes, got {type(data).__name__}")
    try:
        return decode_image(bytes(data), (box.width, box.height))
    except BadImage as exc:
        raise LayoutError(field, "bad_image", str(exc)) from None


def _placeholder_item() -> TextItem:
    width = text_width(PLACEHOLDER_TEXT, BOLD, PLACEHOLDER_HEIGHT)
    x = PHOTO_BOX.centre_x - width // 2
    y = PHOTO_BOX.y + (PHOTO_BOX.height - PLACEHOLDER_HEIGHT) // 2
    return TextItem(x, y, BOLD, PLACEHOLDER_HEIGHT, PLACEHOLDER_TEXT)


def _placeholder_clearing() -> Box:
    item = _placeholder_item()
    pad = 12
    return Box(item.x - pad, item.y - pad, text_width(item.text, BOLD, item.height) + 2 * pad, item.height + 2 * pad)


# -------------------------------------------------------------------------------------------------- the texts


def _texts(f: CardFields) -> list[TextItem]:
    # The NIK comes first: the printer's output log takes the first run of 16 digits among a card's texts.
    texts = [TextItem(FIELD_X, NIK_Y, BOLD, NIK_HEIGHT, f"NIK : {f.nik}")]
    for field, top in zip(("provinsi", "kabupaten"), HEADER_TOPS):
        texts.append(
            _centred(
                field,
                getattr(f, field),
                BOLD,
                top,
                CARD_WIDTH // 2,
                CARD_WIDTH - 2 * MARGIN,
                HEADER_HEIGHT,
                HEADER_SMALLEST,
            )
        )
    texts += _rows(f)
    for field, top in zip(("tempat_terbit", "tanggal_terbit"), ISSUE_TOPS):
        texts.append(
            _centred(
                field, getattr(f, field), NORMAL, top, PHOTO_BOX.centre_x, ISSUE_WIDTH, ISSUE_HEIGHT, ISSUE_SMALLEST
            )
        )
    if f.photo is None:
        texts.append(_placeholder_item())
    return texts


def _centred(
    field: str, text: str, font: int, top: int, centre: int, room: int, nominal: int, smallest: int
) -> TextItem:
    height = fit_height(text, font, room, nominal, smallest)
    if height is None:
        raise LayoutError(field, "too_long", f"{text!r} does not fit in {room} dots even at {smallest} dots high")
    return TextItem(centre - text_width(text, font, height) // 2, top, font, height, text)


@dataclass(frozen=True)
class _Cell:
    field: str  # the CardFields attribute blamed when the cell does not fit
    label: str
    value: str
    x: int
    right: int
    wraps: bool = True


@dataclass(frozen=True)
class _Fitted:
    height: int
    lines: tuple[tuple[int, str], ...]  # (x, text), one per printed line


def _cells(f: CardFields) -> list[list[_Cell]]:
    """The rows of label : value under the NIK, in the order of the printed card."""
    sub = FIELD_X + SUB_INDENT
    return [
        [_Cell("nama", "Nama", f.nama, FIELD_X, FIELD_RIGHT)],
        [_Cell("tempat_lahir", "Tempat/Tgl Lahir", f"{f.tempat_lahir}, {f.tanggal_lahir}", FIELD_X, FIELD_RIGHT)],
        [
            _Cell("jenis_kelamin", "Jenis kelamin", f.jenis_kelamin, FIELD_X, GOL_DARAH_X - 16, wraps=False),
            _Cell("gol_darah", "Gol. Darah", f.gol_darah, GOL_DARAH_X, FIELD_RIGHT, wraps=False),
        ],
        [_Cell("alamat", "Alamat", f.alamat, FIELD_X, FIELD_RIGHT)],
        [_Cell("rt_rw", "RT/RW", f.rt_rw, sub, FIELD_RIGHT)],
        [_Cell("kel_desa", "Kel/Desa", f.kel_desa, sub, FIELD_RIGHT)],
        [_Cell("kecamatan", "Kecamatan", f.kecamatan, sub, FIELD_RIGHT)],
        [_Cell("agama", "Agama", f.agama, FIELD_X, FIELD_RIGHT)],
        [_Cell("status_perkawinan", "Status Perkawinan", f.status_perkawinan, FIELD_X, FIELD_RIGHT)],
        [_Cell("pekerjaan", "Pekerjaan", f.pekerjaan, FIELD_X, FIELD_RIGHT)],
        [_Cell("kewarganegaraan", "Kewarganegaraan", f.kewarganegaraan, FIELD_X, FIELD_RIGHT)],
        [_Cell("berlaku_hingga", "Berlaku Hingga", f.berlaku_hingga, FIELD_X, FIELD_RIGHT)],
    ]


def _rows(f: CardFields) -> list[TextItem]:
    rows = [[(cell, _fit_cell(cell)) for cell in row] for row in _cells(f)]
    shapes = [(max(fit.height for _, fit in row), max(len(fit.lines) for _, fit in row)) for row in rows]
    line_count = sum(lines for _, lines in shapes)
    ink = sum(height * lines for height, lines in shapes)
    gap = min(ROW_GAP, (ROWS_BOTTOM - ROWS_TOP - ink) // line_count)
    if gap < ROW_GAP_SMALLEST:
        wrapped = [cell.field for row in rows for cell, fit in row if len(fit.lines) > 1]
        raise LayoutError(wrapped[-1], "no_room", f"{', '.join(wrapped)} together need more lines than the card holds")
    texts, y = [], ROWS_TOP
    for row, (row_height, lines) in zip(rows, shapes):
        for _, fit in row:
            for index, (x, text) in enumerate(fit.lines):
                texts.append(TextItem(x, y + index * (row_height + gap), NORMAL, fit.height, text))
        y += lines * (row_height + gap)
    return texts


def _fit_cell(cell: _Cell) -> _Fitted:
    """One line, shrunk a little if need be; else two lines at a word break (wrappable cells); else refused."""
    prefix = f"{cell.label} : "
    room = cell.right - cell.x
    height = fit_height(prefix + cell.value, NORMAL, room, ROW_HEIGHT, ROW_SMALLEST)
    if height is not None:
        return _Fitted(height, ((cell.x, prefix + cell.value),))
    if cell.wraps:
        for height in range(ROW_HEIGHT, ROW_WRAPPED_SMALLEST - 1, -1):
            indent = text_width(prefix, NORMAL, height)
            split = _split(cell.value, room - indent, height)
            if split is not None:
                return _Fitted(height, ((cell.x, prefix + split[0]), (cell.x + indent, split[1])))
    smallest = ROW_WRAPPED_SMALLEST if cell.wraps else ROW_SMALLEST
    how = "on two lines " if cell.wraps else ""
    raise LayoutError(
        cell.field,
        "too_long",
        f"{cell.value!r} does not fit beside {cell.label!r} {how}even at {smallest} dots high ({room} dots of room)",
    )


def _split(value: str, room: int, height: int) -> tuple[str, str] | None:
    """The longest first line that fits `room` at a space, if the rest then fits too. Nothing is dropped but
    the space at the break."""
    words = value.split(" ")
    for count in range(len(words) - 1, 0, -1):
        first = " ".join(words[:count])
        if first.strip() and text_width(first, NORMAL, height) <= room:
            rest = " ".join(words[count:])
            if rest.strip() and text_width(rest, NORMAL, height) <= room:
                return first, rest
            return None  # the longest first line leaves the shortest rest: no other break can do better
    return None


def fit_height(text: str, font: int, room: int, nominal: int, smallest: int) -> int | None:
    """The largest height from `nominal` down to `smallest` at which `text` fits `room` dots, or None."""
    for height in range(nominal, smallest - 1, -1):
        if text_width(text, font, height) <= room:
            return height
    return None


# ------------------------------------------------------------------------------------------------ text widths

# Advance widths of Arial (the printer's resident fonts 0 and 1) in 1/1000 em, characters 0x20..0x7E.
_ARIAL = (
    "278 278 355 556 556 889 667 191 333 333 389 584 278 333 278 278 556 556 556 556 556 556 556 556 556 556 278 278 "
    "584 584 584 556 1015 667 667 722 722 667 611 778 722 278 500 667 556 833 722 778 667 778 722 667 611 722 667 "
    "944 667 667 611 278 278 278 469 556 333 556 556 500 556 556 278 556 556 222 222 500 222 833 556 556 556 556 "
    "333 500 278 556 500 722 500 500 500 334 260 334 584"
)
_ARIAL_BOLD = (
    "278 333 474 556 556 889 722 238 333 333 389 584 278 333 278 278 556 556 556 556 556 556 556 556 556 556 333 333 "
    "584 584 584 611 975 722 722 722 722 667 611 778 722 278 556 722 611 833 722 778 667 778 722 667 611 722 667 "
    "944 667 667 611 333 278 333 584 556 333 556 611 556 611 556 333 611 611 278 278 556 278 889 611 611 611 611 "
    "389 556 333 611 556 778 556 556 500 389 280 389 584"
)
_WIDTHS = {
    font: dict(zip(map(chr, range(0x20, 0x7F)), map(int, table.split())))
    for font, table in ((NORMAL, _ARIAL), (BOLD, _ARIAL_BOLD))
}
_UNKNOWN_WIDTH = 1000  # Latin-1 signs without a table entry: counted as a full em, so never too narrow


@lru_cache(maxsize=512)
def _glyph_width(char: str, font: int) -> int:
    table = _WIDTHS[font]
    if char in table:
        return table[char]
    if char == "\xa0":
        return table[" "]
    base = unicodedata.normalize("NFD", char)[0]  # an accented letter is as wide as its letter
    return table.get(base, _UNKNOWN_WIDTH) if base != char else _UNKNOWN_WIDTH


def text_width(text: str, font: int, height: int) -> int:
    """Width in dots of `text` in the printer's Arial at `height` dots (the em). Each glyph is rounded up,
    which leaves room for the printer's hinting at small sizes."""
    return sum(math.ceil(_glyph_width(char, font) * height / 1000) for char in text)


# ------------------------------------------------------------------------------------------------ the preview


def render_preview(layout: CardLayout) -> Image.Image:
    """A picture of what the printer should print: the black panel, and the texts in Pillow's default font."""
    picture = panel_picture(layout.black_panel).convert("RGB")
    draw = ImageDraw.Draw(picture)
    for item in layout.texts:
        bold = 1 if item.font == BOLD else 0
        draw.text(
            (item.x, item.y),
            item.text,
            font=_preview_font(item.height),
            fill="black",
            stroke_width=bold,
            stroke_fill="black",
        )
    return picture


@lru_cache(maxsize=32)
def _preview_font(height: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=height)
