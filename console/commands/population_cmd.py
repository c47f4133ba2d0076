"""`station population import FILE.csv`, `station population status [--desa NAME] [--json]`,
`station population wajib YYYY-MM [--json]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from console import population
from console.books import PERIOD
from console.commands._verbs import Verbs
from console.commands.residents_cmd import import_done
from console.config import Settings
from console.errors import EXIT_OK, UsageError
from console.formats import count
from console.i18n import t
from console.operator import operator_name
from console.population_import import import_population
from console.resident_staging import RowRejection
from console.store import Store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    verbs = Verbs(sub, common, "population", t("help.population"))
    imp = verbs.add("import", t("help.population.import"), import_file)
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    imp.add_argument("--source", metavar="NAME", help=t("help.import.source"))
    imp.add_argument("--json", action="store_true", help=t("help.import.json"))
    status = verbs.add("status", t("help.population.status"), show_status)
    status.add_argument("--desa", metavar="NAME", help=t("help.population.desa"))
    status.add_argument("--json", action="store_true", help=t("help.planning.json"))
    wajib = verbs.add("wajib", t("help.population.wajib"), show_wajib)
    wajib.add_argument("month", metavar="YYYY-MM")
    wajib.add_argument("--json", action="store_true", help=t("help.planning.json"))


async def import_file(args: argparse.Namespace, settings: Settings) -> int:
    def report(rejection: RowRejection) -> None:
        print(rejection.line(args.file.name), file=sys.stderr)

    async with await Store.open(settings.database) as store:
        result = await import_population(store, args.file, source=args.source, actor=operator_name(), on_reject=report)
    return import_done(result, args.json)


async def show_status(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        villages = await population.village_status(store, kel_desa=args.desa)
    if args.json:
        print(json.dumps([v.as_dict() for v in villages], ensure_ascii=False))
        return EXIT_OK
    columns = ("wajib", "recorded", "not_recorded", "print_ready", "printed", "handed_over")
    labels = " ".join(f"{t(f'population.col.{c}'):>9}" for c in columns)
    print(f"{t('population.col.kecamatan'):<16} {t('population.col.desa'):<20} {labels}")
    for v in villages:
        numbers = " ".join(f"{count(getattr(v, c)):>9}" for c in columns)
        print(f"{v.kecamatan[:16]:<16} {v.kel_desa[:20]:<20} {numbers}")
    return EXIT_OK


async def show_wajib(args: argparse.Namespace, settings: Settings) -> int:
    if not PERIOD.match(args.month):
        raise UsageError(t("books.bad_period", period=args.month))
    async with await Store.open(settings.database) as store:
        people = await population.becoming_wajib(store, args.month)
    if args.json:
        print(json.dumps([p.as_dict() for p in people], ensure_ascii=False))
        return EXIT_OK
    for p in people:
        print(f"{p.wajib_from}  {p.nik}  {p.nama[:30]:<30} {p.kel_desa[:20]:<20} {t(f'population.status.{p.status}')}")
    print(t("population.wajib_total", count=count(len(people)), month=args.month))
    return EXIT_OK
