"""A paper checked, then typeset: nothing is made when a text cannot be printed."""

from __future__ import annotations

from console.i18n import t
from console.papers.paper import Paper, UntypesettableError, untypesettable


def render(paper: Paper) -> bytes:
    """The paper as PDF bytes; UntypesettableError (nothing made) when a text cannot be printed."""
    bad = untypesettable(paper.texts())
    if bad:
        text, char = bad[0]
        raise UntypesettableError(
            t("paper.untypesettable", title=paper.title, text=text, char=f"U+{ord(char):04X}", count=len(bad))
        )
    from console.papers.typeset import typeset  # fpdf2 (and Pillow) load only when a paper is made

    return typeset(paper)
