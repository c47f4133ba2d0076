"""`station run [--demo]`: the operator console, holding the printer and running the queue."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from console.config import Settings
from console.consoles import load_console
from console.demo_setup import check_demo_printer, prepare_demo
from console.errors import UsageError
from console.i18n import t
from console.operator import operator_name

if TYPE_CHECKING:
    from console.printing import PrinterSession


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("run", parents=[common], help=t("help.run"))
    p.add_argument("--demo", action="store_true", help=t("help.run.demo"))
    p.set_defaults(handler=run)


@asynccontextmanager
async def _held(session: PrinterSession) -> AsyncIterator[PrinterSession]:
    yield session  # opened and closed here, around the app: the app only uses it


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if not (
        sys.stdin.isatty() and sys.__stderr__ is not None and sys.__stderr__.isatty()
    ):  # Textual reads stdin and draws on stderr
        raise UsageError(t("run.no_terminal"))
    if args.demo:
        check_demo_printer(settings)
    StationApp = load_console("operator")
    from console.printing import printer_session  # the printer stack (and Pillow) loads with this command alone

    async with printer_session(settings) as session:  # the printer's lock: a second console stops here (exit 4)
        if args.demo:
            await prepare_demo(session.store, settings, operator_name())
        app = StationApp(settings, lambda: _held(session))
        await app.run_async()
    return app.return_code or 0
