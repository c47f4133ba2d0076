"""Patterns that check input: `$` lets a final newline through and `\\d` any script's digits, so the project's
patterns end with `\\Z` and spell digits [0-9]. One check of the sources keeps it so."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from console import unlock

ROOT = Path(__file__).resolve().parent.parent
RE_FUNCTIONS = {"compile", "match", "fullmatch", "search", "findall", "finditer", "sub", "split"}


def risky_patterns(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.func.attr in RE_FUNCTIONS
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            continue  # fmt: skip
        pattern = node.args[0].value
        text = pattern.decode("latin-1") if isinstance(pattern, bytes) else pattern
        ascii_flag = any("ASCII" in ast.unparse(arg) for arg in [*node.args[1:], *(k.value for k in node.keywords)])
        if re.search(r"(?<!\\)\$", text) or (r"\d" in text and not ascii_flag and isinstance(pattern, str)):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text}")
    return found


def test_no_pattern_of_the_project_ends_with_dollar_or_takes_any_digit():
    sources = [p for package in ("console", "drivers", "screens") for p in sorted((ROOT / package).rglob("*.py"))]
    assert [hit for path in sources for hit in risky_patterns(path)] == []


def test_the_source_check_sees_a_risky_pattern(tmp_path):
    sample = ROOT / "tests" / "data" / "_risky_sample.py"
    try:
        sample.write_text('import re\nA = re.compile(r"^[0-9]+$")\nB = re.compile(r"\\d{4}")\n')
        assert len(risky_patterns(sample)) == 2
    finally:
        sample.unlink()


@pytest.mark.parametrize(("pattern", "value"), [
    (unlock.KEY_ID, "0123456789abcdef\n"),
    (unlock.HEX64, "ab" * 32 + "\n"),
    (unlock.NONCE, "0123456789abcdef\n"),
    (unlock.NIK, "5203090403820001\n"),
])  # fmt: skip
def test_a_grants_fields_with_a_final_newline_are_not_their_form(pattern, value):
    assert pattern.match(value.rstrip("\n")) and not pattern.match(value)
