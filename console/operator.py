"""Who is acting, as the audit log records it with every change: the signed-in operator when operators are
registered (`operators.py`), else the operating-system user. And the command line's sign-in: `--operator NAME`
(or STATION_OPERATOR), its PIN from STATION_PIN, a prompt on a terminal, or the first line of standard input."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence

from console import operators
from console.config import Settings
from console.errors import RefusedError, UsageError
from console.hints import CLI
from console.i18n import t
from console.ledger_wait import open_waiting
from console.operators import SignedIn
from console.store import Store

# Commands that change nothing: they run without sign-in (a name given with --operator is still checked; the
# STATION_OPERATOR of a supervisor's profile is not taken for one). `run` is the console, which signs its
# operators in on its own screen.
READ_ONLY_COMMANDS = frozenset(
    {
        "status",
        "doctor",
        "supervise",
        "run",
        "audit verify",
        "audit export",
        "allocation list",
        "operator list",
        "handover batches",
        "handover uncollected",
    }
)
# Commands that print: started while the regency ledger is away, they wait for it (console/ledger_wait.py).
PRINTING_COMMANDS = frozenset({"print", "run"})

_signed_in: SignedIn | None = None
_named: str | None = None  # --operator while no operator is registered: a name for the log, nothing checked


def operator_name() -> str:
    if _signed_in is not None:
        return _signed_in.name
    if _named:
        return _named
    return os_user()


def signed_in() -> SignedIn | None:
    return _signed_in


def act_as(who: SignedIn | None, named: str | None = None) -> None:
    global _signed_in, _named
    _signed_in, _named = who, named


OPERATOR_VARIABLES = ("STATION_OPERATOR", "SUDO_USER")


def os_user(variables: Sequence[str] = OPERATOR_VARIABLES) -> str:
    """The first of `variables` set in the environment, else the process's login, else its uid."""
    for variable in variables:
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid-{os.getuid()}"


def command_of(args: argparse.Namespace) -> str:
    return " ".join(part for part in (args.command, getattr(args, "verb", None)) if part)


async def sign_in_for_command(args: argparse.Namespace, settings: Settings) -> None:
    """Sign the command's operator in when operators are registered; refuse (exit 4) when that fails."""
    reads_only = command_of(args) in READ_ONLY_COMMANDS
    name = getattr(args, "operator", None) or (None if reads_only else os.environ.get("STATION_OPERATOR") or None)
    act_as(None)
    if name is None and reads_only:  # not even opened: a supervisor's SSH account may only read the file
        return
    if command_of(args) == "ledger migrate":  # makes the schema operators live in: the ledger's role guards it
        act_as(None, name)
        return
    if not settings.database.url and not settings.database.path.is_file():
        act_as(None, name)
        return
    accepting = command_of(args) == "audit accept-restore"  # the one step a database without its head may take
    opening = open_waiting if command_of(args) in PRINTING_COMMANDS else Store.open
    async with await opening(settings.database, create=False, accepting_restore=accepting) as store:
        if not await operators.any_registered(store):
            act_as(None, name)
            return
        if name is None:
            raise RefusedError(t("operator.sign_in_needed", command=command_of(args)))
        pin = read_secret(t("operator.prompt_pin", name=name), "STATION_PIN")
        outcome = await operators.sign_in(store, name, pin, terminal=os_user())
    if isinstance(outcome, operators.SignInRefused):
        raise RefusedError(outcome.sentence(CLI))
    act_as(outcome)


def read_secret(prompt: str, variable: str) -> str:
    """A PIN from the environment variable, else asked on the terminal, else one line of standard input."""
    if variable in os.environ:
        return os.environ[variable]
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line:
        raise UsageError(t("operator.pin_missing", variable=variable))
    return line.rstrip("\r\n")


def read_new_secret(name: str) -> str:
    """A new PIN: from STATION_NEW_PIN, else typed twice on the terminal, else the next line of standard input."""
    if "STATION_NEW_PIN" not in os.environ and sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass(t("operator.prompt_new_pin", name=name))
        if getpass.getpass(t("operator.prompt_again")) != first:
            raise UsageError(t("operator.pins_differ"))
        return first
    return read_secret("", "STATION_NEW_PIN")
