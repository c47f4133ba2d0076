"""The papers of a card's custody: the *berita acara serah terima* to a village, the receipt to collect with (*tanda
bukti pengambilan*), the slip of a collection and the *berita acara pemusnahan*, as `console.papers.Paper`s and
CSV rows (files.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from console.formats import day, moment
from console.i18n import t
from console.papers import Column, Paper, Signature
from console.record_files import csv_bytes

HANDOVER_COLUMNS = ("no", "nik", "nama", "kel_desa", "card_counter")
DESTRUCTION_COLUMNS = ("no", "nik", "nama", "card_counter", "reason")


@dataclass(frozen=True)
class Office:
    name: str  # as written on papers
    place: str  # before the date, above the signatures


@dataclass(frozen=True)
class HandedCard:
    nik: str
    nama: str
    kel_desa: str
    card_counter: int | None
    receipt: str | None


def _counter(value: int | None) -> str:
    return "" if value is None else str(value)


def handover_csv(cards: Sequence[HandedCard], receipts: bool) -> bytes:
    columns = HANDOVER_COLUMNS + (("tanda_bukti",) if receipts else ())
    rows = [
        (i, c.nik, c.nama, c.kel_desa, _counter(c.card_counter), *((c.receipt,) if receipts else ()))
        for i, c in enumerate(cards, start=1)
    ]
    return csv_bytes(columns, rows)


def handover_paper(
    office: Office, batch: str, label: str, to: str, actor: str, at: datetime, cards: Sequence[HandedCard]
) -> Paper:
    receipts = any(c.receipt for c in cards)
    columns = [
        Column(t("paper.col.no"), 0.6, "R"),
        Column("NIK", 2.0),
        Column(t("paper.col.name"), 3.4),
        Column(t("paper.col.village"), 2.0),
        Column(t("paper.col.card"), 1.0, "R"),
    ]
    if receipts:
        columns.append(Column(t("paper.col.receipt"), 1.4))
    rows = [
        (str(i), c.nik, c.nama, c.kel_desa, _counter(c.card_counter), *((c.receipt or "",) if receipts else ()))
        for i, c in enumerate(cards, start=1)
    ]
    return Paper(
        office=office.name,
        title=t("handover.paper.title"),
        number=t("handover.paper.subject", batch=batch, label=label),
        made_at=at,
        opening=[t("handover.paper.opening", day=day(at), office=office.name, to=to, count=len(cards))],
        fields=[
            (t("handover.paper.office"), office.name),
            (t("handover.paper.giver"), actor),
            (t("handover.paper.receiver"), to),
            (t("handover.paper.batch"), f"{batch} {label}"),
            (t("handover.paper.date"), moment(at)),
        ],
        columns=columns,
        rows=rows,
        total=t("handover.paper.total", count=len(cards)),
        closing=[t("handover.paper.closing")],
        place_date=f"{office.place}, {day(at)}",
        signatures=[Signature(t("handover.paper.sign_giver"), actor), Signature(t("handover.paper.sign_receiver"), to)],
    )


@dataclass(frozen=True)
class Collection:
    nik: str
    nama: str
    kel_desa: str
    card_counter: int | None
    proxy: str | None
    relation: str | None
    letter: str | None
    receipt: str | None


def slip_paper(office: Office, actor: str, at: datetime, c: Collection) -> Paper:
    fields = [
        ("NIK", c.nik),
        (t("paper.col.name"), c.nama),
        (t("paper.col.village"), c.kel_desa),
        (t("paper.col.card"), _counter(c.card_counter)),
        (t("slip.paper.at"), moment(at)),
    ]
    if c.receipt:
        fields.append((t("paper.col.receipt"), c.receipt))
    if c.proxy:
        fields += [
            (t("slip.paper.proxy"), c.proxy),
            (t("slip.paper.relation"), c.relation or ""),
            (t("slip.paper.letter"), c.letter or ""),
        ]
    return Paper(
        office=office.name,
        title=t("slip.paper.title"),
        made_at=at,
        opening=[t("slip.paper.opening")],
        fields=fields,
        place_date=f"{office.place}, {day(at)}",
        signatures=[
            Signature(t("slip.paper.sign_officer"), actor),
            Signature(t("slip.paper.sign_taker"), c.proxy or c.nama),
        ],
    )


def receipt_paper(
    office: Office, actor: str, at: datetime, nik: str, nama: str, kel_desa: str, receipt: str, numbered_at: str
) -> Paper:
    return Paper(
        office=office.name,
        title=t("receipt.paper.title"),
        made_at=at,
        opening=[t("receipt.paper.opening")],
        fields=[
            ("NIK", nik),
            (t("paper.col.name"), nama),
            (t("paper.col.village"), kel_desa),
            (t("paper.col.receipt"), receipt),
            (t("receipt.paper.numbered"), moment(numbered_at)),
        ],
        closing=[t("receipt.paper.closing")],
        place_date=f"{office.place}, {day(at)}",
        signatures=[Signature(t("slip.paper.sign_officer"), actor)],
    )


@dataclass(frozen=True)
class SpoiledCard:
    nik: str | None  # None: a blank spoiled without a NIK
    nama: str | None
    card_counter: int | None
    reason: str


def destruction_csv(cards: Sequence[SpoiledCard]) -> bytes:
    rows = [(i, c.nik or "", c.nama or "", _counter(c.card_counter), c.reason) for i, c in enumerate(cards, start=1)]
    return csv_bytes(DESTRUCTION_COLUMNS, rows)


def destruction_paper(
    office: Office,
    allocation: str,
    report_id: str,
    actor: str,
    witnesses: Sequence[str],
    at: datetime,
    cards: Sequence[SpoiledCard],
    reason_text: dict[str, str],
) -> Paper:
    bad = sum(c.nik is not None for c in cards)
    return Paper(
        office=office.name,
        title=t("destroy.paper.title"),
        number=t("destroy.paper.subject", allocation=allocation),
        made_at=at,
        opening=[t("destroy.paper.opening", day=day(at), office=office.name, count=len(cards))],
        fields=[
            (t("destroy.paper.allocation"), allocation),
            (t("destroy.paper.report"), report_id),
            (t("destroy.paper.bad"), str(bad)),
            (t("destroy.paper.spoiled"), str(len(cards) - bad)),
            (t("destroy.paper.witnesses"), ", ".join(witnesses)),
            (t("handover.paper.date"), moment(at)),
        ],
        columns=[
            Column(t("paper.col.no"), 0.6, "R"),
            Column("NIK", 2.0),
            Column(t("paper.col.name"), 3.2),
            Column(t("paper.col.card"), 1.0, "R"),
            Column(t("paper.col.reason"), 2.4),
        ],
        rows=[
            (str(i), c.nik or "-", c.nama or "-", _counter(c.card_counter), reason_text.get(c.reason, c.reason))
            for i, c in enumerate(cards, start=1)
        ],
        total=t("destroy.paper.total", count=len(cards), bad=bad, spoiled=len(cards) - bad),
        closing=[t("destroy.paper.closing")],
        place_date=f"{office.place}, {day(at)}",
        signatures=[Signature(t("destroy.paper.sign_officer"), actor)]
        + [Signature(t("destroy.paper.sign_witness"), name) for name in witnesses],
    )
