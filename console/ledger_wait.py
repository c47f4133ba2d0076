"""Waiting for a regency ledger that does not answer: how often to ask again and to say so, and the store opened
that way by the commands that print (a station started while its ledger is away prints once it answers)."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from console import formats
from console.config import DatabaseSettings
from console.errors import LedgerUnreachable
from console.i18n import t
from console.store import Store

LEDGER_RETRY_S = 1.0  # how often a station whose ledger went away asks again
LEDGER_NOTICE_S = 10.0  # how often it says it is still waiting


async def open_waiting(database: DatabaseSettings, **options: Any) -> Store:
    """The store; a ledger that does not answer is waited for, said on standard error every LEDGER_NOTICE_S. A
    ledger that answers with a refusal (no such role, a wrong password) is a configuration error at once."""
    since = time.monotonic()
    told: float | None = None
    while True:
        try:
            return await Store.open(database, **options)
        except LedgerUnreachable as lost:
            waited = time.monotonic() - since
            if told is None or waited - told >= LEDGER_NOTICE_S:
                told = waited
                print(f"station: {lost}; {t('print.ledger_away', since=formats.duration(waited))}", file=sys.stderr)
            await asyncio.sleep(LEDGER_RETRY_S)
