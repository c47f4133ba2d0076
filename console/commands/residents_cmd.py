"""`station import FILE.csv [--source NAME]` and `station demo-data --count N [--seed S] --out FILE.csv`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from console.commands import whole_number
from console.commands._progress import progress_report
from console.config import Settings
from console.demo import write_demo_csv
from console.errors import EXIT_IMPORT_REJECTS, EXIT_OK, UsageError
from console.formats import count, os_error
from console.i18n import t
from console.operator import operator_name
from console.resident_import import import_residents
from console.resident_staging import RowRejection
from console.store import Store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("import", parents=[common], help=t("help.import"))
    p.add_argument("file", type=Path, metavar="FILE.csv")
    p.add_argument("--source", metavar="NAME", help=t("help.import.source"))
    p.add_argument("--json", action="store_true", help=t("help.import.json"))
    p.set_defaults(handler=import_file)

    d = sub.add_parser("demo-data", parents=[common], help=t("help.demo_data"))
    d.add_argument("--count", type=whole_number, required=True, metavar="N")
    d.add_argument("--seed", type=whole_number, default=1, metavar="S", help=t("help.demo_data.seed"))
    d.add_argument("--out", type=Path, required=True, metavar="FILE.csv")
    # Writing a file needs no database: of a config only the language is read.
    d.set_defaults(handler=demo_data, language_only=True)


async def import_file(args: argparse.Namespace, settings: Settings) -> int:
    def report(rejection: RowRejection) -> None:
        print(rejection.line(args.file.name), file=sys.stderr)

    async with await Store.open(settings.database) as store:
        with progress_report("progress.import", "progress.rows") as on_progress:
            result = await import_residents(
                store, args.file, source=args.source, actor=operator_name(), on_reject=report, on_progress=on_progress
            )
    return import_done(result, args.json)


def import_done(result: Any, as_json: bool) -> int:
    """An import's result said (a line, or JSON) and its exit status: 3 when rows were rejected."""
    if as_json:
        summary = {k: getattr(result, k) for k in ("rows", "added", "updated", "unchanged", "rejected", "sha256")}
        print(json.dumps({"file": str(result.file), **summary}, ensure_ascii=False))
    else:
        print(result.summary())
    return EXIT_IMPORT_REJECTS if result.rejected else EXIT_OK


def demo_data(args: argparse.Namespace, settings: Settings | None) -> int:
    if args.count < 1:
        raise UsageError(t("demo.bad_count", count=args.count))
    try:
        with progress_report("progress.demo", "progress.rows") as on_progress:
            write_demo_csv(args.out, args.count, args.seed, on_progress=on_progress)
    except OSError as exc:
        raise UsageError(t("demo.cannot_write", file=args.out, error=os_error(exc))) from None
    print(t("demo.written", count=count(args.count), file=args.out, seed=args.seed))
    return EXIT_OK
