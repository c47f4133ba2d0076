"""The consoles show times in the station's zone (`[station] timezone`), not in the zone of the machine they run
on: the title bar's clock, the events panel, the supervisor's screens, and where "today" starts."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from textual.widgets import Input

from console import books, jobs, reports, unlock
from console.central import simulator
from console.config import load_settings
from console.formats import set_zone
from console.logs import configure_logging
from console.regency import StationLine
from console.store import Store
from drivers.emulator.outlog import read_output_log
from screens.allocations import AllocationsScreen
from screens.supervisor import SupervisorApp
from screens.supervisor.regency import state_text
from screens.tagging import TaggingScreen
from screens.widgets.dialogs import FormDialog
from tests.factory import add_residents
from tests.handover_kit import batch_of, ok, printed_station, station, two_villages
from tests.test_console_kit import console_app, screen_text, station_ready, station_settings, until
from tests.test_handover_rules import receipt_of

MACHINE_ZONE = "America/Lima"  # UTC-5 all year: thirteen hours behind the station
STATION_ZONE = ZoneInfo("Asia/Makassar")


@pytest.fixture
def machine_in_lima(monkeypatch):
    monkeypatch.setenv("TZ", MACHINE_ZONE)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def queued_at(settings) -> tuple[str, str]:
    """A job queued now (by the machine's clock): its NIK and the time its audit entry was written."""
    async with await Store.open(settings.database.path) as store:
        [nik] = await add_residents(store, 1)
        await books.add_allocation(store, "JATAH-2026-11", 10, "2026-11", "test")
        await jobs.enqueue(store, [nik], "test")
        [row] = await store.fetchall("SELECT at FROM audit WHERE action = 'job.queued' AND subject = ?", (nik,))
    return nik, row["at"]


def station_time(iso: str) -> str:
    return f"{datetime.fromisoformat(iso).astimezone(STATION_ZONE):%H:%M:%S}"


async def test_the_operator_console_shows_the_stations_time(tmp_path, machine_in_lima):
    settings = station_settings(tmp_path)
    set_zone(settings.station.timezone)  # as `station run` does at start
    configure_logging(settings.logging.file)
    nik, at = await queued_at(settings)
    assert station_time(at) != at[11:19]  # the machine wrote its own zone's time
    # 20:14 in Lima on Saturday is 09:14 on Sunday in Lombok.
    evening_in_lima = datetime(2026, 11, 28, 20, 14).astimezone()
    app = console_app(settings, clock=lambda: evening_in_lima)
    async with app.run_test(size=(120, 40)) as pilot:
        await station_ready(pilot)
        await until(pilot, lambda: f"{station_time(at)}  {nik}  diantrikan" in screen_text(app), "the queued event")
        text = screen_text(app)
        assert "Minggu 29-11-2026 09:14" in text and "28-11-2026" not in text
        assert f"{at[11:19]}  {nik}  diantrikan" not in text
        # "Today" is the station's day: it started at 00:00 WITA, 11:00 of the day before in Lima.
        assert app.station.today_start() == "2026-11-28T11:00:00.000-05:00"


async def test_the_supervisor_shows_the_stations_time(tmp_path, machine_in_lima):
    settings = station_settings(tmp_path)
    set_zone(settings.station.timezone)
    configure_logging(settings.logging.file)
    nik, at = await queued_at(settings)
    evening_in_lima = datetime(2026, 11, 28, 20, 14).astimezone()
    async with await Store.open(settings.database.path, readonly=True) as watched:
        app = SupervisorApp(settings, watched, "budi", clock=lambda: evening_in_lima)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: f"{station_time(at)}  {nik}  diantrikan" in screen_text(app), "the queued event")
            assert "Minggu 29-11-2026 09:14" in screen_text(app)
            await pilot.press("f6")  # the audit log: each entry's day and time
            entry_at = f"{datetime.fromisoformat(at).astimezone(STATION_ZONE):%d-%m %H:%M:%S}"
            await until(pilot, lambda: entry_at in screen_text(app), "the entry's time in the audit view")


# Twenty-six hours apart: whatever the hour, the station's calendar day is not the machine's.
FAR_WEST = "Etc/GMT+12"  # UTC-12 (the POSIX sign is reversed)
FAR_EAST = "Pacific/Kiritimati"  # UTC+14


@pytest.fixture
def machine_far_west(monkeypatch):
    monkeypatch.setenv("TZ", FAR_WEST)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def settings_in(tmp_path, zone: str):
    config = station_settings(tmp_path).source
    config.write_text(config.read_text().replace('language = "id"\n', f'language = "id"\ntimezone = "{zone}"\n'))
    return load_settings(config)


async def test_a_card_is_dated_and_tagged_on_the_stations_day(tmp_path, machine_far_west):
    settings = settings_in(tmp_path, FAR_EAST)
    set_zone(settings.station.timezone)
    configure_logging(settings.logging.file)
    nik, _ = await queued_at(settings)
    app = console_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await station_ready(pilot)
        await until(pilot, lambda: app.live is not None and app.live.today.printed == 1, "the card printed")
        station_day = datetime.now(ZoneInfo(FAR_EAST)).strftime("%d-%m-%Y")
        machine_day = datetime.now().strftime("%d-%m-%Y")
        assert station_day != machine_day
        [card] = read_output_log(settings.emulator.log)
        printed = " | ".join(card["texts"])
        assert card["nik"] == nik and station_day in printed and machine_day not in printed, printed
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, TaggingScreen) and app.screen.cards, "the card to tag")
        await until(pilot, lambda: station_day in screen_text(app), "the card's date on the tagging screen")
        assert machine_day not in screen_text(app)


async def test_a_new_allocations_period_is_the_stations_month(tmp_path, machine_in_lima):
    settings = station_settings(tmp_path)
    set_zone(settings.station.timezone)
    configure_logging(settings.logging.file)
    # 20:14 in Lima on the last day of November is 09:14 on the first of December in Lombok.
    app = console_app(settings, clock=lambda: datetime(2026, 11, 30, 20, 14).astimezone())
    async with app.run_test(size=(120, 40)) as pilot:
        await station_ready(pilot)
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, AllocationsScreen), "the books")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FormDialog), "the new allocation's form")
        assert app.screen.query_one("#field-period", Input).value == "2026-12"


def test_the_reports_page_says_when_it_was_made_in_the_stations_time():
    set_zone("Asia/Makassar")
    body = {
        "format": reports.REPORT_FORMAT, "station_id": "5203-01",
        "allocation": {"id": "J", "received": 10, "period": "2026-11"},
        "counts": {"good": 1, "bad": 0, "spoiled_no_nik": 0, "in_stock": 9},
        "good": [], "bad": [], "spoiled_no_nik": [],
        "generated_at": "2026-11-28T20:14:00.000-05:00",  # written on a machine in Lima
    }  # fmt: skip
    body["report_id"] = reports.report_id_of(body)
    text = reports.render_text(body, "Loket 1")
    assert "29-11-2026 09:14" in text and "28-11-2026" not in text


def station_gone_since(at: str) -> StationLine:
    """A station whose printing process left the ledger after publishing it was idle at `at`."""
    return StationLine(id="5203-02", name="UPT Masbagik", state="empty", since=at, fault=None, paused_by=None,
                       pending=0, queued=0, good_today=0, bad_today=0, issued=0, in_stock=0, last_card=None,
                       printing_here=False)  # fmt: skip


def test_the_regency_says_since_when_a_station_is_silent_with_its_day_once_past_the_stations_midnight():
    set_zone("Asia/Makassar")
    # Written at 23:50 on the 28th in Lombok, by a machine in Lima (10:50 there).
    gone = station_gone_since("2026-11-28T10:50:00.000-05:00")
    same_night = datetime(2026, 11, 28, 15, 55, tzinfo=UTC)  # 23:55 in Lombok
    next_morning = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)  # 09:00 in Lombok, still the 28th in Lima
    assert str(state_text(gone, same_night)) == "DIAM sejak 23:50"
    assert str(state_text(gone, next_morning)) == "DIAM sejak 28-11 23:50"


def test_the_hand_overs_papers_are_named_by_the_stations_day(tmp_path, machine_far_west):
    config, niks = printed_station(tmp_path, (1, 1), receipts=True)
    config.write_text(config.read_text().replace("[station]\n", f'[station]\ntimezone = "{FAR_EAST}"\n'))
    first, _ = two_villages()
    nik = niks[first.code][0]
    number = receipt_of(config, nik, tmp_path / "bukti")
    ok(station(config, "handover", "release", batch_of(first)))
    ok(station(config, "handover", "issue", batch_of(first), "--to", "Kades", "--out", str(tmp_path / "ba")))
    ok(station(config, "handover", "collect", nik, "--receipt", number))
    station_day = f"{datetime.now(ZoneInfo(FAR_EAST)):%Y-%m-%d}"
    assert f"{datetime.now():%Y-%m-%d}" != station_day
    papers = sorted(p.name for p in tmp_path.glob("*/*.pdf"))
    assert [name.split("-")[0] for name in papers] == ["serah", "tanda", "tanda"], papers
    assert all(name.endswith(f"-{station_day}.pdf") for name in papers), papers


def a_grant(issued_at: datetime, expires_in: timedelta) -> unlock.Grant:
    document = simulator.make_grant(Ed25519PrivateKey.generate(), station_id="5203-01", report_id="0" * 64,
                                    niks=["5203070101900001"], issued_at=issued_at, expires_in=expires_in)  # fmt: skip
    return unlock.parse_grant(unlock.parse_envelope(json.dumps(document).encode()))


def test_a_grant_refused_for_its_dates_says_them_in_the_stations_time():
    set_zone("Asia/Makassar")
    # Issued at 10:00 in Lima (23:00 in Lombok), valid a week.
    grant = a_grant(datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo(MACHINE_ZONE)), timedelta(days=7))
    with pytest.raises(unlock.GrantRejected) as expired:
        unlock.check_window(grant, datetime(2026, 12, 1, tzinfo=UTC))
    assert "27 Nov 2026 23.00 WITA" in str(expired.value) and "T10:00" not in str(expired.value)
    assert expired.value.detail["expires"] == grant.body["expires_at"]  # the audit keeps the file's own words
    with pytest.raises(unlock.GrantRejected) as early:
        unlock.check_window(grant, datetime(2026, 11, 19, tzinfo=UTC))
    assert "20 Nov 2026 23.00 WITA" in str(early.value) and "T10:00" not in str(early.value)
    assert early.value.detail["issued"] == grant.body["issued_at"]
