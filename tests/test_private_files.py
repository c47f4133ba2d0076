"""Files that hold personal data are the owner's alone (0600), and no file is ever written through a link that
someone else planted: the temporary file is made with O_EXCL, a final name that is a link is refused."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from drivers.atomic_file import atomic_writer, open_private_append, write_atomic
from tests.test_cli_robust import make_station, station


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


def test_every_file_of_a_day_that_holds_personal_data_is_private(tmp_path):
    (tmp_path / "station.log").write_text("")
    os.chmod(tmp_path / "station.log", 0o644)  # a log left by an older version, readable by all: no longer
    config = make_station(tmp_path, residents=3)
    config.write_text(config.read_text().replace('log = "output.jsonl"', 'log = "output.jsonl"\ncards = "cards"'))
    ok(station(config, "allocation", "add", "A1", "3", "--period", "2026-11"))
    ok(station(config, "enqueue", "--all"))
    ok(station(config, "print"))
    for line in (tmp_path / "output.jsonl").read_text().splitlines():
        ok(station(config, "tag", json.loads(line)["nik"], "good"))
    ok(station(config, "report", "A1", "--out", str(tmp_path / "report")))
    ok(station(config, "audit", "export", "--out", str(tmp_path / "audit.jsonl")))
    batch = json.loads(ok(station(config, "handover", "batches", "--json")).stdout)[0]["batch"]
    ok(station(config, "handover", "release", batch))
    ok(station(config, "handover", "issue", batch, "--to", "Kepala Desa", "--out", str(tmp_path / "papers")))
    nik = json.loads((tmp_path / "output.jsonl").read_text().splitlines()[0])["nik"]
    ok(station(config, "handover", "collect", nik, "--out", str(tmp_path / "papers")))
    assert mode(tmp_path / "station.log") == 0o640  # the group keeps what it had: docs/ssh.md shares the log
    written = [tmp_path / name for name in ("output.jsonl", "emulator-state.json", "audit.jsonl")]
    written += sorted((tmp_path / "cards").iterdir()) + sorted((tmp_path / "report").iterdir())
    written += sorted((tmp_path / "papers").iterdir())  # the hand-over's PDF and CSV, the receipt slip
    assert len(written) == 3 + 3 + 5 + 3
    assert {str(path.relative_to(tmp_path)): oct(mode(path)) for path in written} == {
        str(path.relative_to(tmp_path)): oct(0o600) for path in written
    }
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []


def test_an_export_never_writes_through_a_planted_link(tmp_path):
    config = make_station(tmp_path, residents=1)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    out = tmp_path / "out" / "audit.jsonl"
    out.parent.mkdir()
    for name in ("audit.jsonl.tmp", f".audit.jsonl.{os.getpid()}.tmp", ".audit.jsonl.tmp"):
        (out.parent / name).symlink_to(victim)  # the names the old writers used for their temporary files
    ok(station(config, "audit", "export", "--out", str(out)))
    assert victim.read_text() == "precious\n" and not out.is_symlink() and mode(out) == 0o600
    out.unlink()
    out.symlink_to(victim)  # the final name itself a link: refused, with the file and why
    refused = station(config, "audit", "export", "--out", str(out))
    assert refused.returncode == 2 and str(out) in refused.stderr and "symbolic link" in refused.stderr
    assert victim.read_text() == "precious\n" and out.is_symlink()


def test_a_writer_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    target = write_atomic(tmp_path / "state.json", "old\n")
    with pytest.raises(RuntimeError), atomic_writer(target, encoding="utf-8") as f:
        f.write("half of the new")
        raise RuntimeError("power cut")
    assert target.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_final_name_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    target = tmp_path / "report.txt"
    os.mkfifo(target) if kind == "fifo" else target.mkdir()
    with pytest.raises(OSError):
        write_atomic(target, b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]


def test_a_log_is_never_opened_through_a_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("")
    (tmp_path / "station.log").symlink_to(victim)
    with pytest.raises(OSError):
        open_private_append(tmp_path / "station.log")
    assert victim.read_text() == ""


def test_a_new_log_is_private_and_a_shared_one_stays_shared_with_its_group(tmp_path):
    open_private_append(tmp_path / "new.log").close()
    shared = tmp_path / "shared.log"
    shared.write_text("")
    os.chmod(shared, 0o660)  # docs/ssh.md: the supervisor's group appends to the station's log
    open_private_append(shared).close()
    assert (mode(tmp_path / "new.log"), mode(shared)) == (0o600, 0o660)
