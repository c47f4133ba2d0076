"""The one catalogue of words the station says to people, in Bahasa Indonesia (default) and English.

Each area keeps its messages in a TOML file of this folder: a table per message key with `id` and `en`.
`t("key", name=value)` formats the message in the current language.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

DEFAULT_LANGUAGE = "id"
_language = DEFAULT_LANGUAGE


def set_language(language: str) -> None:
    global _language
    _language = language


def current_language() -> str:
    return _language


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".toml"):
            continue
        for key, texts in tomllib.loads(entry.read_text(encoding="utf-8")).items():
            if key in merged:
                raise ValueError(f"message {key!r} is defined twice (again in {entry.name})")
            merged[key] = texts
    return merged


def t(key: str, /, **values: object) -> str:
    """The message `key` in the current language, formatted with `values`."""
    return t_in(_language, key, **values)


def t_in(language: str, key: str, /, **values: object) -> str:
    texts = catalogue().get(key)
    if texts is None:
        raise KeyError(f"no message {key!r} in the catalogue")
    text = texts.get(language) or texts[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text
