"""Every way a grant can be wrong, through `station unlock`: exit 6, the failed check named, nothing changed but
the one audit entry `grant.rejected`."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.canonical import sha256_hex
from console.central import simulator
from console.clock import now
from tests.test_report_kit import (
    STATION_ID,
    Centre,
    centre_keys,
    dump,
    print_cards,
    reported,
    run_cli,
    tag,
    write_config,
)  # fmt: skip


@dataclass
class Template:
    folder: Path
    niks: list[str]
    report: dict[str, Any]
    centre: Centre
    other: Centre  # a key the station does not know

    @property
    def bad(self) -> list[str]:
        return self.niks[2:5]

    @property
    def good(self) -> str:
        return self.niks[0]

    @property
    def never_printed(self) -> str:
        return self.niks[5]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Template:
    """Once per module: five cards printed on the emulator, two good and three bad, reported; a sixth resident
    never printed; the centre's key configured."""
    folder = tmp_path_factory.mktemp("station")

    async def build() -> tuple[list[str], dict[str, Any]]:
        printed = await print_cards(folder, residents=6, blanks=20, printing=5)
        try:
            niks = printed.niks
            await tag(printed.store, niks[:2], {niks[2]: "gagal_cetak", niks[3]: "rusak_fisik", niks[4]: "lainnya"})
            return niks, await reported(printed.store, folder / "laporan")
        finally:
            await printed.store.close()

    niks, report = asyncio.run(build())
    centre, other = centre_keys(folder / "centre"), centre_keys(folder / "other")
    write_config(folder, public_keys=("centre/central-public.pem",))
    return Template(folder, niks, report, centre, other)


@pytest.fixture
def station(template, tmp_path) -> Path:
    """A fresh copy of the template station; returns its config."""
    shutil.copytree(template.folder, tmp_path / "station")
    return tmp_path / "station" / "config.toml"


def grant(t: Template, *, key: Any = None, niks: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    fields.setdefault("station_id", STATION_ID)
    fields.setdefault("report_id", t.report["report_id"])
    return simulator.make_grant(key or t.centre.key, niks=niks or t.bad[:1], **fields)


def tampered(path: str, value: Any) -> Callable[[Template], dict[str, Any]]:
    """A good grant with one field changed after signing (`grant.nonce`, `key_id`…)."""

    def build(t: Template) -> dict[str, Any]:
        document = grant(t)
        *parents, name = path.split(".")
        target = document
        for parent in parents:
            target = target[parent]
        target[name] = value(target[name]) if callable(value) else value
        return document

    return build


def removed(path: str) -> Callable[[Template], dict[str, Any]]:
    def build(t: Template) -> dict[str, Any]:
        document = grant(t)
        *parents, name = path.split(".")
        target = document
        for parent in parents:
            target = target[parent]
        del target[name]
        return document

    return build


def resigned(build: Callable[[Template], dict[str, Any]]) -> Callable[[Template], dict[str, Any]]:
    """A grant changed and signed again by the centre: the shape checks run only once the signature verifies."""
    return lambda t: simulator.sign_grant(t.centre.key, build(t)["grant"])


def shifted(hours: int) -> Callable[[str], str]:
    return lambda iso: (datetime.fromisoformat(iso) + timedelta(hours=hours)).isoformat()


def flipped(signature: str) -> str:
    raw = bytearray(base64.b64decode(signature))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def altered_report(t: Template) -> dict[str, Any]:
    """The station's report with a good NIK moved into the bad list, its id made again: not what was produced."""
    report = copy.deepcopy(t.report)
    report["bad"].append({**report["good"][0], "reason": "gagal_cetak", "note": None})
    report["report_id"] = sha256_hex({k: v for k, v in report.items() if k != "report_id"})
    return grant(t, report_id=report["report_id"], niks=[t.good])


def duplicate_nonce(t: Template) -> bytes:
    text = json.dumps(grant(t))
    return text.replace('"nonce": ', '"nonce": "00112233445566778899", "nonce": ', 1).encode()


CASES: list[tuple[str, Callable[[Template], Any], str]] = [
    ("signed by another key", lambda t: grant(t, key=t.other.key), "unknown_key"),
    ("another key claiming ours", lambda t: {**grant(t, key=t.other.key), "key_id": t.centre.key_id}, "bad_signature"),
    ("tampered station_id", tampered("grant.station_id", "5203-02"), "bad_signature"),
    ("tampered report_id", tampered("grant.report_id", "0" * 64), "bad_signature"),
    ("tampered niks", tampered("grant.niks", lambda niks: niks + ["5203070101900077"]), "bad_signature"),
    ("tampered issued_at", tampered("grant.issued_at", shifted(-1)), "bad_signature"),
    ("tampered expires_at", tampered("grant.expires_at", shifted(24 * 30)), "bad_signature"),
    ("tampered nonce", tampered("grant.nonce", "ab" * 16), "bad_signature"),
    ("tampered key_id", tampered("key_id", "0" * 16), "unknown_key"),
    ("tampered signature", tampered("signature", flipped), "bad_signature"),
    ("signature not base64", tampered("signature", "not base64!"), "bad_value"),
    ("another station", lambda t: grant(t, station_id="5203-02"), "other_station"),
    ("unknown report", lambda t: grant(t, report_id=sha256_hex("no such report")), "unknown_report"),
    ("altered report", altered_report, "unknown_report"),
    ("a good NIK", lambda t: grant(t, niks=[t.good]), "nik_not_bad"),
    ("a NIK never printed", lambda t: grant(t, niks=[t.never_printed]), "nik_not_bad"),
    ("bad NIKs and one good", lambda t: grant(t, niks=[*t.bad, t.good]), "nik_not_bad"),
    ("expired", lambda t: grant(t, issued_at=now() - timedelta(days=8)), "expired"),
    ("issued in the future", lambda t: grant(t, issued_at=now() + timedelta(hours=1)), "not_yet_valid"),
    ("expires before issued", lambda t: grant(t, expires_in=timedelta(hours=-1)), "window"),
    ("not JSON", lambda t: b'{"format": "ktpel-central/unlock/1", ', "not_json"),
    ("not UTF-8", lambda t: b"\xff\xfe{}", "not_utf8"),
    ("NaN", lambda t: json.dumps(grant(t)).replace('"key_id"', '"x": NaN, "key_id"', 1).encode(), "not_json"),
    ("a list", lambda t: [grant(t)], "wrong_type"),
    ("another format", tampered("format", "ktpel-station/report/1"), "format"),
    ("missing nonce", resigned(removed("grant.nonce")), "missing_field"),
    ("missing nonce unsigned", removed("grant.nonce"), "bad_signature"),
    ("missing signature", removed("signature"), "missing_field"),
    ("missing grant", removed("grant"), "missing_field"),
    ("extra field", lambda t: {**grant(t), "comment": "hi"}, "extra_field"),
    ("extra grant field", resigned(tampered("grant.allocation", "JATAH-2026-11")), "extra_field"),
    ("extra grant field unsigned", tampered("grant.allocation", "JATAH-2026-11"), "bad_signature"),
    ("duplicate field", duplicate_nonce, "duplicate_field"),
    ("niks a string", resigned(tampered("grant.niks", "5203070101900001")), "wrong_type"),
    ("niks a string unsigned", tampered("grant.niks", "5203070101900001"), "bad_signature"),
    ("report_id a number", resigned(tampered("grant.report_id", 12345)), "wrong_type"),
    ("report_id a number unsigned", tampered("grant.report_id", 12345), "bad_signature"),
    ("grant a list", tampered("grant", []), "wrong_type"),
    ("no NIKs", lambda t: simulator.sign_grant(t.centre.key, {**grant(t)["grant"], "niks": []}), "bad_value"),
    ("a NIK of 15 digits", lambda t: grant(t, niks=["520307010190001"]), "bad_value"),
    ("the same NIK twice", lambda t: grant(t, niks=[t.bad[0], t.bad[0]]), "duplicate_nik"),
    ("a date without a zone", resigned(tampered("grant.issued_at", "2026-11-28T10:00:00")), "bad_value"),
    ("a date without a zone unsigned", tampered("grant.issued_at", "2026-11-28T10:00:00"), "bad_signature"),
    ("not a date", resigned(tampered("grant.expires_at", "besok")), "bad_value"),
    ("not a date unsigned", tampered("grant.expires_at", "besok"), "bad_signature"),
    ("nonce not hex", resigned(tampered("grant.nonce", "z" * 32)), "bad_value"),
    ("nonce not hex unsigned", tampered("grant.nonce", "z" * 32), "bad_signature"),
    (
        "a lone surrogate in a NIK",
        lambda t: json.dumps(grant(t)).replace(t.bad[0], "\\ud800", 1).encode(),
        "not_unicode",
    ),
    ("a lone surrogate in the format", tampered("format", "\ud800"), "format"),
    ("a lone surrogate as a field", lambda t: {**grant(t), "\udfff": 1}, "extra_field"),
    ("100,000 nested brackets", lambda t: b"[" * 100_000 + b"]" * 100_000, "too_deep"),
    (
        "a grant nested 100,000 deep",
        lambda t: (
            json.dumps(grant(t))
            .replace('"station_id"', '"x": ' + "[" * 100_000 + "]" * 100_000 + ', "station_id"', 1)
            .encode()
        ),
        "too_deep",
    ),
]


def write(folder: Path, content: Any) -> Path:
    path = folder / "grant.json"
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return path


def unlock_rejected(config: Path, path: Path, capsys) -> tuple[str, str]:
    """Run `station unlock`; assert exit 6 and that nothing changed but one `grant.rejected`; return its check."""
    db = config.parent / "station.db"
    before = dump(db)
    capsys.readouterr()
    assert run_cli(config, "unlock", str(path)) == 6
    stderr = capsys.readouterr().err
    after = dump(db)
    for table in before:
        if table != "audit":
            assert after[table] == before[table], f"{table} changed"
    assert after["audit"][: len(before["audit"])] == before["audit"]
    [entry] = after["audit"][len(before["audit"]) :]
    assert entry[1] == "grant.rejected"
    return json.loads(entry[3])["check"], stderr


@pytest.mark.parametrize("name, build, check", CASES, ids=[case[0] for case in CASES])
def test_a_wrong_grant_is_rejected_and_changes_nothing(template, station, capsys, name, build, check):
    path = write(station.parent, build(template))
    failed, stderr = unlock_rejected(station, path, capsys)
    assert failed == check
    assert stderr.startswith("station: izin buka kunci ditolak, tidak ada yang diubah: ") and stderr.count("\n") == 1


def test_the_same_grant_twice(template, station, capsys):
    path = write(station.parent, grant(template, niks=template.bad))
    assert run_cli(station, "unlock", str(path)) == 0
    failed, stderr = unlock_rejected(station, path, capsys)
    assert failed == "nonce_used" and json.loads(path.read_text())["grant"]["nonce"] in stderr


def test_a_second_grant_while_the_nik_waits_for_its_reprint(template, station, capsys):
    assert run_cli(station, "unlock", str(write(station.parent, grant(template)))) == 0
    failed, _ = unlock_rejected(station, write(station.parent, grant(template)), capsys)
    assert failed == "nik_not_locked"


def test_a_huge_file(template, station, capsys):
    path = station.parent / "grant.json"
    with open(path, "wb") as f:
        f.truncate(3 * 1024**3)
    failed, stderr = unlock_rejected(station, path, capsys)
    assert failed == "too_large" and "terlalu besar" in stderr


def test_no_central_key_configured(template, station, capsys):
    write_config(station.parent)
    failed, stderr = unlock_rejected(station, write(station.parent, grant(template)), capsys)
    assert failed == "no_keys" and "central.public_keys" in stderr


def test_the_messages_say_which_check_failed(template, station, capsys):
    _, stderr = unlock_rejected(station, write(station.parent, grant(template, niks=[template.good])), capsys)
    assert template.good in stderr and "tidak dilaporkan rusak" in stderr
    _, stderr = unlock_rejected(station, write(station.parent, grant(template, station_id="5203-02")), capsys)
    assert "5203-02" in stderr and STATION_ID in stderr
    _, stderr = unlock_rejected(station, write(station.parent, resigned(removed("grant.nonce"))(template)), capsys)
    assert "grant.nonce" in stderr


def test_a_missing_file_is_a_usage_error(station, capsys):
    assert run_cli(station, "unlock", str(station.parent / "nothing.json")) == 2
    assert "nothing.json" in capsys.readouterr().err


def test_a_megabyte_of_unsigned_niks_is_rejected_in_linear_time(template, station, capsys):
    """Some 52,000 copies of one NIK, not signed: the signature is checked before the NIKs are looked at, and
    their duplicate check is linear (it once took most of a minute of CPU and froze the console's queue)."""
    document = grant(template)
    document["grant"]["niks"] = [template.bad[0]] * 52_000
    path = write(station.parent, document)
    assert 1_000_000 < path.stat().st_size <= 1024 * 1024
    started = time.process_time()
    failed, _ = unlock_rejected(station, path, capsys)
    assert failed == "bad_signature"
    assert time.process_time() - started < 5


def test_a_signed_grant_with_many_duplicates_is_rejected_in_linear_time(template, station, capsys):
    document = simulator.sign_grant(template.centre.key, {**grant(template)["grant"], "niks": template.bad * 15_000})
    path = write(station.parent, document)
    started = time.process_time()
    failed, stderr = unlock_rejected(station, path, capsys)
    assert failed == "duplicate_nik" and all(nik in stderr for nik in template.bad)
    assert time.process_time() - started < 5
