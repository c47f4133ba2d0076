"""The emulator's machine model, pure: commands in, replies, motion times and departures out."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers import protocol as p
from drivers.emulator import model
from drivers.emulator.faults import KINDS, FaultPlan, FaultSpecError, parse_faults
from drivers.emulator.model import Machine, MachineOptions, nik_of

NIK = "5203074708900001"


def machine(feeder: int = 5, faults: str = "", seed: int | None = 1, **options: object) -> Machine:
    return Machine(MachineOptions(feeder=feeder, **options), FaultPlan.from_spec(faults, seed))  # type: ignore[arg-type]


def send(m: Machine, name: str, *params: object, payload: bytes | None = None) -> str:
    """Encode a command as a host would, decode it as the printer does, and return the reply text."""
    [event] = p.CommandDecoder().feed(p.encode_command(name, *params, payload=payload))
    reply = m.handle(event).reply
    assert reply is not None and reply.endswith(b"\r")
    return reply[:-1].decode("latin-1")


def card_commands(ribbon: str = "ko") -> list[bytes]:
    return [
        p.encode_command("Pr", ribbon),
        p.encode_command("Ss"),
        p.encode_command("Sr"),
        p.dbc_command("k", 0, p.compress_dbc(bytes(p.PANEL_BYTES))),
        p.text_command(40, 60, 1, 40, f"NIK : {NIK}"),
        p.encode_command("Wcb", "o", 255),
        p.encode_command("Se"),
    ]


def run_card(m: Machine, ribbon: str = "ko") -> tuple[list[str], float]:
    replies, seconds = [], 0.0
    for raw in card_commands(ribbon):
        for event in p.CommandDecoder().feed(raw):
            outcome = m.handle(event)
            replies.append((outcome.reply or b"").decode("latin-1").rstrip("\r"))
            seconds += outcome.seconds
    return replies, seconds


# ---------------------------------------------------------------------------------------------- one card, time


def test_a_ko_card_takes_about_twelve_seconds_and_a_ymcko_card_about_thirty() -> None:
    replies, ko = run_card(machine())
    assert replies == ["OK"] * 7
    assert 11 <= ko <= 13
    _, ymcko = run_card(machine(), "ymcko")
    assert 28 <= ymcko <= 32


def test_a_printed_card_moves_every_counter_and_leaves_one_record() -> None:
    m = machine(feeder=3, ribbon_prints=10)
    run_card(m)
    assert (send(m, "Rco", "c"), send(m, "Rco", "p"), send(m, "Rco", "I")) == ("1", "2", "9")
    assert m.feeder == 2 and m.hopper == 1 and m.card is None
    assert m.seq == 1


def test_se_reports_the_departure_with_the_nik_and_panels() -> None:
    m = machine()
    departures = []
    for raw in card_commands():
        for event in p.CommandDecoder().feed(raw):
            departures += m.handle(event).departures
    assert departures == [{"seq": 1, "counter": 1, "dest": "hopper", "nik": NIK, "texts": [f"NIK : {NIK}"],
                           "panels": ["k", "o"], "fault": None}]  # fmt: skip


# ---------------------------------------------------------------------------------------------- replies


@pytest.mark.parametrize(
    ("name", "params", "reply"),
    [
        ("Zzz", (), "ERROR CDE"),
        ("Rco", ("q",), "ERROR PARAMETRES"),
        ("Rco", (), "ERROR PARAMETRES"),
        ("Pr", ("rainbow",), "ERROR PARAMETRES"),
        ("Pem", ("7",), "ERROR PARAMETRES"),
        ("Pmi", ("X",), "ERROR PARAMETRES"),
        ("Rlr", ("x",), "ERROR PARAMETRES"),
        ("Sk", ("z",), "ERROR PARAMETRES"),
        ("Wt", (1, 2, 3), "ERROR PARAMETRES"),
        ("Wt", (2000, 0, 0, 30, "x"), "ERROR PARAMETRES"),
        ("Wt", (0, 0, 5, 30, "x"), "ERROR PARAMETRES"),
        ("Wcb", ("q", 0), "ERROR PARAMETRES"),
        ("Wcb", ("o", 256), "ERROR PARAMETRES"),
        ("Ss", ("now",), "ERROR PARAMETRES"),
        ("Se", (), "ERROR PARAMETRES"),  # no card inside to print
        ("Ser", (), "OK"),  # nothing to reject: nothing moves
        ("Srs", (), "OK"),
        ("Rfv", (), "1.7.2"),
        ("Rr", (), "ko"),
        ("Rlr", ("p",), "OK"),
        ("Sk", ("f",), "0"),
        ("Rco", ("c",), "0"),
    ],
)
def test_replies_as_printer_protocol_md_says(name: str, params: tuple[object, ...], reply: str) -> None:
    assert send(machine(), name, *params) == reply


def test_pr_sets_the_ribbon_that_rr_reads() -> None:
    m = machine()
    assert send(m, "Pr", "ymcko") == "OK"
    assert send(m, "Rr") == "ymcko"


def test_dbc_with_a_malformed_payload_is_a_bad_parameter() -> None:
    m = machine()
    assert send(m, "Dbc", "k", 2, 0, 3, payload=b"\x05ab") == "ERROR PARAMETRES"  # says 5 bytes, holds 2
    assert send(m, "Dbc", "y", 2, 0, 1, payload=b"\x00") == "ERROR PARAMETRES"
    assert send(m, "Dbc", "k", 2, 1016, 1, payload=b"\x00") == "ERROR PARAMETRES"


def test_ss_with_a_card_inside_is_refused_and_takes_no_blank() -> None:
    m = machine()
    assert send(m, "Ss") == "OK"
    assert send(m, "Ss") == "ERROR PARAMETRES"
    assert (m.cards, m.feeder, send(m, "Rlr", "p")) == (1, 4, "CARD")


def test_an_empty_feeder_takes_no_blank_and_moves_no_counter() -> None:
    m = machine(feeder=0)
    assert send(m, "Ss") == "FEEDER EMPTY"
    assert (send(m, "Sk", "f"), m.cards) == ("1", 0)
    m.load(2)
    assert (send(m, "Sk", "f"), send(m, "Ss"), m.cards) == ("0", "OK", 1)


def test_ser_sends_the_card_to_the_reject_box_with_no_nik_when_nothing_was_printed() -> None:
    m = machine()
    send(m, "Ss")
    send(m, "Wt", 1, 1, 0, 30, f"NIK : {NIK}")
    [event] = p.CommandDecoder().feed(p.encode_command("Ser"))
    outcome = m.handle(event)
    assert outcome.reply == b"OK\r"
    assert [(d["dest"], d["nik"], d["panels"]) for d in outcome.departures] == [("reject", None, [])]


def test_line_noise_gets_no_reply_and_a_broken_frame_gets_error_cde() -> None:
    m = machine()
    assert p.CommandDecoder().feed(b"\r\n\x00\r" + b"no CR, then a command\x1bRfv\r") == [p.Command("Rfv")]
    [garbage] = p.CommandDecoder().feed(b"garbage\r")  # after a CR the ESC may be left out: a command, unknown
    assert m.handle(garbage).reply == b"ERROR CDE\r"
    [broken, rfv] = p.CommandDecoder().feed(b"\x1bRf\x1bRfv\r")
    assert (m.handle(broken).reply, rfv) == (b"ERROR CDE\r", p.Command("Rfv"))


# ---------------------------------------------------------------------------------------------- faults


def test_jam_at_se_holds_until_a_hand_clears_it() -> None:
    m = machine(faults="jam@1")
    replies, _ = run_card(m)
    assert replies[-1] == "CARD JAM"
    for name in ("Ss", "Se", "Ser", "Srs"):
        assert send(m, name) == "CARD JAM"
    assert (send(m, "Rlr", "p"), m.cards, m.panels) == ("CARD", 1, 2)  # printed, then stuck on the way out
    outcome = m.clear()
    assert [(d["dest"], d["nik"], d["fault"]) for d in outcome.departures] == [("removed", NIK, "CARD JAM")]
    assert send(m, "Ss") == "OK"


@pytest.mark.parametrize(
    ("kind", "command", "reply", "inside", "counter", "clear"),
    [
        ("jam", "Se", "CARD JAM", True, 1, "clear"),
        ("ribbon_end", "Se", "ERROR RIBBON", True, 1, "new_ribbon"),
        ("cover_open", "Se", "COVER OPEN", True, 1, "close_cover"),
        ("hopper_full", "Se", "HOPPER FULL", True, 1, "empty_hopper"),
        ("head", "Se", "ERROR HEAD", True, 1, "Srs"),
        ("timeout", "Ss", "ERROR TIME OUT", True, 1, "Srs"),
        ("feeder_empty", "Ss", "FEEDER EMPTY", False, 0, "load"),
        ("cleaning", "Ss", "NEED CLEANING", False, 0, "clean"),
    ],
)
@pytest.mark.parametrize("how", ["scripted", "live"])
def test_each_fault_meets_its_command_and_holds_until_cleared(
    kind: str, command: str, reply: str, inside: bool, counter: int, clear: str, how: str
) -> None:
    m = machine(faults=f"{kind}@1" if how == "scripted" else "")
    if how == "live":
        m.arm(kind)
    replies, _ = run_card(m)
    assert replies[1 if command == "Ss" else -1] == reply
    assert (m.card is not None, m.cards) == (inside, counter)
    assert send(m, "Ss") == reply  # it holds
    if clear == "Srs":
        assert send(m, "Srs") == "OK"
    elif clear == "load":
        m.load(0)
    elif clear == "new_ribbon":
        m.new_ribbon()
    else:
        getattr(m, clear)()
    if m.card is not None and clear != "clear":
        assert send(m, "Ser") == "OK"
    assert m.card is None
    assert send(m, "Ss") == "OK"


def test_garble_corrupts_the_reply_to_ss_but_the_blank_is_taken() -> None:
    m = machine(faults="garble@1")
    [event] = p.CommandDecoder().feed(p.encode_command("Ss"))
    reply = m.handle(event).reply
    assert reply is not None and reply.endswith(b"\r") and all(b >= 0x80 for b in reply[:-1])
    assert isinstance(p.ReplyDecoder().feed(reply)[0], p.GarbledReply)
    assert (m.cards, send(m, "Rlr", "p")) == (1, "CARD")


def test_drop_loses_the_reply_to_se_after_the_card_went_out() -> None:
    m = machine(faults="drop@1", drop_s=2.5)
    send(m, "Ss")
    [event] = p.CommandDecoder().feed(p.encode_command("Se"))
    outcome = m.handle(event)
    assert (outcome.reply, outcome.link_down_s) == (None, 2.5)
    assert [d["dest"] for d in outcome.departures] == ["hopper"]


def test_a_fault_for_card_two_spares_card_one() -> None:
    m = machine(faults="head@2")
    assert run_card(m)[0][-1] == "OK"
    assert run_card(m)[0][-1] == "ERROR HEAD"


def test_live_jam_with_a_card_inside_jams_it_where_it_is() -> None:
    m = machine()
    send(m, "Ss")
    m.jam()
    assert send(m, "Se") == "CARD JAM"
    assert [(d["dest"], d["panels"]) for d in m.clear().departures] == [("removed", [])]


def test_an_open_cover_stops_motion_but_not_reads() -> None:
    m = machine()
    m.open_cover()
    assert (send(m, "Ss"), send(m, "Rco", "c"), send(m, "Rlr", "p")) == ("COVER OPEN", "0", "OK")
    m.close_cover()
    assert send(m, "Ss") == "OK"


def test_the_ribbon_runs_out_and_ss_says_so_before_taking_a_blank() -> None:
    m = machine(ribbon_prints=1)
    assert run_card(m)[0][-1] == "OK"
    assert (send(m, "Rco", "I"), send(m, "Ss"), m.cards) == ("0", "ERROR RIBBON", 1)


def test_a_hopper_at_capacity_refuses_the_next_card() -> None:
    m = machine(hopper_capacity=1)
    run_card(m)
    assert run_card(m)[0][-1] == "HOPPER FULL"
    m.empty_hopper()
    assert send(m, "Se") == "OK"  # the card waited inside with its data


# ---------------------------------------------------------------------------------------------- spec, plan, state


@pytest.mark.parametrize(
    ("spec", "position", "why"),
    [("jam@1,,head@2", 2, "empty"), ("jam@1,bogus@2", 2, "unknown_kind"), ("jam@0", 1, "bad_card"),
     ("head~2", 1, "bad_probability"), ("head", 1, "syntax"), ("jam@x", 1, "bad_card")],
)  # fmt: skip
def test_a_bad_fault_spec_names_the_bad_item(spec: str, position: int, why: str) -> None:
    with pytest.raises(FaultSpecError) as caught:
        parse_faults(spec)
    assert (caught.value.position, caught.value.why) == (position, why)
    assert caught.value.item in str(caught.value)


def test_a_seeded_plan_draws_the_same_faults_every_time() -> None:
    draws = [[FaultPlan.from_spec("jam~0.3,head~0.3,garble@4", seed=7).for_card(n) for n in range(1, 40)]
             for _ in range(2)]  # fmt: skip
    assert draws[0] == draws[1]
    assert "garble" in draws[0][3] and any(draws[0][:3] + draws[0][4:])
    assert set(KINDS) >= {kind for card in draws[0] for kind in card}


def test_a_snapshot_restores_the_same_printer_with_its_card_inside() -> None:
    m = machine()
    run_card(m)
    send(m, "Ss")
    again = Machine(MachineOptions(feeder=99), saved=m.snapshot())
    assert (again.cards, again.feeder, again.serial, again.seq) == (2, 3, m.serial, 1)
    assert send(again, "Rlr", "p") == "CARD"


def test_a_broken_snapshot_is_refused_with_the_field_named() -> None:
    saved = machine().snapshot()
    saved["cards"] = "many"
    with pytest.raises(ValueError, match="cards"):
        Machine(saved=saved)


def test_nik_is_the_first_run_of_exactly_sixteen_digits() -> None:
    assert nik_of(["Nama : A", f"NIK : {NIK}", "5203074708900002"]) == NIK
    assert nik_of(["12345678901234567", "tgl 01-01-1990"]) is None


# ---------------------------------------------------------------------------------------------- robustness

COMMAND_BYTES = st.sampled_from(list(card_commands()) + [
    p.encode_command(n) for n in ("Ser", "Srs", "Rfv", "Rr")] + [p.encode_command("Rlr", "p"),
    p.encode_command("Rco", "c"), b"\x1bDbc;k;2;0;4;", b"\x1b", b"\r", b";"])  # fmt: skip


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.binary(max_size=64), COMMAND_BYTES), max_size=30))
def test_random_bytes_never_crash_nor_hang_the_printer(chunks: list[bytes]) -> None:
    m, decoder = machine(faults="jam~0.2,garble~0.2,timeout~0.2,head~0.2", seed=3), p.CommandDecoder()
    for chunk in chunks:
        for event in decoder.feed(chunk):
            outcome = m.handle(event)
            assert outcome.reply is None or outcome.reply.endswith(b"\r")


HANDS = ("load", "open_cover", "close_cover", "jam", "clear", "empty_hopper", "new_ribbon", "clean")


@settings(max_examples=200, deadline=2000)
@given(st.lists(st.one_of(COMMAND_BYTES, st.sampled_from(HANDS), st.sampled_from(KINDS)), max_size=40))
def test_every_blank_taken_leaves_exactly_one_record_or_is_still_inside(steps: list[object]) -> None:
    m, decoder, records = machine(feeder=4, faults="jam~0.3,head~0.2,drop~0.2", seed=5), p.CommandDecoder(), []
    for step in steps:
        if isinstance(step, bytes):
            for event in decoder.feed(step):
                records += m.handle(event).departures
        elif step == "clear" and m.status()["fault"] != "CARD JAM":
            with pytest.raises(model.HandRefused):
                m.clear()
        elif step in HANDS:
            records += (m.load(1) if step == "load" else getattr(m, step)()).departures
        else:
            records += m.arm(step).departures
    counters = [r["counter"] for r in records]
    assert len(counters) == len(set(counters))
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert m.cards == len(records) + (m.card is not None)
    assert m.reject == sum(r["dest"] == "reject" for r in records)


def test_status_names_the_fault_the_printer_stands_in() -> None:
    m = machine(feeder=1, ribbon_prints=5)
    assert m.status()["fault"] is None
    m.open_cover()
    assert m.status()["fault"] == "COVER OPEN"
    m.close_cover()
    send(m, "Ss")
    assert m.status()["fault"] == "FEEDER EMPTY" and m.status()["card_inside"]
    m.jam()
    assert m.status()["fault"] == "CARD JAM" and m.status()["card"]["jammed"]


def test_a_reset_cannot_free_a_jam_nor_work_with_the_cover_open_and_keeps_cleaning_due() -> None:
    m = machine(faults="cleaning@1")
    assert send(m, "Ss") == "NEED CLEANING"
    assert (send(m, "Srs"), send(m, "Ss")) == ("OK", "NEED CLEANING")
    m.clean()
    m.open_cover()
    assert send(m, "Srs") == "COVER OPEN"
    m.close_cover()
    send(m, "Ss")
    m.jam()
    assert (send(m, "Srs"), m.card is not None) == ("CARD JAM", True)


# ---------------------------------------------------------------------------------------------- audit fixes


@pytest.mark.parametrize(("first", "commands", "reply"), [
    ("timeout", ("Ss",), "ERROR TIME OUT"),  # the blank stopped short: ERROR TIME OUT latched
    ("head", ("Ss", "Se"), "ERROR HEAD"),  # ERROR HEAD latched, the card waits inside
    ("ribbon_end", ("Ss", "Se"), "ERROR RIBBON"),  # a standing condition, not latched
])  # fmt: skip
def test_a_card_that_jams_after_another_fault_struck_it_leaves_logged_as_jammed(
    first: str, commands: tuple[str, ...], reply: str
) -> None:
    m = machine(faults=f"{first}@1")
    assert [send(m, name) for name in commands][-1] == reply
    m.jam()
    assert (send(m, "Se"), send(m, "Srs"), m.status()["card"]["fault"]) == ("CARD JAM", "CARD JAM", "CARD JAM")
    [line] = m.clear().departures
    assert (line["dest"], line["fault"]) == ("removed", "CARD JAM")  # emulator.md: the error that jammed it


def test_clear_acts_on_a_jam_only_and_leaves_a_card_that_is_not_stuck_to_the_host() -> None:
    m = machine(faults="head@1")
    with pytest.raises(model.HandRefused, match="no jammed card"):
        m.clear()  # nothing inside
    assert (send(m, "Ss"), send(m, "Se")) == ("OK", "ERROR HEAD")
    with pytest.raises(model.HandRefused, match="no jammed card"):
        m.clear()
    assert (send(m, "Rlr", "p"), m.status()["fault"], m.seq) == ("CARD", "ERROR HEAD", 0)  # nothing moved
    outcome = m.handle(p.CommandDecoder().feed(p.encode_command("Srs"))[0])
    assert [(d["dest"], d["fault"]) for d in outcome.departures] == [("reject", "ERROR HEAD")]
    m.arm("jam")  # armed, not struck: nothing to take out yet
    with pytest.raises(model.HandRefused):
        m.clear()
    assert m.armed == ["jam"]


def test_a_command_after_a_cr_needs_no_esc() -> None:
    m, decoder = machine(), model.command_decoder()
    events = decoder.feed(b"Rfv\r\x1bRr\rRco;c\r\nSk;f\r")  # the first one at the start of the link
    assert events == [p.Command("Rfv"), p.Command("Rr"), p.Command("Rco", ("c",)), p.Command("Sk", ("f",))]
    assert [m.handle(event).reply for event in events] == [b"1.7.2\r", b"ko\r", b"0\r", b"0\r"]


def test_a_stray_second_esc_restarts_the_frame_and_earns_one_reply() -> None:
    m = machine()
    events = model.command_decoder().feed(b"\x1b\x1bRfv\r\x1b\x1b\x1bRco;c\r")
    assert [m.handle(event).reply for event in events] == [b"1.7.2\r", b"0\r"]


def test_a_dbc_announcing_more_than_a_panel_takes_is_refused_at_its_header() -> None:
    m, decoder = machine(), model.command_decoder()
    header = b"\x1bDbc;k;2;0;%d;" % (p.MAX_DBC_PAYLOAD + 1)
    [refused] = decoder.feed(header)  # at once: no payload waited for
    assert m.handle(refused).reply == b"ERROR PARAMETRES\r"
    payload = bytes([0x1B, 0x0D, 0x51]) * ((p.MAX_DBC_PAYLOAD + 1) // 3) + b"\r\r"  # CR, ESC: skipped unread
    assert decoder.feed(payload[:1000]) == [] and decoder.feed(payload[1000:] + b"\x1bRfv\r") == [p.Command("Rfv")]
    [huge] = model.command_decoder().feed(b"\x1bDbc;k;2;0;99999999999999;")  # more digits than the old check
    assert m.handle(huge).reply == b"ERROR PARAMETRES\r"
    assert model.command_decoder().feed(b"\x1bDbc;k;2;0;%d;" % p.MAX_DBC_PAYLOAD) == []  # waits for it
    assert p.MAX_DBC_PAYLOAD == 1016 * (1 + 81)  # a count byte and all 81 bytes on every line


LONG_WT = p.text_command(0, 0, 0, 30, "A" * (p.MAX_HEADER + 10))
MAX_WT = b"\x1bWt;0;0;0;30;" + b"B" * (p.MAX_HEADER - len("Wt;0;0;0;30;")) + b"\r"  # a header of MAX_HEADER
WIRE = [LONG_WT, MAX_WT, b"\x1b\x1bRfv\r", b"Rco;c\r", b"\r\n", b"\x1bRf", b"junk", b"\x1bDbc;k;2;0;99999;",
        p.dbc_command("k", 100, b"\x00\x00\r\x1b\r\x1b\r" + bytes(range(1, 10)) + b"\xff\x00"),
        p.encode_command("Db", "k", 2, payload=bytes([0x0D, 0x1B]) * (p.PANEL_BYTES // 2)),
        b"\x1bDbc;k;2;0;3;abcd\r"] + card_commands()  # fmt: skip


def events_in_chunks(wire: bytes, cuts: list[int]) -> list[p.Command | p.BadFrame]:
    decoder, events, start = model.command_decoder(), [], 0
    for end in sorted(set(cuts)) + [len(wire)]:
        events += decoder.feed(wire[start:end])
        start = end
    return events


@pytest.mark.parametrize("size", [1, 13, 1000, p.MAX_HEADER, p.MAX_HEADER + 1, 10**6])
def test_a_long_wt_gets_the_same_verdict_however_its_bytes_are_split(size: int) -> None:
    wire = LONG_WT + MAX_WT + p.encode_command("Rfv")
    events = events_in_chunks(wire, list(range(size, len(wire), size)))
    assert events == model.command_decoder().feed(wire)
    assert [type(event).__name__ for event in events] == ["BadFrame", "Command", "Command"]
    assert [machine().handle(event).reply for event in events][::2] == [b"ERROR CDE\r", b"1.7.2\r"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(WIRE), st.binary(max_size=40)), max_size=12), st.data())
def test_the_decoder_verdict_never_depends_on_how_bytes_arrive(parts: list[bytes], data: st.DataObject) -> None:
    wire = b"".join(parts)
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=20))
    assert events_in_chunks(wire, cuts) == model.command_decoder().feed(wire)


def test_a_dbc_draws_the_lines_its_data_holds_and_keeps_the_rest_of_the_panel() -> None:
    m = machine()
    assert (send(m, "Ss"), send(m, "Wcb", "k", 255)) == ("OK", "OK")
    assert send(m, "Dbc", "k", 2, 10, 3, payload=b"\x00\x01\x0f") == "OK"  # lines 10 and 11 only
    [event] = p.CommandDecoder().feed(p.encode_command("Se"))
    [card] = m.handle(event).printed
    line = [card.black[n * p.BYTES_PER_LINE : (n + 1) * p.BYTES_PER_LINE] for n in range(p.LINES)]
    assert line[10] == bytes(81) and line[11] == b"\x0f" + bytes(80)
    assert line[9] == line[12] == line[1015] == b"\xff" * 81


def test_del_and_latin1_text_go_on_the_wire_only_bytes_below_0x20_are_refused() -> None:
    m = machine()
    assert send(m, "Wt", 10, 10, 0, 30, "A\x7fB \xe9") == "OK"  # printer-protocol.md: no byte below 0x20
    assert m.page.texts[-1].text == "A\x7fB \xe9"
    with pytest.raises(p.EncodeError, match="control character"):
        p.text_command(10, 10, 0, 30, "A\x1fB")


@pytest.mark.parametrize(
    ("spec", "why"), [("jam@²", "bad_card"), ("jam@١", "bad_card"), ("head~٠.٥", "bad_probability")]
)
def test_a_fault_spec_with_digits_that_are_not_ascii_is_refused_as_a_bad_item(spec: str, why: str) -> None:
    with pytest.raises(FaultSpecError) as caught:
        parse_faults(spec)
    assert (caught.value.position, caught.value.why, caught.value.item) == (1, why, spec)


# emulator.md's fault kinds; any other kind of KINDS is this emulator's own and docs/emulator.md must say so.
SPEC_KINDS = {"jam", "ribbon_end", "feeder_empty", "cover_open", "hopper_full", "head", "timeout", "garble", "drop"}


def test_every_fault_kind_is_documented_and_one_beyond_the_spec_is_marked_an_extension() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "emulator.md").read_text(encoding="utf-8")
    rows = {
        line.split("`")[1]: line for line in docs.splitlines() if line.startswith("| `") and line.count("|") == 9
    }  # the rows of the fault table
    assert set(KINDS) <= set(rows)
    for kind in set(KINDS) - SPEC_KINDS:
        assert "extension" in rows[kind], f"{kind} is not in emulator.md's list: docs/emulator.md must say so"
