"""The request for more blanks written out: `usulan-PERIOD.json` (files.md) and `usulan-PERIOD.pdf`, a letter on
A4 (console/papers) with every term of the computation, ready to sign."""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.clock import instant
from console.errors import UsageError
from console.formats import count, day, os_error
from console.i18n import t
from console.papers import Column, Paper, Signature, render
from drivers.atomic_file import atomic_writer

# The terms in the order the letter explains them (console/blank_requests.py: how each is computed).
TERM_ORDER = (
    "print_ready", "becoming_wajib", "reprints", "cards_needed", "blanks_used", "bad_used", "bad_rate",
    "blanks_for_cards", "cards_printed_recent", "working_days", "cards_per_working_day", "lead_time_days",
    "safety_stock", "in_stock", "borrowed", "lent",
)  # fmt: skip


@dataclass(frozen=True)
class RequestFiles:
    json: Path
    pdf: Path


def files_in(out_dir: Path, period: str) -> RequestFiles:
    return RequestFiles(out_dir / f"usulan-{period}.json", out_dir / f"usulan-{period}.pdf")


def _shown(name: str, value: int | float) -> str:
    if name == "bad_rate":
        return f"{value * 100:.2f} %".replace(".", t("request.decimal_mark"))
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", t("request.decimal_mark"))
    return count(value)


def letter(body: dict[str, Any], office: str, place: str) -> Paper:
    terms = body["terms"]
    villages = body["print_ready_by_village"]
    return Paper(
        office=office,
        title=t("request.paper.title"),
        made_at=instant(body["drafted_at"]),
        number=t("request.paper.number", period=body["period"]),
        opening=(
            t("request.paper.to"),
            t("request.paper.opening", office=office, period=body["period"], requested=count(body["requested"])),
        ),
        fields=[(t(f"request.term.{name}"), _shown(name, terms[name])) for name in TERM_ORDER]
        + [(t("request.paper.requested"), count(body["requested"]))],
        columns=(
            Column(t("request.paper.col.no"), 0.08, "R"),
            Column(t("request.paper.col.kecamatan"), 0.34),
            Column(t("request.paper.col.desa"), 0.38),
            Column(t("request.paper.col.print_ready"), 0.20, "R"),
        ),
        rows=[
            (str(i), v["kecamatan"], v["kel_desa"], count(v["print_ready"])) for i, v in enumerate(villages, start=1)
        ],
        total=t("request.paper.total", count=count(terms["print_ready"])),
        closing=(t("request.paper.formula"), t("request.paper.closing")),
        place_date=f"{place}, {day(body['as_of'])}",
        signatures=(Signature(t("request.paper.signer")),),
    )


def write_request_files(body: dict[str, Any], out_dir: Path, office: str, place: str) -> RequestFiles:
    """Write the request's JSON and its letter into `out_dir` (made if missing): both or neither. Each is written
    to a temporary name first; they take their names only once both are written whole."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(t("request.out_not_dir", path=out_dir))
    files = files_in(out_dir, body["period"])
    pdf = render(letter(body, office, place))  # refused before anything is written if it cannot be typeset
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with ExitStack() as both:  # both written before either is renamed: a failure while writing leaves neither
            both.enter_context(atomic_writer(files.json)).write(
                (json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
            )
            both.enter_context(atomic_writer(files.pdf)).write(pdf)
    except OSError as exc:
        raise UsageError(t("request.cannot_write", path=out_dir, why=os_error(exc))) from None
    return files
