"""Distribution batches: the residents whose cards are handed out together (*serempak*), and their release.

A batch is named `KIND:CODE`. Each kind is a selector of this module's registry (`SELECTORS`): it reads its code
and says which batch a resident falls in. `desa:PP.KK.CC.DDDD` (a village by its Kemendagri code) and
`kec:PP.KK.CC` (a sub-district) read the resident's NIK and village; `round:ID` (a recording round, console/rounds.py)
is the residents the round recorded, read from the database.

A batch's residents are those queued for a card at least once (a job that was not cancelled). It is released for
the hand-over only when each of them has a good card (a reprint after the centre's unlock counts once good); a
supervisor may release it early, with a reason. Both are audited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from console import regions, rounds
from console.clock import now_iso
from console.errors import RefusedError, UsageError
from console.formats import moment
from console.i18n import t
from console.operators import SUPERVISOR, require_role
from console.resident_rows import control_problem
from console.store import Store

BLOCKING_NAMED = 20  # residents named in a refusal; the rest are counted


@dataclass(frozen=True)
class Batch:
    key: str  # "desa:52.03.07.2001"
    label: str  # the village or sub-district's name, for people


@dataclass(frozen=True)
class Selector:
    parse: Callable[[str], Batch]  # the code after "KIND:" → the batch, or UsageError
    key_of: Callable[[str, str], str | None]  # a resident's (NIK, kel_desa) → this kind's batch key, if any


@cache
def _village_codes() -> dict[tuple[str, str], regions.Village]:
    return {
        (district, village.name.upper()): village
        for district, villages in regions.lombok_timur_villages().items()
        for village in villages
    }


def dotted(code: str) -> str:
    return ".".join(part for part in (code[0:2], code[2:4], code[4:6], code[6:10]) if part)


def _village(code: str) -> Batch:
    if not re.fullmatch(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}", code):
        raise UsageError(t("batch.bad_code", batch=f"desa:{code}", form="desa:PP.KK.CC.DDDD"))
    plain = regions.plain_code(code)
    village = next((v for v in regions.villages_of(plain[:6]) if v.code == plain), None)
    if village is None:
        raise UsageError(t("batch.unknown_village", batch=f"desa:{code}"))
    district = regions.district(plain[:6])
    return Batch(f"desa:{code}", f"{village.name.upper()} ({district.name.upper() if district else plain[:6]})")


def _village_key(nik: str, kel_desa: str) -> str | None:
    village = _village_codes().get((nik[:6], kel_desa.upper()))
    return None if village is None else f"desa:{dotted(village.code)}"


def _district(code: str) -> Batch:
    if not re.fullmatch(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}", code):
        raise UsageError(t("batch.bad_code", batch=f"kec:{code}", form="kec:PP.KK.CC"))
    district = regions.district(regions.plain_code(code))
    if district is None:
        raise UsageError(t("batch.unknown_district", batch=f"kec:{code}"))
    return Batch(f"kec:{code}", district.name.upper())


def _district_key(nik: str, kel_desa: str) -> str | None:
    return f"kec:{dotted(nik[:6])}"


def _round(code: str) -> Batch:
    if not re.fullmatch(r"[0-9]{1,9}", code):
        raise UsageError(t("batch.bad_code", batch=f"round:{code}", form="round:ID"))
    return Batch(f"round:{int(code)}", t("batch.round_label", round=int(code)))


def _no_key(nik: str, kel_desa: str) -> str | None:
    return None  # a round's residents are in the database, not in the NIK: `Member.rounds`


SELECTORS: dict[str, Selector] = {
    "desa": Selector(_village, _village_key),
    "kec": Selector(_district, _district_key),
    "round": Selector(_round, _no_key),
}


def parse_batch(text: str) -> Batch:
    kind, colon, code = text.partition(":")
    if kind not in SELECTORS or not colon:
        raise UsageError(t("batch.bad_name", batch=text, kinds=", ".join(f"{k}:" for k in SELECTORS)))
    return SELECTORS[kind].parse(code)


def keys_of(nik: str, kel_desa: str) -> list[str]:
    """Every batch a resident falls in, one a kind."""
    return [key for selector in SELECTORS.values() if (key := selector.key_of(nik, kel_desa)) is not None]


# ------------------------------------------------------------------------------------------ who is in a batch

GOOD = "good"
WAITING_REPRINT = ("waiting_unlock", "unlocked", "reprint_queued")


@dataclass(frozen=True)
class Member:
    """A resident of a batch and where their card stands."""

    nik: str
    nama: str
    kel_desa: str
    kecamatan: str
    job_id: int
    status: str  # good | queued | reprint_queued | held | untagged | waiting_unlock | unlocked
    reason: str | None  # why a job is held
    card_counter: int | None
    custody: str | None  # None (still at the office) | issued_to_village | collected (good cards)
    rounds: tuple[int, ...] = ()  # the recording rounds that recorded the resident

    @property
    def keys(self) -> list[str]:
        """Every batch the resident falls in."""
        return keys_of(self.nik, self.kel_desa) + [f"round:{number}" for number in self.rounds]

    @property
    def good(self) -> bool:
        return self.status == GOOD

    def why(self) -> str:
        return t(f"batch.why.{self.status}", nik=self.nik, nama=self.nama, reason=self.reason or "-")


def _status(row: Any) -> str:
    state = row["state"]
    if state == "done_good":
        return GOOD
    if state in ("queued", "printing"):
        return "reprint_queued" if row["unlock_id"] is not None else "queued"
    if state == "held":
        return "held"
    if state == "printed":
        return "untagged"
    return "waiting_unlock" if row["locked"] else "unlocked"


async def all_members(db: Any) -> list[Member]:
    """Every resident queued at least once, with their last card or job (not cancelled)."""
    rows = await db.fetchall(
        "SELECT r.nik, r.nama, r.kel_desa, r.kecamatan, j.id AS job_id, j.state, j.state_reason, j.card_counter, "
        "j.unlock_id, (l.nik IS NOT NULL AND l.unlocked_at IS NULL) AS locked, c.state AS custody "
        "FROM residents r "
        "JOIN jobs j ON j.id = (SELECT max(x.id) FROM jobs x WHERE x.nik = r.nik AND x.state <> 'cancelled') "
        "LEFT JOIN nik_locks l ON l.nik = r.nik LEFT JOIN card_custody c ON c.job_id = j.id "
        "ORDER BY r.kel_desa, r.nama, r.nik"
    )
    recorded = await rounds.every_round_member(db)
    return [
        Member(
            row["nik"],
            row["nama"],
            row["kel_desa"],
            row["kecamatan"],
            row["job_id"],
            _status(row),
            row["state_reason"],
            row["card_counter"],
            row["custody"],
            tuple(recorded.get(row["nik"], ())),
        )
        for row in rows
    ]


async def members(db: Any, batch: Batch) -> list[Member]:
    kind, _, code = batch.key.partition(":")
    if kind == "round":
        recorded = set(await rounds.round_niks(db, int(code)))  # an unknown round: UsageError, named
        return [m for m in await all_members(db) if m.nik in recorded]
    return [m for m in await all_members(db) if batch.key in m.keys]


# ------------------------------------------------------------------------------------------------- release


@dataclass(frozen=True)
class Release:
    batch: str
    released_at: str
    released_by: str
    early: bool
    reason: str | None
    blocking: int


def _release(row: Any) -> Release:
    return Release(
        row["batch"], row["released_at"], row["released_by"], bool(row["early"]), row["reason"], row["blocking"]
    )


async def releases(db: Any) -> dict[str, Release]:
    rows = await db.fetchall("SELECT * FROM batch_releases ORDER BY released_at")
    return {row["batch"]: _release(row) for row in rows}


def enclosing(batch: Batch) -> list[str]:
    """The keys of the batches that hold all of this one: a village is in its sub-district."""
    kind, _, code = batch.key.partition(":")
    return [f"kec:{code[:8]}"] if kind == "desa" else []


async def release_for_handover(tx: Any, batch: Batch) -> Release | None:
    """The batch's release; else, when a batch holding it was released, its own release made now after that one
    (audited, naming it), so that each village is handed to its head under its own record. None: not released."""
    row = await tx.fetchone("SELECT * FROM batch_releases WHERE batch = ?", (batch.key,))
    if row is not None:
        return _release(row)
    keys = enclosing(batch)
    outer = None if not keys else await tx.fetchone(
        f"SELECT * FROM batch_releases WHERE batch IN ({','.join('?' * len(keys))}) ORDER BY released_at LIMIT 1",
        keys,
    )  # fmt: skip
    if outer is None:
        return None
    found = await members(tx, batch)
    blocking = [m for m in found if not m.good]
    made = Release(batch.key, now_iso(), tx.actor, bool(blocking), outer["reason"], len(blocking))
    await _record(tx, made, found, blocking, within=outer["batch"])
    return made


async def release_covering(db: Any, nik: str, kel_desa: str) -> Release | None:
    """The release of a batch the resident falls in (the first made), if any."""
    keys = keys_of(nik, kel_desa) + [f"round:{number}" for number in await rounds.rounds_of(db, nik)]
    if not keys:
        return None
    row = await db.fetchone(
        f"SELECT * FROM batch_releases WHERE batch IN ({','.join('?' * len(keys))}) ORDER BY released_at LIMIT 1", keys
    )
    return None if row is None else _release(row)


def blocking_sentence(blocking: list[Member]) -> str:
    named = "; ".join(m.why() for m in blocking[:BLOCKING_NAMED])
    more = len(blocking) - BLOCKING_NAMED
    return named + (t("batch.blocking_more", count=more) if more > 0 else "")


async def release(
    store: Store, batch_name: str, actor: str, *, early: bool = False, reason: str | None = None
) -> Release:
    """Release a batch for the hand-over: all at once when each resident's card is good; early by a supervisor,
    with a reason, naming who still waits. Refused (nothing changed) otherwise."""
    batch = parse_batch(batch_name)
    if early and not (reason and reason.strip()):
        raise UsageError(t("batch.early_needs_reason"))
    if reason is not None and (why := control_problem(reason)) is not None:
        raise UsageError(t("batch.reason_control", why=why))
    async with store.transaction(actor) as tx:
        if early:
            await require_role(tx, actor, SUPERVISOR, "early_release")
        done = await tx.fetchone("SELECT * FROM batch_releases WHERE batch = ?", (batch.key,))
        if done is not None:
            raise RefusedError(t("batch.already_released", batch=batch.key, at=moment(done["released_at"])))
        found = await members(tx, batch)
        if not found:
            raise RefusedError(t("batch.empty", batch=batch.key, label=batch.label))
        blocking = [m for m in found if not m.good]
        if blocking and not early:
            raise RefusedError(
                t("batch.not_ready", batch=batch.key, count=len(blocking), total=len(found))
                + blocking_sentence(blocking)
            )
        made = Release(batch.key, now_iso(), actor, bool(blocking), reason, len(blocking))
        await _record(tx, made, found, blocking)
    return made


async def _record(
    tx: Any, made: Release, found: list[Member], blocking: list[Member], within: str | None = None
) -> None:
    await tx.execute(
        "INSERT INTO batch_releases (batch, released_at, released_by, early, reason, blocking) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (made.batch, made.released_at, made.released_by, int(made.early), made.reason, made.blocking),
    )
    extra = {} if within is None else {"within": within}
    await tx.audit(
        "batch.released",
        made.batch,
        early=made.early,
        reason=made.reason,
        residents=len(found),
        blocking=[m.nik for m in blocking],
        **extra,
    )


# ------------------------------------------------------------------------------------------------ progress


@dataclass(frozen=True)
class Progress:
    batch: str
    label: str
    residents: int
    printed_good: int
    waiting_reprint: int
    released: Release | None
    handed_over: int  # issued to the village (or collected since)
    collected: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "label": self.label,
            "residents": self.residents,
            "printed_good": self.printed_good,
            "waiting_reprint": self.waiting_reprint,
            "released": self.released is not None,
            "released_at": self.released.released_at if self.released else None,
            "early": self.released.early if self.released else False,
            "handed_over": self.handed_over,
            "collected": self.collected,
        }


def _label(key: str) -> str:
    kind, _, code = key.partition(":")
    try:
        return SELECTORS[kind].parse(code).label
    except (KeyError, UsageError):
        return key


async def progress(db: Any) -> list[Progress]:
    """Each batch with a resident queued (districts, then their villages), and each batch released."""
    grouped: dict[str, list[Member]] = {}
    for member in await all_members(db):
        for key in member.keys:
            grouped.setdefault(key, []).append(member)
    released = await releases(db)
    keys = sorted(set(grouped) | set(released), key=lambda k: (k.split(":")[1], k))
    return [
        Progress(
            key,
            _label(key),
            len(group := grouped.get(key, [])),
            sum(m.good for m in group),
            sum(m.status in WAITING_REPRINT for m in group),
            released.get(key),
            sum(m.custody is not None for m in group),
            sum(m.custody == "collected" for m in group),
        )
        for key in keys
    ]
