"""`station allocation add ID COUNT [--period YYYY-MM]`, `issue`, `return`, `borrow ALLOCATION COUNT --from REGENCY
--letter NO`, `lend ALLOCATION COUNT --to REGENCY --letter NO`, `return-loan ALLOCATION COUNT (--to | --from)
REGENCY --letter NO`, `list`, `count`,
`reconcile (--outside N | --accept-printer SERIAL) --reason TEXT`."""

from __future__ import annotations

import argparse
import json

from console import blank_loans, books, printer_record
from console.commands import whole_number
from console.commands._verbs import Verbs
from console.config import Settings
from console.i18n import t
from console.operator import operator_name
from console.store import Store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    verbs = Verbs(sub, common, "allocation", t("help.allocation"))
    add = verbs.add("add", t("help.allocation.add"), add_allocation)
    add.add_argument("id")
    add.add_argument("count", type=whole_number)
    add.add_argument("--period", metavar="YYYY-MM")
    for verb, handler in (("issue", issue_blanks), ("return", return_blanks)):
        move = verbs.add(verb, t(f"help.allocation.{verb}"), handler)
        move.add_argument("id", metavar="ALLOCATION")
        move.add_argument("station", metavar="STATION")
        move.add_argument("count", type=whole_number, metavar="COUNT")
    for verb, handler, side in (("borrow", borrow, "from"), ("lend", lend, "to")):
        loan = verbs.add(verb, t(f"help.allocation.{verb}"), handler)
        _loan_arguments(loan)
        loan.add_argument(f"--{side}", required=True, dest="regency", metavar="REGENCY", help=t(f"help.loan.{side}"))
    back = verbs.add("return-loan", t("help.allocation.return_loan"), return_loan)
    _loan_arguments(back)
    whose = back.add_mutually_exclusive_group(required=True)
    whose.add_argument("--to", dest="back_to", metavar="REGENCY", help=t("help.loan.to"))
    whose.add_argument("--from", dest="back_from", metavar="REGENCY", help=t("help.loan.from"))
    ls = verbs.add("list", t("help.allocation.list"), list_allocations)
    ls.add_argument("--json", action="store_true")
    count = verbs.add("count", t("help.allocation.count"), enter_count)
    count.add_argument("id")
    count.add_argument("counted", type=whole_number)
    count.add_argument("--note")
    settle = verbs.add("reconcile", t("help.allocation.reconcile"), reconcile)
    what = settle.add_mutually_exclusive_group(required=True)
    what.add_argument("--outside", type=int, metavar="N", help=t("help.allocation.reconcile.outside"))
    what.add_argument("--accept-printer", metavar="SERIAL", help=t("help.allocation.reconcile.accept_printer"))
    settle.add_argument("--reason", required=True, metavar="TEXT")


async def add_allocation(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        await books.add_allocation(store, args.id, args.count, args.period, operator_name())
    print(t("books.added", id=args.id, count=args.count))
    return 0


async def issue_blanks(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        held = await books.issue(store, args.id, args.station, args.count, operator_name())
    print(t("books.issued", count=args.count, id=args.id, station=args.station, in_stock=held.in_stock))
    return 0


async def return_blanks(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        held = await books.return_unused(store, args.id, args.station, args.count, operator_name())
    print(t("books.returned", count=args.count, id=args.id, station=args.station, in_stock=held.in_stock))
    return 0


def _loan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ALLOCATION")
    parser.add_argument("count", type=whole_number, metavar="COUNT")
    parser.add_argument("--letter", required=True, metavar="NO", help=t("help.loan.letter"))


def _loan_done(b: books.Books) -> int:
    print(t("loan.done", id=b.allocation_id, received=b.received, borrowed=b.borrowed, lent=b.lent,
            in_stock=b.in_stock))  # fmt: skip
    return 0


async def borrow(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        done = await blank_loans.borrow(store, args.id, args.count, args.regency, args.letter, operator_name())
    return _loan_done(done)


async def lend(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        done = await blank_loans.lend(store, args.id, args.count, args.regency, args.letter, operator_name())
    return _loan_done(done)


async def return_loan(args: argparse.Namespace, settings: Settings) -> int:
    to_us = args.back_from is not None
    regency = args.back_from if to_us else args.back_to
    async with await Store.open(settings.database) as store:
        done = await blank_loans.loan_returned(store, args.id, args.count, regency, args.letter, operator_name(),
                                               to_us=to_us)  # fmt: skip
    return _loan_done(done)


async def list_allocations(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        all_books = await books.all_books(store)
        by_station = {b.allocation_id: await books.station_books(store, b.allocation_id) for b in all_books}
    if args.json:
        listed = [b.as_dict() | {"stations": [s.as_dict() for s in by_station[b.allocation_id]]} for b in all_books]
        print(json.dumps(listed, ensure_ascii=False))
        return 0
    print(t("books.header"))
    for b in all_books:
        difference = "—" if b.count_difference is None else f"{b.count_difference:+d}"
        print(
            f"{b.allocation_id:<20} {b.period or '-':<8} {b.received:>8} {b.good:>7} {b.bad:>6} {b.untagged:>7} "
            f"{b.spoiled:>7} {b.in_stock:>7} {difference:>7}  {t('books.balanced') if b.balanced else t('books.unbalanced')}"
        )
        issued = b.held - b.regency_stock
        if b.borrowed or b.lent:
            print(t("books.regency_line_loans", received=b.received, borrowed=b.borrowed, lent=b.lent, issued=issued,
                    stock=b.regency_stock))  # fmt: skip
        else:
            print(t("books.regency_line", received=b.received, issued=issued, stock=b.regency_stock))
        for s in by_station[b.allocation_id]:
            balanced = t("books.balanced") if s.balanced else t("books.unbalanced")
            print(t("books.station_line", station=s.station_id, issued=s.issued, good=s.good, bad=s.bad,
                    untagged=s.untagged, spoiled=s.spoiled, in_stock=s.in_stock, balanced=balanced))  # fmt: skip
    return 0


async def enter_count(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        difference = await books.enter_count(store, args.id, args.counted, args.note, operator_name())
    print(t("books.counted", id=args.id, counted=args.counted, difference=f"{difference:+d}"))
    return 0


async def reconcile(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        if args.accept_printer is not None:
            accepted = await printer_record.accept_printer(store, args.accept_printer, args.reason, operator_name())
            said = t("printer.accepted", serial=accepted.serial, counter=accepted.counter)
        else:
            found = await books.reconcile_outside(store, args.outside, args.reason, operator_name())
            said = t(
                "books.reconciled", cards=found.cards, serial=found.serial, first=found.booked + 1, last=found.counter
            )
    print(said)
    return 0
