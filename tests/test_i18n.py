"""The catalogue: every message in both languages with the same placeholders; every key the code asks exists."""

import re
import string
from pathlib import Path

from console.i18n import catalogue, set_language, t

ROOT = Path(__file__).resolve().parent.parent
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_][a-z0-9_.]*)["']""")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# One test a rule, each naming every key that breaks it: the suite's count says how many rules are checked.


def test_every_message_is_written_in_both_languages():
    wrong = [
        f"{key}: languages {sorted(texts)}" if set(texts) != {"id", "en"} else f"{key}: an empty text"
        for key, texts in sorted(catalogue().items())
        if set(texts) != {"id", "en"} or not (texts["id"].strip() and texts["en"].strip())
    ]
    assert not wrong, "\n".join(wrong)


def test_both_languages_of_a_message_have_the_same_placeholders():
    wrong = [
        f"{key}: id {sorted(placeholders(texts['id']))}, en {sorted(placeholders(texts['en']))}"
        for key, texts in sorted(catalogue().items())
        if {"id", "en"} <= set(texts) and placeholders(texts["id"]) != placeholders(texts["en"])
    ]
    assert not wrong, "\n".join(wrong)


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
