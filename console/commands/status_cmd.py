"""`station status [--json]`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from console.config import Settings
from console.faults_text import fault_title_for_code
from console.formats import count, moment
from console.i18n import catalogue, t
from console.status import snapshot
from console.store import Store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("status", parents=[common], help=t("help.status"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=status)


async def status(args: argparse.Namespace, settings: Settings) -> int:
    async with await Store.open(settings.database) as store:
        snap = await snapshot(store)
    snap["station"]["id"] = settings.station.id
    if args.json:
        print(json.dumps(snap, ensure_ascii=False))
        return 0
    for line in status_lines(snap, settings):
        print(line)
    return 0


def status_lines(snap: dict[str, Any], settings: Settings) -> list[str]:
    """The status for people: every word from the catalogue, counts grouped, times in the station's zone."""
    q = {state: count(n) for state, n in snap["queue"].items()}
    lines = [
        t("status.station", id=settings.station.id, name=settings.station.name),
        t(
            "status.queue",
            queued=q["queued"],
            held=q["held"],
            printing=q["printing"],
            untagged=count(snap["untagged"]),
            good=q["done_good"],
            bad=q["done_bad"],
        ),
        _engine_line(snap["engine"]),
        t(
            "status.stock",
            stock=count(snap["stock"]),
            locked=count(snap["locks"]["locked"]),
            unlocked=count(snap["locks"]["unlocked_for_reprint"]),
            residents=count(snap["residents"]),
        ),
    ]
    for b in snap["allocations"]:
        numbers = {k: count(b[k]) for k in ("received", "good", "bad", "untagged", "spoiled_no_nik", "in_stock")}
        lines.append(
            t(
                "status.allocation",
                id=b["id"],
                **numbers,
                balanced=t("books.balanced" if b["balanced"] else "books.unbalanced"),
            )
        )
    return lines


def _engine_line(engine: dict[str, Any] | None) -> str:
    if not engine:
        return t("status.engine_never")
    state_key = f"engine.state.{engine['state']}"
    state = t(state_key) if state_key in catalogue() else engine["state"]
    if engine.get("fault"):
        return t(
            "status.engine_fault",
            state=state,
            fault=fault_title_for_code(engine["fault"], engine.get("fault_reply")),
            at=moment(engine["at"]),
        )
    return t("status.engine", state=state, at=moment(engine["at"]))
