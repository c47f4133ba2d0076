"""The emulator as a host meets it: real pseudo-terminals, real TCP sockets, the control socket, the command line."""

from __future__ import annotations

import json
import os
import random
import select
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import serial
from PIL import Image

from drivers import protocol as p
from drivers.emulator import EmulatorServer, EmulatorStateError, read_output_log
from drivers.emulator.servers import Pacer, transfer_seconds
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parent.parent
STATION = ROOT / ".venv" / "bin" / "station"
NIK = "5203074708900001"


class Host:
    """A plain pyserial host: one command, one reply."""

    def __init__(self, link: serial.SerialBase) -> None:
        self.link = link

    def ask(self, raw: bytes) -> bytes:
        self.link.write(raw)
        return self.link.read_until(b"\r")

    def cmd(self, name: str, *params: object, payload: bytes | None = None) -> str:
        reply = self.ask(p.encode_command(name, *params, payload=payload))
        assert reply.endswith(b"\r"), f"{name}: no reply ({reply!r})"
        return reply[:-1].decode("latin-1")

    def card_data(self, black: bytes | None = None) -> None:
        assert self.cmd("Sr") == "OK"
        if black is not None:
            assert self.ask(p.dbc_command("k", 0, p.compress_dbc(black))) == b"OK\r"
        assert self.ask(p.text_command(40, 60, 1, 40, f"NIK : {NIK}")) == b"OK\r"
        assert self.cmd("Wcb", "o", 255) == "OK"

    def print_card(self) -> None:
        assert self.cmd("Ss") == "OK"
        self.card_data()
        assert self.cmd("Se") == "OK"


def control(address: tuple[str, int], *lines: str) -> list[str]:
    with socket.create_connection(address, timeout=5) as conn, conn.makefile("rw", encoding="utf-8") as stream:
        answers = []
        for line in lines:
            stream.write(line + "\n")
            stream.flush()
            answers.append(stream.readline().rstrip("\n"))
        return answers


def log_of(path: Path) -> list[tuple[str, str | None]]:
    return [(line["dest"], line["nik"]) for line in read_output_log(path)]


# ---------------------------------------------------------------------------------------------- the pseudo-terminal


def test_the_pty_is_raw_binary_passes_untouched_and_each_card_has_its_picture(tmp_path: Path) -> None:
    line = bytes([0x0D, 0x0A, 0x1B, 0x03, 0x11, 0x13, 0x7F, 0x04, 0x1A]) + bytes(72)  # CR LF ESC ^C XON XOFF …
    black = bytearray(p.PANEL_BYTES)
    black[500 * p.BYTES_PER_LINE : 501 * p.BYTES_PER_LINE] = line
    cards = tmp_path / "cards"
    with EmulatorServer.pty(feeder=5, time_scale=0, cards=cards) as emu, serial.Serial(emu.port, timeout=5) as s:
        host = Host(s)
        assert host.cmd("Ss") == "OK"  # an echo would come back before the reply
        host.card_data(bytes(black))
        assert host.cmd("Se") == "OK"
        host.print_card()
    pictures = sorted(cards.glob("*.png"))
    assert [pic.name for pic in pictures] == ["card-0000001.png", "card-0000002.png"]
    with Image.open(pictures[0]) as picture:
        assert picture.size == (1016, 648)
        column = [picture.getpixel((500, y)) for y in range(72)]
    expected = [0 if line[y // 8] & (0x80 >> (y % 8)) else 255 for y in range(72)]
    assert column == expected  # line 500 is the column x = 500, bit k the dot y = k


def test_the_host_may_close_the_device_and_open_it_again() -> None:
    with EmulatorServer.pty(feeder=5, time_scale=0) as emu:
        for _ in range(3):
            with serial.Serial(emu.port, timeout=5) as s:
                assert Host(s).cmd("Rfv") == "1.7.2"


def test_closing_leaves_no_thread_and_no_descriptor() -> None:
    threads, fds = threading.active_count(), len(os.listdir("/proc/self/fd"))
    with EmulatorServer.pty(feeder=1, time_scale=0, control=("127.0.0.1", 0)) as emu:
        with serial.Serial(emu.port, timeout=5) as s:
            assert Host(s).cmd("Rsn").startswith("EMU")
        assert control(emu.control_address, "status")[0].startswith("{")  # type: ignore[arg-type]
    assert (threading.active_count(), len(os.listdir("/proc/self/fd"))) == (threads, fds)


async def test_the_async_context_manager_serves_and_stops() -> None:
    async with EmulatorServer.pty(feeder=2, time_scale=0) as emu:
        with serial.Serial(emu.port, timeout=5) as s:
            assert Host(s).cmd("Sk", "f") == "0"
        assert emu.status()["feeder"] == 2


def test_random_bytes_do_not_hang_the_link(tmp_path: Path) -> None:
    noise = random.Random(11).randbytes(3000) + b"\x1bDbc;k;2;0;99999;"  # ends waiting for a payload never sent
    with EmulatorServer.pty(feeder=2, time_scale=0, frame_timeout_s=0.3) as emu:
        with serial.Serial(emu.port, timeout=1.5) as s:
            s.write(noise)
            s.read(100_000)  # whatever the noise earned, until the line is quiet for 1.5 s
            assert Host(s).cmd("Rfv") == "1.7.2"


# ---------------------------------------------------------------------------------------------- faults, both ways

# kind, the command that meets it, its reply, card inside after, Rco;c after, the output log in the end
MATRIX = [
    ("jam", "Se", "CARD JAM", True, 1, [("removed", NIK)]),
    ("ribbon_end", "Se", "ERROR RIBBON", True, 1, [("hopper", NIK)]),
    ("cover_open", "Se", "COVER OPEN", True, 1, [("hopper", NIK)]),
    ("hopper_full", "Se", "HOPPER FULL", True, 1, [("hopper", NIK)]),
    ("head", "Se", "ERROR HEAD", True, 1, [("reject", None)]),
    ("timeout", "Ss", "ERROR TIME OUT", True, 1, [("reject", None)]),
    ("feeder_empty", "Ss", "FEEDER EMPTY", False, 0, [("hopper", NIK)]),
    ("cleaning", "Ss", "NEED CLEANING", False, 0, [("hopper", NIK)]),
    ("garble", "Ss", None, True, 1, [("hopper", NIK)]),
    ("drop", "Se", None, False, 1, [("hopper", NIK)]),
]
# What a person (or the host) does to clear it, as a control line; "Srs" is the host's reset.
REMEDY = {"jam": "clear", "ribbon_end": "ribbon 100", "cover_open": "close-cover", "hopper_full": "empty-hopper",
          "head": "Srs", "timeout": "Srs", "feeder_empty": "load 10", "cleaning": "clean"}  # fmt: skip


@pytest.mark.parametrize("how", ["scripted", "live"])
@pytest.mark.parametrize(("kind", "command", "reply", "inside", "counter", "log"), MATRIX, ids=[m[0] for m in MATRIX])
async def test_fault(kind: str, command: str, reply: str | None, inside: bool, counter: int,
                     log: list[tuple[str, str | None]], how: str, tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "out.jsonl"
    options = {"feeder": 5, "time_scale": 0, "log": out, "drop_s": 0.3, "control": ("127.0.0.1", 0)}
    with EmulatorServer.pty(faults=f"{kind}@1" if how == "scripted" else "", **options) as emu:
        if how == "live":
            assert control(emu.control_address, f"fault {kind}") == ["OK"]  # type: ignore[arg-type]
        with serial.Serial(emu.port, timeout=5) as s:
            host = Host(s)
            assert host.cmd("Pem", 2) == "OK"
            raw = host.ask(p.encode_command("Ss"))
            if command == "Ss":
                check_fault_reply(raw, kind, reply)
            else:
                assert raw == b"OK\r"
                host.card_data()
                s.timeout = 1.0 if kind == "drop" else 5
                check_fault_reply(host.ask(p.encode_command("Se")), kind, reply)
                s.timeout = 5
            if kind == "drop":
                await wait_for(lambda: emu.status()["link_up"], 10, "the link to come back")
            assert (host.cmd("Rlr", "p"), host.cmd("Rco", "c")) == ("CARD" if inside else "OK", str(counter))
            if reply is not None:
                assert host.cmd(command) == reply, "the fault holds until cleared"
            recover(host, emu, kind, how)
    assert log_of(out) == log
    if log[0][0] != "hopper":
        assert read_output_log(out)[0]["fault"] == reply


def check_fault_reply(raw: bytes, kind: str, reply: str | None) -> None:
    if kind == "garble":
        assert raw.endswith(b"\r") and isinstance(p.ReplyDecoder().feed(raw)[0], p.GarbledReply)
    elif kind == "drop":
        assert raw == b""
    else:
        assert raw == p.encode_reply(reply or "")


def recover(host: Host, emu: EmulatorServer, kind: str, how: str) -> None:
    remedy = REMEDY.get(kind)
    if remedy == "Srs":
        assert host.cmd("Srs") == "OK"
    elif remedy is not None and how == "scripted":
        assert control(emu.control_address, remedy) == ["OK"]  # type: ignore[arg-type]
    elif remedy is not None:
        verb, *args = remedy.split()
        method = {"ribbon": "new_ribbon", "load": "load"}.get(verb, verb.replace("-", "_"))
        getattr(emu, method)(*map(int, args))
    if kind in ("feeder_empty", "cleaning"):
        assert host.cmd("Ss") == "OK"
    if kind in ("feeder_empty", "cleaning", "garble"):
        host.card_data()
    if kind in ("ribbon_end", "cover_open", "hopper_full", "feeder_empty", "cleaning", "garble"):
        assert host.cmd("Se") == "OK"
    assert host.cmd("Rlr", "p") == "OK"


def test_a_hand_jams_the_card_inside_and_takes_it_out(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with EmulatorServer.pty(feeder=5, time_scale=0, log=out) as emu, serial.Serial(emu.port, timeout=5) as s:
        host = Host(s)
        assert host.cmd("Ss") == "OK"
        emu.jam()
        host.card_data()
        assert (host.cmd("Se"), host.cmd("Ser"), emu.status()["fault"]) == ("CARD JAM", "CARD JAM", "CARD JAM")
        emu.clear()
        assert (host.cmd("Rlr", "p"), emu.status()["fault"]) == ("OK", None)
    assert [(line["dest"], line["panels"], line["fault"]) for line in read_output_log(out)] == [
        ("removed", [], "CARD JAM")]  # fmt: skip


async def test_unplugged_the_printer_hears_nothing_until_plugged_again() -> None:
    with EmulatorServer.pty(feeder=5, time_scale=0) as emu, serial.Serial(emu.port, timeout=0.5) as s:
        host = Host(s)
        emu.unplug()
        assert host.ask(p.encode_command("Ss")) == b""
        assert emu.status()["counters"]["cards"] == 0  # the command never arrived
        emu.plug()
        s.timeout = 5
        assert host.cmd("Ss") == "OK"


# ---------------------------------------------------------------------------------------------- durability


def test_the_log_line_is_written_before_the_reply(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with EmulatorServer.pty(feeder=5, time_scale=0, log=out) as emu, serial.Serial(emu.port, timeout=5) as s:
        host = Host(s)
        for expected in range(1, 4):
            host.print_card()
            lines = read_output_log(out)
            assert [(line["seq"], line["counter"]) for line in lines][-1] == (expected, expected)
        assert host.cmd("Ss") == "OK" and host.cmd("Ser") == "OK"
        assert log_of(out)[-1] == ("reject", None)


def test_a_restarted_emulator_is_the_same_printer_with_its_card_inside(tmp_path: Path) -> None:
    state, out = tmp_path / "state.json", tmp_path / "out.jsonl"
    options = {"feeder": 5, "time_scale": 0, "state": state, "log": out}
    with EmulatorServer.pty(**options) as emu, serial.Serial(emu.port, timeout=5) as s:
        host = Host(s)
        host.print_card()
        assert host.cmd("Ss") == "OK"
        serial_number = host.cmd("Rsn")
    with EmulatorServer.pty(**{**options, "feeder": 99}) as emu, serial.Serial(emu.port, timeout=5) as s:
        host = Host(s)
        assert (host.cmd("Rsn"), host.cmd("Rco", "c"), host.cmd("Rco", "p")) == (serial_number, "2", "2")
        assert (host.cmd("Rlr", "p"), emu.status()["feeder"]) == ("CARD", 3)
        assert host.cmd("Ser") == "OK"
    assert [(line["seq"], line["counter"], line["dest"]) for line in read_output_log(out)] == [
        (1, 1, "hopper"), (2, 2, "reject")]  # fmt: skip


def test_a_line_lost_in_a_crash_is_written_once_on_restart(tmp_path: Path) -> None:
    state, out = tmp_path / "state.json", tmp_path / "out.jsonl"
    options = {"feeder": 5, "time_scale": 0, "state": state, "log": out}
    with EmulatorServer.pty(**options) as emu, serial.Serial(emu.port, timeout=5) as s:
        Host(s).print_card()
        Host(s).print_card()
    whole = out.read_bytes()
    first_end = whole.index(b"\n") + 1
    out.write_bytes(whole[: first_end + 20])  # killed while writing the second line: the state was saved first
    with EmulatorServer.pty(**options) as emu, serial.Serial(emu.port, timeout=5) as s:
        Host(s).print_card()
    assert [line["seq"] for line in read_output_log(out)] == [1, 2, 3]
    assert out.read_bytes().startswith(whole)


def test_bad_options_are_refused_before_anything_starts() -> None:
    with pytest.raises(ValueError, match="item 2 'smoke@2'"):
        EmulatorServer.pty(faults="jam@1,smoke@2")
    with pytest.raises(TypeError, match="feedr"):
        EmulatorServer.pty(feedr=5)
    with pytest.raises(ValueError, match="time_scale"):
        EmulatorServer.tcp(time_scale=-1)


def test_a_damaged_state_file_is_refused_with_its_name(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json", encoding="utf-8")
    with pytest.raises(EmulatorStateError, match=r"state\.json"):
        EmulatorServer.pty(state=state, time_scale=0).start()


# ---------------------------------------------------------------------------------------------- TCP, control


def test_tcp_serves_a_pyserial_socket_url(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with EmulatorServer.tcp(feeder=3, time_scale=0, log=out) as emu:
        assert emu.port.startswith("socket://127.0.0.1:")
        link = serial.serial_for_url(emu.port, timeout=5)
        try:
            host = Host(link)
            host.print_card()
            assert host.ask(p.dbc_command("k", 100, b"\x00\x00\r\x1b\r\x1b\r" + bytes(range(1, 10)) + b"\xff\x00")) \
                == b"OK\r"  # fmt: skip
        finally:
            link.close()
    assert log_of(out) == [("hopper", NIK)]


def test_the_control_socket_answers_each_line_with_one_line(tmp_path: Path) -> None:
    with EmulatorServer.pty(feeder=2, time_scale=0, control=("127.0.0.1", 0)) as emu:
        address = emu.control_address
        assert address is not None
        answers = control(address, "load 3", "open-cover", "status", "load x", "frobnicate", "", "fault nope")
    assert answers[:2] == ["OK", "OK"]
    status = json.loads(answers[2])
    assert (status["feeder"], status["cover"], status["fault"], status["plugged"]) == (5, "open", "COVER OPEN", True)
    assert set(status) >= {"ribbon_left", "counters", "card_inside", "hopper", "reject"}
    assert all(answer.startswith("ERROR ") for answer in answers[3:])
    assert "load N" in answers[3] and "frobnicate" in answers[4]


def test_the_control_socket_listens_on_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        EmulatorServer.pty(control=("0.0.0.0", 0), time_scale=0).start()


# ---------------------------------------------------------------------------------------------- time and baud


def test_the_link_time_is_ten_bits_a_byte() -> None:
    assert transfer_seconds(960, 9600) == pytest.approx(1.0)
    assert transfer_seconds(82_296, 115_200) == pytest.approx(7.14, abs=0.01)
    assert transfer_seconds(10**6, None) == 0.0
    assert Pacer(9600).chunk() == 48 and Pacer(None).chunk() == 65536


def test_a_slow_line_and_a_slow_printer_take_at_least_their_time() -> None:
    payload = bytes(range(1, 81)) * 2  # 160 bytes, about 0.67 s at 2400 baud
    with EmulatorServer.pty(feeder=2, time_scale=0.05, baud=2400) as emu, serial.Serial(emu.port, timeout=10) as s:
        host = Host(s)
        started = time.monotonic()
        assert host.cmd("Wt", 0, 0, 0, 30, payload.hex()[:150]) == "OK"
        assert time.monotonic() - started >= 0.5  # a lower bound only: 170 bytes at 240 bytes a second
        started = time.monotonic()
        assert host.cmd("Ss") == "OK"
        assert time.monotonic() - started >= 1.5 * 0.05  # the feed, scaled


# ---------------------------------------------------------------------------------------------- the command line


def start_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([str(STATION), "emulator", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd="/")  # fmt: skip
    ready, _, _ = select.select([process.stdout], [], [], 20)
    if not ready:
        process.kill()
        process.communicate()
        raise AssertionError("station emulator printed nothing")
    assert process.stdout is not None
    return process, process.stdout.readline().rstrip("\n")


@pytest.mark.parametrize("how", ["--pty", "--tcp"])
def test_station_emulator_prints_its_port_first_and_stops_on_sigterm(how: str, tmp_path: Path) -> None:
    where = ["--pty"] if how == "--pty" else ["--tcp", "127.0.0.1:0", "--control", "127.0.0.1:0"]
    out = tmp_path / "out.jsonl"
    process, first = start_cli(*where, "--time-scale", "0", "--feeder", "3", "--log", str(out),
                               "--state", str(tmp_path / "state.json"), "--faults", "head@2")  # fmt: skip
    try:
        if how == "--tcp":
            assert process.stderr is not None
            control_port = int(process.stderr.readline().rstrip().rpartition(":")[2])
            assert json.loads(control(("127.0.0.1", control_port), "status")[0])["feeder"] == 3
        link = serial.Serial(first, timeout=5) if how == "--pty" else serial.serial_for_url(first, timeout=5)
        with link:
            host = Host(link)
            host.print_card()
            assert host.cmd("Ss") == "OK"
            host.card_data()
            assert host.cmd("Se") == "ERROR HEAD"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert first.startswith("/dev/") if how == "--pty" else first.startswith("socket://127.0.0.1:")
    assert log_of(out) == [("hopper", NIK)]
    saved = json.loads((tmp_path / "state.json").read_text(encoding="utf-8"))
    assert (saved["cards"], saved["card"]["fault"]) == (2, "ERROR HEAD")


def test_station_emulator_refuses_a_bad_fault_spec_naming_the_item() -> None:
    result = subprocess.run([str(STATION), "emulator", "--pty", "--faults", "jam@1,smoke@2"], capture_output=True,
                            text=True, timeout=30, cwd="/")  # fmt: skip
    assert result.returncode == 2
    assert "smoke@2" in result.stderr and result.stdout == ""


# ---------------------------------------------------------------------------------------------- audit fixes


def test_a_hand_that_jams_a_card_struck_by_another_fault_logs_it_jammed_and_clear_takes_only_a_jam(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.jsonl"
    options = {"feeder": 5, "time_scale": 0, "log": out, "faults": "head@1,head@2", "control": ("127.0.0.1", 0)}
    with EmulatorServer.pty(**options) as emu, serial.Serial(emu.port, timeout=5) as s:
        address = emu.control_address
        assert address is not None
        host = Host(s)

        def card_with_error_head_that_clear_refuses() -> None:
            assert host.cmd("Ss") == "OK"
            host.card_data()
            assert host.cmd("Se") == "ERROR HEAD"
            [refused] = control(address, "clear")
            assert refused.startswith("ERROR ") and "jam" in refused  # not stuck: it is the host's to reject
            assert (host.cmd("Rlr", "p"), emu.status()["fault"]) == ("CARD", "ERROR HEAD")

        card_with_error_head_that_clear_refuses()
        assert read_output_log(out) == []
        assert control(address, "jam", "clear") == ["OK", "OK"]  # card 1: jammed by a hand, taken out
        card_with_error_head_that_clear_refuses()  # card 2
        assert host.cmd("Srs") == "OK"
    assert [(line["dest"], line["fault"]) for line in read_output_log(out)] == [
        ("removed", "CARD JAM"), ("reject", "ERROR HEAD")]  # fmt: skip


def test_commands_without_esc_after_a_cr_and_a_stray_double_esc_each_get_one_reply() -> None:
    with EmulatorServer.pty(feeder=5, time_scale=0) as emu, serial.Serial(emu.port, timeout=5) as s:
        host = Host(s)
        assert host.ask(b"Rfv\r") == b"1.7.2\r"  # at the start of the link
        assert host.ask(b"Rsn\r\n") == f"{emu.status()['serial']}\r".encode()
        assert host.ask(b"\x1b\x1bSk;f\r") == b"0\r"
        assert host.ask(b"Rco;c\r") == b"0\r"  # in step: one reply each
        assert host.ask(b"Zzz\r") == b"ERROR CDE\r"


def test_a_dbc_announcing_more_than_a_panel_is_refused_before_its_payload_and_the_link_stays_in_step() -> None:
    with EmulatorServer.pty(feeder=5, time_scale=0) as emu, serial.Serial(emu.port, timeout=5) as s:
        host = Host(s)
        assert host.ask(b"\x1bDbc;k;2;0;100000;") == b"ERROR PARAMETRES\r"  # the payload is not sent yet
        s.write(bytes([0x0D, 0x1B, 0x00, 0xFF]) * 25_000 + b"\r")  # the announced bytes, then the CR
        assert host.cmd("Rfv") == "1.7.2"


def test_the_control_socket_refuses_digits_that_are_not_ascii_and_goes_on_answering() -> None:
    with EmulatorServer.pty(feeder=2, time_scale=0, control=("127.0.0.1", 0)) as emu:
        assert emu.control_address is not None
        answers = control(emu.control_address, "load ²", "ribbon ³", "load 3", "status")
    assert answers[0] == "ERROR bad arguments '²'; usage: load N (N blanks, 0 or more)"
    assert answers[1].startswith("ERROR bad arguments '³'; usage: ribbon [N]")
    assert answers[2] == "OK" and json.loads(answers[3])["feeder"] == 5


@pytest.mark.parametrize("name", ["time_scale", "drop_s", "frame_timeout_s"])
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_a_time_that_is_not_a_finite_number_is_refused(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"{name} must be a finite number"):
        EmulatorServer.pty(**{name: value})


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_station_emulator_refuses_a_time_scale_that_is_not_finite(value: str) -> None:
    result = subprocess.run([str(STATION), "emulator", "--pty", "--time-scale", value], capture_output=True,
                            text=True, timeout=30, cwd="/")  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""  # refused before serving, as a usage error
    assert "--time-scale" in result.stderr and value in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("address", ["127.0.0.1:²", "127.0.0.1:99999", "nohost"])
def test_station_emulator_refuses_a_tcp_address_it_cannot_use(address: str) -> None:
    result = subprocess.run([str(STATION), "emulator", "--tcp", address], capture_output=True, text=True,
                            timeout=30, cwd="/")  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert "--tcp" in result.stderr and "Traceback" not in result.stderr
