"""`station audit verify` and `station audit export --out FILE`."""

from __future__ import annotations

import argparse
from pathlib import Path

from console import audit, audit_state, formats
from console.commands._progress import progress_report
from console.config import Settings
from console.errors import AuditBrokenError, UsageError
from console.formats import os_error
from console.i18n import t
from console.store import Store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("audit", help=t("help.audit"))
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    v = verbs.add_parser("verify", parents=[common], help=t("help.audit.verify"))
    v.set_defaults(handler=verify)
    e = verbs.add_parser("export", parents=[common], help=t("help.audit.export"))
    e.add_argument("--out", required=True, type=Path, metavar="FILE")
    e.set_defaults(handler=export)


async def verify(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database, readonly=True) as store:
        with progress_report("progress.audit_verify", "progress.entries") as on_progress:
            count, broken = await audit.verify(store, on_progress)
        behind = await audit.head_behind(store)
        if broken is not None:
            raise AuditBrokenError(t("audit.broken", seq=broken.seq, why=broken.why, count=count))
        if behind is not None:
            raise AuditBrokenError(behind)
        await audit_state.check(store)
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
