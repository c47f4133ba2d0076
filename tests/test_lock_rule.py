"""The one rule, asked by every path, against a model of each NIK's history drawn by hypothesis.

Histories are made of the real operations (queue one, queue in bulk, hold, release, cancel, take a blank as the
engine does, no blank left the feeder, printed, tagged good or bad, the centre's grant through a real report, a
reprint). After every step the single-NIK path (`refusal`), the engine's path (`refusal(for_job=…)`), the bulk
queue's condition, the import's and the centre's unlock give the answer the model gives.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console import audit_state, books, jobs, locks, reports, unlock
from console.central import simulator
from console.clock import now_iso
from console.errors import GrantRejectedError, RefusedError
from console.store import Store
from tests.factory import add_residents, receive_blanks
from tests.test_report_kit import centre_keys

STATION = "5203-01"
ALLOCATION = "JATAH-2026-11"
NIKS = 2
STEPS = ("enqueue", "enqueue_ready", "hold", "release", "cancel", "take_blank", "no_blank_left", "printed",
         "tag_good", "tag_bad", "unlock", "delete_lock_row")  # fmt: skip
# A whole card (queued, blank taken, printed, tagged) as one draw too: a reprint needs a bad card, a report and a
# grant in a row, which single steps drawn at random seldom line up.
CARDS = {"card_good": ("enqueue", "take_blank", "printed", "tag_good"),
         "card_bad": ("enqueue", "take_blank", "printed", "tag_bad")}  # fmt: skip
OPS = STEPS + tuple(CARDS) + ("unlock", "card_bad")  # the unlock and a bad card drawn more often


@dataclass
class Model:
    """What the rule must say of one NIK, from its history alone."""

    open_job: int | None = None
    open_state: str | None = None
    lock: str | None = None  # None (never a card) | locked | unlocked (by the centre, for one reprint)
    reprint_unlock: bool = False  # the job in flight consumed an unlock
    row_deleted: bool = False  # its lock row deleted behind the station's back: the audit log still shows the card

    def may_print(self) -> bool:
        return self.lock != "locked" and self.open_job is None


async def take_blank(store: Store, job_id: int, nik: str) -> bool:
    """What the engine commits before `Ss` (engine.print_job): the rule asked again for this job, then the blank."""
    async with store.transaction("test") as tx:
        if await locks.refusal(tx, nik, for_job=job_id) is not None:
            return False
        allocation = await books.take_blank(tx)
        await locks.lock_for_job(tx, nik, job_id, now_iso())
        await jobs.set_state(tx, job_id, jobs.PRINTING, None, allocation_id=allocation, counter_before=0,
                             started_at=now_iso())  # fmt: skip
        await tx.audit("blank.taken", allocation, job=job_id, nik=nik, counter_before=0)
    return True


async def no_blank_left(store: Store, job_id: int, nik: str) -> None:
    """What the engine commits when the printer proves no blank left the feeder (engine._requeue)."""
    async with store.transaction("test") as tx:
        await locks.release_for_job(tx, nik, job_id)
        await books.return_blank(tx, ALLOCATION)
        await jobs.set_state(tx, job_id, jobs.QUEUED, "settled_no_card_taken", allocation_id=None,
                             counter_before=None, started_at=None)  # fmt: skip


async def grant_unlock(store: Store, nik: str, centre, keys) -> bool | None:
    """The centre's grant for `nik`, through a real report of the allocation; False if the station rejects it,
    None if no report can be made now or the NIK was never reported bad (the centre grants nothing then)."""
    try:
        report = (await reports.make_report(store, ALLOCATION, STATION, "test")).body
    except RefusedError:
        return None  # a card still waiting for its tag or in flight: no report yet
    if nik not in {card["nik"] for card in report["bad"]}:
        return None
    document = simulator.grant_for_report(report, centre.key, [nik])
    try:
        await unlock.apply_grant(store, json.dumps(document).encode(), station_id=STATION, keys=keys, actor="test")
    except GrantRejectedError:
        return False
    return True


async def check_every_path(store: Store, niks: list[str], model: dict[str, Model]) -> None:
    ready_rows = await store.fetchall(f"SELECT r.nik FROM residents r WHERE {locks.ready_sql('r.nik')}")
    ready = {row["nik"] for row in ready_rows}
    settled = await locks.settled_among(store, niks)
    for nik in niks:
        m = model[nik]
        refusal = await locks.refusal(store, nik)
        assert (refusal is None) == m.may_print(), (nik, m, refusal)
        if m.lock == "locked":
            assert refusal.code == ("audit_locked" if m.row_deleted else "locked")
        elif m.open_job is not None:
            assert refusal.code == "already_queued" and refusal.job_id == m.open_job
        if m.open_job is not None and m.open_state != "printing":
            engine_says = await locks.refusal(store, nik, for_job=m.open_job)
            assert (engine_says is None) == (m.lock != "locked"), (nik, m, engine_says)
        assert (nik in ready) == (m.may_print() and m.lock is None), (nik, m)
        assert (nik in settled) == (not m.may_print() or m.lock is not None), (nik, m, settled)
        if nik in settled:
            assert settled[nik] == ("queued" if m.lock != "locked" and m.open_job else "printed")


async def run_history(database: Path | str, steps: list[tuple[str, int]], centre, keys) -> None:
    store = await Store.open(database)
    try:
        niks = await add_residents(store, NIKS)
        await receive_blanks(store, ALLOCATION, 100, "2026-11", "test")
        model = {nik: Model() for nik in niks}
        flat = [(step, index) for op, index in steps for step in CARDS.get(op, (op,))]
        for op, index in flat:
            nik = niks[index]
            m = model[nik]
            if op == "enqueue":
                result = await jobs.enqueue(store, [nik], "test")
                assert bool(result.queued) == m.may_print(), (op, m, result)
                if result.queued:
                    m.open_job, m.open_state = (await jobs.history(store, nik))[-1].id, "queued"
            elif op == "enqueue_ready":
                expected = [n for n in niks if model[n].may_print() and model[n].lock is None]
                assert await jobs.enqueue_ready(store, "test") == len(expected)
                for n in expected:
                    model[n].open_job, model[n].open_state = (await jobs.history(store, n))[-1].id, "queued"
            elif op in ("hold", "release", "cancel") and m.open_job is not None:
                wanted = {"hold": "queued", "release": "held", "cancel": None}[op]
                if (wanted is None and m.open_state == "printing") or wanted not in (None, m.open_state):
                    continue
                await getattr(jobs, op)(store, m.open_job, "test")
                m.open_state = {"hold": "held", "release": "queued"}.get(op)
                if op == "cancel":
                    m.open_job = None
            elif op == "take_blank" and m.open_state == "queued":
                assert await take_blank(store, m.open_job, nik) == (m.lock != "locked")
                if m.lock != "locked":
                    m.reprint_unlock = m.lock == "unlocked"
                    m.lock, m.open_state = "locked", "printing"
            elif op == "no_blank_left" and m.open_state == "printing":
                await no_blank_left(store, m.open_job, nik)
                m.lock = "unlocked" if m.reprint_unlock else None
                m.open_state = "queued"
            elif op == "printed" and m.open_state == "printing":
                async with store.transaction("test") as tx:
                    await jobs.set_state(tx, m.open_job, jobs.PRINTED, None, card_counter=1, printed_at=now_iso())
                m.open_job = m.open_state = None
            elif op in ("tag_good", "tag_bad"):
                last = (await jobs.history(store, nik) or [None])[-1]
                if last is not None and last.state == jobs.PRINTED:
                    await jobs.tag(store, nik, op == "tag_good", "test", None if op == "tag_good" else "gagal_cetak")
            elif op == "unlock" and m.lock == "locked" and m.open_job is None:
                last_card = [j for j in await jobs.history(store, nik) if j.allocation_id][-1]
                granted = await grant_unlock(store, nik, centre, keys)
                if granted is not None:  # the unlock asks the rule: only the bad card that locks the NIK opens it
                    assert granted == (last_card.state == jobs.DONE_BAD and not m.row_deleted), (last_card, granted)
                if granted:
                    m.lock = "unlocked"
            elif op == "delete_lock_row" and m.lock == "locked" and m.open_job is None:
                async with store.transaction("someone with sqlite3") as tx:  # no audit entry: an edit by hand
                    await tx.execute("DELETE FROM nik_locks WHERE nik = ?", (nik,))
                m.row_deleted = True
            await check_every_path(store, niks, model)
        found = await audit_state.differences(store)  # the audit log replays to these very tables, or names the edit
        assert [nik for nik in niks if model[nik].row_deleted] == [nik for nik in niks if any(nik in f for f in found)]
    finally:
        await store.close()


_KEYS = tempfile.TemporaryDirectory()
_CENTRE: list = []


def _centre():
    """One key pair for every example (made once: an Ed25519 key costs little, the files a few calls)."""
    if not _CENTRE:
        centre = centre_keys(Path(_KEYS.name))
        _CENTRE.extend((centre, unlock.load_central_keys([centre.public])))
    return _CENTRE


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, NIKS - 1)), min_size=1, max_size=30))
def test_every_path_asks_the_same_rule_over_any_history(steps):
    centre, keys = _centre()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run_history(Path(folder) / "station.db", steps, centre, keys))


def _on_a_fresh_ledger(pg_server, template: str, steps) -> None:
    centre, keys = _centre()
    name = pg_server.database(template)
    try:
        asyncio.run(run_history(pg_server.url(name), steps, centre, keys))
    finally:
        pg_server.drop(name)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, NIKS - 1)), min_size=1, max_size=30))
def test_every_path_asks_the_same_rule_over_any_history_on_a_ledger(pg_server, ledger_template, steps):
    """The same histories on PostgreSQL, where the rule's SQL runs on another engine: a fresh ledger each. A few
    in `make test` (a ledger costs a database a history); more with --runslow."""
    _on_a_fresh_ledger(pg_server, ledger_template, steps)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, NIKS - 1)), min_size=1, max_size=30))
def test_many_histories_on_a_ledger(pg_server, ledger_template, steps):
    _on_a_fresh_ledger(pg_server, ledger_template, steps)
