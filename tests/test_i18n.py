"""The catalogue: every message in both languages with the same placeholders; every key the code asks exists."""

import re
import string
from pathlib import Path

import pytest

from console.i18n import catalogue, set_language, t

ROOT = Path(__file__).resolve().parent.parent
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_][a-z0-9_.]*)["']""")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(catalogue()))
def test_each_message_has_both_languages_with_the_same_placeholders(key):
    texts = catalogue()[key]
    assert set(texts) == {"id", "en"}, f"{key}: languages {sorted(texts)}"
    assert texts["id"].strip() and texts["en"].strip()
    assert placeholders(texts["id"]) == placeholders(texts["en"]), key


def test_every_key_the_code_names_is_in_the_catalogue():
    missing = []
    for folder in ("console", "screens"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.parent.name == "i18n":
                continue
            for key in LITERAL_KEY.findall(path.read_text(encoding="utf-8")):
                if key not in catalogue():
                    missing.append(f"{path.relative_to(ROOT)}: {key}")
    assert not missing, "\n".join(missing)


def test_language_switch():
    try:
        set_language("en")
        assert t("engine.state.paused") == "PAUSED"
        set_language("id")
        assert t("engine.state.paused") == "JEDA"
    finally:
        set_language("id")
