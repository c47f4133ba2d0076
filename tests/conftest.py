"""Shared test set-up: the --runslow flag, and small helpers every test may use."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from console.clock import fix_today
from console.formats import DEFAULT_ZONE, set_zone
from console.i18n import DEFAULT_LANGUAGE, set_language
from console.operator import act_as
from tests.station import bench  # noqa: F401  (a fixture: the printing station on the bench, for every test)

pytest_plugins = ["tests.conftest_pg"]  # the throwaway PostgreSQL server's fixtures


@pytest.fixture(autouse=True)
def fresh_process_state():
    """What a command sets for its process (language, time zone, the operator acting, a fixed day) is put back after each
    test, as a new process would start: in-process command-line tests must not speak to the next test."""
    yield
    set_language(DEFAULT_LANGUAGE)
    set_zone(DEFAULT_ZONE)
    act_as(None)
    fix_today(None)


@pytest.fixture
def english():
    """The station speaking English for the test (`fresh_process_state` puts the default back after it)."""
    set_language("en")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="also run the long crash trials and big runs")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow (make test-all)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


async def wait_for(
    condition: Callable[[], bool | Awaitable[bool]],
    timeout: float = 20.0,
    what: str = "",
    pause: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Poll `condition` until it holds; fail with `what` after `timeout` seconds. Never a fixed sleep.

    `pause` is how to let the world go on between looks (default: a 10 ms yield to the event loop; in a
    Textual test, `lambda: pilot.pause(0.01)` so that the app processes its messages)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        await (pause() if pause is not None else asyncio.sleep(0.01))
