"""Key bindings whose descriptions are catalogue keys, put into the operator's language when a screen is made.

Bindings are class attributes, read when the module is imported, before the station's language is known; so a
binding's description names a catalogue entry (`ui.key.…`) and `translate_bindings` replaces it with the words.
"""

from __future__ import annotations

import re
from dataclasses import replace

from textual.binding import Binding
from textual.dom import DOMNode

from console.i18n import catalogue, t


def key(keys: str, action: str, description: str, *, show: bool = True, priority: bool = False,
        key_display: str | None = None, id: str | None = None) -> Binding:  # fmt: skip
    """A binding whose `description` is a catalogue key, with a stable id (`App.set_keymap` remaps by id): the
    action's name (`open('queue')` → `open-queue`), unless `id` names it."""
    return Binding(keys, action, description, show=show, priority=priority, key_display=key_display,
                   id=id or binding_id(action))  # fmt: skip


def binding_id(action: str) -> str:
    """`app.open('tagging')` → `open-tagging`, `turn(-1)` → `turn-back-1`: letters, digits and dashes."""
    words = re.sub(r"^(app|screen)\.", "", action).replace("-", "back-")
    return "-".join(part for part in re.split(r"[^a-zA-Z0-9]+", words) if part).lower().replace("_", "-")


def translate_bindings(node: DOMNode) -> None:
    # The lists are shared with the class's bindings (a shallow copy): replace them, never change them.
    table = node._bindings.key_to_bindings
    for name, bindings in table.items():
        table[name] = [
            replace(b, description=t(b.description)) if b.description.startswith("ui.") else b for b in bindings
        ]


def key_label(name: str, *, short: bool = False) -> str:
    """How a key is written for people: F1, Ctrl+P (^P when `short`, for the footer), Esc, ←, B."""
    entry = f"ui.keyname.{name}"
    if entry in catalogue():
        return t(entry)
    if name.startswith("ctrl+"):
        rest = key_label(name[5:])
        return f"^{rest}" if short else t("ui.keyname.ctrl_with", key=rest)
    return name.upper()
