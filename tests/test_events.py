"""Audit entries in the words of people: every action the station records has a sentence, and a real day's log
reads without event names, raw data or ISO times."""

from __future__ import annotations

import ast
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from console import jobs
from console.demo import write_demo_csv
from console.events import describe_event
from console.i18n import catalogue, set_language

ROOT = Path(__file__).resolve().parent.parent
STATION = str(Path(sys.executable).with_name("station"))


@pytest.fixture(autouse=True)
def _indonesian():
    set_language("id")
    yield
    set_language("id")


def recorded_actions() -> set[str]:
    """Every action name the core writes to the audit log, the ones made at run time included."""
    actions = {f"job.{state}" for state in jobs.TRANSITIONS}
    actions |= {f"queue.{kind}" for kind in ("pause_requested", "resume_requested", "paused", "resumed")}
    for path in (ROOT / "console").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "audit":
                for arg in node.args[:1]:
                    for value in ast.walk(arg):
                        if isinstance(value, ast.Constant) and isinstance(value.value, str) and "." in value.value:
                            actions.add(value.value)
    return {a for a in actions if not a.endswith(".")}


def test_every_recorded_action_has_words_in_the_catalogue():
    missing = sorted(a for a in recorded_actions() if f"audit.event.{a}" not in catalogue())
    assert missing == []


def test_a_real_days_log_reads_as_sentences(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[station]\nlanguage = "id"\n[database]\npath = "station.db"\n[logging]\nfile = "s.log"\n')
    write_demo_csv(tmp_path / "r.csv", 4, seed=5)
    for args in (
        ["import", "r.csv"],
        ["allocation", "add", "JATAH-2026-12", "1500", "--period", "2026-12"],
        ["enqueue", "--all"],
        ["allocation", "count", "JATAH-2026-12", "1499"],
    ):
        result = subprocess.run(
            [STATION, *args, "--config", str(config)], capture_output=True, text=True, cwd=tmp_path, timeout=120
        )
        assert result.returncode == 0, (args, result.stderr)
    with sqlite3.connect(tmp_path / "station.db") as db:
        db.row_factory = sqlite3.Row
        entries = [dict(row) for row in db.execute("SELECT * FROM audit ORDER BY seq")]
    sentences = [describe_event(entry) for entry in entries]
    assert {e["action"] for e in entries} >= {"residents.imported", "allocation.received", "jobs.queued_bulk"}
    for entry, sentence in zip(entries, sentences):
        assert entry["action"] not in sentence and "=" not in sentence and "None" not in sentence, sentence
    assert "Jatah JATAH-2026-12 diterima: 1.500 blangko, periode 2026-12" in sentences
    assert any(s.startswith("Hitung fisik jatah JATAH-2026-12: 1.499 blangko") for s in sentences), sentences


def test_times_in_an_entry_are_shown_in_the_stations_zone_and_unknown_actions_are_not_hidden():
    grant = {
        "action": "grant.applied",
        "subject": "R-1",
        "actor": "siti",
        "data": '{"niks": ["5203014107900001", "5203014107900002"], "expires_at": "2026-12-08T02:00:00+00:00"}',
    }
    assert describe_event(grant).endswith(
        "NIK 5203014107900001, 5203014107900002; berlaku sampai 8 Des 2026 10.00 WITA"
    )
    assert describe_event({"action": "future.thing", "subject": "x", "data": {}}) == "peristiwa future.thing (x)"
