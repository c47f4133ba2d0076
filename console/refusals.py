"""Refusals of the lock rule in the operator's words."""

from __future__ import annotations

from console.formats import day, moment
from console.hints import Where, with_hint
from console.i18n import t
from console.locks import Refusal


def describe(refusal: Refusal, where: Where) -> str:
    """The refusal in words, with what to do next for `where` (a command, or a console's key)."""
    fact = t(
        f"refusal.{refusal.code}",
        nik=refusal.nik,
        since=_when(refusal.since),
        job=refusal.job_id,
        counter=refusal.card_counter if refusal.card_counter is not None else "?",
        state=t(f"jobs.state.{refusal.state}") if refusal.state else "",
    )
    return with_hint(fact, f"refusal.{refusal.code}", where)


def _when(since: str | None) -> str:
    """A moment in the station's zone; a day alone (`not_wajib`: the day the card may be printed) as that day."""
    if not since:
        return "-"
    return day(since) if len(since) == len("YYYY-MM-DD") else moment(since)
