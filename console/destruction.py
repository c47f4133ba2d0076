"""The destruction of an allocation's bad cards and spoiled blanks under a *berita acara pemusnahan*
(SE 470.13/11176/SJ, 2018): the cards the last report to the centre named, each destroyed once.

The record must agree with the report exactly: the bad cards and spoiled blanks it lists are those of the
allocation's last report, and the books still hold those same ones (a card tagged or spoiled since the report
means the report is out of date: make it again first). A card destroyed by an earlier record is not listed again;
when nothing is left the step is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from console.clock import now
from console.custody import check_words
from console.custody_papers import Office, SpoiledCard, destruction_csv, destruction_paper
from console.errors import RefusedError, UsageError
from console.formats import local
from console.i18n import t
from console.operators import SUPERVISOR, require_role
from console.papers import render
from console.record_files import RecordFile, free_names, prepare_folder, safe_stem, write_all
from console.store import Store

MIN_WITNESSES = 2


@dataclass(frozen=True)
class Destruction:
    id: int
    allocation_id: str
    report_id: str
    cards: int  # bad cards with a NIK
    blanks: int  # spoiled without a NIK
    pdf: Path
    csv: Path
    pdf_sha256: str
    csv_sha256: str


def check_witnesses(names: list[str]) -> list[str]:
    witnesses = [check_words(name, "--witness") for name in names]
    unique = list(dict.fromkeys(w for w in witnesses if w))
    if len(unique) < MIN_WITNESSES:
        raise UsageError(t("destroy.witnesses", count=MIN_WITNESSES))
    return unique


def _reason_texts() -> dict[str, str]:
    return {
        code: t(f"report.reason.{code}")
        for code in ("gagal_cetak", "gagal_encode", "rusak_fisik", "salah_data", "lainnya")
    }


async def destroy(
    store: Store, allocation_id: str, witness_names: list[str], out_dir: Path, actor: str, office: Office
) -> Destruction:
    witnesses = check_witnesses(witness_names)
    out_dir = prepare_folder(out_dir)
    async with store.transaction(actor) as tx:
        await require_role(tx, actor, SUPERVISOR, "destroy")
        if await tx.fetchone("SELECT 1 FROM allocations WHERE id = ?", (allocation_id,)) is None:
            raise UsageError(t("report.unknown_allocation", id=allocation_id))
        report = await tx.fetchone(
            "SELECT report_id, body FROM reports WHERE allocation_id = ? ORDER BY made_seq DESC LIMIT 1",
            (allocation_id,),
        )
        if report is None:
            raise RefusedError(t("destroy.no_report", id=allocation_id))
        counts = json.loads(report["body"])["counts"]
        reported_bad = await tx.fetchall(
            "SELECT j.id, j.nik, r.nama, j.card_counter, j.tag_reason FROM report_cards c JOIN jobs j ON j.id = c.job_id "
            "JOIN residents r ON r.nik = j.nik WHERE c.report_id = ? AND j.state = 'done_bad' "
            "ORDER BY j.card_counter IS NULL, j.card_counter, j.id",
            (report["report_id"],),
        )
        bad_now = len(
            await tx.fetchall("SELECT id FROM jobs WHERE allocation_id = ? AND state = 'done_bad'", (allocation_id,))
        )
        spoiled = await tx.fetchall(
            "SELECT id, card_counter, reason FROM spoiled WHERE allocation_id = ? "
            "ORDER BY card_counter IS NULL, card_counter, id",
            (allocation_id,),
        )
        if not (len(reported_bad) == counts["bad"] == bad_now and len(spoiled) == counts["spoiled_no_nik"]):
            raise RefusedError(
                t(
                    "destroy.counts_differ",
                    id=allocation_id,
                    report=report["report_id"][:12],
                    report_bad=counts["bad"],
                    report_spoiled=counts["spoiled_no_nik"],
                    bad=bad_now,
                    spoiled=len(spoiled),
                )
            )
        gone_cards = {
            row["job_id"] for row in await tx.fetchall("SELECT job_id FROM destroyed WHERE job_id IS NOT NULL")
        }
        gone_blanks = {
            row["spoiled_id"]
            for row in await tx.fetchall("SELECT spoiled_id FROM destroyed WHERE spoiled_id IS NOT NULL")
        }
        cards = [row for row in reported_bad if row["id"] not in gone_cards]
        blanks = [row for row in spoiled if row["id"] not in gone_blanks]
        if not cards and not blanks:
            raise RefusedError(t("destroy.nothing_left", id=allocation_id))
        listed = [SpoiledCard(r["nik"], r["nama"], r["card_counter"], r["tag_reason"]) for r in cards] + [
            SpoiledCard(None, None, r["card_counter"], r["reason"]) for r in blanks
        ]
        moment = now()
        at = moment.isoformat(timespec="milliseconds")
        pdf_bytes = render(
            destruction_paper(
                office, allocation_id, report["report_id"], actor, witnesses, moment, listed, _reason_texts()
            )
        )
        stem = f"pemusnahan-{safe_stem(allocation_id)}-{local(moment).date().isoformat()}"
        pdf_path, csv_path = free_names(out_dir, stem, (".pdf", ".csv"))
        pdf, csv = RecordFile(pdf_path, pdf_bytes), RecordFile(csv_path, destruction_csv(listed))
        record_id = await tx.insert(
            "INSERT INTO destructions (allocation_id, report_id, at, actor, witnesses, cards, blanks, pdf_name, "
            "pdf_sha256, csv_name, csv_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                allocation_id,
                report["report_id"],
                at,
                actor,
                json.dumps(witnesses, ensure_ascii=False),
                len(cards),
                len(blanks),
                pdf_path.name,
                pdf.sha256,
                csv_path.name,
                csv.sha256,
            ),
        )
        for row in cards:
            await tx.execute("INSERT INTO destroyed (destruction_id, job_id) VALUES (?, ?)", (record_id, row["id"]))
            await tx.audit("card.destroyed", row["nik"], job=row["id"], destruction=record_id)
        for row in blanks:
            await tx.execute("INSERT INTO destroyed (destruction_id, spoiled_id) VALUES (?, ?)", (record_id, row["id"]))
        await tx.audit(
            "destruction.made",
            allocation_id,
            destruction=record_id,
            report=report["report_id"],
            witnesses=witnesses,
            cards=len(cards),
            blanks=len(blanks),
            card_counters=[row["card_counter"] for row in blanks],
            blank_ids=[row["id"] for row in blanks],
            pdf=pdf_path.name,
            pdf_sha256=pdf.sha256,
            csv=csv_path.name,
            csv_sha256=csv.sha256,
        )
        write_all([pdf, csv])
    return Destruction(
        record_id,
        allocation_id,
        report["report_id"],
        len(cards),
        len(blanks),
        pdf_path,
        csv_path,
        pdf.sha256,
        csv.sha256,
    )
