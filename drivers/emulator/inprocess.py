"""The emulator in the host's own process, on a thread of its own (the station's built-in printer).

The host may then use blocking pyserial calls without starving the printer; the Python methods mirror the lines
of the control socket and are safe to call from any thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from drivers.emulator.faults import KINDS
from drivers.emulator.runtime import Emulator, EmulatorOptions
from drivers.emulator.servers import EmulatorService


class EmulatorServer:
    """The emulator on a thread of its own, for a host in the same process.

        async with EmulatorServer.pty(feeder=50, time_scale=0) as emu:
            port = serial.Serial(emu.port, timeout=5)
            emu.open_cover(); emu.status()["cover"]

    The methods are thread-safe and return once the machine has acted (and what changed is durable).
    """

    def __init__(self, options: EmulatorOptions, *, tcp: tuple[str, int] | None = None,
                 control: tuple[str, int] | None = None) -> None:  # fmt: skip
        self._service = EmulatorService(options, tcp=tcp, control=control)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    @classmethod
    def pty(cls, *, control: tuple[str, int] | None = None, **options: Any) -> EmulatorServer:
        return cls(EmulatorOptions.build(**options), control=control)

    @classmethod
    def tcp(cls, host: str = "127.0.0.1", port: int = 0, *, control: tuple[str, int] | None = None,
            **options: Any) -> EmulatorServer:  # fmt: skip
        return cls(EmulatorOptions.build(**options), tcp=(host, port), control=control)

    @property
    def port(self) -> str:
        return self._service.port

    @property
    def control_address(self) -> tuple[str, int] | None:
        return self._service.control_address

    def start(self) -> EmulatorServer:
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        started: dict[str, BaseException | None] = {}
        ready = threading.Event()

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            try:
                await self._service.start()
            except BaseException as exc:
                started["error"] = exc
                ready.set()
                return
            ready.set()
            try:
                await self._stop.wait()
            finally:
                await self._service.close()

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), name="printer-emulator", daemon=True)
        self._thread.start()
        ready.wait()
        if started.get("error") is not None:
            self._thread.join()
            self._thread = None
            raise started["error"]  # type: ignore[misc]
        return self

    def close(self) -> None:
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> EmulatorServer:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.close)

    def _call(self, action: Callable[[Emulator], Any]) -> Any:
        emulator = self._service.emulator
        if self._thread is None or self._loop is None or emulator is None:
            raise RuntimeError("the emulator is not running")

        async def run() -> Any:
            return action(emulator)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    def load(self, count: int) -> None:
        self._call(lambda e: e.load(count))

    def open_cover(self) -> None:
        self._call(Emulator.open_cover)

    def close_cover(self) -> None:
        self._call(Emulator.close_cover)

    def jam(self) -> None:
        self._call(Emulator.jam)

    def clear(self) -> None:
        self._call(Emulator.clear)

    def empty_hopper(self) -> None:
        self._call(Emulator.empty_hopper)

    def unplug(self) -> None:
        self._call(Emulator.unplug)

    def plug(self) -> None:
        self._call(Emulator.plug)

    def new_ribbon(self, prints: int | None = None) -> None:
        self._call(lambda e: e.new_ribbon(prints))

    def clean(self) -> None:
        self._call(Emulator.clean)

    def inject(self, kind: str) -> None:
        """A live fault of `kind` (as in `--faults`): it strikes at the next command that meets it."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(KINDS)}")
        self._call(lambda e: e.inject(kind))

    def status(self) -> dict[str, Any]:
        return self._call(Emulator.status)
