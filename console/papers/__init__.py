"""Official papers on A4, ready to print and sign: the *berita acara* of a hand-over or a destruction, a
receipt slip, a request letter, a report's printed twin.

A paper is described as blocks (`Paper`: heading lines, fields, paragraphs, one table with a total, signature
boxes) and typeset by `render()` into PDF bytes, in the DejaVu fonts shipped in `fonts/` (with their licence).
Every page carries the office's name and "page n of N". Text the fonts cannot typeset (a character no face holds,
a right-to-left script) is refused before anything is rendered (`untypesettable`), so a paper is never written
with a character missing. Writing the bytes is the caller's: through `drivers.atomic_file`, after
keeping their SHA-256 where the record says so.
"""

from console.papers.paper import Column, Paper, Signature, UntypesettableError, untypesettable
from console.papers.rendering import render

__all__ = ["Column", "Paper", "Signature", "UntypesettableError", "render", "untypesettable"]
