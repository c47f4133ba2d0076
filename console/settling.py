"""What the printer's counter means for the books: one pure decision from the facts the engine read.

The engine reads the facts (the printer's card counter, whether a card is inside, the fault that met a card, the
counter the books hold for this printer's serial) and carries the decision out; nothing here does I/O, so every
combination is property-tested (`tests/test_settling.py`).

The printer's counter is a witness the database cannot roll back: cards the books cannot account for (the
counter ahead of the books with no job to explain them) are never booked by the station on its own. They stop
the queue (`counter_ahead`) until a supervisor reconciles them, because a database restored from an old copy
looks exactly like that, and printing on would give its NIKs second cards. A printer the books never met that has
printed cards before (its counter above 0) stops the queue too (`printer_unknown`): a database restored from a copy
older than the printer's first use at this station holds no counter for it at all, and only a supervisor can say
that the printer is really new to the station.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    """How a fault that met a card is settled."""

    LINK = "link"  # no reply, a garbled reply, a lost link: nothing is known, the job stays in doubt
    JAM = "jam"  # the card is stuck: the operator takes it out by hand
    OTHER = "other"  # the printer answered a fault: a card inside goes to the reject box


class JobOutcome(StrEnum):
    KEEP = "keep"  # nothing is booked for the job (no job, or it stays in doubt)
    REQUEUE = "requeue"  # its blank never left the feeder
    PRINTED = "printed"  # its card came out (or lies inside) and waits for its tag
    SPOILED = "spoiled"  # its card was spoiled by the fault: booked bad by the station


class Stop(StrEnum):
    COUNTER_MISMATCH = "counter_mismatch"  # the counter is below the job's: not the counter it was read from
    COUNTER_AHEAD = "counter_ahead"  # cards the books cannot account for: a supervisor must reconcile
    PRINTER_UNKNOWN = "printer_unknown"  # a used printer the books never met: a supervisor must accept it
    FAULT = "fault"  # the fault that met the card stands


@dataclass(frozen=True)
class Facts:
    """What the engine read. `counter` None: the printer did not answer. `job_before`: the counter read before the
    job's blank (None between cards). `booked`: the books' counter for this serial (None: a printer new to them).
    `fault`: the fault that met the job's card (None when settling at start or between cards). `next_before`: the
    counter the next job in doubt was started after (its `Ss` sent once this job's card was out), if any."""

    counter: int | None
    card_inside: bool
    booked: int | None
    job_before: int | None = None
    fault: FaultKind | None = None
    next_before: int | None = None  # the next job in doubt on this printer started after this counter


@dataclass(frozen=True)
class Decision:
    job: JobOutcome = JobOutcome.KEEP
    job_counter: int | None = None  # the job's card counter, when it has a card
    card_dest: str | None = None  # hopper | reject | removed
    bad_reason: str | None = None  # the tag of a card spoiled by a fault
    book_counter: int | None = None  # the counter the books account for afterwards (None: unchanged)
    follow: bool = False  # book_counter is not earned by cards: a printer new to the books, or its counter went back
    eject: bool = False  # send the card inside to the reject box (after the decision is committed)
    stop: Stop | None = None
    unaccounted: int = 0  # with COUNTER_AHEAD or PRINTER_UNKNOWN: how many cards the books cannot account for


def decide(facts: Facts) -> Decision:
    if facts.job_before is None:
        return _between_cards(facts)
    return _with_job(facts, facts.job_before)


def _between_cards(facts: Facts) -> Decision:
    counter, booked = facts.counter, facts.booked
    if counter is None:
        return Decision(stop=Stop.FAULT)
    if booked is None and counter > 0:  # a used printer the books never met: it may be their past, restored away
        return Decision(stop=Stop.PRINTER_UNKNOWN, unaccounted=counter)
    if booked is None:  # a printer that never printed: followed from its first card
        return Decision(book_counter=counter, follow=True)
    if counter < booked:  # a service reset of the counter on the same printer
        return Decision(book_counter=counter, follow=True)
    if counter > booked:
        return Decision(stop=Stop.COUNTER_AHEAD, unaccounted=counter - booked)
    return Decision()


def _with_job(facts: Facts, before: int) -> Decision:
    counter = facts.counter
    if facts.fault is FaultKind.LINK or counter is None:
        return Decision(stop=Stop.FAULT)  # nothing known: the job stays in doubt
    if counter < before:
        return Decision(stop=Stop.COUNTER_MISMATCH)
    stop = None if facts.fault is None else Stop.FAULT
    if counter == before:
        return Decision(job=JobOutcome.REQUEUE, stop=stop)
    if counter > before + 1:
        if facts.fault is not None:  # the station held the port: cards after its own are not explained
            return Decision(stop=Stop.FAULT)
        if facts.next_before == before + 1:  # the next job's card follows: it settles the cards after this one
            return Decision(job=JobOutcome.PRINTED, job_counter=before + 1, card_dest="hopper", book_counter=before + 1)
        # The job's card is the first after its counter was read (the station held the port); the others were
        # taken by no job of ours: the card inside is theirs, and they stop the queue as cards unaccounted for.
        return Decision(
            job=JobOutcome.PRINTED,
            job_counter=before + 1,
            card_dest="hopper",
            book_counter=before + 1,
            stop=Stop.COUNTER_AHEAD,
            unaccounted=counter - before - 1,
        )
    if facts.fault is None:
        return Decision(
            job=JobOutcome.PRINTED,
            job_counter=counter,
            card_dest="reject" if facts.card_inside else "hopper",
            book_counter=counter,
            eject=facts.card_inside,
        )
    jammed = facts.fault is FaultKind.JAM
    return Decision(
        job=JobOutcome.SPOILED,
        job_counter=counter,
        card_dest="removed" if jammed else "reject",
        bad_reason="rusak_fisik" if jammed else "gagal_cetak",
        book_counter=counter,
        eject=facts.card_inside and not jammed,
        stop=Stop.FAULT,
    )
