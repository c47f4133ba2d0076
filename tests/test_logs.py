"""The log file is JSON lines, every line, whoever wrote it: structlog's events, the standard library's records,
tracebacks (a field, never lines of their own); and no whole resident record in it at any level."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

from tests.test_cli_robust import make_station, station

RUN = """
import logging, sys
from console import cli
from console.logs import get_logger
status = cli.main(["print", "--config", sys.argv[1]])
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("asyncio").exception("a library's record\\nwith a second line")
    get_logger("engine").exception("station_event", nik="5203090403820001")
sys.exit(status)
"""


def test_every_line_of_a_real_runs_log_is_json_and_holds_no_resident_record(tmp_path):
    config = make_station(tmp_path, residents=3)
    config.write_text(config.read_text().replace('file = "station.log"', 'file = "station.log"\nlevel = "debug"'))
    assert station(config, "allocation", "add", "A1", "3", "--period", "2026-11").returncode == 0
    assert station(config, "enqueue", "--all").returncode == 0
    run = subprocess.run([sys.executable, "-c", RUN, str(config)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = (tmp_path / "station.log").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line parses, or this fails naming it
    assert all(isinstance(record, dict) and "event" in record and "level" in record for record in records)
    events = {record["event"] for record in records}
    assert {"card_printed", "printer.exchange", "residents_imported"} <= events
    tracebacks = [r for r in records if "exception" in r]
    assert [r["logger"] for r in tracebacks] == ["asyncio", "engine"]
    assert all(r["exception"][0]["exc_type"] == "ZeroDivisionError" for r in tracebacks)
    assert tracebacks[0]["event"] == "a library's record\nwith a second line"
    with open(tmp_path / "residents.csv", encoding="utf-8") as f:
        residents = list(csv.DictReader(f))
    text = "\n".join(lines)
    assert [r["nama"] for r in residents if r["nama"] in text] == []
    assert [r["alamat"] for r in residents if r["alamat"] in text] == []
