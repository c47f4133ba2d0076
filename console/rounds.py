"""Recording rounds: the few recording kits go village to village (*bergiliran*), a kit and its team a few days
in each. Villages are taken in the order where a kit-day records the most residents not yet recorded.

A round's residents (`round_niks`) are the recorded residents whose record says they were recorded in the
round's village during its days: the distribution batch `round:ID`.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from console.clock import now_iso, today
from console.config import PlanningSettings
from console.errors import RefusedError, UsageError
from console.i18n import t
from console.population import village_status
from console.store import Store

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
MAX_NAME = 100


@dataclass(frozen=True)
class VillageNeed:
    """A village's residents not yet recorded, the days a kit needs there, and what a kit-day records."""

    kecamatan: str
    kel_desa: str
    not_recorded: int
    days: int
    per_kit_day: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Round:
    id: int
    kecamatan: str
    kel_desa: str
    starts_on: str
    ends_on: str
    kit: str
    team: str
    not_recorded: int
    planned_at: str
    closed_at: str | None
    recorded: int | None

    @property
    def state(self) -> str:
        return "planned" if self.closed_at is None else "closed"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "state": self.state}


def parse_day(text: str, option: str) -> date:
    try:
        if _DAY.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise UsageError(t("rounds.bad_day", option=option, value=text))


def need(kecamatan: str, kel_desa: str, not_recorded: int, settings: PlanningSettings) -> VillageNeed:
    """The days a kit needs for a village (at most `max_round_days`), and the residents a kit-day records there."""
    days = min(settings.max_round_days, max(1, math.ceil(not_recorded / settings.recordings_per_kit_day)))
    reached = min(not_recorded, days * settings.recordings_per_kit_day)
    return VillageNeed(kecamatan, kel_desa, not_recorded, days, reached / days)


async def candidates(db: Any, settings: PlanningSettings) -> list[VillageNeed]:
    """Villages with residents not yet recorded and no round still open, the most recorded a kit-day first (then
    the most not recorded, then by name)."""
    busy = {(r["kecamatan"], r["kel_desa"]) for r in await db.fetchall(
        "SELECT kecamatan, kel_desa FROM rounds WHERE closed_at IS NULL")}  # fmt: skip
    needs = [
        need(v.kecamatan, v.kel_desa, v.not_recorded, settings)
        for v in await village_status(db)
        if v.not_recorded > 0 and (v.kecamatan, v.kel_desa) not in busy
    ]
    return sorted(needs, key=lambda n: (-n.per_kit_day, -n.not_recorded, n.kecamatan, n.kel_desa))


async def _named_village(db: Any, settings: PlanningSettings, kel_desa: str, kecamatan: str | None) -> VillageNeed:
    found = [v for v in await village_status(db, kel_desa=kel_desa.upper()) if kecamatan in (None, v.kecamatan)]
    if not found:
        raise UsageError(t("rounds.unknown_village", desa=kel_desa))
    if len(found) > 1:
        raise UsageError(t("rounds.village_twice", desa=kel_desa, districts=", ".join(v.kecamatan for v in found)))
    v = found[0]
    return need(v.kecamatan, v.kel_desa, v.not_recorded, settings)


async def plan(
    store: Store,
    settings: PlanningSettings,
    *,
    kit: str,
    team: str,
    start: date,
    actor: str,
    days: int | None = None,
    kel_desa: str | None = None,
    kecamatan: str | None = None,
    count: int = 1,
) -> list[Round]:
    """Plan `count` rounds of one kit, back to back from `start`: the named village, or the next ones in order.
    A kit cannot be in two villages on one day (refused, exit 4); planned and audited in one transaction."""
    for option, value in (("--kit", kit), ("--team", team)):
        if not value.strip() or len(value) > MAX_NAME:
            raise UsageError(t("rounds.bad_name", option=option, limit=MAX_NAME))
    if days is not None and not 1 <= days <= settings.max_round_days:
        raise UsageError(t("rounds.bad_days", days=days, most=settings.max_round_days))
    if count < 1 or (kel_desa is not None and count != 1):
        raise UsageError(t("rounds.bad_count", count=count))
    planned: list[Round] = []
    async with store.transaction(actor) as tx:
        if kel_desa is not None:
            villages = [await _named_village(tx, settings, kel_desa, kecamatan and kecamatan.upper())]
        else:
            villages = (await candidates(tx, settings))[:count]
            if not villages:
                raise RefusedError(t("rounds.nothing_to_record"))
        day = start
        for village in villages:
            ends = day + timedelta(days=(days or village.days) - 1)
            clash = await tx.fetchone(
                "SELECT id, kel_desa, starts_on, ends_on FROM rounds WHERE kit = ? AND starts_on <= ? AND ends_on >= ?",
                (kit, ends.isoformat(), day.isoformat()),
            )
            if clash is not None:
                raise RefusedError(t("rounds.kit_busy", kit=kit, round=clash["id"], desa=clash["kel_desa"],
                                     starts=clash["starts_on"], ends=clash["ends_on"]))  # fmt: skip
            round_id = await tx.insert(
                "INSERT INTO rounds (kecamatan, kel_desa, starts_on, ends_on, kit, team, not_recorded, planned_at, "
                "planned_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (village.kecamatan, village.kel_desa, day.isoformat(), ends.isoformat(), kit, team,
                 village.not_recorded, now_iso(), actor),
            )  # fmt: skip
            await tx.audit("round.planned", f"round:{round_id}", desa=village.kel_desa, kecamatan=village.kecamatan,
                           starts=day.isoformat(), ends=ends.isoformat(), kit=kit, team=team,
                           not_recorded=village.not_recorded)  # fmt: skip
            planned.append(await _get(tx, round_id))
            day = ends + timedelta(days=1)
    return planned


async def _get(db: Any, round_id: int) -> Round:
    row = await db.fetchone("SELECT * FROM rounds WHERE id = ?", (round_id,))
    if row is None:
        raise UsageError(t("rounds.unknown", round=round_id))
    return _round(row)


def _round(row: Any) -> Round:
    return Round(
        row["id"], row["kecamatan"], row["kel_desa"], row["starts_on"], row["ends_on"], row["kit"], row["team"],
        row["not_recorded"], row["planned_at"], row["closed_at"], row["recorded"],
    )  # fmt: skip


async def list_rounds(db: Any) -> list[Round]:
    return [_round(row) for row in await db.fetchall("SELECT * FROM rounds ORDER BY starts_on, id")]


async def close(store: Store, round_id: int, recorded: int, actor: str) -> Round:
    """A round done: how many residents it recorded. A round is closed once (again: refused, exit 4); a round
    that has not started yet cannot be closed."""
    if recorded < 0:
        raise UsageError(t("rounds.bad_recorded", count=recorded))
    async with store.transaction(actor) as tx:
        current = await _get(tx, round_id)
        if current.closed_at is not None:
            raise RefusedError(t("rounds.already_closed", round=round_id, at=current.closed_at))
        if current.starts_on > today().isoformat():
            raise RefusedError(t("rounds.not_started", round=round_id, starts=current.starts_on))
        await tx.execute("UPDATE rounds SET closed_at = ?, recorded = ? WHERE id = ?", (now_iso(), recorded, round_id))
        await tx.audit("round.closed", f"round:{round_id}", recorded=recorded, not_recorded=current.not_recorded)
        return await _get(tx, round_id)


async def round_niks(db: Any, round_id: int) -> list[str]:
    """The NIKs of the recorded residents a round recorded: recorded in its village (`lokasi_perekaman`, the
    village's name; the district the round's) on one of its days. In NIK order; the distribution batch
    `round:ID`. Raises UsageError for an unknown round."""
    r = await _get(db, round_id)
    rows = await db.fetchall(
        "SELECT nik FROM residents WHERE upper(trim(lokasi_perekaman)) = ? AND kecamatan = ? "
        "AND tanggal_perekaman BETWEEN ? AND ? ORDER BY nik",
        (r.kel_desa, r.kecamatan, r.starts_on, r.ends_on),
    )
    return [row["nik"] for row in rows]


# A resident recorded by a round: in its village (`lokasi_perekaman`, the village's name) and district, on one of
# its days.
_RECORDED_IN = (
    "rounds o JOIN residents r ON upper(trim(r.lokasi_perekaman)) = o.kel_desa "
    "AND r.kecamatan = o.kecamatan AND r.tanggal_perekaman BETWEEN o.starts_on AND o.ends_on"
)


async def rounds_of(db: Any, nik: str) -> list[int]:
    """The rounds that recorded this resident (the other way round of `round_niks`): the batches `round:ID` the
    resident falls in, oldest round first."""
    rows = await db.fetchall(f"SELECT o.id FROM {_RECORDED_IN} WHERE r.nik = ? ORDER BY o.id", (nik,))
    return [row["id"] for row in rows]


async def every_round_member(db: Any) -> dict[str, list[int]]:
    """`rounds_of` for every resident a round recorded, in one query (the hand-over's batch progress)."""
    found: dict[str, list[int]] = {}
    for row in await db.fetchall(f"SELECT r.nik, o.id FROM {_RECORDED_IN} ORDER BY o.id"):
        found.setdefault(row["nik"], []).append(row["id"])
    return found
