"""`station rounds plan …`, `station rounds list [--json]`, `station rounds close ROUND --recorded N`."""

from __future__ import annotations

import argparse
import json

from console import rounds
from console.commands import whole_number
from console.commands._verbs import Verbs
from console.config import Settings
from console.errors import EXIT_OK, UsageError
from console.formats import count
from console.i18n import t
from console.operator import operator_name
from console.store import Store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    verbs = Verbs(sub, common, "rounds", t("help.rounds"))
    plan = verbs.add("plan", t("help.rounds.plan"), plan_rounds)
    plan.add_argument("--kit", metavar="KIT", help=t("help.rounds.kit"))
    plan.add_argument("--team", metavar="NAMES", help=t("help.rounds.team"))
    plan.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help=t("help.rounds.from"))
    plan.add_argument("--days", type=whole_number, metavar="N", help=t("help.rounds.days"))
    plan.add_argument("--desa", metavar="NAME", help=t("help.rounds.desa"))
    plan.add_argument("--kecamatan", metavar="NAME", help=t("help.rounds.kecamatan"))
    plan.add_argument("--count", type=whole_number, default=1, metavar="N", help=t("help.rounds.count"))
    plan.add_argument("--suggest", action="store_true", help=t("help.rounds.suggest"))
    plan.add_argument("--json", action="store_true", help=t("help.planning.json"))
    ls = verbs.add("list", t("help.rounds.list"), list_rounds)
    ls.add_argument("--json", action="store_true", help=t("help.planning.json"))
    close = verbs.add("close", t("help.rounds.close"), close_round)
    close.add_argument("round", type=whole_number, metavar="ROUND")
    close.add_argument("--recorded", type=whole_number, required=True, metavar="N", help=t("help.rounds.recorded"))


async def plan_rounds(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        if args.suggest:
            needs = await rounds.candidates(store, settings.planning)
            if args.json:
                print(json.dumps([n.as_dict() for n in needs], ensure_ascii=False))
            for n in [] if args.json else needs:
                print(t("rounds.candidate", kecamatan=n.kecamatan, desa=n.kel_desa, not_recorded=count(n.not_recorded),
                        days=n.days, per_day=f"{n.per_kit_day:.1f}"))  # fmt: skip
            return EXIT_OK
        missing = [o for o, v in (("--kit", args.kit), ("--team", args.team), ("--from", args.start)) if v is None]
        if missing:
            raise UsageError(t("rounds.options_missing", options=", ".join(missing)))
        start = rounds.parse_day(args.start, "--from")
        planned = await rounds.plan(
            store, settings.planning, kit=args.kit, team=args.team, start=start, actor=operator_name(),
            days=args.days, kel_desa=args.desa, kecamatan=args.kecamatan, count=args.count,
        )  # fmt: skip
    if args.json:
        print(json.dumps([r.as_dict() for r in planned], ensure_ascii=False))
    for r in [] if args.json else planned:
        print(_line(r))
    return EXIT_OK


def _line(r: rounds.Round) -> str:
    recorded = "" if r.recorded is None else t("rounds.recorded", count=count(r.recorded))
    return t("rounds.line", round=r.id, kecamatan=r.kecamatan, desa=r.kel_desa, starts=r.starts_on, ends=r.ends_on,
             kit=r.kit, team=r.team, not_recorded=count(r.not_recorded), state=t(f"rounds.state.{r.state}"),
             recorded=recorded)  # fmt: skip


async def list_rounds(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        all_rounds = await rounds.list_rounds(store)
        residents = {r.id: len(await rounds.round_niks(store, r.id)) for r in all_rounds}
    if args.json:
        print(json.dumps([{**r.as_dict(), "residents": residents[r.id]} for r in all_rounds], ensure_ascii=False))
        return EXIT_OK
    for r in all_rounds:
        print(_line(r))
    if not all_rounds:
        print(t("rounds.none"))
    return EXIT_OK


async def close_round(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        closed = await rounds.close(store, args.round, args.recorded, operator_name())
    print(_line(closed))
    return EXIT_OK
