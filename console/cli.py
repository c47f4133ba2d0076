"""`station`: the command line (cli.md). Each module of `console/commands/` adds its own subcommands."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import pkgutil
import sqlite3
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from console import commands
from console.broken_pipe import silence_stdout, stdout_is_broken, stdout_silenced
from console.commands._help import install_argparse_words, language_before_parsing
from console.config import LANGUAGES, Settings, default_config_path, load_settings
from console.errors import EXIT_BROKEN_PIPE, EXIT_UNEXPECTED, ConfigError, StationError
from console.formats import os_error, set_zone
from console.hints import CLI, advised
from console.i18n import DEFAULT_LANGUAGE, set_language, t
from console.logs import configure_logging, get_logger
from console.operator import act_as, sign_in_for_command
from console.store import database_failure


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", help=t("help.config"))
    common.add_argument("--operator", metavar="NAME", help=t("help.operator_option"))
    parser = argparse.ArgumentParser(prog="station", description=t("help.station"))
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {metadata.version('ktpel-station')}",
        help=t("argparse.version"),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):  # a helper of the commands, not a command
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    set_language(language_before_parsing(arguments, default_config_path(), LANGUAGES) or DEFAULT_LANGUAGE)
    install_argparse_words()
    parser = build_parser()
    args = parser.parse_args(arguments)
    settings = None
    act_as(None)  # each call starts as a fresh process would, whatever operator a call before it acted as
    try:
        if getattr(args, "language_only", False):
            language = language_from_config(args.config)
            if language is not None:
                set_language(language)
        else:
            settings = load_settings(args.config)
            set_language(settings.station.language)
            set_zone(settings.station.timezone)
            try:
                configure_logging(settings.logging.file, settings.logging.level)
            except OSError as exc:
                raise ConfigError(
                    t("logging.cannot_open", file=settings.source, log=settings.logging.file, why=os_error(exc))
                ) from None
            asyncio.run(sign_in_for_command(args, settings))
        status = run_handler(args, settings)
        sys.stdout.flush()  # a reader gone away shows here, inside the handling below, not at exit
        return EXIT_BROKEN_PIPE if status == 0 and stdout_silenced() else status  # a failure says more
    except BrokenPipeError as exc:
        if not stdout_is_broken():
            return unexpected(args, exc)
        silence_stdout()
        return EXIT_BROKEN_PIPE
    except StationError as exc:
        print(f"station: {advised(exc, CLI)}", file=sys.stderr)
        return exc.exit_code
    except sqlite3.Error as exc:
        return database_failed(args, settings, exc)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if type(exc).__module__.startswith("psycopg"):  # the ledger's failures: psycopg loads only for a ledger
            return database_failed(args, settings, exc)
        return unexpected(args, exc)


def database_failed(args: argparse.Namespace, settings: Settings | None, exc: Exception) -> int:
    """A database's failure said as one sentence (its exit status), or, when it is not one we know, unexpected."""
    failure = database_failure(exc, settings.database.location if settings else None)
    if failure is None:
        return unexpected(args, exc)
    get_logger("cli").error("database_failure", command=args.command, exc_info=exc)
    print(f"station: {failure}", file=sys.stderr)
    return failure.exit_code


def unexpected(args: argparse.Namespace, exc: BaseException) -> int:
    """The operator gets one line; the log gets the whole story."""
    get_logger("cli").error("unexpected_error", command=args.command, exc_info=exc)
    print(t("cli.unexpected", error=f"{type(exc).__name__}: {exc}"), file=sys.stderr)
    return EXIT_UNEXPECTED


def language_from_config(named: str | None) -> str | None:
    """For commands that need no station (the emulator, the centre, demo data): the config's language, when a
    config is named or found where the station would look; nothing else of it is used."""
    path = Path(named) if named else default_config_path()
    if named is None and not path.is_file():
        return None
    return load_settings(path).station.language


def run_handler(args: argparse.Namespace, settings: Settings | None) -> int:
    result = args.handler(args, settings)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
