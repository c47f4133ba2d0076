"""The audit log: every state change that matters, appended in the same transaction as the change itself.

Entries are hash-chained: each entry's hash covers the previous entry's hash and its own fields, so an entry
altered, removed or inserted afterwards breaks the chain at that point.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.canonical import canonical_json, sha256_hex
from console.clock import now_iso
from console.errors import AuditBrokenError
from console.i18n import t
from console.logs import get_logger
from drivers.atomic_file import atomic_writer, write_atomic

if TYPE_CHECKING:
    from console.db_types import Database, Writer

GENESIS = "0" * 64
# On a ledger, the advisory lock of the chain's head (beside the store's lock of the whole ledger, 0x4B54504C):
# taken by a transaction's first append and held to its commit, so that the head it read stays the head it
# appends after, whatever else that transaction locks or does not lock. A rollback frees it unused: no gap. A
# transaction begun with the ledger-wide lock (every audited write of the station's) needs no second one.
HEAD_LOCK = 0x4B545041  # "KTPA"
log = get_logger("audit")


def entry_hash(
    seq: int, at: str, actor: str, action: str, subject: str | None, data: str, prev_hash: str, station: str | None
) -> str:
    """The entry's hash; the station that wrote it is covered once entries name one (older entries have none, and
    their hashes stay as they were made)."""
    fields = {"seq": seq, "at": at, "actor": actor, "action": action, "subject": subject, "data": data}
    return sha256_hex(fields | {"prev": prev_hash} | ({} if station is None else {"station": station}))


async def append(
    tx: Writer,
    action: str,
    subject: str | None,
    actor: str,
    data: dict[str, Any],
    head: tuple[int, str] | None = None,
    station: str | None = None,
) -> tuple[int, str]:
    """Append one entry after `head` (the chain's last seq and hash, read when not given), written by `station`;
    the new head."""
    if head is None:
        if tx.dialect == "postgresql" and not getattr(tx, "ledger_locked", False):
            await tx.execute("SELECT pg_advisory_xact_lock(?)", (HEAD_LOCK,))
        last = await tx.fetchone("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        head = (last["seq"], last["hash"]) if last else (0, GENESIS)
    seq, prev = head[0] + 1, head[1]
    at = now_iso()
    body = canonical_json(data)
    digest = entry_hash(seq, at, actor, action, subject, body, prev, station)
    await tx.execute(
        "INSERT INTO audit (seq, at, actor, action, subject, data, prev_hash, hash, station_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, at, actor, action, subject, body, prev, digest, station),
    )
    return seq, digest


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    why: str
    station: str | None = None  # the station that wrote the broken entry, where entries name one


Progress = Callable[[int, int], None]
PROGRESS_ENTRIES = 5000


async def _teller(store: Database, on_progress: Progress | None) -> Callable[..., None]:
    """A function telling `on_progress` every PROGRESS_ENTRIES entries (and at the last) how far a walk is."""
    if on_progress is None:
        return lambda done, last=False: None
    total = await newest_seq(store)

    def tell(done: int, last: bool = False) -> None:
        if last or (done and done % PROGRESS_ENTRIES == 0):
            on_progress(done, max(total, done))

    return tell


async def _entries(store: Database, batch: int = 5000) -> AsyncIterator[Any]:
    after = 0
    while True:
        rows = await store.fetchall("SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", (after, batch))
        if not rows:
            return
        for row in rows:
            yield row
        after = rows[-1]["seq"]


async def verify(store: Database, on_progress: Progress | None = None) -> tuple[int, ChainBreak | None]:
    """Walk the chain; return how many entries are sound and the first break, if any. `on_progress(done, total)`
    hears every PROGRESS_ENTRIES entries and at the end."""
    prev, expected_seq, count = GENESIS, 1, 0
    tell = await _teller(store, on_progress)
    async for row in _entries(store):
        tell(count)
        if row["seq"] != expected_seq:
            return count, ChainBreak(expected_seq, f"entry {expected_seq} is missing (next is {row['seq']})")
        if row["prev_hash"] != prev:
            return count, ChainBreak(
                row["seq"], "its prev_hash is not the hash of the entry before it", row["station_id"]
            )
        digest = entry_hash(
            row["seq"],
            row["at"],
            row["actor"],
            row["action"],
            row["subject"],
            row["data"],
            row["prev_hash"],
            row["station_id"],
        )
        if digest != row["hash"]:
            why = "its content does not match its hash (altered after writing)"
            return count, ChainBreak(row["seq"], why, row["station_id"])
        prev, expected_seq, count = row["hash"], expected_seq + 1, count + 1
    tell(count, last=True)
    return count, None


async def export(store: Database, out: Path, on_progress: Progress | None = None) -> int:
    """Write the log as JSON lines to `out`, whole or not at all (through a temporary file beside it);
    `on_progress(done, total)` as for `verify`."""
    count = 0
    with atomic_writer(out, encoding="utf-8") as f:
        tell = await _teller(store, on_progress)
        async for row in _entries(store):
            tell(count)
            entry = dict(row)
            entry["data"] = json.loads(entry["data"])
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            count += 1
        tell(count, last=True)
    return count


async def newest_seq(store: Database) -> int:
    """The number of the newest entry (the chain numbers them 1, 2, 3…); 0 for an empty log."""
    return await store.scalar("SELECT coalesce(max(seq), 0) FROM audit")


async def entries_back_from(store: Database, seq: int, limit: int) -> list[Any]:
    """Up to `limit` entries from `seq` back, newest first."""
    return await store.fetchall("SELECT * FROM audit WHERE seq <= ? ORDER BY seq DESC LIMIT ?", (seq, limit))


async def recent(store: Database, limit: int = 50, subject: str | None = None,
                 station: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The newest entries: all, or about `subject`, or written by `station` among the newest `limit`."""
    if station is not None:
        rows = await store.fetchall("SELECT * FROM audit WHERE seq > (SELECT coalesce(max(seq), 0) FROM audit) - ? "
                                    "AND station_id = ? ORDER BY seq DESC", (limit, station))  # fmt: skip
    elif subject is None:
        rows = await store.fetchall("SELECT * FROM audit ORDER BY seq DESC LIMIT ?", (limit,))
    else:
        rows = await store.fetchall("SELECT * FROM audit WHERE subject = ? ORDER BY seq DESC LIMIT ?", (subject, limit))
    return [dict(row) | {"data": json.loads(row["data"])} for row in rows]


# ---------------------------------------------------------------------------------------------- the head sidecar
# The chain proves nothing was changed inside the database, but a whole database put back from an old copy is a
# sound chain too. So the head (seq and hash of the newest entry) is also written beside the database file after
# every commit that appended to the log; a database whose log does not reach that head was rolled back or
# replaced, and nothing may write to it. A station on a regency ledger keeps the same witness of the ledger on its
# own disk (`[database]`'s folder, `ledger.head`): a ledger put back from an older backup is refused by every
# station that wrote after that backup, not only by the printers' counters.


def head_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".head")


def write_head(path: Path, head: tuple[int, str], *, strict: bool = False) -> None:
    """The head file `path`, atomically (drivers/atomic_file.py), mode 0600. Called after the commit: a failure
    leaves the sidecar behind the database, which is the safe side, so it is logged and the commit stands (with
    `strict`, where the head is the point of the step, the OSError is raised)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # a ledger's station may have no folder of its own yet
        write_atomic(path, json.dumps({"seq": head[0], "hash": head[1]}))
    except OSError as exc:
        if strict:
            raise
        log.warning("audit_head_not_written", file=str(path), why=str(exc))


def read_head(path: Path) -> tuple[int, str] | None:
    """The head last written in the head file `path`; None when there is none (a new station, or one from before
    it).

    ValueError when the file is there but cannot be read as a head."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
        return int(value["seq"]), str(value["hash"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(str(exc)) from None


async def head_behind(store: Database, *, missing_ok: bool = False) -> str | None:
    """A sentence when the database's audit log does not reach the head recorded in its head file
    (`store.head_file`), else None.

    A database ahead of its sidecar is accepted (a process may die between its commit and the sidecar's write); a
    head at entry 0 is the one a new database gets when first opened. A head file missing while the log holds
    entries (on a ledger: entries this station wrote) is a copy put back, a head removed or a station reinstalled:
    refused until a supervisor accepts the restore (`missing_ok`, for that step alone; console/restore.py). A store
    opened without a head file (a ledger opened by its bare URL: tests, benchmarks, the regency's view) is not
    checked."""
    head = store.head_file
    if head is None:
        return None
    ledger = store.dialect != "sqlite"
    try:
        recorded = read_head(head)
    except ValueError as exc:
        return t("audit.head_unreadable", head=head, why=exc)
    if recorded is None:
        if missing_ok or not await _has_written(store):
            return None
        return t("audit.ledger_head_missing" if ledger else "audit.head_missing", file=store.path, head=head,
                 newest=await newest_seq(store), station=store.station_id)  # fmt: skip
    seq, digest = recorded
    if (seq, digest) == (0, GENESIS):
        return None
    row = await store.fetchone("SELECT hash FROM audit WHERE seq = ?", (seq,))
    if row is None:
        return t("audit.ledger_behind" if ledger else "audit.head_behind", file=store.path, head=head, seq=seq,
                 newest=await newest_seq(store))  # fmt: skip
    if row["hash"] != digest:
        return t("audit.ledger_other" if ledger else "audit.head_other", file=store.path, head=head, seq=seq)
    return None


async def check_head_at_open(store: Any, accepting_restore: bool) -> None:
    """At a writer's open: AuditBrokenError (the store closed) when its log does not reach its head. A missing
    head file is written where there is nothing to witness yet (a new database: entry 0; a station new to a
    ledger: the ledger's newest entry), else held (`head_on_hold`) for a supervisor's accept-restore, which alone
    gets that far."""
    behind = await head_behind(store, missing_ok=accepting_restore)
    if behind is not None:
        await store.close()
        raise AuditBrokenError(behind)
    head = store.head_file
    if head is None:
        return
    if not head.exists() and await _has_written(store):
        store.head_on_hold = True
        return
    if head.exists() and store.dialect == "sqlite":  # its own file: the head follows its commits already
        return
    # A new database's entry 0; on a ledger, the newest entry of any station, seen now: this station then refuses
    # a ledger put back behind what it saw, even if it wrote nothing since.
    newest = await store.fetchone("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
    write_head(head, (0, GENESIS) if newest is None else (newest["seq"], newest["hash"]))


async def _has_written(store: Database) -> bool:
    """Whether the log holds entries a missing head file should have witnessed: any entry in a station's own file;
    on a ledger, one this station wrote (a new station, or one new to this ledger, has nothing to witness)."""
    if store.dialect == "sqlite":
        return await newest_seq(store) > 0
    return await store.fetchone("SELECT 1 FROM audit WHERE station_id = ? LIMIT 1", (store.station_id,)) is not None
