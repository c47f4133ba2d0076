"""The report to the centre (files.md): good and bad prints of one allocation, with their NIKs.

A report is made only when every card of the allocation is tagged and its books balance, so that its counts add
up to the blanks received. Reports are kept in the `reports` table: a report whose content (all but
`generated_at`) equals a stored one of the same allocation is that stored report again, with its `generated_at`
and so its `report_id`. A report changes only when the allocation's cards changed.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from console import audit, books
from console.canonical import canonical_json, sha256_hex
from console.clock import now_iso
from console.csv_safe import SafeWriter
from console.errors import RefusedError, UsageError
from console.formats import local, os_error
from console.i18n import t
from console.papers import Paper, render, untypesettable
from console.store import Store
from drivers.atomic_file import write_atomic

REPORT_FORMAT = "ktpel-station/report/1"
UNTAGGED_NAMED = 20  # cards named in a refusal; the rest are counted


@dataclass(frozen=True)
class StockCount:
    """A physical count of the blanks in stock and what the books expected then: its difference is shown on the
    signed page, never hidden, though it does not stop the report (the books themselves balance)."""

    counted: int
    expected: int
    at: str


@dataclass(frozen=True)
class Report:
    """One report as sent to the centre: `body` holds every field of files.md, `report_id` included."""

    body: dict[str, Any]
    new: bool  # False when the stored report was the same and was reused
    stock_count: StockCount | None = None  # the last physical count, printed on the page (not in the JSON)

    @property
    def report_id(self) -> str:
        return self.body["report_id"]

    @property
    def allocation_id(self) -> str:
        return self.body["allocation"]["id"]


def report_id_of(body: dict[str, Any]) -> str:
    """The SHA-256 (hex) of the canonical JSON of every field but `report_id`."""
    return sha256_hex({key: value for key, value in body.items() if key != "report_id"})


def _content(body: dict[str, Any]) -> dict[str, Any]:
    """What decides whether two reports are the same: everything but when (the time, the audit head) and the id."""
    return {key: value for key, value in body.items() if key not in ("generated_at", "audit_head", "report_id")}


async def check_reportable(db: Any, allocation_id: str) -> books.Books:
    """The allocation's books, if a report may be made now; else RefusedError saying what to do first."""
    b = await books.allocation_books(db, allocation_id)
    if b is None:
        raise UsageError(t("report.unknown_allocation", id=allocation_id), hint="report.unknown_allocation")
    waiting = await db.fetchall(
        "SELECT nik, state, card_counter, counter_before FROM jobs WHERE allocation_id = ? "
        "AND state IN ('printing', 'printed') ORDER BY coalesce(card_counter, counter_before + 1), id",
        (allocation_id,),
    )
    if waiting:
        named = [
            t("report.untagged_card", nik=row["nik"], counter=row["card_counter"])
            if row["state"] == "printed"
            else t("report.in_doubt_card", nik=row["nik"])
            for row in waiting[:UNTAGGED_NAMED]
        ]
        more = len(waiting) - len(named)
        raise RefusedError(
            t("report.untagged", id=allocation_id, count=len(waiting), cards="; ".join(named))
            + (t("report.untagged_more", count=more) if more else ""),
            hint="report.untagged",
        )
    if not b.balanced:
        raise RefusedError(
            t(
                "report.unbalanced",
                id=allocation_id,
                received=b.received,
                good=b.good,
                bad=b.bad,
                spoiled=b.spoiled,
                in_stock=b.in_stock,
                accounted=b.held - b.difference,
                difference=f"{b.difference:+d}",
            )
        )
    for s in await books.station_books(db, allocation_id):  # the regency's sum may hide a station's gap
        if not s.balanced:
            accounted = s.good + s.bad + s.spoiled + s.in_stock
            raise RefusedError(t("report.station_unbalanced", id=allocation_id, station=s.station_id, issued=s.issued,
                                 good=s.good, bad=s.bad, spoiled=s.spoiled, in_stock=s.in_stock,
                                 accounted=accounted))  # fmt: skip
    return b


def _card(row: Any) -> dict[str, Any]:
    """A card as the report names it, good or bad."""
    return {key: row[key] for key in ("nik", "card_counter", "printer_serial", "printed_at")}


async def _content_of(db: Any, b: books.Books, station_id: str) -> dict[str, Any]:
    cards = await db.fetchall(
        "SELECT nik, state, card_counter, printer_serial, printed_at, tag_reason, tag_note FROM jobs "
        "WHERE allocation_id = ? AND state IN ('done_good', 'done_bad') "
        "ORDER BY card_counter IS NULL, card_counter, id",
        (b.allocation_id,),
    )
    spoiled = await db.fetchall(
        "SELECT card_counter, reason FROM spoiled WHERE allocation_id = ? "
        "ORDER BY card_counter IS NULL, card_counter, id",
        (b.allocation_id,),
    )
    good = [_card(row) for row in cards if row["state"] == "done_good"]
    bad = [
        _card(row) | {"reason": row["tag_reason"], "note": row["tag_note"]}
        for row in cards
        if row["state"] == "done_bad"
    ]
    content: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "station_id": station_id,
        "allocation": {"id": b.allocation_id, "received": b.received, "period": b.period}
        | (
            {"borrowed": b.borrowed, "lent": b.lent} if b.borrowed or b.lent else {}
        ),  # a report without loans as before
        "counts": {"good": b.good, "bad": b.bad, "spoiled_no_nik": b.spoiled, "in_stock": b.in_stock},
        "good": good,
        "bad": bad,
        "spoiled_no_nik": [{"card_counter": row["card_counter"], "reason": row["reason"]} for row in spoiled],
    }
    if db.dialect == "postgresql":  # the regency's report, over all its stations (files.md)
        content |= {"regency_id": station_id, "regency_stock": b.regency_stock, "by_station": {
            s.station_id: {"issued": s.issued, "good": s.good, "bad": s.bad, "spoiled_no_nik": s.spoiled,
                           "in_stock": s.in_stock}
            for s in await books.station_books(db, b.allocation_id)
        }}  # fmt: skip
    return content


async def make_report(store: Store, allocation_id: str, station_id: str, actor: str) -> Report:
    """Make (or make again) the report of one allocation; kept in `reports` and audited as `report.made`.

    Read and written in one transaction, so the report is one consistent moment of the books even while the
    queue prints.
    """
    async with store.transaction(actor) as tx:
        b = await check_reportable(tx, allocation_id)
        content = await _content_of(tx, b, station_id)
        body: dict[str, Any] | None = None
        for row in await tx.fetchall(
            "SELECT body FROM reports WHERE allocation_id = ? ORDER BY generated_at DESC", (allocation_id,)
        ):
            stored = json.loads(row["body"])
            if _content(stored) == content:
                body = stored
                break
        new = body is None
        if body is None:
            head = await tx.fetchone("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1")
            # the centre keeps it: a database rolled back behind a report it holds is caught (files.md)
            body = {**content, "generated_at": now_iso(), "audit_head": head["hash"] if head else audit.GENESIS}
            body["report_id"] = report_id_of(body)
            await tx.execute(
                "INSERT INTO reports (report_id, allocation_id, generated_at, body, made_seq) "
                "VALUES (?, ?, ?, ?, (SELECT coalesce(max(made_seq), 0) + 1 FROM reports))",
                (body["report_id"], allocation_id, body["generated_at"], canonical_json(body)),
            )
        await tx.execute(  # the cards it lists, by job: their tags are frozen, and a grant names exactly these
            "INSERT INTO report_cards (report_id, job_id) SELECT ?, id FROM jobs "
            "WHERE allocation_id = ? AND state IN ('done_good', 'done_bad') ON CONFLICT DO NOTHING",
            (body["report_id"], allocation_id),
        )
        await tx.audit(
            "report.made",
            allocation_id,
            report=body["report_id"],
            again=not new,
            good=b.good,
            bad=b.bad,
            spoiled_no_nik=b.spoiled,
            in_stock=b.in_stock,
        )
    counted = None
    if b.last_count is not None and b.count_expected is not None and b.last_count_at is not None:  # kept together
        counted = StockCount(b.last_count, b.count_expected, b.last_count_at)
    return Report(body, new, counted)


async def get_report(db: Any, report_id: str) -> dict[str, Any] | None:
    row = await db.fetchone("SELECT body FROM reports WHERE report_id = ?", (report_id,))
    return None if row is None else json.loads(row["body"])


@dataclass(frozen=True)
class ReportSummary:
    report_id: str
    allocation_id: str
    generated_at: str
    good: int
    bad: int


async def reports_of(db: Any, allocation_id: str | None = None) -> list[ReportSummary]:
    """Reports made, newest first (of one allocation, or all)."""
    where, params = ("WHERE allocation_id = ?", (allocation_id,)) if allocation_id else ("", ())
    rows = await db.fetchall(f"SELECT body FROM reports {where} ORDER BY generated_at DESC", params)
    summaries = []
    for row in rows:
        body = json.loads(row["body"])
        summaries.append(
            ReportSummary(
                body["report_id"],
                body["allocation"]["id"],
                body["generated_at"],
                body["counts"]["good"],
                body["counts"]["bad"],
            )
        )
    return summaries


# ---------------------------------------------------------------------------------------------- the files

PAGE_LINES = 64  # one printed A4 page of monospaced text, with its margins
PAGE_WIDTH = 80  # columns at 10 characters an inch
GOOD_COLUMNS = ("nik", "card_counter", "printer_serial", "printed_at")
BAD_COLUMNS = ("nik", "card_counter", "printer_serial", "printed_at", "reason", "note")


@dataclass(frozen=True)
class ReportFiles:
    json: Path
    good_csv: Path
    bad_csv: Path
    text: Path
    pdf: Path  # the text's printed twin

    def all(self) -> tuple[Path, ...]:
        return (self.json, self.good_csv, self.bad_csv, self.text, self.pdf)


def report_json_name(allocation_id: str) -> str:
    return f"laporan-{allocation_id}.json"


def report_files_in(out_dir: Path, allocation_id: str) -> ReportFiles:
    out_dir = Path(out_dir)
    return ReportFiles(
        out_dir / report_json_name(allocation_id),
        out_dir / "baik.csv",
        out_dir / "rusak.csv",
        out_dir / "laporan.txt",
        out_dir / "laporan.pdf",
    )


def _check_not_another_report(files: ReportFiles, report_id: str) -> None:
    """The folder's files are this very report's, or absent: another report's files are never overwritten silently
    (they may be the only copy of what was sent to the centre)."""
    held = other_report_in(files, report_id)
    if held is not None:
        present = [path for path in files.all() if path.exists()]
        raise UsageError(t("report.out_holds_other", path=files.json.parent,
                           files=", ".join(path.name for path in present), report=held[:12]))  # fmt: skip


def other_report_in(files: ReportFiles, report_id: str) -> str | None:
    """The id ("?" when unreadable) of another report whose files are where these would go; None if there are
    none, or they are this report's own."""
    if not any(path.exists() for path in files.all()):
        return None
    try:
        held = json.loads(files.json.read_text(encoding="utf-8")).get("report_id")
    except (OSError, ValueError, AttributeError):
        held = None
    return None if held == report_id else str(held or "?")


def write_report_files(
    body: dict[str, Any], out_dir: Path, station_name: str, stock_count: StockCount | None = None, force: bool = False
) -> ReportFiles:
    """Write the report's four files into `out_dir`, each atomically (a temporary file, fsync, rename).

    A folder that holds another report's files is refused (UsageError) unless `force`; this report's own files
    are written again.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(t("report.out_not_dir", path=out_dir))
    files = report_files_in(out_dir, body["allocation"]["id"])
    if not force:
        _check_not_another_report(files, body["report_id"])
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(files.good_csv, _csv(body["good"], GOOD_COLUMNS))
        write_atomic(files.bad_csv, _csv(body["bad"], BAD_COLUMNS))
        text_page = render_text(body, station_name, stock_count)
        write_atomic(files.text, text_page.encode("utf-8"))
        write_atomic(files.pdf, render_pdf(text_page, station_name, body["generated_at"]))
        text = json.dumps(body, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
        write_atomic(files.json, text.encode("utf-8"))
    except OSError as exc:
        raise UsageError(t("report.cannot_write", path=out_dir, why=os_error(exc))) from None
    return files


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> bytes:
    out = io.StringIO()
    writer = SafeWriter(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in columns])
    return out.getvalue().encode("utf-8")


def _when(iso: str) -> str:
    return f"{local(iso):%d-%m-%Y %H:%M}"  # the station's time, whatever the zone of the machine that made it


def reason_text(reason: str | None, note: str | None) -> str:
    text = t(f"report.reason.{reason}") if reason else "-"
    return f"{text}: {note}" if note else text


def _fit(text: str) -> str:
    return text if len(text) <= PAGE_WIDTH else text[: PAGE_WIDTH - 1] + "…"


def render_text(body: dict[str, Any], station_name: str, stock_count: StockCount | None = None) -> str:
    """The report for people: one page, ready to print and sign, in the configured language."""
    allocation, counts = body["allocation"], body["counts"]
    number = lambda label, value: f"{label:<44}{value:>10}"
    head = [
        t("report.text.title").center(PAGE_WIDTH).rstrip(),
        t("report.text.station", name=station_name, id=body["station_id"]).center(PAGE_WIDTH).rstrip(),
        "",
        t("report.text.allocation", id=allocation["id"], period=allocation["period"] or "-"),
        t("report.text.generated", at=_when(body["generated_at"])),
        t("report.text.report_id", id=body["report_id"]),
        "",
        number(t("report.text.received"), allocation["received"]),
        number("  " + t("report.text.good"), counts["good"]),
        number("  " + t("report.text.bad"), counts["bad"]),
        number("  " + t("report.text.spoiled"), counts["spoiled_no_nik"]),
        number("  " + t("report.text.in_stock"), counts["in_stock"]),
        number("  " + t("report.text.total"), sum(counts.values())),
        "",
    ]
    if "by_station" in body:  # the regency's report (a ledger): each station's share, then the regency's stock
        head[-1:] = [
            *(
                _fit(t("report.text.by_station", station=station, issued=c["issued"], good=c["good"], bad=c["bad"],
                       spoiled=c["spoiled_no_nik"], in_stock=c["in_stock"]))
                for station, c in sorted(body["by_station"].items())
            ),
            _fit(t("report.text.regency_stock", count=body["regency_stock"])),
            "",
        ]  # fmt: skip
    if stock_count is not None:
        head[-1:] = [
            _fit(
                t(
                    "report.text.stock_count",
                    at=_when(stock_count.at),
                    counted=stock_count.counted,
                    expected=stock_count.expected,
                    difference=f"{stock_count.counted - stock_count.expected:+d}",
                )
            ),
            "",
        ]
    spoiled = body["spoiled_no_nik"]
    tail = [""]
    if spoiled:
        cards = ", ".join(f"#{s['card_counter'] if s['card_counter'] is not None else '?'}" for s in spoiled)
        tail = [_fit(t("report.text.spoiled_list", cards=cards)), ""]
    tail += [
        _fit(t("report.text.files", json=report_json_name(allocation["id"]))),
        "",
        t("report.text.place_date"),
        "",
        f"{t('report.text.sign_operator'):<40}{t('report.text.sign_head')}",
        "",
        "",
        "",
        f"{'(' + '_' * 30 + ')':<40}({'_' * 30})",
        f"{t('report.text.sign_name'):<40}{t('report.text.sign_name')}",
        f"{t('report.text.sign_nip'):<40}{t('report.text.sign_nip')}",
    ]
    bad = body["bad"]
    lines = [t("report.text.bad_header")]
    room = PAGE_LINES - len(head) - len(tail) - 1
    shown = bad if len(bad) <= room else bad[: room - 1]
    for number_, card in enumerate(shown, start=1):
        lines.append(
            _fit(
                f"{number_:>4}. {card['nik']}  #{card['card_counter'] if card['card_counter'] is not None else '?':<7} "
                f"{reason_text(card['reason'], card['note'])}"
            )
        )
    if not bad:
        lines.append("      " + t("report.text.no_bad"))
    elif len(shown) < len(bad):
        lines.append("      " + t("report.text.bad_more", count=len(bad) - len(shown)))
    return "\n".join(head + lines + tail) + "\n"


def render_pdf(text_page: str, station_name: str, generated_at: str) -> bytes:
    """`laporan.txt` on A4, line for line in a monospaced face. The text is the report's own words: a character
    the paper's fonts lack (an operator's note typed in another script) is shown as `?` on the PDF alone, rather
    than refusing a report the centre may already hold; the text file keeps it."""
    lines = ["".join(char if not untypesettable([char]) else "?" for char in line) for line in text_page.splitlines()]
    office = "".join(char if not untypesettable([char]) else "?" for char in station_name)
    return render(Paper(office=office, title="", made_at=datetime.fromisoformat(generated_at), monospaced=lines))


async def cards_page(db: Any, allocation_id: str, good: bool, offset: int, limit: int) -> list[dict[str, Any]]:
    """One page of an allocation's good (or bad) cards, in card order, with the resident's name: for screens."""
    rows = await db.fetchall(
        "SELECT j.nik, r.nama, j.card_counter, j.printed_at, j.tag_reason, j.tag_note FROM jobs j "
        "JOIN residents r ON r.nik = j.nik WHERE j.allocation_id = ? AND j.state = ? "
        "ORDER BY j.card_counter IS NULL, j.card_counter, j.id LIMIT ? OFFSET ?",
        (allocation_id, "done_good" if good else "done_bad", limit, offset),
    )
    return [dict(row) for row in rows]
