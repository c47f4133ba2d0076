"""Print jobs: one attempt to print one card for one NIK, with an explicit state machine.

States follow the IPP job states (pending, pending-held, processing, completed, canceled):
queued → printing → printed (waiting for its tag) → done_good | done_bad; queued ⇄ held; queued/held → cancelled.
A job goes from printing back to queued only when the printer proves no blank left the feeder.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from console import locks, receipts, stations
from console.clock import now_iso, today
from console.errors import RefusedError, UsageError
from console.i18n import t
from console.logs import get_logger
from console.operators import SUPERVISOR, require_role
from console.resident_rows import control_problem
from console.schema import CLAIMS_LOCK
from console.store import Store

log = get_logger("jobs")

QUEUED, HELD, PRINTING, PRINTED, DONE_GOOD, DONE_BAD, CANCELLED = (
    "queued",
    "held",
    "printing",
    "printed",
    "done_good",
    "done_bad",
    "cancelled",
)
TRANSITIONS: dict[str, frozenset[str]] = {
    QUEUED: frozenset({HELD, PRINTING, CANCELLED}),
    HELD: frozenset({QUEUED, CANCELLED}),
    PRINTING: frozenset({PRINTED, DONE_BAD, QUEUED}),
    PRINTED: frozenset({DONE_GOOD, DONE_BAD}),
    DONE_GOOD: frozenset({DONE_BAD}),  # a mistaken tag corrected before the report
    DONE_BAD: frozenset({DONE_GOOD}),
    CANCELLED: frozenset(),
}
BAD_REASONS = ("gagal_cetak", "gagal_encode", "rusak_fisik", "salah_data", "lainnya")


class TransitionError(RefusedError):
    pass


@dataclass(frozen=True)
class Job:
    id: int
    nik: str
    state: str
    state_reason: str | None
    allocation_id: str | None
    counter_before: int | None
    card_counter: int | None
    card_dest: str | None
    tag_reason: str | None
    tag_note: str | None
    unlock_id: int | None
    queued_at: str
    started_at: str | None
    printed_at: str | None
    tagged_at: str | None
    nama: str | None = None
    station_id: str | None = None  # the station that claimed it (None while unclaimed)
    queued_for: str | None = None  # the one station it is queued for (None: any station)

    @classmethod
    def from_row(cls, row: Any) -> Job:
        keys = row.keys()
        return cls(
            row["id"],
            row["nik"],
            row["state"],
            row["state_reason"],
            row["allocation_id"],
            row["counter_before"],
            row["card_counter"],
            row["card_dest"],
            row["tag_reason"],
            row["tag_note"],
            row["unlock_id"],
            row["queued_at"],
            row["started_at"],
            row["printed_at"],
            row["tagged_at"],
            row["nama"] if "nama" in keys else None,
            row["station_id"] if "station_id" in keys else None,
            row["queued_for"] if "queued_for" in keys else None,
        )


async def set_state(tx: Any, job_id: int, new: str, reason: str | None = None, **columns: Any) -> Job:
    """Move a job to `new`, refusing transitions the state machine does not have; audited."""
    row = await tx.fetchone("SELECT state, nik FROM jobs WHERE id = ?", (job_id,))
    if row is None:
        raise UsageError(t("jobs.unknown", job=job_id))
    if new not in TRANSITIONS[row["state"]]:
        raise TransitionError(t("jobs.bad_transition", job=job_id, old=row["state"], new=new))
    if new == PRINTING:  # the station taking the blank prints the card: the job is its own from now on
        columns["station_id"] = tx.station_id
    assignments = ", ".join(f"{name} = ?" for name in columns)
    updated = await tx.fetchone(
        f"UPDATE jobs SET state = ?, state_reason = ?{', ' + assignments if columns else ''} WHERE id = ? RETURNING *",
        (new, reason, *columns.values(), job_id),
    )
    await tx.audit(f"job.{new}", row["nik"], job=job_id, was=row["state"], reason=reason, **columns)
    return Job.from_row(updated)


async def mark_started(store: Store, job: Job, counter_before: int, at: str) -> Job | None:
    """A job that took its blank while the card before it printed (`counter_before` NULL: its `Ss` not sent) gets
    the counter its card follows, committed on its own (one statement: the printer waits for it) before its `Ss`.
    Its audit entry (`card_started`) is written with the card before's booking, which follows.

    None, with nothing changed, when a pause was asked for the station meanwhile (a supervisor's, through the
    database): the statement itself asks, so the pause stops the queue before this card at no extra round trip;
    the engine then gives the reservation back."""
    changed = await store.execute_alone(
        "UPDATE jobs SET counter_before = ?, started_at = ? WHERE id = ? AND state = 'printing' "
        f"AND counter_before IS NULL AND station_id = ? AND NOT EXISTS ({_PAUSE_ASKED})",
        (counter_before, at, job.id, store.station_id, store.station_id),
    )
    if changed == 1:
        return replace(job, counter_before=counter_before, started_at=at)
    if await store.fetchone(_PAUSE_ASKED, (store.station_id,)) is not None:
        return None
    raise TransitionError(t("jobs.bad_transition", job=job.id, old=PRINTING, new=PRINTING))


_PAUSE_ASKED = "SELECT 1 FROM requests WHERE station_id = ? AND done_at IS NULL AND kind = 'pause'"


async def audit_started(tx: Any, job: Job) -> None:
    await tx.audit("card.started", job.nik, job=job.id, counter_before=job.counter_before)


@dataclass(frozen=True)
class EnqueueResult:
    queued: list[str]
    refused: list[locks.Refusal]


async def enqueue(store: Store, niks: list[str], actor: str, for_station: str | None = None) -> EnqueueResult:
    """Queue these NIKs, for one station (`for_station`) or for any station of the regency (None)."""
    queued, refused = [], []
    async with store.transaction(actor) as tx:
        if for_station is not None:
            await stations.require(tx, for_station)
        for nik in dict.fromkeys(niks):
            refusal = await locks.refusal(tx, nik)
            if refusal is not None:
                refused.append(refusal)
                continue
            job_id = await tx.insert(
                "INSERT INTO jobs (nik, state, queued_at, queued_for) VALUES (?, 'queued', ?, ?)",
                (nik, now_iso(), for_station),
            )
            await tx.audit("job.queued", nik, job=job_id, queued_for=for_station)
            queued.append(nik)
        await receipts.number_queued(tx, queued)
    return EnqueueResult(queued, refused)


def _ready_in(kecamatan: str | None, kel_desa: str | None) -> tuple[str, list[str]]:
    where, params = "", []
    if kecamatan is not None:
        where += " AND r.kecamatan = ?"
        params.append(kecamatan)
    if kel_desa is not None:
        where += " AND r.kel_desa = ?"
        params.append(kel_desa)
    return where, params


async def count_ready(db: Any, kecamatan: str | None = None, kel_desa: str | None = None) -> int:
    """How many residents `enqueue_ready` would queue now (to say so before asking)."""
    where, params = _ready_in(kecamatan, kel_desa)
    return int(await db.scalar(f"SELECT count(*) FROM residents r WHERE {locks.ready_sql('r.nik')}{where}", params))


async def count_not_wajib(db: Any, kecamatan: str | None = None, kel_desa: str | None = None) -> int:
    """Residents the bulk queue leaves out today because they are not yet wajib KTP-el (to say so)."""
    where, params = _ready_in(kecamatan, kel_desa)
    later = f"{locks.wajib_from_sql('r')} > {locks.day_sql(today())}"
    return int(await db.scalar(f"SELECT count(*) FROM residents r WHERE {later}{where}", params))


async def enqueue_ready(
    store: Store, actor: str, kecamatan: str | None = None, kel_desa: str | None = None, for_station: str | None = None
) -> int:
    """Queue every resident that is ready (optionally of one district or village); returns how many.

    Ready is `locks.ready_sql`: the rule allows a card and the NIK never had one. A NIK printed before (locked,
    or unlocked by the centre for one reprint) is queued one by one, on purpose.
    """
    where, params = _ready_in(kecamatan, kel_desa)
    async with store.transaction(actor) as tx:
        if for_station is not None:
            await stations.require(tx, for_station)
        at = now_iso()
        cur = await tx.execute(
            "INSERT INTO jobs (nik, state, queued_at, queued_for) SELECT nik, 'queued', ?, ? FROM "
            f"(SELECT r.nik FROM residents r WHERE {locks.ready_sql('r.nik')}{where} ORDER BY r.nik) AS ready",
            (at, for_station, *params),
        )
        count = cur.rowcount
        await tx.audit("jobs.queued_bulk", kecamatan or kel_desa, count=count, kecamatan=kecamatan, kel_desa=kel_desa,
                       queued_for=for_station)  # fmt: skip
        await receipts.number_queued(tx)
    return count


async def hold(store: Store, job_id: int, actor: str, reason: str = "held_by_operator") -> Job:
    async with store.transaction(actor) as tx:
        return await set_state(tx, job_id, HELD, reason)


async def release(store: Store, job_id: int, actor: str) -> Job:
    async with store.transaction(actor) as tx:
        return await set_state(tx, job_id, QUEUED, None)


async def cancel(store: Store, job_id: int, actor: str, reason: str = "cancelled_by_operator") -> Job:
    async with store.transaction(actor) as tx:
        return await set_state(tx, job_id, CANCELLED, reason)


async def tag(
    store: Store,
    nik: str,
    good: bool,
    actor: str,
    reason: str | None = None,
    note: str | None = None,
    job_id: int | None = None,
) -> Job:
    """The operator's verdict on a printed card: good, or bad with a reason (and a note for `lainnya`).

    A card already tagged may be corrected until a report lists it (`report_cards`).
    """
    if good:
        if reason is not None:
            raise UsageError(t("tag.reason_with_good"))
    else:
        if reason not in BAD_REASONS:
            raise UsageError(t("tag.bad_reason", reason=reason, reasons=", ".join(BAD_REASONS)))
        if reason == "lainnya" and not (note and note.strip()):
            raise UsageError(t("tag.note_required"))
    if note is not None and (why := control_problem(note)) is not None:
        raise UsageError(t("tag.note_control", why=why))
    async with store.transaction(actor) as tx:
        if job_id is None:
            row = await tx.fetchone(
                "SELECT * FROM jobs WHERE nik = ? AND state IN ('printed', 'done_good', 'done_bad') "
                "ORDER BY id DESC LIMIT 1",
                (nik,),
            )
        else:
            row = await tx.fetchone("SELECT * FROM jobs WHERE id = ? AND nik = ?", (job_id, nik))
        if row is None or row["state"] not in (PRINTED, DONE_GOOD, DONE_BAD):
            raise RefusedError(t("tag.nothing_printed", nik=nik))
        if row["station_id"] not in (None, stations.BEFORE_STATIONS, tx.station_id):  # it lies in that one's hopper
            raise RefusedError(t("tag.other_station", nik=nik, station=row["station_id"]))
        if row["state"] == DONE_GOOD and await tx.fetchone("SELECT 1 FROM card_custody WHERE job_id = ?", (row["id"],)):
            raise RefusedError(t("tag.handed_over", nik=nik))  # the card has left the office: its tag stands
        if row["state"] != PRINTED:
            reported = await report_listing(tx, row["id"])
            if reported is not None:
                raise RefusedError(t("tag.already_reported", nik=nik, report=reported[:12]))
        new = DONE_GOOD if good else DONE_BAD
        if row["state"] == new and row["tag_reason"] == reason and row["tag_note"] == note:
            return Job.from_row(row)
        if row["state"] != PRINTED:  # a correction, the card out of the hopper: a supervisor's step
            await require_role(tx, actor, SUPERVISOR, "tag_correction")
        if row["state"] == new:  # same verdict, other reason: a correction of the reason only
            await tx.execute(
                "UPDATE jobs SET tag_reason = ?, tag_note = ?, tagged_by = ?, tagged_at = ? WHERE id = ?",
                (reason, note, actor, now_iso(), row["id"]),
            )
            await tx.audit("card.retagged", nik, job=row["id"], good=good, reason=reason, note=note)
            return Job.from_row(await tx.fetchone("SELECT * FROM jobs WHERE id = ?", (row["id"],)))
        action = "card.tagged" if row["state"] == PRINTED else "card.retagged"
        job = await set_state(
            tx, row["id"], new, None, tag_reason=reason, tag_note=note, tagged_by=actor, tagged_at=now_iso()
        )
        await tx.audit(action, nik, job=row["id"], good=good, reason=reason, note=note, was=row["state"])
        return job


async def report_listing(db: Any, job_id: int) -> str | None:
    """The first report that listed this job's card: it carried the tag to the centre, so the tag stands.

    Known by the report's own record of its cards, never by comparing times: a clock set wrong moves times.
    """
    row = await db.fetchone(
        "SELECT c.report_id FROM report_cards c JOIN reports r ON r.report_id = c.report_id WHERE c.job_id = ? "
        "ORDER BY r.made_seq LIMIT 1",
        (job_id,),
    )
    return None if row is None else row["report_id"]


async def get_job(db: Any, job_id: int) -> Job | None:
    row = await db.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
    return None if row is None else Job.from_row(row)


async def untagged(db: Any, limit: int = 1000) -> list[Job]:
    """Printed cards waiting for their tag in this station's output hopper, in the order they lie there."""
    rows = await db.fetchall(
        "SELECT j.*, r.nama FROM jobs j JOIN residents r ON r.nik = j.nik WHERE j.state = 'printed' "
        "AND j.station_id = ? ORDER BY j.card_counter, j.id LIMIT ?",
        (db.station_id, limit),
    )
    return [Job.from_row(row) for row in rows]


async def count_by_state(db: Any) -> dict[str, int]:
    rows = await db.fetchall("SELECT state, count(*) AS n FROM jobs GROUP BY state")
    counts = dict.fromkeys(TRANSITIONS, 0)
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


async def count_in_state(db: Any, state: str) -> int:
    row = await db.fetchone("SELECT count(*) AS n FROM jobs WHERE state = ?", (state,))
    return row["n"]


async def count_here(db: Any, state: str) -> int:
    """Jobs in `state` that the store's station claimed (its printed cards waiting for their tag, say)."""
    return int(await db.scalar("SELECT count(*) FROM jobs WHERE state = ? AND station_id = ?", (state, db.station_id)))


async def next_queued(db: Any) -> Job | None:
    row = await db.fetchone(
        "SELECT j.*, r.nama FROM jobs j JOIN residents r ON r.nik = j.nik WHERE j.state = 'queued' ORDER BY j.id LIMIT 1"
    )
    return None if row is None else Job.from_row(row)


# A queued job this station may print: claimed by it, or unclaimed and queued for it or for any station.
_MINE_OR_FREE = "state = 'queued' AND (station_id = :me OR (station_id IS NULL AND coalesce(queued_for, :me) = :me))"


# On the ledger, a station's printing process holds this session lock (keyed by its station) while it runs
# (`Store.hold_claims`); a killed one loses it with its connection. A queued job claimed by a station that holds no
# such lock is orphaned: any station may take it over, once no free job is left (one queued for that station alone
# stays its own). The lock is tried, never waited for; a transaction that wins it for a dead station frees it at
# its end. Safe for the first guarantee: a claim spends nothing, and the transaction that takes the blank checks the
# job is still the taker's (`check_claim`).


def _orphaned(j: str = "") -> str:
    """The condition of a queued job orphaned by a killed station, its columns prefixed by `j` ("j." or "")."""
    return (
        f"{j}state = 'queued' AND {j}station_id <> :me AND {j}queued_for IS NULL "
        f"AND pg_try_advisory_xact_lock({CLAIMS_LOCK}, hashtext({j}station_id))"
    )


# With fewer blanks in the station's stock than jobs it may print, a resident's first card goes before a
# replacement (a NIK that had a blank before, unlocked by the centre for a reprint): `[queue] first_cards_first`.
_REPRINTS_LAST = "ORDER BY (CASE WHEN EXISTS (SELECT 1 FROM nik_locks l WHERE l.nik = j.nik) THEN 1 ELSE 0 END), j.id"


async def _blanks_short(store: Store) -> bool:
    me = {"me": store.station_id}
    stock = await store.scalar("SELECT coalesce(sum(in_stock), 0) FROM station_stock WHERE station_id = :me", me)
    return int(stock) < int(await store.scalar(f"SELECT count(*) FROM jobs WHERE {_MINE_OR_FREE}", me))


async def claim(store: Store, after: int = 0, first_cards_first: bool = False) -> Job | None:
    """The next queued job (after `after`, the one printing) for the store's station: one it claimed before, else
    the first free one, claimed now (`station_id` set while still queued), so that no other station lays it out or
    prints it. Queue order is by id; with `first_cards_first` and blanks short, first cards before reprints
    (then "after" means any job but `after`).

    On the ledger the free job is picked `FOR UPDATE SKIP LOCKED`: stations claiming at once each take another
    job instead of waiting for each other's transaction. The claim is not audited (nothing is spent; the blank
    taken for the job is, with the station's name); the claim only decides which station tries first.
    """
    me = {"me": store.station_id, "after": after}
    short = first_cards_first and await _blanks_short(store)
    past = "j.id <> :after" if short else "j.id > :after"
    order = f"{_REPRINTS_LAST if short else 'ORDER BY j.id'} LIMIT 1"
    mine = await store.fetchone(
        f"SELECT j.id FROM jobs j WHERE j.state = 'queued' AND j.station_id = :me AND {past} {order}", me
    )
    free = f"j.state = 'queued' AND j.station_id IS NULL AND coalesce(j.queued_for, :me) = :me AND {past}"
    if mine is None and await store.fetchone(f"SELECT 1 FROM jobs j WHERE {free} LIMIT 1", me) is not None:
        mine = await _take(store, free, order, me)
    if mine is None and store.dialect == "postgresql":  # none free: claims a killed station left behind
        mine = await _take_over(store, order, me)
        if mine is not None:
            log.info("claim_taken_over", job=mine["id"], station=store.station_id, from_station=mine["was"])
    if mine is None:
        return None
    row = await store.fetchone(
        "SELECT j.*, r.nama FROM jobs j JOIN residents r ON r.nik = j.nik WHERE j.id = ?", (mine["id"],)
    )
    return None if row is None else Job.from_row(row)


async def _take(store: Store, which: str, order: str, me: dict[str, Any]) -> Any:
    """Claim the first free job `which` selects, in `order`; its id."""
    skip = " FOR UPDATE SKIP LOCKED" if store.dialect == "postgresql" else ""
    async with store.claiming() as tx:
        return await tx.fetchone(
            f"UPDATE jobs SET station_id = :me WHERE id = (SELECT j.id FROM jobs j WHERE {which} {order}{skip}) "
            "AND station_id IS NULL RETURNING id",
            me,
        )


async def _take_over(store: Store, order: str, me: dict[str, Any]) -> Any:
    """On the ledger, claim the first job a killed station left claimed (any but `after`, the one printing); its id
    and the station that had claimed it (`was`)."""
    async with store.claiming() as tx:
        return await tx.fetchone(
            f"WITH picked AS (SELECT j.id, j.station_id AS was FROM jobs j WHERE {_orphaned('j.')} "
            f"AND j.id <> :after {order} FOR UPDATE SKIP LOCKED) "
            "UPDATE jobs SET station_id = :me FROM picked WHERE jobs.id = picked.id AND jobs.state = 'queued' "
            "RETURNING jobs.id, picked.was",
            me,
        )


async def any_claimable(store: Store) -> bool:
    """A queued job waits that the store's station may print (on the ledger, one a killed station left claimed)."""
    mine_or_free = _MINE_OR_FREE if store.dialect != "postgresql" else f"({_MINE_OR_FREE} OR ({_orphaned()}))"
    row = await store.fetchone(f"SELECT 1 FROM jobs WHERE {mine_or_free} LIMIT 1", {"me": store.station_id})
    return row is not None


async def release_claims(store: Store) -> None:
    """The station stops printing: its queued jobs are free again for any station (those queued for it alone
    stay its own by `queued_for`)."""
    async with store.claiming() as tx:
        await tx.execute("UPDATE jobs SET station_id = NULL WHERE state = 'queued' AND station_id = ?",
                         (tx.station_id,))  # fmt: skip


async def check_claim(tx: Any, job_id: int) -> None:
    """Inside the transaction that takes the job's blank: the job is still queued and the transaction's station's
    to print (claimed by it, or free and queued for it or any); else TransitionError, and nothing is taken."""
    row = await tx.fetchone(
        f"SELECT 1 FROM jobs WHERE id = :id AND {_MINE_OR_FREE}", {"id": job_id, "me": tx.station_id}
    )
    if row is None:
        raise TransitionError(t("jobs.not_claimable", job=job_id, station=tx.station_id))


async def jobs_in_doubt(db: Any) -> list[Job]:
    """Jobs this station was printing when it last stopped (took, or was about to take, a blank): to settle with
    its printer."""
    rows = await db.fetchall("SELECT * FROM jobs WHERE state = 'printing' AND station_id = ? ORDER BY id",
                             (db.station_id,))  # fmt: skip
    return [Job.from_row(row) for row in rows]


async def history(db: Any, nik: str) -> list[Job]:
    rows = await db.fetchall("SELECT * FROM jobs WHERE nik = ? ORDER BY id", (nik,))
    return [Job.from_row(row) for row in rows]


@dataclass(frozen=True)
class PrintedSince:
    printed: int  # cards that took a blank since then
    good: int
    bad: int


async def printed_since(db: Any, start: str, station: str | None = None) -> PrintedSince:
    """Cards printed since `start`, by every station or by `station` alone."""
    row = await db.fetchone(
        "SELECT count(*) AS printed, "
        "count(*) FILTER (WHERE state = 'done_good') AS good, count(*) FILTER (WHERE state = 'done_bad') AS bad "
        "FROM jobs WHERE printed_at >= ? AND (CAST(? AS TEXT) IS NULL OR station_id = ?)",
        (start, station, station),
    )
    return PrintedSince(row["printed"], row["good"], row["bad"])


async def open_states(db: Any, niks: list[str]) -> dict[str, str]:
    """The state of each NIK's job still in the queue or waiting for its tag (queued, held, printing, printed)."""
    if not niks:
        return {}
    rows = await db.fetchall(
        f"SELECT nik, state FROM jobs WHERE nik IN ({','.join('?' * len(niks))}) "
        "AND state IN ('queued', 'held', 'printing', 'printed')",
        niks,
    )
    return {row["nik"]: row["state"] for row in rows}


_PAGE_ORDER = {"id": "j.id", "hopper": "j.card_counter, j.id"}  # hopper: the order the cards lie in the hopper


async def page_in_state(db: Any, state: str, limit: int, offset: int, order: str = "id",
                        station: str | None = None) -> list[Any]:  # fmt: skip
    """Jobs in `state` with the resident's name and district, a page at a time; of every station or of `station`."""
    return await db.fetchall(
        "SELECT j.id, j.nik, j.state, j.state_reason, j.card_counter, j.printed_at, r.nama, r.kecamatan "
        "FROM jobs j JOIN residents r ON r.nik = j.nik WHERE j.state = ? "
        f"AND (CAST(? AS TEXT) IS NULL OR j.station_id = ?) ORDER BY {_PAGE_ORDER[order]} LIMIT ? OFFSET ?",
        (state, station, station, limit, offset),
    )
