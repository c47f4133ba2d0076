"""Refusals of the lock rule in the operator's words."""

from __future__ import annotations

from console.i18n import t
from console.locks import Refusal


def describe(refusal: Refusal) -> str:
    return t(
        f"refusal.{refusal.code}",
        nik=refusal.nik,
        since=refusal.since,
        job=refusal.job_id,
        counter=refusal.card_counter if refusal.card_counter is not None else "?",
        state=t(f"jobs.state.{refusal.state}") if refusal.state else "",
    )
