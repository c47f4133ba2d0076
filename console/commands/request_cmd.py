"""`station request draft PERIOD --out DIR`, `station request (sent | approved --count N | received --allocation ID)
REQUEST` (REQUEST: the period the request is for), `station request list [--json]`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from console import blank_requests
from console.commands import whole_number
from console.commands._verbs import Verbs
from console.config import Settings
from console.errors import EXIT_OK
from console.formats import count
from console.i18n import t
from console.operator import operator_name
from console.store import Store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    verbs = Verbs(sub, common, "request", t("help.request"))
    draft = verbs.add("draft", t("help.request.draft"), draft_request)
    draft.add_argument("period", metavar="PERIOD")
    draft.add_argument("--out", required=True, type=Path, metavar="DIR", help=t("help.request.out"))
    draft.add_argument("--json", action="store_true", help=t("help.planning.json"))
    verbs.add("sent", t("help.request.sent"), step, step="sent").add_argument("request", metavar="REQUEST")
    approved = verbs.add("approved", t("help.request.approved"), step, step="approved")
    approved.add_argument("request", metavar="REQUEST")
    approved.add_argument("--count", type=whole_number, required=True, metavar="N", help=t("help.request.count"))
    received = verbs.add("received", t("help.request.received"), step, step="received")
    received.add_argument("request", metavar="REQUEST")
    received.add_argument("--allocation", required=True, metavar="ID", help=t("help.request.allocation"))
    ls = verbs.add("list", t("help.request.list"), list_requests)
    ls.add_argument("--json", action="store_true", help=t("help.planning.json"))


async def draft_request(args: argparse.Namespace, settings: Settings) -> int:
    blank_requests.check_period(args.period)
    from console.blank_request_paper import files_in, write_request_files  # fpdf2 (and Pillow): to make a paper

    office = settings.handover.office or settings.station.name
    async with await Store.open(settings.database) as store:
        body = await blank_requests.draft(
            store, args.period, settings.planning, settings.station.id, operator_name(),
            write=lambda body: write_request_files(body, args.out, office, settings.handover.place),
        )  # fmt: skip
    files = files_in(args.out, args.period)
    if args.json:
        print(json.dumps({**body, "files": [str(files.json), str(files.pdf)]}, ensure_ascii=False))
        return EXIT_OK
    terms = body["terms"]
    print(t("request.drafted", period=args.period, requested=count(body["requested"])))
    print(t("request.drafted_terms", cards=count(terms["cards_needed"]), print_ready=count(terms["print_ready"]),
            wajib=count(terms["becoming_wajib"]), reprints=count(terms["reprints"]),
            blanks=count(terms["blanks_for_cards"]), safety=count(terms["safety_stock"]),
            stock=count(terms["in_stock"])))  # fmt: skip
    for path in (files.json, files.pdf):
        print(f"  {path}")
    return EXIT_OK


async def step(args: argparse.Namespace, settings: Settings) -> int:
    blank_requests.check_period(args.request)
    async with await Store.open(settings.database) as store:
        if args.step == "sent":
            done = await blank_requests.mark_sent(store, args.request, operator_name())
        elif args.step == "approved":
            done = await blank_requests.mark_approved(store, args.request, args.count, operator_name())
        else:
            done = await blank_requests.mark_received(store, args.request, args.allocation, operator_name())
            received = await store.scalar("SELECT received FROM allocations WHERE id = ?", (args.allocation,))
            if received != done.granted:
                print(t("request.received_differs", id=args.allocation, received=count(received),
                        granted=count(done.granted or 0)))  # fmt: skip
    print(_line(done))
    return EXIT_OK


def _line(r: blank_requests.BlankRequest) -> str:
    granted = "" if r.granted is None else t("request.granted", count=count(r.granted))
    allocation = "" if r.allocation_id is None else t("request.allocation", id=r.allocation_id)
    return t("request.line", period=r.period, state=t(f"request.state.{r.state}"), requested=count(r.requested),
             granted=granted, allocation=allocation)  # fmt: skip


async def list_requests(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        requests = await blank_requests.list_requests(store)
    if args.json:
        print(json.dumps([r.as_dict() for r in requests], ensure_ascii=False))
        return EXIT_OK
    for r in requests:
        print(_line(r))
    return EXIT_OK
