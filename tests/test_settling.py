"""The pure decision from the printer's facts to the books, over every combination (hypothesis)."""

from hypothesis import given
from hypothesis import strategies as st

from console.settling import Decision, Facts, FaultKind, JobOutcome, Stop, decide

counters = st.integers(min_value=0, max_value=60)
facts = st.builds(
    Facts,
    counter=st.none() | counters,
    card_inside=st.booleans(),
    booked=st.none() | counters,
    job_before=st.none() | counters,
    fault=st.none() | st.sampled_from(FaultKind),
    next_before=st.none() | counters,
)


@given(facts)
def test_every_card_the_printer_counted_is_explained_or_stops_the_queue(f: Facts) -> None:
    d = decide(f)
    if d.stop is Stop.COUNTER_AHEAD:
        assert d.unaccounted > 0 and f.counter is not None
        explained = d.book_counter if d.book_counter is not None else f.booked
        assert explained + d.unaccounted == f.counter  # the cards unaccounted for are exactly the gap
    elif d.stop is Stop.PRINTER_UNKNOWN:
        assert f.booked is None and d.unaccounted == f.counter > 0 and d.book_counter is None
    else:
        assert d.unaccounted == 0
    if d.book_counter is not None and not d.follow and f.job_before is not None:
        assert d.book_counter == f.job_before + 1  # a job's decision books its own card, never another one
    if f.job_before is None and f.booked is not None and f.counter is not None and f.counter > f.booked:
        assert d.stop is Stop.COUNTER_AHEAD and d.book_counter is None  # never booked by the station alone
    cards_after_its_own = f.counter is not None and f.job_before is not None and f.counter > f.job_before + 1
    if d.job is not JobOutcome.KEEP and cards_after_its_own and d.stop is not Stop.COUNTER_AHEAD:
        assert f.next_before == f.job_before + 1 and d.stop is None  # left to the job that followed it
        assert not d.eject and d.card_dest == "hopper"  # a card inside is the next job's


@given(counters, counters, st.booleans())
def test_a_job_followed_by_another_in_doubt_leaves_the_cards_after_its_own_to_it(
    before: int, more: int, inside: bool
) -> None:
    counter = before + 2 + more
    alone = decide(Facts(counter, inside, before, before))
    assert alone.stop is Stop.COUNTER_AHEAD and alone.unaccounted == counter - before - 1
    first = decide(Facts(counter, inside, before, before, next_before=before + 1))
    assert first == Decision(JobOutcome.PRINTED, before + 1, "hopper", book_counter=before + 1)
    second = decide(Facts(counter, inside, before + 1, before + 1))  # the next job settles with the rest
    assert second.job is JobOutcome.PRINTED and second.job_counter == before + 2
    assert (second.stop is Stop.COUNTER_AHEAD) == (more > 0)


@given(facts)
def test_a_job_is_given_a_card_only_when_the_counter_moved_past_its_own(f: Facts) -> None:
    d = decide(f)
    if d.job in (JobOutcome.PRINTED, JobOutcome.SPOILED):
        assert f.job_before is not None and f.counter is not None and f.counter > f.job_before
        assert d.job_counter == f.job_before + 1
    if d.job is JobOutcome.REQUEUE:
        assert f.counter == f.job_before  # the blank never left the feeder
    if f.job_before is not None and (f.fault is FaultKind.LINK or f.counter is None):
        assert d == Decision(stop=Stop.FAULT)  # nothing known: nothing booked, the job stays in doubt
    if (
        f.job_before is not None
        and f.counter is not None
        and f.counter < f.job_before
        and f.fault is not FaultKind.LINK
    ):
        assert d.job is JobOutcome.KEEP and d.book_counter is None


@given(facts)
def test_a_card_inside_is_ejected_only_when_it_is_the_jobs_and_not_jammed(f: Facts) -> None:
    d = decide(f)
    if d.eject:
        assert f.card_inside and f.job_before is not None and f.counter == f.job_before + 1
        assert f.fault is not FaultKind.JAM and d.card_dest == "reject"
    if d.job is JobOutcome.SPOILED:
        assert f.fault in (FaultKind.JAM, FaultKind.OTHER) and d.stop is Stop.FAULT
        assert (d.bad_reason, d.card_dest) == (
            ("rusak_fisik", "removed") if f.fault is FaultKind.JAM else ("gagal_cetak", "reject")
        )


@given(counters, counters)
def test_between_cards_a_new_printer_or_a_counter_gone_back_is_followed(counter: int, booked: int) -> None:
    assert decide(Facts(0, False, None)) == Decision(book_counter=0, follow=True)  # a printer that never printed
    d = decide(Facts(counter, False, booked))
    if counter < booked:
        assert d == Decision(book_counter=counter, follow=True)
    elif counter == booked:
        assert d == Decision()


def test_a_restored_database_is_told_by_the_printer():
    """Books at 10, printer at 13 (three cards printed after the copy was taken): the queue stops, nothing booked."""
    assert decide(Facts(13, False, 10)) == Decision(stop=Stop.COUNTER_AHEAD, unaccounted=3)


@given(st.integers(min_value=1, max_value=60))
def test_a_used_printer_the_books_never_met_stops_the_queue_with_nothing_booked(counter: int) -> None:
    """A database restored from a copy older than the printer's first use here holds no counter for it: the cards
    it printed since, queued again in the copy, would print twice if it were followed from its counter."""
    assert decide(Facts(counter, False, None)) == Decision(stop=Stop.PRINTER_UNKNOWN, unaccounted=counter)
