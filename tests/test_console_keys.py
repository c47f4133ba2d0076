"""The consoles' keys: every binding has a stable id naming one command, so that a keymap (`App.set_keymap`)
remaps it; and the bindings' words are the catalogue's (put there through a private part of Textual: this fails
on an upgrade that changes it)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import defaultdict

from textual.binding import Binding
from textual.dom import DOMNode

import screens
from console.logs import configure_logging
from console.store import Store
from screens.supervisor import SupervisorApp, WatchDashboard, WatchQueue
from tests.station import seeded_store
from tests.test_console_kit import station_settings, until
from tests.test_report_kit import indonesian  # noqa: F401  (autouse: the messages in Bahasa Indonesia)


def console_bindings() -> list[tuple[str, Binding]]:
    modules = [importlib.import_module(m.name) for m in pkgutil.walk_packages(screens.__path__, "screens.")]
    classes = {c for m in modules for _, c in inspect.getmembers(m, inspect.isclass)
               if issubclass(c, DOMNode) and c.__module__.startswith("screens.")}  # fmt: skip
    return [(c.__qualname__, b) for c in classes for b in c.__dict__.get("BINDINGS", []) if isinstance(b, Binding)]


def test_every_binding_has_an_id_that_names_one_command():
    actions: dict[str, set[str]] = defaultdict(set)
    for owner, binding in console_bindings():
        assert binding.id, f"{owner}: {binding.key} → {binding.action} has no id"
        assert binding.id.replace("-", "").isalnum(), binding.id
        actions[binding.id].add(binding.action.removeprefix("app.").removeprefix("screen.").split("(")[0])
    assert len(console_bindings()) > 50
    shared = {id_: names for id_, names in actions.items() if len(names) > 1}
    assert shared == {}, f"ids that name more than one command: {shared}"


async def test_a_keymap_moves_the_supervisors_keys(tmp_path):
    settings = station_settings(tmp_path)
    configure_logging(settings.logging.file)
    store = await seeded_store(tmp_path, residents=2, blanks=2)
    await store.close()
    async with await Store.open(settings.database.path, readonly=True) as watched:
        app = SupervisorApp(settings, watched, "budi")
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.live is not None, "the first read")
            app.set_keymap({"open-queue": "f9", "back": "backspace"})
            await pilot.press("f3")  # no longer the queue's key
            await pilot.pause()
            assert isinstance(app.screen, WatchDashboard)
            await pilot.press("f9")
            await until(pilot, lambda: isinstance(app.screen, WatchQueue), "the queue, on its new key")
            await pilot.press("backspace")
            await until(pilot, lambda: isinstance(app.screen, WatchDashboard), "back, on its new key")


async def test_the_keys_are_described_in_the_stations_language(tmp_path):
    settings = station_settings(tmp_path)
    store = await seeded_store(tmp_path, residents=2, blanks=2)
    await store.close()
    async with await Store.open(settings.database.path, readonly=True) as watched:
        app = SupervisorApp(settings, watched, "budi")
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.live is not None, "the first read")
            described = {active.binding.id: active.binding.description for active in app.active_bindings.values()}
            assert described["help"] == "Bantuan"
            assert not any(words.startswith("ui.") for words in described.values()), described
