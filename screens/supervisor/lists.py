"""The supervisor's lists, each a page at a time: the queue (F3), the cards waiting for their tag (F4) and the
audit log (F6)."""

from __future__ import annotations

import json
from typing import Any

from console import audit, jobs, stations
from console.i18n import t
from console.live import describe_entry
from console.store import Store
from console.text import day_and_time, number
from screens.supervisor.paging import Page, PagedScreen, clamp, page_keys


class WatchQueue(PagedScreen):
    """The queue as the engine takes it: the card being printed, then the jobs waiting, then those held back."""

    TITLE_KEY = "ui.sup.screen.queue"
    COLUMNS = ("ui.sup.col.job", "ui.sup.col.nik", "ui.sup.col.nama", "ui.sup.col.kecamatan", "ui.sup.col.state")
    WIDE = 2
    NONE_KEY = "ui.sup.queue.none"
    SEGMENTS = (jobs.PRINTING, jobs.QUEUED, jobs.HELD)

    async def read_page(self, store: Store, offset: int, rows: int) -> Page:
        counts = await jobs.count_by_state(store)
        total = sum(counts[state] for state in self.SEGMENTS)
        offset = clamp(offset, total, rows)
        found: list[tuple[str, ...]] = []
        skip = offset
        for state in self.SEGMENTS:
            if len(found) == rows:
                break
            if skip >= counts[state]:
                skip -= counts[state]
                continue
            batch = await jobs.page_in_state(store, state, rows - len(found), skip)
            for r in batch:
                words = t(f"jobs.state.{r['state']}") + (f" ({r['state_reason']})" if r["state"] == jobs.HELD else "")
                found.append((str(r["id"]), r["nik"], r["nama"], r["kecamatan"], words))
            skip = 0
        return Page(found, total, offset)


class WatchUntagged(PagedScreen):
    """Printed cards waiting for their tag, in the order they lie in the output hopper."""

    TITLE_KEY = "ui.sup.screen.untagged"
    COLUMNS = ("ui.sup.col.counter", "ui.sup.col.nik", "ui.sup.col.nama", "ui.sup.col.kecamatan", "ui.sup.col.printed")
    WIDE = 2
    NONE_KEY = "ui.sup.untagged.none"

    async def read_page(self, store: Store, offset: int, rows: int) -> Page:
        its_own = stations.own_rows(store)  # on a ledger: the watched station's hopper, not the regency's cards
        total = await (
            jobs.count_in_state(store, jobs.PRINTED) if its_own is None else jobs.count_here(store, jobs.PRINTED)
        )
        offset = clamp(offset, total, rows)
        found = [
            (f"#{number(r['card_counter'])}", r["nik"], r["nama"], r["kecamatan"], day_and_time(r["printed_at"]))
            for r in await jobs.page_in_state(store, jobs.PRINTED, rows, offset, order="hopper", station=its_own)
        ]
        return Page(found, total, offset)


class WatchAudit(PagedScreen):
    """The audit log, newest first. The first page follows new entries; a page further back stays where it is."""

    TITLE_KEY = "ui.sup.screen.audit"
    COLUMNS = ("ui.sup.col.seq", "ui.sup.col.time", "ui.sup.col.actor", "ui.sup.col.action", "ui.sup.col.what")
    WIDE = 4
    NONE_KEY = "ui.sup.audit.none"
    BINDINGS = page_keys("ui.sup.key.newest", "ui.sup.key.oldest")

    def __init__(self) -> None:
        super().__init__()
        self._newest: int | None = None

    async def read_page(self, store: Store, offset: int, rows: int) -> Page:
        newest = await audit.newest_seq(store)
        if offset > 0 and self._newest is not None:
            offset += newest - self._newest  # keep the same entries on screen while new ones arrive
        self._newest = newest
        offset = clamp(offset, newest, rows)
        entries = await audit.entries_back_from(store, newest - offset, rows)
        return Page([_audit_row(entry) for entry in entries], newest, offset)

    def page_words(self, page: Page) -> str:
        if page.offset == 0:
            return t("ui.sup.page.following", first=number(1), last=number(len(page.rows)), total=number(page.total))
        return super().page_words(page)


def _audit_row(entry: Any) -> tuple[str, ...]:
    data = json.loads(entry["data"])
    words = describe_entry(entry["action"], entry["subject"], data)
    if words is None:
        words = " ".join([entry["subject"] or ""] + [f"{name}={value}" for name, value in data.items()]).strip()
    return str(entry["seq"]), day_and_time(entry["at"]) + entry["at"][16:19], entry["actor"], entry["action"], words
