"""The Textual consoles live in `screens/`; the command line finds them by name through the package's entry
points (pyproject.toml, `ktpel_station.consoles`), so that the core never imports the screens nor Textual."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from console.errors import StationError
from console.i18n import t

GROUP = "ktpel_station.consoles"


def load_console(name: str) -> Any:
    """The app class registered as `name` ("operator", "supervisor"); imported only now, with Textual."""
    found = entry_points(group=GROUP, name=name)
    if not found:
        raise StationError(t("consoles.missing", name=name, group=GROUP))
    return next(iter(found)).load()
