"""What a station's role sees of planning on the regency ledger: the population status and the printing chart are
the regency's (every station's cards, the regency's stock and every station's, the same on every console, as the
request for blanks counts them), and the chart also says this station's own stock; loans of blanks included."""

from __future__ import annotations

import json
import re

import psycopg

from console import blank_requests
from console.config import load_settings
from console.demo import write_demo_csv
from console.i18n import set_language
from console.store import Store
from screens.chart import summary
from tests.test_cli_queue import station
from tests.test_ledger_roles import _station_id, regency  # noqa: F401 (regency: the fixture of two stations)


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


async def _pace(config):
    settings = load_settings(config)
    async with await Store.open(settings.database) as store:
        return await blank_requests.pace(store, settings.planning)


async def test_a_station_sees_the_regencys_population_and_chart_and_its_own_stock(regency, tmp_path):
    admin, configs = regency
    east, west = _station_id(configs["east"]), _station_id(configs["west"])
    write_demo_csv(tmp_path / "residents.csv", 6, seed=7)
    for args in (("import", str(tmp_path / "residents.csv")), ("allocation", "add", "A", "10"),
                 ("allocation", "issue", "A", east, "5"), ("allocation", "issue", "A", west, "3"),
                 ("allocation", "borrow", "A", "4", "--from", "5202", "--letter", "470/1/2026"),
                 ("enqueue", "--all", "--station", east)):  # fmt: skip
        ok(station(admin, *args))
    ok(station(configs["east"], "print", "--count", "2"))
    regency_view = ok(station(admin, "population", "status", "--json")).stdout
    for side in ("east", "west"):  # the population is the regency's: every station sees all of it
        assert json.loads(ok(station(configs[side], "population", "status", "--json")).stdout) == json.loads(
            regency_view
        )
    admin_pace, east_pace, west_pace = await _pace(admin), await _pace(configs["east"]), await _pace(configs["west"])
    # regency's stock 2 + 4 borrowed, east's 5 - 2 printed, west's 3: 12; east's two cards printed today
    assert (east_pace.in_stock, sum(n for _, n in east_pace.days)) == (12, 2)
    assert (west_pace.in_stock, west_pace.days, west_pace.queued) == (12, east_pace.days, east_pace.queued)
    assert (admin_pace.in_stock, admin_pace.days) == (12, east_pace.days)
    assert (east_pace.regency, east_pace.station_stock, west_pace.station_stock) == (True, 3, 3)
    set_language("en")
    said = summary(east_pace)
    assert "regency" in said and "this station 3" in said and "stock 12" in said


def test_ledger_migrate_gives_the_stations_roles_the_tables_a_step_added(regency):
    """A ledger whose stations were registered before a step added a table (the loans of blanks): `ledger migrate`
    grants them what they read, or their books could not be read at all."""
    admin, configs = regency
    ok(station(admin, "allocation", "add", "A", "10"))
    with psycopg.connect(re.search(r'^url = "(.*)"$', admin.read_text(), re.M)[1], autocommit=True) as conn:
        for side in ("east", "west"):
            conn.execute(f"REVOKE SELECT ON blank_loans FROM station_{_station_id(configs[side]).replace('-', '_')}")
    refused = station(configs["east"], "allocation", "list", "--json")
    assert refused.returncode != 0
    ok(station(admin, "ledger", "migrate"))
    for side in ("east", "west"):
        [listed] = json.loads(ok(station(configs[side], "allocation", "list", "--json")).stdout)
        assert listed["received"] == 10 and listed["borrowed"] == 0
