"""Messages the app sends its screens."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from console.live import Live


@dataclass
class LiveUpdated(Message):
    """The dashboard's data was read again (after engine events or an action; coalesced)."""

    live: Live


class PrinterUpdated(Message):
    """The printer's identity or status was read again."""
