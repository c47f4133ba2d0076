"""The resynchronisation rules (drivers/resync.py), with no pseudo-terminal and no clock: a printer that answers
in order, bytes cut into any pieces, the driver's timer firing anywhere. docs/printer.md, "Out of step", is the spec."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers import protocol
from drivers.resync import PROBE_REPLIES, PROBES, AwaitQuiet, InStep, Resync, Send

CDE, PARAMETRES = (protocol.encode_reply(text) for text in PROBE_REPLIES)

# A late reply is one line (the reply to the one command that timed out); garbage is bytes without CR.
late_line = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"") + b"\r")
garbage = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b""))
cuts = st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=60)


class PrinterModel:
    """Answers each probe that reaches it, in order, as the protocol says; `lost` probes never reach it."""

    def __init__(self, waiting: bytes = b"") -> None:
        self.wire = bytearray(waiting)
        self.received: list[bytes] = []

    def take(self, frame: bytes, lost: bool = False) -> None:
        if lost:
            return
        self.received.append(frame)
        self.wire += CDE if frame == PROBES[0] else PARAMETRES

    def deliver(self, size: int) -> bytes:
        piece = bytes(self.wire[:size])
        del self.wire[:size]
        return piece


class Host:
    """The driver's part, without its clock: hands replies to `Resync` and does what it says."""

    def __init__(self, printer: PrinterModel, probes_owed: int = 0) -> None:
        self.printer = printer
        self.sync = Resync(probes_owed)
        self.decoder = protocol.ReplyDecoder()
        self.sent: list[bytes] = []
        self.result: InStep | None = None
        self.awaiting_quiet = False

    def send(self, frame: bytes, lost: bool = False) -> None:
        self.sent.append(frame)
        self.printer.take(frame, lost)

    def probe_due(self, lost: bool = False) -> None:
        self.send(self.sync.probe_due().frame, lost)

    def feed(self, data: bytes) -> None:
        for reply in self.decoder.feed(data):
            assert self.result is None, "a line handed in after the conversation was in step"
            self.awaiting_quiet = False
            self.act(self.sync.receive(reply))

    def drain(self) -> None:
        while self.result is None and self.printer.wire:
            self.feed(self.printer.deliver(len(self.printer.wire)))

    def settle(self) -> None:
        """A pair asked for a quiet spell: the model printer answers at once, so an empty wire is one."""
        if self.result is None and self.awaiting_quiet and not self.printer.wire:
            self.act(self.sync.quiet())

    def act(self, action: object) -> None:
        if isinstance(action, Send):
            self.send(action.frame)
        elif isinstance(action, AwaitQuiet):
            self.awaiting_quiet = True
        elif isinstance(action, InStep):
            self.result = action


@settings(max_examples=300, deadline=None)
@given(late=st.lists(late_line, max_size=1), noise=garbage, pieces=cuts)
def test_in_step_exactly_when_the_second_probe_is_answered(late, noise, pieces) -> None:
    """One late reply and garbage without CR may come first; cut into any pieces, the stream brings the driver in
    step at the last byte of the ERROR PARAMETRES that answers the second probe, never before."""
    printer = PrinterModel(b"".join(late) + noise)
    host = Host(printer)
    host.probe_due()
    answer_end = len(b"".join(late) + noise + CDE + PARAMETRES)
    delivered = 0
    sizes = iter(pieces)
    while host.result is None:
        assert printer.wire, "all bytes delivered and not in step"
        piece = printer.deliver(next(sizes, 12))
        delivered += len(piece)
        host.feed(piece)
        assert (host.result is not None) == (delivered == answer_end)
    assert host.sent == list(PROBES)  # one at a time, each once
    assert host.result == InStep(discarded=len(late))
    assert host.sync.probes_owed == 0


def test_the_second_probe_waits_for_the_first_answer() -> None:
    printer = PrinterModel()
    host = Host(printer)
    host.probe_due()
    host.feed(b"OK\r900\r")  # late lines, not the answer: no second probe yet
    assert host.sent == [PROBES[0]]
    host.feed(printer.deliver(100))
    assert host.sent == list(PROBES)
    host.feed(printer.deliver(100))
    assert host.result == InStep(discarded=2)


@pytest.mark.parametrize("late", [b"ERROR PARAMETRES\r", b"ERROR CDE\r", b"ERROR CDE\rERROR CDE\r"])
def test_late_probe_words_do_not_end_it_early(late: bytes) -> None:
    printer = PrinterModel(late)
    host = Host(printer)
    host.probe_due()
    host.feed(printer.deliver(len(late)))
    assert host.result is None
    host.drain()
    assert host.result is not None and host.printer.received == list(PROBES)


def test_a_garbled_parametres_is_no_pair() -> None:
    host = Host(PrinterModel())
    host.probe_due()
    host.feed(CDE)
    host.feed(b"ERROR PARAMETRES\x01\r")
    assert host.result is None


@settings(max_examples=300, deadline=None)
@given(
    earlier=st.lists(st.booleans(), max_size=3),
    late=st.lists(late_line, max_size=1),
    noise=garbage,
    steps=st.lists(
        st.tuples(
            st.sampled_from(["deliver", "deliver", "probe", "lost probe"]), st.integers(min_value=1, max_value=12)
        ),
        max_size=80,
    ),
)
def test_never_in_step_while_an_answer_is_still_to_come(earlier, late, noise, steps) -> None:
    """Probes lost, probes sent again while answers are on their way, probes of an earlier attempt still owed (their
    answers already queued): in step only once every probe that reached the printer is answered and every byte
    read; and it gets there."""
    # An earlier attempt that failed sent a first probe for each of `earlier`, and its second if True.
    answers = b"".join(CDE + PARAMETRES if second else CDE for second in earlier)
    printer = PrinterModel(b"".join(late) + noise + answers)
    host = Host(printer, probes_owed=len(earlier))
    host.probe_due()
    for kind, size in steps:
        if host.result is not None:
            break
        if kind == "deliver":
            host.feed(printer.deliver(size))
        elif kind in ("probe", "lost probe"):  # the driver's timer, whether or not answers are on their way
            host.probe_due(lost=kind == "lost probe")
        host.settle()
    for _ in range(100):  # then the link works: bytes arrive, and silence brings a probe again
        if host.result is not None:
            break
        if printer.wire:
            host.feed(printer.deliver(12))
        else:
            host.probe_due()
        host.settle()
    assert host.result is not None, "never in step"
    assert not printer.wire and not host.decoder._buffer, "in step with an answer still to come"
    assert host.sync.probes_owed == 0


def test_a_failed_attempt_leaves_its_probes_owed() -> None:
    first = Resync()
    first.probe_due()
    first.probe_due()
    assert first.probes_owed == 2
    second = Resync(first.probes_owed)
    assert second.probes_owed == 2


def test_quiet_only_answers_await_quiet() -> None:
    sync = Resync(1)
    sync.probe_due()
    with pytest.raises(RuntimeError):
        sync.quiet()
    assert sync.receive(protocol.Reply("ERROR CDE")) == Send(PROBES[1])
    assert sync.receive(protocol.Reply("ERROR PARAMETRES")) == AwaitQuiet()  # one pair, two first probes sent
    assert sync.quiet() == InStep(discarded=0)
    with pytest.raises(RuntimeError):
        sync.receive(protocol.Reply("OK"))
