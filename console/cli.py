"""`station`: the command line (cli.md). Each module of `console/commands/` adds its own subcommands."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import pkgutil
import sys
from collections.abc import Sequence

from console import commands
from console.config import Settings, load_settings
from console.errors import EXIT_UNEXPECTED, StationError
from console.i18n import set_language, t
from console.logs import configure_logging, get_logger


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", help="config.toml (default ./config.toml, else $STATION_CONFIG)")
    parser = argparse.ArgumentParser(prog="station", description="KTP-el print station")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = None if getattr(args, "no_config", False) else load_settings(args.config)
        if settings is not None:
            configure_logging(settings.logging.file, settings.logging.level)
            set_language(settings.station.language)
        return run_handler(args, settings)
    except StationError as exc:
        print(f"station: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the operator gets one line; the log gets the whole story
        get_logger("cli").exception("unexpected_error", command=args.command)
        print(t("cli.unexpected", error=f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        return EXIT_UNEXPECTED


def run_handler(args: argparse.Namespace, settings: Settings | None) -> int:
    result = args.handler(args, settings)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
