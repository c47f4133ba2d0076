"""The emulator's machine model, pure: commands in, replies, motion times and departures out."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers import protocol as p
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
    [noise] = p.CommandDecoder().feed(b"garbage\r")
    assert m.handle(noise).reply is None
    [broken] = p.CommandDecoder().feed(b"\x1bRf\x1bRfv\r")[:1]
    assert m.handle(broken).reply == b"ERROR CDE\r"


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

COMMAND_BYTES = st.sampled_from([raw for raw in card_commands()] + [
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
