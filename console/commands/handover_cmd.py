"""`station handover (batches | release | issue | collect | receipt | uncollected)` and `station destroy ALLOCATION`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from console import batches, custody, destruction, receipts
from console.commands import whole_number
from console.config import Settings
from console.csv_safe import SafeWriter
from console.errors import UsageError
from console.formats import count, day
from console.i18n import t
from console.operator import operator_name
from console.store import Store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("handover", help=t("help.handover"))
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    ls = verbs.add_parser("batches", parents=[common], help=t("help.handover.batches"))
    ls.add_argument("--json", action="store_true", help=t("help.handover.json"))
    ls.set_defaults(handler=list_batches)

    rel = verbs.add_parser("release", parents=[common], help=t("help.handover.release"))
    rel.add_argument("batch", metavar="BATCH", help=t("help.handover.batch"))
    rel.add_argument("--early", action="store_true", help=t("help.handover.early"))
    rel.add_argument("--reason", metavar="TEXT", help=t("help.handover.reason"))
    rel.set_defaults(handler=release)

    give = verbs.add_parser("issue", parents=[common], help=t("help.handover.issue"))
    give.add_argument("batch", metavar="BATCH", help=t("help.handover.batch"))
    give.add_argument("--to", required=True, metavar="NAME", help=t("help.handover.to"))
    give.add_argument("--out", required=True, type=Path, metavar="DIR", help=t("help.handover.out"))
    give.set_defaults(handler=issue)

    take = verbs.add_parser("collect", parents=[common], help=t("help.handover.collect"))
    take.add_argument("nik", metavar="NIK")
    take.add_argument("--receipt", metavar="NO", help=t("help.handover.receipt"))
    take.add_argument("--proxy", metavar="NAME", help=t("help.handover.proxy"))
    take.add_argument("--relation", metavar="TEXT", help=t("help.handover.relation"))
    take.add_argument("--letter", metavar="NO", help=t("help.handover.letter"))
    take.add_argument("--out", type=Path, metavar="DIR", help=t("help.handover.slip_out"))
    take.set_defaults(handler=collect)

    slip = verbs.add_parser("receipt", parents=[common], help=t("help.handover.receipt_print"))
    slip.add_argument("nik", metavar="NIK")
    slip.add_argument("--out", type=Path, metavar="DIR", help=t("help.handover.slip_out"))
    slip.set_defaults(handler=print_receipt)

    late = verbs.add_parser("uncollected", parents=[common], help=t("help.handover.uncollected"))
    late.add_argument("--days", type=whole_number, metavar="N", help=t("help.handover.days"))
    late.add_argument("--csv", action="store_true", help=t("help.handover.csv"))
    late.set_defaults(handler=list_uncollected)

    burn = sub.add_parser("destroy", parents=[common], help=t("help.destroy"))
    burn.add_argument("allocation", metavar="ALLOCATION")
    burn.add_argument("--witness", required=True, nargs="+", action="extend", metavar="NAME",
                      help=t("help.destroy.witness"))  # fmt: skip
    burn.add_argument("--out", required=True, type=Path, metavar="DIR", help=t("help.destroy.out"))
    burn.set_defaults(handler=destroy)


async def list_batches(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database, create=False, readonly=True) as store:
        found = await batches.progress(store)
    if args.json:
        print(json.dumps([p.as_dict() for p in found], ensure_ascii=False))
        return 0
    if not found:
        print(t("batch.none"))
        return 0
    columns = ("batch", "name", "residents", "good", "reprint", "released", "handed", "collected")
    print(_batch_line(*(t(f"ui.handover.col.{name}").upper() for name in columns)))
    for p in found:
        released = "-" if p.released is None else day(p.released.released_at) + (" *" if p.released.early else "")
        print(_batch_line(p.batch, p.label[:24], p.residents, p.printed_good, p.waiting_reprint, released,
                          p.handed_over, p.collected))  # fmt: skip
    if any(p.released and p.released.early for p in found):
        print(t("batch.early_mark"))
    return 0


def _batch_line(*cells: object) -> str:
    batch, label, residents, good, reprint, released, handed, collected = cells
    return (f"{batch:<20} {label:<24} {residents:>5} {good:>5} {reprint:>7} {released:>13} {handed:>6} "
            f"{collected:>6}")  # fmt: skip


async def release(args: argparse.Namespace, settings: Settings) -> int:
    if args.reason is not None and not args.early:
        raise UsageError(t("batch.reason_without_early"))
    async with await Store.open(settings.database, create=False) as store:
        made = await batches.release(store, args.batch, operator_name(), early=args.early, reason=args.reason)
    key = "batch.released_early" if made.early else "batch.released"
    print(t(key, batch=made.batch, blocking=made.blocking))
    return 0


async def issue(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database, create=False) as store:
        made = await custody.issue(
            store,
            args.batch,
            args.to,
            args.out,
            operator_name(),
            custody.office_of(settings),
            settings.handover.receipts,
        )
    print(t("custody.issued", batch=made.batch, count=count(len(made.cards)), to=made.received_by))
    for path, digest in ((made.pdf, made.pdf_sha256), (made.csv, made.csv_sha256)):
        print(f"  {path}  sha256 {digest}")
    return 0


async def collect(args: argparse.Namespace, settings: Settings) -> int:
    proxy = custody.check_proxy(args.proxy, args.relation, args.letter, settings.handover.proxies, args.nik)
    async with await Store.open(settings.database, create=False) as store:
        done = await custody.collect(
            store,
            args.nik,
            operator_name(),
            custody.office_of(settings),
            args.out or settings.handover.slips,
            receipt=args.receipt,
            proxy=proxy,
            check_receipt=settings.handover.receipts,
        )
    print(t("custody.collected_proxy" if done.proxy else "custody.collected", nik=done.nik, nama=done.nama,
            proxy=done.proxy or ""))  # fmt: skip
    print(f"  {done.slip}  sha256 {done.slip_sha256}")
    return 0


async def print_receipt(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database, create=False) as store:
        made = await receipts.print_receipt(store, args.nik, operator_name(), custody.office_of(settings),
                                            args.out or settings.handover.slips, settings.handover.receipts)  # fmt: skip
    print(t("receipt.printed", nik=made.nik, nama=made.nama, receipt=made.receipt))
    print(f"  {made.path}  sha256 {made.sha256}")
    return 0


async def list_uncollected(args: argparse.Namespace, settings: Settings) -> int:
    days = settings.handover.remind_after_days if args.days is None else args.days
    if days < 0:
        raise UsageError(t("custody.bad_days", days=days))
    async with await Store.open(settings.database, create=False, readonly=True) as store:
        found = await custody.uncollected(store, days)
    if args.csv:
        writer = SafeWriter(sys.stdout, lineterminator="\n")
        writer.writerow(custody.UNCOLLECTED_COLUMNS)
        for card in found:
            writer.writerow(["" if v is None else v for v in card.as_row()])
        return 0
    if not found:
        print(t("custody.none_uncollected", days=days))
        return 0
    print(t("custody.uncollected_header", count=count(len(found)), days=days))
    village = None
    for card in found:
        if (card.kecamatan, card.kel_desa) != village:
            village = (card.kecamatan, card.kel_desa)
            here = sum((c.kecamatan, c.kel_desa) == village for c in found)
            print(t("custody.uncollected_village", desa=card.kel_desa, kecamatan=card.kecamatan, count=here))
        print(f"  {card.nik}  {card.nama[:32]:<32} #{card.card_counter or '?':<6} "
              f"{t(f'custody.state.{card.where}')}, {t('custody.days', days=card.days)}")  # fmt: skip
    return 0


async def destroy(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database, create=False) as store:
        made = await destruction.destroy(
            store, args.allocation, args.witness, args.out, operator_name(), custody.office_of(settings)
        )
    print(t("destroy.done", id=made.allocation_id, cards=made.cards, blanks=made.blanks, report=made.report_id[:12]))
    for path, digest in ((made.pdf, made.pdf_sha256), (made.csv, made.csv_sha256)):
        print(f"  {path}  sha256 {digest}")
    return 0
