"""A printed card's front as a PNG picture, so that a person can look at what the emulator printed.

The frame is printer-protocol.md's "Geometry": the card landscape, x along the long edge (0–1015), y along the
short edge (0–647); line n of the black-panel bitmap is the column x = n, and bit k of that line (most
significant bit of its first byte first) is the dot at y = k. `Wt` texts are drawn with their top-left corner at
(x, y), at their height in dots.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from drivers import protocol as p
from drivers.atomic_file import atomic_writer
from drivers.emulator.model import PrintedCard, TextItem

CARD_SIZE = (p.LINES, p.DOTS_PER_LINE)  # (width, height) of the picture: 1016 × 648
_BOLD_FONTS = ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "Arial Bold.ttf")
_REGULAR_FONTS = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "Arial.ttf")


def render_front(black: bytes, texts: tuple[TextItem, ...] | list[TextItem]) -> Image.Image:
    """The card's front: the black panel (set bit = ink) with the texts on it, as a greyscale picture."""
    if len(black) != p.PANEL_BYTES:
        raise ValueError(f"a black panel is {p.PANEL_BYTES} bytes, not {len(black)}")
    # Mode "1" reads a set bit as white: invert so that ink is black. Rows are bitmap lines; transposing
    # makes line n the column x = n and bit k the row y = k.
    inverted = bytes(b ^ 0xFF for b in black)
    lines = Image.frombytes("1", (p.DOTS_PER_LINE, p.LINES), inverted)
    card = lines.transpose(Image.Transpose.TRANSPOSE).convert("L")
    draw = ImageDraw.Draw(card)
    for item in texts:
        draw.text((item.x, item.y), item.text, fill=0, font=_font(item.font, item.height))
    return card


def write_card_png(folder: Path | str, printed: PrintedCard) -> Path:
    """Write `card-<counter>.png` into `folder` (the counter is `Rco;c` of that card: unique for the printer)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"card-{printed.counter:07d}.png"
    with atomic_writer(path) as out:
        render_front(printed.black, printed.texts).save(out, format="PNG")
    return path


@lru_cache(maxsize=64)
def _font(font: int, height: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in _BOLD_FONTS if font == 1 else _REGULAR_FONTS:
        try:
            return ImageFont.truetype(name, height)
        except OSError:
            continue
    return ImageFont.load_default(size=height)
