"""The receipt a resident brings to collect their card (*tanda bukti pengambilan*): one number a resident, given in
the transaction that first queues them for a card (`console/jobs.py`) and kept for every reprint, printed on the
office's request and checked at the collection where `[handover] receipts = true`.

Every queued resident is numbered whatever the setting, so that an office turning receipts on has a number for
each resident already queued; the number is not written to the audit log (the log is read by more people than
the counter), its printing is.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.clock import now, now_iso
from console.custody_papers import Office, receipt_paper
from console.errors import RefusedError
from console.formats import local
from console.i18n import t
from console.papers import render
from console.record_files import RecordFile, free_names, prepare_folder, write_all
from console.store import Store

ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no letters and digits that read alike
CHARS = 8


def _fresh(taken: set[str]) -> str:
    while (number := "".join(secrets.choice(ALPHABET) for _ in range(CHARS))) in taken:
        pass
    taken.add(number)
    return number


async def number_queued(tx: Any, niks: Iterable[str] | None = None) -> int:
    """A receipt number for each resident queued (these `niks`, or everyone) who has none yet; how many."""
    if niks is None:  # a bulk queue: the numbers taken are read once
        rows = await tx.fetchall(
            "SELECT DISTINCT j.nik FROM jobs j WHERE NOT EXISTS (SELECT 1 FROM receipts r WHERE r.nik = j.nik)"
        )
        missing = [row["nik"] for row in rows]
        taken = {row["receipt"] for row in await tx.fetchall("SELECT receipt FROM receipts")} if missing else set()
    else:  # a few: each number is asked of the table
        missing = [
            n for n in dict.fromkeys(niks) if await tx.fetchone("SELECT 1 FROM receipts WHERE nik = ?", (n,)) is None
        ]
        taken = set()
    at, rows = now_iso(), []
    for nik in missing:
        number = _fresh(taken)
        while niks is not None and await tx.fetchone("SELECT 1 FROM receipts WHERE receipt = ?", (number,)):
            number = _fresh(taken)
        rows.append((nik, number, at))
    if rows:
        await tx.executemany("INSERT INTO receipts (nik, receipt, issued_at) VALUES (?, ?, ?)", rows)
    return len(rows)


async def number_of(db: Any, nik: str) -> str | None:
    row = await db.fetchone("SELECT receipt FROM receipts WHERE nik = ?", (nik,))
    return None if row is None else row["receipt"]


def same(given: str | None, issued: str) -> bool:
    """The number the resident gives against the one issued: case and spaces aside, compared in constant time."""
    typed = "".join((given or "").split()).upper()
    return secrets.compare_digest(typed.encode(), issued.encode())


@dataclass(frozen=True)
class Printed:
    nik: str
    nama: str
    receipt: str
    path: Path
    sha256: str


async def print_receipt(store: Store, nik: str, actor: str, office: Office, out_dir: Path, issued: bool) -> Printed:
    """The resident's receipt on paper, again on each request (the same number); refused where the office issues
    none (`issued` False) or the NIK was never queued."""
    if not issued:
        raise RefusedError(t("receipt.off"))
    out_dir = prepare_folder(out_dir)
    async with store.transaction(actor) as tx:
        row = await tx.fetchone(
            "SELECT r.nik, r.nama, r.kel_desa, c.receipt, c.issued_at FROM residents r JOIN receipts c ON c.nik = r.nik "
            "WHERE r.nik = ?",
            (nik,),
        )
        if row is None:
            raise RefusedError(t("receipt.none", nik=nik))
        made_at = now()
        paper = receipt_paper(office, actor, made_at, row["nik"], row["nama"], row["kel_desa"], row["receipt"],
                              row["issued_at"])  # fmt: skip
        path = free_names(out_dir, f"tanda-bukti-{nik}-{local(made_at).date().isoformat()}", (".pdf",))[0]
        slip = RecordFile(path, render(paper))
        await tx.audit("receipt.printed", nik, file=path.name, sha256=slip.sha256)
        write_all([slip])
    return Printed(nik, row["nama"], row["receipt"], path, slip.sha256)
