"""Where a card is after its tag, and who moved it, when, under which paper.

A good card is `in_custody` at the office until it is handed to a village official under a *berita acara serah
terima* (`issued_to_village`) and/or collected by the resident, or an allowed proxy (`collected`). A bad card (and
a blank spoiled without a NIK) is `awaiting_destruction` until destroyed under a *berita acara pemusnahan*
(console/destruction.py). The office's custody needs no row: a card is in custody while `card_custody` has none.

Each move is one transaction with its audit entry; the paper is written inside it, so a move never stands without
its paper (a failure to write rolls the move back), and the record keeps the SHA-256 of each file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from console import batches, receipts
from console.clock import instant, now
from console.config import Settings
from console.custody_papers import Collection, HandedCard, Office, handover_csv, handover_paper, slip_paper
from console.errors import RefusedError, UsageError
from console.formats import local, moment
from console.i18n import t
from console.papers import render
from console.record_files import RecordFile, free_names, prepare_folder, safe_stem, write_all
from console.resident_rows import control_problem
from console.store import Store

IN_CUSTODY, ISSUED, COLLECTED = "in_custody", "issued_to_village", "collected"
AWAITING_DESTRUCTION, DESTROYED = "awaiting_destruction", "destroyed"
MAX_NAME_CHARS = 80


def check_words(value: str | None, field: str, required: bool = True) -> str | None:
    """A name or number typed by the operator: trimmed, no control characters, not too long."""
    if value is None or not value.strip():
        if required:
            raise UsageError(t("custody.missing", field=field))
        return None
    value = value.strip()
    if (why := control_problem(value)) is not None:
        raise UsageError(t("custody.bad_text", field=field, why=why))
    if len(value) > MAX_NAME_CHARS:
        raise UsageError(t("custody.too_long", field=field, max=MAX_NAME_CHARS))
    return value


def office_of(settings: Settings) -> Office:
    """The office as its papers name it: `[handover] office`, else the station's name."""
    return Office(settings.handover.office or settings.station.name, settings.handover.place)


# ---------------------------------------------------------------------------------------- a card's custody


@dataclass(frozen=True)
class CardState:
    nik: str
    nama: str
    kel_desa: str
    job_id: int | None
    job_state: str | None
    card_counter: int | None
    custody: str  # in_custody | issued_to_village | collected | awaiting_destruction | destroyed | none
    row: Any  # the card_custody row, if any


async def card_of(db: Any, nik: str) -> CardState | None:
    """The resident's last card (or job), and its custody; None for an unknown NIK."""
    resident = await db.fetchone("SELECT nik, nama, kel_desa FROM residents WHERE nik = ?", (nik,))
    if resident is None:
        return None
    job = await db.fetchone(
        "SELECT id, state, card_counter FROM jobs WHERE nik = ? AND state <> 'cancelled' ORDER BY id DESC LIMIT 1",
        (nik,),
    )
    row, custody = None, "none"
    if job is not None and job["state"] == "done_good":
        row = await db.fetchone("SELECT * FROM card_custody WHERE job_id = ?", (job["id"],))
        custody = IN_CUSTODY if row is None else row["state"]
    elif job is not None and job["state"] == "done_bad":
        gone = await db.fetchone("SELECT 1 FROM destroyed WHERE job_id = ?", (job["id"],))
        custody = AWAITING_DESTRUCTION if gone is None else DESTROYED
    return CardState(
        nik,
        resident["nama"],
        resident["kel_desa"],
        None if job is None else job["id"],
        None if job is None else job["state"],
        None if job is None else job["card_counter"],
        custody,
        row,
    )


def _not_collectable(card: CardState) -> RefusedError:
    if card.job_state == "done_bad":
        return RefusedError(t("custody.bad_card", nik=card.nik, state=t(f"custody.state.{card.custody}")))
    if card.job_state == "printed":
        return RefusedError(t("custody.untagged", nik=card.nik))
    return RefusedError(t("custody.not_printed", nik=card.nik))


# ------------------------------------------------------------------------------------------------ hand-over


@dataclass(frozen=True)
class Handover:
    id: int
    batch: str
    received_by: str
    at: str
    cards: list[HandedCard]
    pdf: Path
    csv: Path
    pdf_sha256: str
    csv_sha256: str


async def issue(
    store: Store, batch_name: str, to: str, out_dir: Path, actor: str, office: Office, with_receipts: bool = False
) -> Handover:
    """Hand a released batch's good cards still at the office to a village official: the record's PDF and CSV
    in `out_dir` (with each resident's receipt number when `with_receipts`, for the village to check), the cards
    `issued_to_village`. Refused, nothing changed, when the batch is not released or has no card left at the
    office."""
    batch = batches.parse_batch(batch_name)
    receiver = check_words(to, "--to")
    assert receiver is not None
    out_dir = prepare_folder(out_dir)
    async with store.transaction(actor) as tx:
        if await batches.release_for_handover(tx, batch) is None:
            raise RefusedError(t("custody.batch_not_released", batch=batch.key))
        members = [m for m in await batches.members(tx, batch) if m.good and m.custody is None]
        if not members:
            raise RefusedError(t("custody.nothing_to_hand", batch=batch.key))
        made_at = now()
        at = made_at.isoformat(timespec="milliseconds")
        cards = [
            HandedCard(
                m.nik,
                m.nama,
                m.kel_desa,
                m.card_counter,
                await receipts.number_of(tx, m.nik) if with_receipts else None,
            )
            for m in sorted(members, key=lambda m: (m.kel_desa, m.nama, m.nik))
        ]
        pdf_bytes = render(handover_paper(office, batch.key, batch.label, receiver, actor, made_at, cards))
        csv_data = handover_csv(cards, with_receipts)
        stem = f"serah-terima-{safe_stem(batch.key.replace(':', '-'))}-{local(made_at).date().isoformat()}"
        pdf_path, csv_path = free_names(out_dir, stem, (".pdf", ".csv"))
        pdf, csv = RecordFile(pdf_path, pdf_bytes), RecordFile(csv_path, csv_data)
        handover_id = await tx.insert(
            "INSERT INTO handovers (batch, received_by, at, actor, cards, pdf_name, pdf_sha256, csv_name, csv_sha256) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (batch.key, receiver, at, actor, len(cards), pdf_path.name, pdf.sha256, csv_path.name, csv.sha256),
        )
        by_nik = {m.nik: m for m in members}
        for card in cards:
            await tx.execute(
                "INSERT INTO card_custody (job_id, nik, state, handover_id, issued_at, issued_by) "
                "VALUES (?, ?, 'issued_to_village', ?, ?, ?)",
                (by_nik[card.nik].job_id, card.nik, handover_id, at, actor),
            )
            await tx.audit("card.issued_to_village", card.nik, job=by_nik[card.nik].job_id, handover=handover_id)
        await tx.audit(
            "handover.issued",
            batch.key,
            handover=handover_id,
            received_by=receiver,
            cards=len(cards),
            pdf=pdf_path.name,
            pdf_sha256=pdf.sha256,
            csv=csv_path.name,
            csv_sha256=csv.sha256,
        )
        write_all([pdf, csv])  # inside the transaction: a paper that cannot be written undoes the hand-over
    return Handover(handover_id, batch.key, receiver, at, cards, pdf_path, csv_path, pdf.sha256, csv.sha256)


# -------------------------------------------------------------------------------------------------- collect


@dataclass(frozen=True)
class Collected:
    nik: str
    nama: str
    card_counter: int | None
    proxy: str | None
    slip: Path
    slip_sha256: str


@dataclass(frozen=True)
class Proxy:
    name: str
    relation: str
    letter: str


def check_proxy(
    name: str | None, relation: str | None, letter: str | None, proxies_allowed: bool, nik: str
) -> Proxy | None:
    """A proxy's particulars, all three, when proxies are allowed; refused otherwise."""
    if name is None and relation is None and letter is None:
        return None
    if name is None:
        raise UsageError(t("custody.proxy_parts_without_proxy"))
    if not proxies_allowed:
        raise RefusedError(t("custody.proxy_refused", nik=nik))
    parts = (check_words(name, "--proxy"), check_words(relation, "--relation"), check_words(letter, "--letter"))
    return Proxy(*parts)  # type: ignore[arg-type]


async def collect(
    store: Store,
    nik: str,
    actor: str,
    office: Office,
    slips: Path,
    *,
    receipt: str | None = None,
    proxy: Proxy | None = None,
    check_receipt: bool = False,
) -> Collected:
    """The resident (or an allowed proxy) takes the card: refused, nothing changed, unless the NIK's last card is
    good, its batch released, not collected before, and (`check_receipt`) the receipt given matches the
    resident's."""
    receipt = check_words(receipt, "--receipt", required=False)
    slips = prepare_folder(slips)
    async with store.transaction(actor) as tx:
        card = await card_of(tx, nik)
        if card is None:
            raise RefusedError(t("custody.unknown_nik", nik=nik))
        if card.job_state != "done_good" or card.job_id is None:
            raise _not_collectable(card)
        if card.custody == COLLECTED:
            raise RefusedError(
                t("custody.already_collected", nik=nik, at=moment(card.row["collected_at"]), by=card.row["collector"])
            )
        if await batches.release_covering(tx, nik, card.kel_desa) is None:
            raise RefusedError(
                t("custody.not_released", nik=nik, batches=", ".join(batches.keys_of(nik, card.kel_desa)))
            )
        # a card handed over before receipts were numbered at the queue kept its number with its custody
        issued = (
            (await receipts.number_of(tx, nik) or (card.row["receipt"] if card.row else None))
            if check_receipt
            else None
        )
        if issued is not None and receipt is None:
            raise RefusedError(t("custody.receipt_needed", nik=nik))
        if issued is not None and not receipts.same(receipt, issued):
            raise RefusedError(t("custody.receipt_wrong", nik=nik))
        made_at = now()
        at = made_at.isoformat(timespec="milliseconds")
        taker = proxy.name if proxy else card.nama
        paper = Collection(
            nik,
            card.nama,
            card.kel_desa,
            card.card_counter,
            proxy.name if proxy else None,
            proxy.relation if proxy else None,
            proxy.letter if proxy else None,
            issued,
        )
        slip = RecordFile(
            free_names(slips, f"tanda-terima-{nik}-{local(made_at).date().isoformat()}", (".pdf",))[0],
            render(slip_paper(office, actor, made_at, paper)),
        )
        values = (at, actor, taker, paper.relation, paper.letter, slip.sha256)
        if card.row is None:
            await tx.execute(
                "INSERT INTO card_custody (job_id, nik, state, collected_at, collected_by, collector, proxy_relation, "
                "proxy_letter, slip_sha256) VALUES (?, ?, 'collected', ?, ?, ?, ?, ?, ?)",
                (card.job_id, nik, *values),
            )
        else:
            cur = await tx.execute(
                "UPDATE card_custody SET state = 'collected', collected_at = ?, collected_by = ?, collector = ?, "
                "proxy_relation = ?, proxy_letter = ?, slip_sha256 = ? WHERE job_id = ? AND state = 'issued_to_village'",
                (*values, card.job_id),
            )
            if cur.rowcount != 1:  # the transaction is serialised: a second taker never gets here; say so anyway
                raise RefusedError(t("custody.already_collected", nik=nik, at="?", by="?"))
        await tx.audit(
            "card.collected",
            nik,
            job=card.job_id,
            was=card.custody,
            proxy=paper.proxy,
            collector=taker,
            relation=paper.relation,
            letter=paper.letter,
            receipt_checked=issued is not None,
            slip=slip.path.name,
            slip_sha256=slip.sha256,
        )
        write_all([slip])
    return Collected(nik, card.nama, card.card_counter, paper.proxy, slip.path, slip.sha256)


# ---------------------------------------------------------------------------------------------- uncollected


@dataclass(frozen=True)
class Uncollected:
    kecamatan: str
    kel_desa: str
    nik: str
    nama: str
    card_counter: int | None
    where: str  # issued_to_village | in_custody
    since: str  # handed to the village, else the batch's release
    days: int

    def as_row(self) -> tuple[Any, ...]:
        return (
            self.kecamatan,
            self.kel_desa,
            self.nik,
            self.nama,
            self.card_counter,
            self.where,
            self.since,
            self.days,
        )


UNCOLLECTED_COLUMNS = ("kecamatan", "kel_desa", "nik", "nama", "card_counter", "where", "since", "days")


async def uncollected(db: Any, days: int, at: datetime | None = None) -> list[Uncollected]:
    """Good cards of released batches not collected `days` or more after they were handed to the village (or,
    still at the office, after their batch's release), by village."""
    at = at or now()
    issued = {
        row["job_id"]: row["issued_at"]
        for row in await db.fetchall("SELECT job_id, issued_at FROM card_custody WHERE state = 'issued_to_village'")
    }
    released = await batches.releases(db)
    found = []
    for m in await batches.all_members(db):
        if not m.good or m.custody == COLLECTED:
            since = None
        elif m.job_id in issued:
            since = issued[m.job_id]
        else:
            covering = [released[k].released_at for k in m.keys if k in released]
            since = min(covering, key=instant) if covering else None
        if since is None:
            continue
        waited = (at - instant(since)).days
        if waited >= days:
            where = ISSUED if m.job_id in issued else IN_CUSTODY
            found.append(Uncollected(m.kecamatan, m.kel_desa, m.nik, m.nama, m.card_counter, where, since, waited))
    return sorted(found, key=lambda u: (u.kecamatan, u.kel_desa, u.nama, u.nik))
