"""One official paper, described as blocks and typeset on A4 in the fonts shipped with the station (DejaVu Sans
and DejaVu Sans Mono, `fonts/`, with their licence)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

from console.errors import RefusedError

MARGIN_MM = 18
LINE_MM = 5.5
ROW_MM = 6.0
BODY_PT = 10
TABLE_PT = 9
SMALLEST_PT = 5.5  # a long cell shrinks down to this before it is refused rather than cut
SIGNATURE_ROOM_MM = 22  # the space above the name line, for the hand and the stamp
SIGNATURES_A_ROW = 3
FONTS = Path(__file__).parent / "fonts"
FACES = {  # (family, style) → file; every text of a paper is in one of them
    ("DejaVu", ""): FONTS / "DejaVuSans.ttf",
    ("DejaVu", "B"): FONTS / "DejaVuSans-Bold.ttf",
    ("DejaVuMono", ""): FONTS / "DejaVuSansMono.ttf",
}
RIGHT_TO_LEFT = ("R", "AL", "AN")  # scripts written right to left with joined letters: not laid out (no shaping)


class UntypesettableError(RefusedError):
    """A text holds a character the paper's fonts cannot print; nothing was written."""


@dataclass(frozen=True)
class Column:
    header: str
    share: float  # of the text width
    align: str = "L"  # "L", "C" or "R"


@dataclass(frozen=True)
class Signature:
    role: str  # e.g. "Yang menyerahkan"
    name: str = ""  # printed under the line; "" leaves the line for the hand
    detail: str = ""  # a line under the name (NIP, position)


@dataclass(frozen=True)
class Paper:
    office: str
    title: str
    made_at: datetime  # kept as the PDF's creation date: the same paper gives the same bytes
    number: str = ""  # the paper's own number or subject, under the title
    opening: Sequence[str] = ()
    fields: Sequence[tuple[str, str]] = ()
    columns: Sequence[Column] = ()
    rows: Sequence[Sequence[str]] = ()
    total: str = ""
    closing: Sequence[str] = ()
    place_date: str = ""
    signatures: Sequence[Signature] = ()
    monospaced: Sequence[str] = field(default_factory=tuple)  # lines kept as typed (a text report's twin)

    def texts(self) -> Iterable[str]:
        yield from (self.office, self.title, self.number, *self.opening, *self.closing, self.total, self.place_date)
        for label, value in self.fields:
            yield from (label, value)
        for column in self.columns:
            yield column.header
        for row in self.rows:
            yield from row
        for signature in self.signatures:
            yield from (signature.role, signature.name, signature.detail)
        yield from self.monospaced


@cache
def _covered() -> frozenset[int]:
    """The characters every face has a glyph for (a text may be set in any of them)."""
    from fontTools.ttLib import TTFont  # fpdf2's own dependency, loaded when a paper is checked

    maps = [set(TTFont(path, lazy=True).getBestCmap()) for path in FACES.values()]
    return frozenset(set.intersection(*maps))


def _printable(char: str) -> bool:
    if unicodedata.category(char).startswith("C") or unicodedata.bidirectional(char) in RIGHT_TO_LEFT:
        return False
    return char == " " or ord(char) in _covered()


def untypesettable(texts: Iterable[str]) -> list[tuple[str, str]]:
    """Each text that cannot be typeset, with its first offending character."""
    found = []
    for text in texts:
        bad = next((char for char in text if not _printable(char)), None)
        if bad is not None:
            found.append((text, bad))
    return found
