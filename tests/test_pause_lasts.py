"""A pause lasts until someone resumes: across a restart of the console or of `station print`, recorded in the
database with who paused, audited; headless printing refuses to start under it (exit 4) unless `--resume`."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess

from console import jobs
from console.engine import PAUSED
from console.errors import EXIT_REFUSED
from console.logs import configure_logging
from console.store import Store
from tests.station import seeded_store
from tests.test_cli_queue import STATION, make_station, record_request, station, status
from tests.test_console_kit import console_app, screen_text, station_ready, station_settings, until


def queue_audit(database) -> list[tuple[str, str]]:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT actor, action FROM audit WHERE action IN ('queue.paused', 'queue.resumed') "
                            "ORDER BY seq").fetchall()  # fmt: skip
    finally:
        conn.close()
    return rows


async def test_a_pause_at_the_console_outlasts_a_restart_of_the_console(tmp_path, monkeypatch):
    monkeypatch.setenv("STATION_OPERATOR", "ani")
    settings = station_settings(tmp_path)
    configure_logging(settings.logging.file)
    async with await seeded_store(tmp_path, residents=4, blanks=10, queue=False):
        pass
    app = console_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await station_ready(pilot)
        await pilot.press("p", "ctrl+q")  # paused and quit at once: the pause is recorded before the console ends
        await until(pilot, lambda: app.return_code is not None, "the console quit")

    async with await Store.open(settings.database.path) as store:
        assert await jobs.enqueue_ready(store, "test") == 4  # work arrives while the console is closed

    app = console_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await station_ready(pilot)
        await until(pilot, lambda: app.station.engine.state == PAUSED and "DIJEDA" in screen_text(app),
                    "still paused after the restart")  # fmt: skip
        assert app.station.engine.paused_by.by == "ani"
        assert app.live.today.printed == 0 and app.station.engine.cards_printed == 0
        await pilot.press("p")  # resumed at the console
        await until(pilot, lambda: app.station.engine.cards_printed == 4, "the four cards printed once resumed")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: app.return_code is not None, "the console quit")
    assert queue_audit(settings.database.path) == [("ani", "queue.paused"), ("ani", "queue.resumed")]


def test_station_print_refuses_under_a_pause_and_resume_lifts_it_in_the_operators_name(tmp_path):
    config = make_station(tmp_path, residents=3)
    assert station(config, "allocation", "add", "JATAH-2026-11", "10", "--period", "2026-11").returncode == 0
    assert station(config, "enqueue", "--all").returncode == 0
    record_request(tmp_path / "station.db", "pause", "ana")
    with subprocess.Popen([STATION, "print", "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:  # fmt: skip
        try:
            first = proc.stdout.readline()
            assert "PAUSED at ana's request" in first, (first, proc.poll())
            proc.send_signal(signal.SIGKILL)  # the station dies (a power cut) while paused
            proc.wait(timeout=30)
        finally:
            proc.kill()

    refused = station(config, "print")
    assert refused.returncode == EXIT_REFUSED, refused.stderr
    assert "PAUSED by ana since" in refused.stderr and "station print --resume" in refused.stderr
    assert refused.stdout == "" and status(config)["untagged"] == 0

    env = dict(os.environ, STATION_OPERATOR="ani")
    resumed = subprocess.run([STATION, "print", "--resume", "--config", str(config)], capture_output=True, text=True,
                             timeout=120, env=env)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.splitlines()[0] == "printing resumed at ani's request"
    assert status(config)["untagged"] == 3
    assert queue_audit(tmp_path / "station.db") == [("ana", "queue.paused"), ("ani", "queue.resumed")]
    assert station(config, "print").returncode == 0  # nothing stands in the way any more
