"""`--help` in the station's language: the help texts are catalogue keys (`help.*`); argparse's own words
("usage:", "options", its error sentences) go through its `gettext` call, which this module answers from the
catalogue (`argparse.*`). The language is known before the arguments are parsed: the config's `[station] language`,
read from the config that `--config` names or the station would find (nothing else of it; a config that cannot be
read leaves the default, and the command then reports it properly)."""

from __future__ import annotations

import argparse
import tomllib
from collections.abc import Sequence
from pathlib import Path

from console.i18n import catalogue, t

# argparse's message ids (Python 3.11+) and the catalogue's words for them; any other keeps argparse's English
ARGPARSE_WORDS = {
    "usage: ": "argparse.usage",
    "positional arguments": "argparse.positionals",
    "options": "argparse.options",
    "show this help message and exit": "argparse.help",
    "show program's version number and exit": "argparse.version",
    "%(prog)s: error: %(message)s\n": "argparse.error",
    "the following arguments are required: %s": "argparse.required",
    "unrecognized arguments: %s": "argparse.unrecognized",
    "argument %(argument_name)s: %(message)s": "argparse.argument",
    "invalid choice: %(value)r (choose from %(choices)s)": "argparse.invalid_choice",
    "invalid %(type)s value: %(value)r": "argparse.invalid_value",
    "expected one argument": "argparse.expected_one",
    "one of the arguments %s is required": "argparse.one_required",
    "not allowed with argument %s": "argparse.not_allowed_with",
    "ambiguous option: %(option)s could match %(matches)s": "argparse.ambiguous",
}


def argparse_words(message: str) -> str:
    key = ARGPARSE_WORDS.get(message)
    return t(key) if key is not None and key in catalogue() else message


def install_argparse_words() -> None:
    """argparse looks its words up through the module-level `_` (gettext) at each use: answer from the catalogue."""
    argparse._ = argparse_words  # type: ignore[attr-defined]


def language_before_parsing(argv: Sequence[str], default_path: Path, languages: Sequence[str]) -> str | None:
    """The config's language, for the words of `--help` and of argparse's errors; None when it cannot be told."""
    named = None
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            named = argv[i + 1]
        elif arg.startswith("--config="):
            named = arg.split("=", 1)[1]
    path = Path(named) if named else default_path
    try:
        language = tomllib.loads(path.read_text(encoding="utf-8")).get("station", {}).get("language")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        return None
    return language if language in languages else None
