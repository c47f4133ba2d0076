"""`station supervise`: the supervisor's live, read-only console, beside the process that holds the printer.

Made to be an SSH account's forced command (docs/ssh.md): it opens the database read-only, never the printer nor
its lock, and a lost connection (SIGHUP) ends this viewer at once and nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from console import stations
from console.config import Settings
from console.consoles import load_console
from console.errors import EXIT_OK, UsageError
from console.i18n import t
from console.logs import get_logger
from console.operator import os_user
from console.store import Store

log = get_logger("supervise")

NAME_VARIABLES = ("SSH_USER", "USER", "LOGNAME")  # sshd sets USER and LOGNAME to the account logged in
NAME_MAX = 64


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("supervise", parents=[common],
                       help=t("help.supervise"))  # fmt: skip
    p.add_argument("--as", dest="who", metavar="NAME",
                   help=t("help.supervise.as"))  # fmt: skip
    p.add_argument("--watch-only", action="store_true", help=t("help.supervise.watch_only"))
    p.add_argument("--station", metavar="ID", help=t("help.supervise.station"))
    p.set_defaults(handler=supervise)


def supervisor_name(explicit: str | None = None) -> str:
    """Who is watching: `--as NAME`, else the login the SSH session runs as."""
    if explicit is not None:
        name = explicit.strip()
        if not 0 < len(name) <= NAME_MAX or not name.isprintable():
            raise UsageError(t("supervise.bad_name", name=explicit))
        return name
    return os_user(NAME_VARIABLES)


async def supervise(args: argparse.Namespace, settings: Settings) -> int:
    who = supervisor_name(args.who)
    chosen = args.station
    if not settings.database.url:
        path = settings.database.path
        if not path.exists() or path.stat().st_size == 0:
            raise UsageError(t("supervise.no_database", file=path, config=settings.source))
        if chosen not in (None, settings.station.id):  # a station's own file holds that station alone
            raise UsageError(t("supervise.station_on_file", id=chosen, station=settings.station.id))
    SupervisorApp = load_console("supervisor")

    where = settings.database if settings.database.url else settings.database.path
    async with await Store.open(where, create=False, readonly=True, station_id=chosen or settings.station.id) as store:
        name = settings.station.name
        if chosen is not None and settings.database.url:
            name = (await stations.require(store, chosen)).name  # an unknown id is named with the stations there are
        if not (
            sys.stdin.isatty() and sys.__stderr__ is not None and sys.__stderr__.isatty()
        ):  # Textual reads stdin and draws on stderr
            raise UsageError(t("supervise.no_terminal"))
        app = SupervisorApp(settings, store, who, requests_allowed=not args.watch_only, regency_first=chosen is None,
                            station_name=name)  # fmt: skip
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, _hung_up, who)
        log.info("supervise_started", supervisor=who, database=str(settings.database.location))
        await app.run_async(mouse=False)  # no mouse reports: every move of a mouse would cross the link
    log.info("supervise_ended", supervisor=who)
    return app.return_code or 0


def _hung_up(who: str) -> None:
    """The terminal is gone (the SSH connection dropped): nothing can be drawn nor restored, so end now.

    Nothing is lost: this process holds a read-only connection, and a request being written is one SQLite
    transaction, whole or not at all."""
    log.info("supervise_hung_up", supervisor=who)
    os._exit(EXIT_OK)
