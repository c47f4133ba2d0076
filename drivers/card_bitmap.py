"""The black panel of a card as a 1-bit picture: photo and signature dithered, placeholder and rules drawn.

The panel is built in the card's own frame (x along the long edge, y along the short edge) and packed for the
printer at the end: line n of the panel is the column x = n, its first bit the dot at y = 0 (printer-protocol.md,
Geometry and bitmaps).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from drivers.protocol import BYTES_PER_LINE, DOTS_PER_LINE, LINES

CARD_WIDTH = LINES  # x: 0 .. 1015, along the long edge
CARD_HEIGHT = DOTS_PER_LINE  # y: 0 .. 647, along the short edge

IMAGE_FORMATS = ("JPEG", "PNG")
MAX_IMAGE_PIXELS = 50_000_000  # a bigger picture is not a photo from a recording desk; refuse it before decoding

# In a mode "1" picture 0 is ink and 255 paper; the printer wants a set bit for ink, hence the "1;I" packing.
INK, PAPER = 0, 255


class BadImage(ValueError):
    """Image bytes that cannot be decoded into a picture."""


@dataclass(frozen=True)
class Box:
    """A rectangle on the card, in dots: (x, y) its top-left corner."""

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width  # exclusive

    @property
    def bottom(self) -> int:
        return self.y + self.height  # exclusive

    @property
    def centre_x(self) -> int:
        return self.x + self.width // 2

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x < self.right and self.y <= y < self.bottom


def decode_image(data: bytes, size_hint: tuple[int, int]) -> Image.Image:
    """Grey picture ("L") from JPEG or PNG bytes: upright (EXIF), transparency over white paper."""
    if not isinstance(data, (bytes, bytearray, memoryview)) or not data:
        raise BadImage("no image bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise BadImage(f"{width}x{height} dots is larger than {MAX_IMAGE_PIXELS:,} pixels")
            image.draft("L", size_hint)  # JPEG only: decode at a reduced scale, still no smaller than the box
            image.load()
            return _to_grey(ImageOps.exif_transpose(image))
    except BadImage:
        raise
    except UnidentifiedImageError:
        raise BadImage(f"not a {' or '.join(IMAGE_FORMATS)} image") from None
    except Exception as exc:  # Pillow raises many kinds (OSError, SyntaxError, ValueError, struct.error, ...)
        raise BadImage(f"a damaged image: {exc}") from None


def _to_grey(image: Image.Image) -> Image.Image:
    if image.mode in ("I", "I;16", "I;16B", "I;16L"):  # 16-bit grey PNG: scale rather than clip to white
        return image.convert("I").point(lambda value: value / 256).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, "white")
        return Image.alpha_composite(paper, rgba).convert("L")
    return image.convert("L")


class Panel:
    """The black panel being drawn, in the card's frame."""

    def __init__(self) -> None:
        self.image = Image.new("1", (CARD_WIDTH, CARD_HEIGHT), PAPER)
        self._draw = ImageDraw.Draw(self.image)

    def put_photo(self, grey: Image.Image, box: Box) -> None:
        """Fill the box, cropping the excess evenly, then dither (Floyd-Steinberg)."""
        fitted = ImageOps.fit(grey, (box.width, box.height), method=Image.Resampling.LANCZOS)
        self.image.paste(fitted.convert("1"), (box.x, box.y))

    def put_signature(self, grey: Image.Image, box: Box, margin: int) -> None:
        """Fit inside the box without cropping (a signature is never cut), centred, then dither."""
        inner = (box.width - 2 * margin, box.height - 2 * margin)
        fitted = ImageOps.contain(grey, inner, method=Image.Resampling.LANCZOS)
        x = box.x + (box.width - fitted.width) // 2
        y = box.y + (box.height - fitted.height) // 2
        self.image.paste(fitted.convert("1"), (x, y))

    def signature_line(self, box: Box, margin: int, thickness: int) -> None:
        y = box.bottom - margin - thickness
        self._draw.rectangle((box.x + margin, y, box.right - 1 - margin, y + thickness - 1), fill=INK)

    def placeholder(self, box: Box, clear: Box, thickness: int) -> None:
        """A framed cross, with `clear` left white for the words that say there is no photo."""
        last_x, last_y = box.right - 1, box.bottom - 1
        self._draw.rectangle((box.x, box.y, last_x, last_y), outline=INK, width=thickness)
        self._draw.line((box.x, box.y, last_x, last_y), fill=INK, width=thickness)
        self._draw.line((box.x, last_y, last_x, box.y), fill=INK, width=thickness)
        self._draw.rectangle((clear.x, clear.y, clear.right - 1, clear.bottom - 1), fill=PAPER)

    def pack(self) -> bytes:
        """The panel as the printer takes it: 1016 lines of 81 bytes, line n = column x = n, MSB = y 0."""
        packed = self.image.transpose(Image.Transpose.TRANSPOSE).tobytes("raw", "1;I")
        assert len(packed) == LINES * BYTES_PER_LINE
        return packed


def first_inked_line(panel: bytes) -> int | None:
    """The first line holding a dot of ink, or None for a blank panel."""
    blank_prefix = len(panel) - len(panel.lstrip(b"\x00"))
    return None if blank_prefix == len(panel) else blank_prefix // BYTES_PER_LINE


def panel_picture(panel: bytes) -> Image.Image:
    """The packed panel back as a picture in the card's frame (mode "1", 1016 x 648)."""
    lines = Image.frombytes("1", (CARD_HEIGHT, CARD_WIDTH), panel, "raw", "1;I")
    return lines.transpose(Image.Transpose.TRANSPOSE)
