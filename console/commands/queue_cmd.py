"""`station enqueue (--all | NIK…)`, `station print [--count N]`, `station tag NIK (good | bad --reason …)`."""

from __future__ import annotations

import argparse
import sys

from console import jobs
from console.commands import whole_number
from console.config import Settings
from console.errors import EXIT_REFUSED, UsageError
from console.hints import CLI
from console.i18n import t
from console.nik import NikError, parse_nik
from console.operator import operator_name
from console.refusals import describe
from console.store import Store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    enqueue = sub.add_parser("enqueue", parents=[common], help=t("help.enqueue"))
    enqueue.add_argument("niks", nargs="*", metavar="NIK")
    enqueue.add_argument("--all", action="store_true", help=t("help.enqueue.all"))
    enqueue.add_argument("--kecamatan", help=t("help.enqueue.kecamatan"))
    enqueue.add_argument("--desa", help=t("help.enqueue.desa"))
    enqueue.add_argument("--station", metavar="ID", help=t("help.enqueue.station"))
    enqueue.set_defaults(handler=enqueue_cmd)

    printing = sub.add_parser("print", parents=[common], help=t("help.print"))
    printing.add_argument("--count", type=whole_number, metavar="N", help=t("help.print.count"))
    printing.add_argument("--resume", action="store_true", help=t("help.print.resume"))
    printing.set_defaults(handler=print_cmd)

    tag = sub.add_parser("tag", parents=[common], help=t("help.tag"))
    tag.add_argument("nik")
    tag.add_argument("verdict", choices=["good", "bad"])
    tag.add_argument("--reason", choices=jobs.BAD_REASONS)
    tag.add_argument("--note")
    tag.set_defaults(handler=tag_cmd)


async def enqueue_cmd(args: argparse.Namespace, settings: Settings) -> int:
    if args.all == bool(args.niks):
        raise UsageError(t("queue.all_or_niks"))
    if args.niks and (args.kecamatan or args.desa):
        raise UsageError(t("queue.filter_needs_all"))
    for nik in args.niks:  # a typing mistake is named for what it is, before anything is queued
        try:
            parse_nik(nik)
        except NikError as exc:
            raise UsageError(t("queue.not_a_nik", nik=nik, why=exc)) from None
    async with await Store.open(settings.database) as store:
        if args.all:
            count = await jobs.enqueue_ready(store, operator_name(), args.kecamatan, args.desa, args.station)
            not_wajib = await jobs.count_not_wajib(store, args.kecamatan, args.desa)
            print(t("queue.queued", count=count))
            if not_wajib:
                print(f"station: {t('queue.not_wajib_left', count=not_wajib)}", file=sys.stderr)
            return 0
        result = await jobs.enqueue(store, args.niks, operator_name(), args.station)
    for refusal in result.refused:
        print(f"station: {describe(refusal, CLI)}", file=sys.stderr)
    print(t("queue.queued", count=len(result.queued)))
    return EXIT_REFUSED if result.refused else 0


async def tag_cmd(args: argparse.Namespace, settings: Settings) -> int:
    good = args.verdict == "good"
    if not good and args.reason is None:
        raise UsageError(t("tag.reason_missing"))
    async with await Store.open(settings.database) as store:
        job = await jobs.tag(store, args.nik, good, operator_name(), args.reason, args.note)
    print(
        t(
            "queue.tagged_good" if good else "queue.tagged_bad",
            nik=job.nik,
            counter=job.card_counter,
            reason=args.reason,
        )
    )
    return 0


async def print_cmd(args: argparse.Namespace, settings: Settings) -> int:
    if args.count is not None and args.count < 1:
        raise UsageError(t("queue.bad_print_count", count=args.count))
    from console.printing import run_headless  # the printer stack loads only for the commands that print

    return await run_headless(settings, args.count, args.resume)
