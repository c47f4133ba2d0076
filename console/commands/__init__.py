"""Subcommands of `station`. Each module defines `register(subparsers, common)`, adding its commands with
`set_defaults(handler=...)`; a handler takes (args, settings) and returns the exit status (or a coroutine of it).
A command that must work without a station sets `language_only=True` in its defaults: it takes `--config` like
every command, but reads only the language from it (and needs no config file at all). A module whose name starts
with `_` helps the commands and adds none."""

from __future__ import annotations

import re

_WHOLE = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def whole_number(text: str) -> int:
    """argparse's type for a whole number: ASCII digits alone (`int` takes any script's digits and spaces)."""
    if not _WHOLE.fullmatch(text):
        raise ValueError(text)
    return int(text)


def decimal_number(text: str) -> float:
    """argparse's type for a decimal: ASCII digits and a point (`float` takes other digits, `inf` and `nan`)."""
    if not _DECIMAL.fullmatch(text):
        raise ValueError(text)
    return float(text)
