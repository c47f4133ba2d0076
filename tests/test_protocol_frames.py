"""An encoded command read back by the protocol (drivers/protocol.py): its header, name and where its payload
starts. The driver keeps and logs the header, and closes a bitmap cut inside its payload."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers import protocol


def test_a_dbc_header_leaves_its_payload_out() -> None:
    frame = protocol.dbc_command("k", 3, b"\x02;\r\x1b\x00")
    assert protocol.command_header(frame) == "Dbc;k;2;3;5"
    assert protocol.command_name(frame) == "Dbc"
    assert frame[protocol.payload_offset(frame) :] == b"\x02;\r\x1b\x00\r"


def test_a_db_payload_starts_after_its_third_field() -> None:
    payload = bytes(protocol.PANEL_BYTES)
    frame = protocol.encode_command("Db", "k", 2, payload=payload)
    assert protocol.command_header(frame) == "Db;k;2"
    assert protocol.payload_offset(frame) == len(frame) - len(payload) - 1


@pytest.mark.parametrize(
    "frame",
    [
        protocol.encode_command("Wt", 1, 2, 0, 10, "AINI; S.Pd"),
        protocol.encode_command("Se"),
        b"\r\r\r",
        b"",
        b"\x1bDbc;k\r",
    ],
)
def test_frames_without_a_payload_have_no_offset(frame: bytes) -> None:
    assert protocol.payload_offset(frame) is None


def test_a_text_keeps_all_its_parameters() -> None:
    assert protocol.command_header(protocol.text_command(1, 2, 0, 10, "AINI; S.Pd")) == "Wt;1;2;0;10;AINI; S.Pd"


@pytest.mark.parametrize("frame", [b"", b"Se\r", b"\x1bSe", b"\x1b\r", b"\x1b1;2\r", b"\x1bS\xe9\r"])
def test_what_is_not_an_encoded_command_is_refused(frame: bytes) -> None:
    with pytest.raises(protocol.EncodeError):
        protocol.command_header(frame)


@given(panel=st.sampled_from("kyo"), first=st.integers(0, protocol.LINES - 1), data=st.binary(max_size=300))
def test_the_decoder_and_the_header_agree(panel: str, first: int, data: bytes) -> None:
    """The printer's decoder and the host's reading of a `Dbc` find the same header and payload."""
    frame = protocol.dbc_command(panel, first, data)
    [command] = protocol.CommandDecoder().feed(frame)
    assert (command.name, *command.params) == tuple(protocol.command_header(frame).split(";"))
    assert command.payload == frame[protocol.payload_offset(frame) : -1]
