"""`station operator add NAME [--role operator|supervisor]`, `list [--json]`, `disable NAME`, `passwd NAME`."""

from __future__ import annotations

import argparse
import json

from console import operators
from console.clock import instant, now
from console.commands._verbs import Verbs
from console.config import Settings
from console.i18n import t
from console.operator import operator_name, read_new_secret
from console.store import Store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    verbs = Verbs(sub, common, "operator", t("help.operator"))
    add = verbs.add("add", t("help.operator.add"), add_cmd)
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", choices=operators.ROLES, default=operators.OPERATOR)
    ls = verbs.add("list", t("help.operator.list"), list_cmd)
    ls.add_argument("--json", action="store_true")
    disable = verbs.add("disable", t("help.operator.disable"), disable_cmd)
    disable.add_argument("name", metavar="NAME")
    passwd = verbs.add("passwd", t("help.operator.passwd"), passwd_cmd)
    passwd.add_argument("name", metavar="NAME")


async def add_cmd(args: argparse.Namespace, settings: Settings) -> int:
    pin = read_new_secret(args.name)
    async with await Store.open(settings.database) as store:
        added = await operators.add_operator(store, args.name, args.role, pin, operator_name())
    print(t("operator.added", name=added.name, role=t(f"operator.role.{added.role}")))
    return 0


async def list_cmd(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        found = await operators.list_operators(store)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": o.name,
                        "role": o.role,
                        "state": state_of(o),
                        "created_at": o.created_at,
                        "disabled_at": o.disabled_at,
                        "failed_attempts": o.failed_attempts,
                        "locked_until": o.locked_until,
                    }
                    for o in found
                ],
                ensure_ascii=False,
            )
        )
        return 0
    if not found:
        print(t("operator.none"))
    for o in found:
        print(f"{o.name:<24} {t(f'operator.role.{o.role}'):<12} {t(f'operator.state.{state_of(o)}')}")
    return 0


def state_of(o: operators.Operator) -> str:
    if o.disabled_at is not None:
        return "disabled"
    if o.locked_until is not None and instant(o.locked_until) > now():
        return "waiting"
    return "active"


async def disable_cmd(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database, create=False) as store:
        await operators.disable_operator(store, args.name, operator_name())
    print(t("operator.disabled", name=args.name))
    return 0


async def passwd_cmd(args: argparse.Namespace, settings: Settings) -> int:
    pin = read_new_secret(args.name)
    async with await Store.open(settings.database, create=False) as store:
        await operators.change_pin(store, args.name, pin, operator_name())
    print(t("operator.pin_changed", name=args.name))
    return 0
