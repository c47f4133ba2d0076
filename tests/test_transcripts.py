"""Every conversation of spec/transcripts.json, byte for byte, against the emulator over a real pseudo-terminal."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import serial

from drivers.emulator import EmulatorServer, read_output_log

ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPTS = ROOT / "tests" / "data" / "transcripts.json"  # a copy of the spec's conformance transcripts
SCENARIOS: list[dict[str, Any]] = json.loads(TRANSCRIPTS.read_text(encoding="utf-8"))["scenarios"]


def test_every_scenario_is_replayed() -> None:
    assert len(SCENARIOS) >= 6


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_scenario(scenario: dict[str, Any], tmp_path: Path) -> None:
    log = tmp_path / "out.jsonl"
    options = {"feeder": scenario["feeder"], "faults": scenario.get("faults", ""), "time_scale": 0, "log": log}
    with EmulatorServer.pty(**options) as emu, serial.Serial(emu.port, timeout=5) as port:
        for number, step in enumerate(scenario["steps"], start=1):
            port.write(bytes.fromhex(step["bytes_hex"]))
            raw = port.read_until(b"\r")
            assert raw.endswith(b"\r"), f"step {number} ({step['as_text']}): no reply, got {raw!r}"
            reply = raw[:-1].decode("ascii")
            if "reply" in step:
                assert reply == step["reply"], f"step {number} ({step['as_text']})"
            else:
                assert re.fullmatch(step["reply_matches"], reply), f"step {number} ({step['as_text']}): {reply!r}"
    lines = read_output_log(log)
    assert [(line["nik"], line["dest"]) for line in lines] == [
        (expected["nik"], expected["dest"]) for expected in scenario.get("output_log", [])
    ]
