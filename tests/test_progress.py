"""Long commands tell the person waiting how far they are: a live bar on a terminal, a line now and then on a pipe,
through a plain `on_progress(done, total)` from the core."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from console.demo import write_demo_csv
from console.resident_import import import_residents
from console.store import Store
from tests.terminal import Terminal

STATION = str(Path(sys.executable).with_name("station"))
BIG = 150_000  # enough rows for the work to take more than the quiet first second


def write_config(folder: Path) -> Path:
    config = folder / "config.toml"
    config.write_text('[station]\nlanguage = "id"\n[database]\npath = "station.db"\n[logging]\nfile = "station.log"\n')
    return config


async def test_the_import_reports_rows_done_up_to_the_whole_file(tmp_path):
    heard: list[tuple[int, int]] = []
    write_demo_csv(tmp_path / "r.csv", 2_500, seed=3, on_progress=lambda done, total: heard.append((done, total)))
    assert heard == [(2_500, 2_500)]
    heard.clear()
    async with await Store.open(tmp_path / "s.db") as store:
        result = await import_residents(
            store, tmp_path / "r.csv", batch_rows=500, on_progress=lambda done, total: heard.append((done, total))
        )
    assert result.added == 2_500
    dones = [done for done, _ in heard]
    assert dones == sorted(dones) and len(set(dones)) >= 5  # one report at least a batch, never going back
    assert heard[-1] == (2_500, 2_500) and all(total == 2_500 for _, total in heard)


def test_without_a_terminal_a_line_now_and_then_on_standard_error(tmp_path):
    config = write_config(tmp_path)
    demo = subprocess.run(
        [STATION, "demo-data", "--count", str(BIG), "--out", "r.csv", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stderr
    assert "Menulis penduduk contoh" not in demo.stdout  # the result alone on standard output
    imported = subprocess.run(
        [STATION, "import", "r.csv", "--config", str(config)], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert imported.returncode == 0, imported.stderr
    lines = imported.stderr.splitlines()
    assert 2 <= len(lines) <= 11, lines  # a tenth at a time, not a line a row
    assert all(line.startswith("Mengimpor penduduk: ") and " baris · " in line for line in lines)
    assert lines[-1].startswith("Mengimpor penduduk: 100% · 150.000/150.000 baris")
    percents = [int(re.search(r": (\d+)%", line).group(1)) for line in lines]
    assert percents == sorted(percents) and "sisa waktu" in lines[0]
    assert imported.stdout == "r.csv: 150.000 baris, 150.000 ditambahkan, 0 diperbarui, 0 tidak berubah, 0 ditolak\n"


def test_on_a_terminal_a_bar_is_drawn_as_the_work_goes(tmp_path):
    config = write_config(tmp_path)
    terminal = Terminal(
        [
            sys.executable,
            "-m",
            "console.cli",
            "demo-data",
            "--count",
            str(BIG),
            "--out",
            "r.csv",
            "--config",
            str(config),
        ],
        cwd=tmp_path,
    )
    try:
        assert terminal.wait(timeout=300) == 0
    finally:
        terminal.close()
    screen = terminal.output.decode("utf-8", "replace")
    assert "Menulis penduduk contoh" in screen and "━" in screen
    assert re.search(r"\b([1-9]|[1-9]\d)%", screen), screen[-2000:]  # drawn while going, not only at the end
    assert "150.000/150.000 baris" in screen and "100%" in screen


async def test_audit_verify_and_export_report_entries_walked(tmp_path):
    from console import audit

    async with await Store.open(tmp_path / "s.db") as store:
        async with store.transaction(actor="test") as tx:
            for n in range(12_000):
                await tx.audit("stock.counted", f"JATAH-{n}", counted=n, expected=n)
        total = await audit.newest_seq(store)
        heard: list[tuple[int, int]] = []
        count, broken = await audit.verify(store, lambda done, whole: heard.append((done, whole)))
        assert broken is None and count == total
        assert heard == [(5_000, total), (10_000, total), (total, total)]
        heard.clear()
        assert await audit.export(store, tmp_path / "a.jsonl", lambda done, whole: heard.append((done, whole))) == total
        assert heard[-1] == (total, total) and len(heard) == 3
