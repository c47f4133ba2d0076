"""A marriage date (`tanggal_perkawinan`, optional in the residents and population files): married under 17, a
resident is wajib KTP-el from the wedding day, not before it; the month's list of who becomes wajib takes those
who marry in it. The edges: the day before and the day of the wedding, the first and last day of the month."""

from __future__ import annotations

import json
from datetime import date

from console import blank_requests, locks, population
from console.clock import fix_today
from console.config import PlanningSettings
from console.resident_import import import_residents
from console.store import Store
from tests.command import station, write_config
from tests.test_population import POPULATION_COLUMNS, villager, write_population
from tests.test_wajib import person, station_with, write_residents


def test_married_under_17_is_wajib_from_the_wedding_day_not_the_day_before(tmp_path):
    bride = person(1, date(2010, 6, 1), marital="KAWIN", tanggal_perkawinan="2026-12-10")  # 16 on both days
    older = person(2, date(2009, 12, 5), marital="KAWIN", tanggal_perkawinan="2027-03-01")  # 17 before the wedding
    unknown = person(3, date(2010, 6, 2), marital="KAWIN", tanggal_perkawinan="")  # no date: wajib already
    config = station_with(tmp_path, [bride, older, unknown], date(2026, 12, 1))
    assert station(config, "enqueue", unknown["nik"]).returncode == 0
    fix_today(date(2026, 12, 4))
    for who, day in ((bride, "10 Dec 2026"), (older, "5 Dec 2026")):
        refused = station(config, "enqueue", who["nik"])
        assert refused.returncode == 4 and "not yet obliged" in refused.stderr and day in refused.stderr
    fix_today(date(2026, 12, 5))
    assert station(config, "enqueue", older["nik"]).returncode == 0  # the 17th birthday comes first
    fix_today(date(2026, 12, 9))
    assert station(config, "enqueue", bride["nik"]).returncode == 4
    fix_today(date(2026, 12, 10))
    queued = station(config, "enqueue", bride["nik"])
    assert queued.returncode == 0, queued.stderr


async def test_those_marrying_in_the_month_become_wajib_in_it(tmp_path):
    fix_today(date(2026, 12, 1))
    columns = [*POPULATION_COLUMNS, "tanggal_perkawinan"]
    young = date(2011, 3, 3)  # 15: wajib only by marriage
    rows = [
        villager(10, young, "BELUM_WAJIB", tanggal_perkawinan="2027-01-01"),  # first day of the month
        villager(11, young, "BELUM_WAJIB", tanggal_perkawinan="2027-01-31"),  # last day
        villager(12, young, "BELUM_WAJIB", tanggal_perkawinan="2026-12-31"),  # the month before
        villager(13, young, "BELUM_WAJIB", tanggal_perkawinan="2027-02-01"),  # the month after
        villager(14, young, "BELUM_WAJIB", tanggal_perkawinan="", status_perkawinan="KAWIN"),  # since when unknown
        villager(15, young, "BELUM_WAJIB", tanggal_perkawinan=""),  # unmarried, 17 in 2028
    ]
    config = write_config(tmp_path)
    imported = station(config, "population", "import", str(write_population(tmp_path / "p.csv", rows, columns)))
    assert imported.returncode == 0, imported.stderr
    january = json.loads(station(config, "population", "wajib", "2027-01", "--json").stdout)
    assert [(p["nik"], p["wajib_from"]) for p in january] == [
        (rows[0]["nik"], "2027-01-01"),
        (rows[1]["nik"], "2027-01-31"),
    ]
    december = json.loads(station(config, "population", "wajib", "2026-12", "--json").stdout)
    assert [p["nik"] for p in december] == [rows[2]["nik"]]
    async with await Store.open(tmp_path / "station.db") as store:
        terms, _ = await blank_requests.compute(store, "2027-01", PlanningSettings())
        assert terms.becoming_wajib == 2
        [pancor] = await population.village_status(store, date(2027, 1, 1))
        assert pancor.wajib == 3  # the wedding of 1 January, the one of December, the one married since unknown


def test_a_marriage_date_the_record_contradicts_is_rejected_and_named(tmp_path):
    fix_today(date(2026, 12, 1))
    config = write_config(tmp_path)
    rows = [
        person(1, date(2000, 1, 1), tanggal_perkawinan="2020-01-01"),  # BELUM KAWIN, yet married in 2020
        person(2, date(2000, 1, 1), marital="KAWIN", tanggal_perkawinan="1999-12-31"),  # before birth
        person(3, date(2000, 1, 1), marital="KAWIN", tanggal_perkawinan="2020-02-30"),
        person(4, date(2000, 1, 1), marital="KAWIN", tanggal_perkawinan="2020-01-01"),
        person(5, date(2000, 1, 1), tanggal_perkawinan="2027-01-09"),  # to marry: the date may come
    ]
    result = station(config, "import", str(write_residents(tmp_path / "r.csv", rows)))
    assert result.returncode == 3
    for row in (2, 3, 4):
        assert f"row {row}" in result.stderr and "tanggal_perkawinan" in result.stderr
    assert "row 5" not in result.stderr and "row 6" not in result.stderr


async def test_the_wedding_day_rule_on_both_stores(database, tmp_path):
    """The same rule in SQLite's and PostgreSQL's SQL: the refusal's day, the month's list, the request's count."""
    fix_today(date(2026, 12, 1))
    bride = person(1, date(2010, 6, 1), marital="KAWIN", tanggal_perkawinan="2027-01-31")
    async with await Store.open(database) as store:
        result = await import_residents(store, write_residents(tmp_path / "r.csv", [bride]))
        assert (result.added, result.rejected) == (1, 0)
        refusal = await locks.refusal(store, bride["nik"], on=date(2027, 1, 30))
        assert refusal is not None and (refusal.code, refusal.since) == ("not_wajib", "2027-01-31")
        assert await locks.refusal(store, bride["nik"], on=date(2027, 1, 31)) is None
        assert [p.nik for p in await population.becoming_wajib(store, "2027-01")] == [bride["nik"]]
        assert await population.becoming_wajib(store, "2027-02") == []
        terms, _ = await blank_requests.compute(store, "2027-01", PlanningSettings())
        assert terms.becoming_wajib == 1
