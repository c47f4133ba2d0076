"""`station status [--json]`."""

from __future__ import annotations

import argparse
import json

from console.config import Settings
from console.i18n import t
from console.status import snapshot
from console.store import Store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("status", parents=[common], help="queue, printer, stock, locks and untagged cards")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=status)


async def status(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database.path) as store:
        snap = await snapshot(store)
    snap["station"]["id"] = settings.station.id
    if args.json:
        print(json.dumps(snap, ensure_ascii=False))
        return 0
    q = snap["queue"]
    engine = snap["engine"] or {}
    print(t("status.station", id=settings.station.id, name=settings.station.name))
    print(t("status.queue", queued=q["queued"], held=q["held"], printing=q["printing"], untagged=snap["untagged"],
            good=q["done_good"], bad=q["done_bad"]))
    print(t("status.engine", state=engine.get("state", "-"), fault=engine.get("fault") or "-", at=engine.get("at", "-")))
    print(t("status.stock", stock=snap["stock"], locked=snap["locks"]["locked"],
            unlocked=snap["locks"]["unlocked_for_reprint"], residents=snap["residents"]))
    for b in snap["allocations"]:
        print(t("status.allocation", **b))
    return 0
