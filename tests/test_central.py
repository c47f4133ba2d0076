"""The centre's simulator: its key pair, its grants, and that the station never loads it."""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

from console.canonical import canonical_bytes, sha256_hex
from console.central import simulator
from console.errors import UsageError
from tests.test_report_kit import station

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {Path("console/central"), Path("console/commands/central_cmd.py")}


def report_file(folder: Path, good: list[tuple[str, int]], bad: list[tuple[str, int]]) -> Path:
    """A report as a station writes it (the centre's input), with its report_id."""
    body = {
        "format": "ktpel-station/report/1", "station_id": "5203-01",
        "allocation": {"id": "J", "received": 10, "period": "2026-11"},
        "counts": {"good": len(good), "bad": len(bad), "spoiled_no_nik": 0, "in_stock": 10 - len(good) - len(bad)},
        "good": [{"nik": n, "card_counter": c, "printed_at": "2026-11-28T09:00:00.000+08:00"} for n, c in good],
        "bad": [{"nik": n, "card_counter": c, "printed_at": "2026-11-28T09:00:00.000+08:00", "reason": "gagal_cetak",
                 "note": None} for n, c in bad],
        "spoiled_no_nik": [], "generated_at": "2026-11-28T10:00:00.000+08:00",
    }  # fmt: skip
    body["report_id"] = sha256_hex(body)
    path = folder / "laporan-J.json"
    path.write_text(json.dumps(body, indent=2))
    return path


A, B, C = "5203070101900001", "5203070101900002", "5203070101900003"


def test_keygen_writes_pem_keys_private_0600_and_prints_the_key_id(tmp_path):
    result = station(None, "central", "keygen", "--out", str(tmp_path / "centre"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    private, public = tmp_path / "centre" / "central-private.pem", tmp_path / "centre" / "central-public.pem"
    assert private.stat().st_mode & 0o777 == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    raw = load_pem_public_key(public.read_bytes()).public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert len(raw) == 32
    assert result.stdout.splitlines()[0] == hashlib.sha256(raw).digest()[:8].hex()
    before = private.read_bytes()
    again = station(None, "central", "keygen", "--out", str(tmp_path / "centre"), cwd=tmp_path)
    assert again.returncode == 2 and "central-private.pem" in again.stderr
    assert private.read_bytes() == before  # a key is never overwritten


def test_grant_from_the_command_line_without_any_config(tmp_path):
    env_free = {k: v for k, v in os.environ.items() if k != "STATION_CONFIG"}
    pair = simulator.generate_keys(tmp_path / "centre")
    report = report_file(tmp_path, good=[(A, 1)], bad=[(B, 2), (C, 3)])
    out = tmp_path / "grant.json"
    result = subprocess.run(
        [str(Path(sys.executable).with_name("station")), "central", "grant", str(report), "--key", str(pair.private),
         "--out", str(out), "--expires", "12h", "--json"],
        capture_output=True, text=True, cwd=tmp_path, env=env_free, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert set(document) == {"format", "grant", "key_id", "signature"}
    assert document["format"] == "ktpel-central/unlock/1"
    grant = document["grant"]
    assert set(grant) == {"station_id", "report_id", "niks", "issued_at", "expires_at", "nonce"}
    assert grant["niks"] == [B, C] and grant["station_id"] == "5203-01"
    assert grant["report_id"] == json.loads(report.read_text())["report_id"]
    assert document["key_id"] == pair.key_id and json.loads(result.stdout)["nonce"] == grant["nonce"]
    issued, expires = datetime.fromisoformat(grant["issued_at"]), datetime.fromisoformat(grant["expires_at"])
    assert expires - issued == timedelta(hours=12) and issued.tzinfo is not None
    public = load_pem_public_key(pair.public.read_bytes())
    public.verify(base64.b64decode(document["signature"]), canonical_bytes(grant))  # raises if it does not verify


def test_grant_takes_named_niks_only_if_reported_bad(tmp_path):
    pair = simulator.generate_keys(tmp_path)
    key = simulator.load_private_key(pair.private)
    report = simulator.read_report(report_file(tmp_path, good=[(A, 1)], bad=[(B, 2), (C, 3)]))
    assert simulator.grant_for_report(report, key, [C])["grant"]["niks"] == [C]
    with pytest.raises(UsageError, match=A):
        simulator.grant_for_report(report, key, [C, A])
    nonces = {simulator.grant_for_report(report, key)["grant"]["nonce"] for _ in range(5)}
    assert len(nonces) == 5  # a new random nonce for each grant


def test_default_niks_are_those_whose_last_card_is_bad(tmp_path):
    report = {
        "good": [{"nik": A, "card_counter": 7}],
        "bad": [{"nik": A, "card_counter": 2}, {"nik": B, "card_counter": 3}, {"nik": B, "card_counter": 8}],
    }
    assert simulator.unlockable_niks(report) == [B]  # A was reprinted good since


def test_an_altered_report_or_another_file_is_refused(tmp_path):
    pair = simulator.generate_keys(tmp_path / "k")
    path = report_file(tmp_path, good=[(A, 1)], bad=[(B, 2)])
    body = json.loads(path.read_text())
    body["bad"].append({**body["bad"][0], "nik": A})  # a good NIK slipped into the bad list
    path.write_text(json.dumps(body))
    result = station(None, "central", "grant", str(path), "--key", str(pair.private), "--out", str(tmp_path / "g.json"))
    assert result.returncode == 2 and "report_id" in result.stderr and not (tmp_path / "g.json").exists()
    with pytest.raises(UsageError):
        simulator.read_report(pair.public)
    with pytest.raises(UsageError):
        simulator.load_private_key(pair.public)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("90s", timedelta(seconds=90)),
    ],
)
def test_durations(text, expected):
    assert simulator.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "0d", "-1d", "7w", "1.5h", "d7"])
def test_bad_durations(text):
    with pytest.raises(UsageError):
        simulator.parse_duration(text)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_station_module_imports_the_centre():
    offenders = []
    for folder in ("console", "screens", "drivers"):
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if any(relative == allowed or allowed in relative.parents for allowed in ALLOWED):
                continue
            if any(name == "console.central" or name.startswith("console.central.") for name in _imports(path)):
                offenders.append(str(relative))
    assert offenders == []


def test_the_station_runs_without_loading_the_centre():
    probe = (
        "import sys; from console.cli import build_parser; build_parser(); "
        "import console.unlock, console.reports, console.history, screens.report; "
        "print(sorted(m for m in sys.modules if m.startswith('console.central')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_centre_remembers_the_cards_it_unlocked(tmp_path):
    """A ledger beside the private key: the same bad card is not granted twice unless named with --niks."""
    pair = simulator.generate_keys(tmp_path / "centre")
    report = report_file(tmp_path, good=[(A, 1)], bad=[(B, 2), (C, 3)])

    def grant(out: str, *extra: str):
        return station(None, "central", "grant", str(report), "--key", str(pair.private), "--out",
                       str(tmp_path / out), *extra, cwd=tmp_path)  # fmt: skip

    assert grant("g1.json").returncode == 0
    assert json.loads((tmp_path / "g1.json").read_text())["grant"]["niks"] == [B, C]
    again = grant("g2.json")
    assert again.returncode == 2 and B in again.stderr and "--niks" in again.stderr
    assert not (tmp_path / "g2.json").exists()
    named = grant("g3.json", "--niks", C, "--json")
    assert named.returncode == 0 and json.loads(named.stdout)["niks"] == [C]
    ledger = [json.loads(line) for line in (tmp_path / "centre" / "central-ledger.jsonl").read_text().splitlines()]
    assert [[card["nik"] for card in entry["cards"]] for entry in ledger] == [[B, C], [C]]
