"""`station audit verify`, `station audit export --out FILE` and `station audit accept-restore --reason TEXT`."""

from __future__ import annotations

import argparse
from pathlib import Path

from console import audit, audit_state, formats, restore
from console.commands._progress import progress_report
from console.commands._verbs import Verbs
from console.config import Settings
from console.errors import UsageError
from console.formats import os_error
from console.i18n import t
from console.operator import operator_name
from console.store import Store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    verbs = Verbs(sub, common, "audit", t("help.audit"))
    verbs.add("verify", t("help.audit.verify"), verify)
    e = verbs.add("export", t("help.audit.export"), export)
    e.add_argument("--out", required=True, type=Path, metavar="FILE")
    a = verbs.add("accept-restore", t("help.audit.accept_restore"), accept_restore)
    a.add_argument("--reason", required=True, metavar="TEXT", help=t("help.audit.accept_restore.reason"))


async def verify(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database, readonly=True) as store:
        with progress_report("progress.audit_verify", "progress.entries") as on_progress:
            count = await audit_state.verify_all(store, on_progress)
    print(t("audit.sound", count=formats.count(count)))
    return 0


async def export(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database, readonly=True) as store:
        try:
            with progress_report("progress.audit_export", "progress.entries") as on_progress:
                count = await audit.export(store, args.out, on_progress)
        except OSError as exc:
            raise UsageError(t("audit.cannot_write", file=args.out, why=os_error(exc))) from None
    print(t("audit.exported", count=formats.count(count), file=args.out))
    return 0


async def accept_restore(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database, create=False, accepting_restore=True) as store:
        accepted = await restore.accept_restore(store, args.reason, operator_name())
    printers = ", ".join(accepted.printers) or t("restore.no_printers")
    print(t("restore.accepted", seq=formats.count(accepted.seq), printers=printers))
    return 0
