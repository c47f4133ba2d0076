"""Refusals of the lock rule in the operator's words."""

from __future__ import annotations

from console.formats import moment
from console.hints import Where, with_hint
from console.i18n import t
from console.locks import Refusal


def describe(refusal: Refusal, where: Where) -> str:
    """The refusal in words, with what to do next for `where` (a command, or a console's key)."""
    fact = t(
        f"refusal.{refusal.code}",
        nik=refusal.nik,
        since=moment(refusal.since) if refusal.since else "-",
        job=refusal.job_id,
        counter=refusal.card_counter if refusal.card_counter is not None else "?",
        state=t(f"jobs.state.{refusal.state}") if refusal.state else "",
    )
    return with_hint(fact, f"refusal.{refusal.code}", where)
