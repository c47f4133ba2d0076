"""Signing in at the operator console: at the start, after idle minutes (the queue printing on behind the lock),
wrong PINs and their wait, the audit naming the operator, and a supervisor's sign-in for a tag correction. The real
app on a real SQLite file, with the built-in emulator on a real pseudo-terminal at time scale 0."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.widgets import Input, Label

from console import books, clock, jobs, locks, operators
from console.central import simulator
from console.config import load_settings
from console.demo import write_demo_csv
from console.i18n import t
from console.logs import configure_logging
from console.operator import act_as, operator_name, os_user
from console.printing import printer_session
from console.resident_import import import_residents
from console.store import Store
from screens.allocations import AllocationsScreen
from screens.app import StationApp
from screens.dashboard import DashboardScreen
from screens.fault import FaultScreen
from screens.report import ReportScreen
from screens.signin import LockScreen, SupervisorSignIn
from screens.tagging import TaggingScreen
from screens.widgets.dialogs import FormDialog
from tests.test_console_kit import FIXED_NOW, screen_text, station_settings, until
from tests.test_report_kit import (
    centre_keys,
    indonesian,  # noqa: F401  (autouse: the messages in Bahasa Indonesia)
    print_cards,
    reported,
    tag,
    write_config,
)

SUPERVISOR_PIN = "482915"
OPERATOR_PIN = "730264"
QUEUED = 6


async def make_station(folder: Path, *, operators_too: bool = True, queued: int = QUEUED, faults: str = ""):
    settings = station_settings(folder, faults=faults)
    configure_logging(settings.logging.file)
    async with await Store.open(settings.database.path) as store:
        write_demo_csv(folder / "residents.csv", 12, seed=7)
        await import_residents(store, folder / "residents.csv", source="test")
        await books.add_allocation(store, "JATAH-2026-11", 50, "2026-11", "test")
        niks = [row["nik"] for row in await store.fetchall("SELECT nik FROM residents ORDER BY nik LIMIT ?", (queued,))]
        await jobs.enqueue(store, niks, "test")
        if operators_too:
            await operators.add_operator(store, "Rina", operators.SUPERVISOR, SUPERVISOR_PIN, "test")
            await operators.add_operator(store, "Siti", operators.OPERATOR, OPERATOR_PIN, "Rina")
    return settings


@pytest.fixture(autouse=True)
def no_one_signed_in_after():
    yield
    act_as(None)


def app_for(settings, **options) -> StationApp:
    return StationApp(settings, lambda: printer_session(settings), **options)


async def audit_rows(store: Store, action: str) -> list[dict]:
    rows = await store.fetchall("SELECT actor, subject, data FROM audit WHERE action = ? ORDER BY seq", (action,))
    return [{"actor": r["actor"], "subject": r["subject"], **json.loads(r["data"])} for r in rows]


async def printed(store: Store) -> int:
    row = await store.fetchone("SELECT count(*) AS n FROM jobs WHERE card_counter IS NOT NULL")
    return row["n"]


async def sign_in(pilot, name: str, pin: str) -> None:
    screen = pilot.app.screen
    field = screen.query_one("#signin-name", Input)
    field.value = ""
    field.focus()
    await pilot.press(*name, "enter", *pin, "enter")


def title_who(app: StationApp) -> str:
    """What the title bar of the topmost main screen says of who is signed in."""
    screen = next(s for s in reversed(app.screen_stack) if s.query("#title-who"))
    return str(screen.query_one("#title-who", Label).render())


def lock_shown(app: StationApp) -> bool:
    return isinstance(app.screen, LockScreen) and bool(app.screen.query("#signin-message"))


async def locked_at_start(pilot) -> StationApp:
    app = pilot.app
    await until(pilot, lambda: app.station is not None and lock_shown(app), "the sign-in screen")
    return app


async def test_without_operators_the_console_opens_without_sign_in_and_says_so(tmp_path):
    settings = await make_station(tmp_path, operators_too=False)
    app = app_for(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.station is not None and app.station.printer_info is not None, "the station")
        assert isinstance(app.screen, DashboardScreen)
        assert title_who(app) == t("operator.title.no_sign_in")
        await pilot.press("f8")  # the sign-out key does nothing: no one signs in
        assert not app.locked and isinstance(app.screen, DashboardScreen)
        await until(pilot, lambda: app.live is not None and app.live.today.printed == QUEUED, "the queue printed")
        rows = await audit_rows(app.station.store, "blank.taken")
        assert {row["actor"] for row in rows} == {os_user()}


async def test_the_console_starts_locked_and_the_audit_names_the_operator_signed_in(tmp_path):
    settings = await make_station(tmp_path)
    app = app_for(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await locked_at_start(pilot)
        store = app.station.store
        assert "Siti" not in screen_text(app)
        await pilot.press("f3", "f4", "ctrl+p")  # no way around the sign-in
        assert isinstance(app.screen, LockScreen)
        assert await printed(store) == 0 and app.station.engine.state == "idle"  # nothing prints before a sign-in

        pin_field = app.screen.query_one("#signin-pin", Input)
        await pilot.press(*"siti", "enter", *OPERATOR_PIN)  # names without regard to case
        shown = "".join(strip.text for strip in pin_field.render_lines(Region(0, 0, *pin_field.size)))
        assert pin_field.password and OPERATOR_PIN[:3] not in shown and "•" in shown  # never echoed
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard after the sign-in")
        assert title_who(app) == t("operator.title.signed_in", name="Siti", role=t("operator.role.operator"))
        assert operator_name() == "Siti"
        [signed] = await audit_rows(store, "operator.signed_in")
        assert (signed["actor"], signed["terminal"]) == ("Siti", os_user())

        await until(pilot, lambda: app.live is not None and app.live.today.printed == QUEUED, "the queue printed")
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, TaggingScreen) and app.screen.current() is not None,
                    "the first card to tag")  # fmt: skip
        job = app.screen.current()
        await pilot.press("b")
        await until(pilot, lambda: any(c.id == job.id and c.state == jobs.DONE_GOOD for c in app.screen.cards),
                    "the tag")  # fmt: skip
        [tagged] = await audit_rows(store, "card.tagged")
        assert tagged["actor"] == "Siti"
        row = await store.fetchone("SELECT tagged_by FROM jobs WHERE id = ?", (job.id,))
        assert row["tagged_by"] == "Siti"
        assert {row["actor"] for row in await audit_rows(store, "blank.taken")} == {"Siti"}


async def test_a_wrong_pin_is_refused_on_screen_and_its_wait_counted_down(tmp_path):
    settings = await make_station(tmp_path)
    gate = asyncio.Event()
    waits: list[float] = []

    async def held_sleep(seconds: float) -> None:
        waits.append(seconds)
        await gate.wait()

    app = app_for(settings, sign_in_sleep=held_sleep)
    async with app.run_test(size=(80, 24)) as pilot:
        await locked_at_start(pilot)
        store = app.station.store
        for attempt in (1, 2):
            await sign_in(pilot, "Siti", "999999")
            await until(pilot, lambda: t("ui.signin.wrong_pin", name="Siti") in screen_text(app)
                        and not app.screen.busy, f"wrong PIN {attempt} refused")  # fmt: skip
        assert waits == []  # the first two cost nothing
        await sign_in(pilot, "Siti", "999999")
        await until(pilot, lambda: t("ui.signin.wait", seconds=5) in screen_text(app), "the wait counted down")
        assert app.screen.query_one("#signin-pin", Input).disabled  # no attempt during the wait
        assert isinstance(app.screen, LockScreen)
        gate.set()
        await until(pilot, lambda: t("ui.signin.wrong_pin", name="Siti") in screen_text(app)
                    and not app.screen.busy, "the refusal after the wait")  # fmt: skip
        assert waits == [1.0] * 5
        failed = await audit_rows(store, "operator.sign_in_failed")
        assert [(row["why"], row["failures"], row["wait_s"]) for row in failed] == [
            ("wrong_pin", 1, 0.0),
            ("wrong_pin", 2, 0.0),
            ("wrong_pin", 3, 5.0),
        ]
        assert all("999999" not in json.dumps(row) for row in failed)
        # The wait is the operator's, kept in the database: an attempt now is refused unchecked.
        await sign_in(pilot, "Siti", OPERATOR_PIN)
        await until(pilot, lambda: "coba lagi dalam" in screen_text(app), "the refusal during the wait")
        assert isinstance(app.screen, LockScreen) and await printed(store) == 0


async def test_the_console_locks_when_idle_over_any_dialog_and_the_queue_prints_on(tmp_path):
    settings = await make_station(tmp_path)
    idle = [1000.0]
    app = app_for(settings, idle_clock=lambda: idle[0])
    async with app.run_test(size=(80, 24)) as pilot:
        await locked_at_start(pilot)
        store = app.station.store
        await sign_in(pilot, "Siti", OPERATOR_PIN)
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
        await pilot.press("f5", "n")
        await until(pilot, lambda: isinstance(app.screen, FormDialog), "a form open")
        idle[0] += 14 * 60 + 59
        await pilot.pause(1.2)
        assert not app.locked  # not yet: 15 minutes by default
        await pilot.press("x")  # a key: idle starts again from here
        idle[0] += 14 * 60
        await pilot.pause(1.2)
        assert not app.locked
        idle[0] += 60
        await until(pilot, lambda: lock_shown(app), "the lock after 15 idle minutes")
        assert t("operator.locked", minutes=15) in screen_text(app)
        assert title_who(app) == "" and operator_name() != "Siti"
        assert isinstance(app.screen_stack[-2], FormDialog)  # the form waits under the lock
        printed_at_lock = await printed(store)
        await pilot.press("f2", "escape", "f8", "ctrl+q")
        assert isinstance(app.screen, LockScreen) and app.is_running  # a passer-by cannot stop the printing

        # The queue goes on behind the lock screen, in the station's name: six more queued from the command line.
        async with await Store.open(settings.database.path) as other:
            more = await other.fetchall("SELECT nik FROM residents WHERE nik NOT IN (SELECT nik FROM jobs)")
            await jobs.enqueue(other, [row["nik"] for row in more], "Rina")
        await until(pilot, lambda: app.live is not None and app.live.today.printed == 12, "every card printed")
        assert isinstance(app.screen, LockScreen)
        taken = await audit_rows(store, "blank.taken")
        assert [row["actor"] for row in taken[printed_at_lock:]] == ["station"] * (12 - printed_at_lock)
        [out] = await audit_rows(store, "operator.signed_out")
        assert (out["actor"], out["why"]) == ("Siti", "idle")

        await sign_in(pilot, "Rina", SUPERVISOR_PIN)  # the next shift
        await until(pilot, lambda: isinstance(app.screen, FormDialog), "back to the form")
        assert operator_name() == "Rina"

        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, AllocationsScreen), "the allocations")
        await pilot.press("f8")
        await until(pilot, lambda: lock_shown(app), "the sign-out")
        assert app.screen.query_one("#signin-name", Input).value == "Rina"
        outs = await audit_rows(store, "operator.signed_out")
        assert [(row["actor"], row["why"]) for row in outs] == [("Siti", "idle"), ("Rina", "signed_out")]

        await sign_in(pilot, "Siti", OPERATOR_PIN)
        await until(pilot, lambda: isinstance(app.screen, AllocationsScreen), "signed in again")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running, "the console to quit")
    async with await Store.open(settings.database.path) as store:
        outs = await audit_rows(store, "operator.signed_out")
    assert [(row["actor"], row["why"]) for row in outs][-1] == ("Siti", "signed_out")
    assert operator_name() != "Siti"


async def test_a_fault_met_while_locked_waits_for_the_next_sign_in(tmp_path):
    settings = await make_station(tmp_path, queued=0, faults="jam@1")
    app = app_for(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await locked_at_start(pilot)
        await sign_in(pilot, "Siti", OPERATOR_PIN)
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.station.printer_info is not None,
                    "the printer started")  # fmt: skip
        await pilot.press("f8")
        await until(pilot, lambda: lock_shown(app), "the sign-out")
        async with await Store.open(settings.database.path) as other:  # queued from the command line
            [row] = await other.fetchall("SELECT nik FROM residents ORDER BY nik LIMIT 1")
            await jobs.enqueue(other, [row["nik"]], "Rina")
        await until(pilot, lambda: app.station.engine.fault is not None, "the jam")
        await pilot.pause(0.2)
        assert lock_shown(app) and not any(isinstance(s, FaultScreen) for s in app.screen_stack)
        await sign_in(pilot, "Siti", OPERATOR_PIN)
        await until(pilot, lambda: isinstance(app.screen, FaultScreen), "the fault's dialog after the sign-in")


async def test_a_tag_correction_needs_a_supervisor_who_signs_in_for_it(tmp_path):
    settings = await make_station(tmp_path, queued=2)
    app = app_for(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await locked_at_start(pilot)
        store = app.station.store
        await sign_in(pilot, "Siti", OPERATOR_PIN)
        await until(pilot, lambda: app.live is not None and app.live.today.printed == 2, "the cards printed")
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, TaggingScreen) and app.screen.current() is not None,
                    "the first card")  # fmt: skip
        tagging = app.screen
        job = tagging.current()
        await pilot.press("b")
        await until(pilot, lambda: any(c.id == job.id and c.state == jobs.DONE_GOOD for c in tagging.cards), "tag")
        await pilot.press("left")
        await until(pilot, lambda: tagging.current().id == job.id, "back to the card tagged")

        # Cancelled: refused, in words, and nothing changed.
        await pilot.press("r", "1")
        await until(pilot, lambda: isinstance(app.screen, SupervisorSignIn) and app.screen.query("#signin-message"),
                    "the supervisor's sign-in")  # fmt: skip
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is tagging, "back to the cards")
        step = t("operator.step.tag_correction")
        assert t("ui.signin.supervisor_cancelled", step=step) in screen_text(app)
        assert (await store.fetchone("SELECT state FROM jobs WHERE id = ?", (job.id,)))["state"] == jobs.DONE_GOOD

        # An operator's right PIN does not make a supervisor.
        assert tagging.current().id == job.id  # still on the card to correct
        await pilot.press("r", "1")
        await until(pilot, lambda: isinstance(app.screen, SupervisorSignIn) and app.screen.query("#signin-message"),
                    "the supervisor's sign-in again")  # fmt: skip
        await sign_in(pilot, "Siti", OPERATOR_PIN)
        await until(pilot, lambda: t("ui.signin.not_supervisor", name="Siti", role=t("operator.role.operator"))
                    in screen_text(app), "the operator refused")  # fmt: skip
        assert isinstance(app.screen, SupervisorSignIn)

        await sign_in(pilot, "Rina", SUPERVISOR_PIN)
        await until(pilot, lambda: app.screen is tagging and any(c.id == job.id and c.state == jobs.DONE_BAD
                                                                for c in tagging.cards), "the correction")  # fmt: skip
        [retagged] = await audit_rows(store, "card.retagged")
        assert retagged["actor"] == "Rina"
        assert operator_name() == "Siti"  # the supervisor signed in for that step alone
        assert title_who(app) == t("operator.title.signed_in", name="Siti", role=t("operator.role.operator"))


# ------------------------------------------------------------------------------------------ what it looks like


@pytest.fixture
def registered_station(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(clock, "now", lambda: FIXED_NOW)
    asyncio.run(make_station(tmp_path))
    return tmp_path


def snapshot_app(folder: Path) -> StationApp:
    settings = load_settings(folder / "config.toml")
    return StationApp(settings, lambda: printer_session(settings), clock=lambda: FIXED_NOW)


async def _wrong_pin_refused(pilot) -> None:
    app = await locked_at_start(pilot)
    await sign_in(pilot, "Siti", "999999")
    await until(pilot, lambda: t("ui.signin.wrong_pin", name="Siti") in screen_text(app) and not app.screen.busy,
                "the refusal")  # fmt: skip


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_the_sign_in_screen(size, registered_station, snap_compare):
    assert snap_compare(snapshot_app(registered_station), terminal_size=size, run_before=_wrong_pin_refused)


def test_the_sign_in_screen_on_the_linux_console(registered_station, snap_compare, monkeypatch):
    monkeypatch.setenv("TERM", "linux")
    assert snap_compare(snapshot_app(registered_station), terminal_size=(80, 24), run_before=_wrong_pin_refused)


async def _supervisor_asked(pilot) -> None:
    app = await locked_at_start(pilot)
    await sign_in(pilot, "Siti", OPERATOR_PIN)
    await until(pilot, lambda: app.live is not None and app.live.today.printed == QUEUED, "the cards printed")
    await pilot.press("f4")
    await until(pilot, lambda: isinstance(app.screen, TaggingScreen) and app.screen.current() is not None, "a card")
    tagging = app.screen
    await pilot.press("b")
    await until(pilot, lambda: tagging.cards[0].state == jobs.DONE_GOOD and not tagging.pending, "the tag")
    await pilot.press("left", "r", "1")
    await until(pilot, lambda: isinstance(app.screen, SupervisorSignIn) and app.screen.query("#signin-message"),
                "the supervisor's sign-in")  # fmt: skip


@pytest.mark.parametrize("linux", [False, True], ids=["xterm", "linux"])
def test_the_supervisors_sign_in(linux, registered_station, snap_compare, monkeypatch):
    if linux:
        monkeypatch.setenv("TERM", "linux")
    assert snap_compare(snapshot_app(registered_station), terminal_size=(80, 24), run_before=_supervisor_asked)


async def test_a_grant_applied_in_the_console_needs_a_supervisor(tmp_path):
    centre = centre_keys(tmp_path / "centre")
    settings = load_settings(write_config(tmp_path, public_keys=("centre/central-public.pem",)))
    configure_logging(settings.logging.file)
    printed_cards = await print_cards(tmp_path, residents=3, blanks=10)
    store, niks = printed_cards.store, printed_cards.niks
    try:
        await tag(store, niks[:2], {niks[2]: "gagal_cetak"})
        report = await reported(store, tmp_path / "laporan")
        await operators.add_operator(store, "Rina", operators.SUPERVISOR, SUPERVISOR_PIN, "test")
        await operators.add_operator(store, "Siti", operators.OPERATOR, OPERATOR_PIN, "Rina")
    finally:
        await store.close()
    grant_file = tmp_path / "grant.json"
    grant_file.write_text(json.dumps(simulator.grant_for_report(report, centre.key, [niks[2]])))

    app = app_for(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await locked_at_start(pilot)
        store = app.station.store
        await sign_in(pilot, "Siti", OPERATOR_PIN)
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.live is not None, "the dashboard")

        async def give_grant() -> None:
            await pilot.press("g")
            field = app.screen.query_one("#report-grant", Input)
            field.value = str(grant_file)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, SupervisorSignIn) and app.screen.query("#signin-message"),
                        "the supervisor's sign-in")  # fmt: skip

        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, ReportScreen) and app.screen.allocation_id is not None,
                    "the report screen")  # fmt: skip
        report_screen = app.screen
        await give_grant()
        await pilot.press("escape")
        step = t("operator.step.unlock")
        await until(pilot, lambda: app.screen is report_screen and t("ui.signin.supervisor_cancelled", step=step)
                    in screen_text(app), "the grant refused")  # fmt: skip
        assert await locks.refusal(store, niks[2]) is not None  # still locked
        assert await audit_rows(store, "grant.applied") == []

        await give_grant()
        await sign_in(pilot, "Rina", SUPERVISOR_PIN)
        await until(pilot, lambda: app.screen is report_screen and "1 NIK dibuka" in screen_text(app), "the grant")
        assert await locks.refusal(store, niks[2]) is None
        [applied] = await audit_rows(store, "grant.applied")
        assert applied["actor"] == "Rina"
        assert operator_name() == "Siti"
