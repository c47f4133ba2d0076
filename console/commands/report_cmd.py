"""`station report ALLOCATION --out DIR` and `station unlock GRANT.json` (files.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from console import reports, stations, unlock
from console.config import Settings
from console.i18n import t
from console.operator import operator_name
from console.store import Store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    report = sub.add_parser("report", parents=[common], help=t("help.report"))
    report.add_argument("allocation", metavar="ALLOCATION")
    report.add_argument("--out", required=True, type=Path, metavar="DIR", help=t("help.report.out"))
    report.add_argument("--force", action="store_true", help=t("help.report.force"))
    report.add_argument("--json", action="store_true", help=t("help.report.json"))
    report.set_defaults(handler=report_cmd)

    grant = sub.add_parser("unlock", parents=[common], help=t("help.unlock"))
    grant.add_argument("grant", type=Path, metavar="GRANT.json")
    grant.add_argument("--json", action="store_true", help=t("help.unlock.json"))
    grant.set_defaults(handler=unlock_cmd)


async def report_cmd(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        made = await reports.make_report(store, args.allocation, stations.reporting_id(settings), operator_name())
    files = reports.write_report_files(made.body, args.out, settings.station.name, made.stock_count, args.force)
    counts = made.body["counts"]
    if args.json:
        print(
            json.dumps(
                {
                    "report_id": made.report_id,
                    "allocation": made.allocation_id,
                    "new": made.new,
                    "generated_at": made.body["generated_at"],
                    "counts": counts,
                    "files": [str(path) for path in files.all()],
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(
        t(
            "report.made" if made.new else "report.made_again",
            id=made.allocation_id,
            report=made.report_id,
            good=counts["good"],
            bad=counts["bad"],
            spoiled=counts["spoiled_no_nik"],
            in_stock=counts["in_stock"],
        )
    )
    for path in files.all():
        print(f"  {path}")
    return 0


async def unlock_cmd(args: argparse.Namespace, settings: Settings) -> int:
    keys = unlock.load_central_keys(settings.central.public_keys)
    async with await Store.open(settings.database, create=False) as store:
        applied = await unlock.apply_grant_file(
            store, args.grant, station_id=stations.reporting_id(settings), keys=keys, actor=operator_name()
        )
    if args.json:
        print(
            json.dumps(
                {
                    "nonce": applied.nonce,
                    "report_id": applied.report_id,
                    "allocation": applied.allocation_id,
                    "key_id": applied.key_id,
                    "niks": list(applied.niks),
                    "expires_at": applied.expires_at,
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(t("unlock.applied", count=len(applied.niks), report=applied.report_id[:12], key_id=applied.key_id))
    for nik in applied.niks:
        print(f"  {nik}")
    print(t("unlock.next_step"))
    return 0
