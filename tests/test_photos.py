"""Hostile photo files: a FIFO, a huge file behind a JPEG header, a picture whose header claims a billion
pixels. The import refuses them, naming the file and why; at print time (the file replaced since the import)
the card is held with the reason, and the run neither hangs nor reads gigabytes."""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from console.photo_file import PHOTO_MAX_BYTES
from tests.test_cli_robust import make_station, station
from tests.test_import import person, run_import, store, write_csv  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("english")


def png_header_claiming(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header says width x height (Pillow reads the header alone when asked the size)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) +
                     chunk(b"IEND", b""))  # fmt: skip
    return path


def jpeg_header_then_gigabytes(path: Path, size: int = 3 * 1024**3) -> Path:
    with open(path, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0")
        f.truncate(size)  # sparse: costs no disk
    return path


async def test_the_import_refuses_a_fifo_a_huge_file_and_too_many_pixels(store, tmp_path):
    (tmp_path / "foto").mkdir()
    os.mkfifo(tmp_path / "foto" / "fifo.jpg")
    (tmp_path / "foto" / "link.jpg").symlink_to(tmp_path / "foto" / "fifo.jpg")
    jpeg_header_then_gigabytes(tmp_path / "foto" / "huge.jpg")
    png_header_claiming(tmp_path / "foto" / "bomb.png", 40_000, 40_000)  # past Pillow's own limit
    png_header_claiming(tmp_path / "foto" / "big.png", 8_000, 8_000)  # past ours alone
    Image.new("RGB", (30, 40), "white").save(tmp_path / "foto" / "fine.jpg")
    names = ["fifo.jpg", "link.jpg", "huge.jpg", "bomb.png", "big.png", "fine.jpg"]
    rows = [person(i + 1, foto=f"foto/{name}") for i, name in enumerate(names)]
    result, rejections = await run_import(store, write_csv(tmp_path / "r.csv", rows))
    assert result.added == 1
    reasons = {r.row: r.problems[0].reason for r in rejections}
    assert "fifo.jpg is not a regular file" in reasons[2] and "link.jpg is not a regular file" in reasons[3]
    assert "huge.jpg is 3221225472 bytes" in reasons[4] and f"limit of {PHOTO_MAX_BYTES} bytes" in reasons[4]
    assert "bomb.png has more than the limit of 50,000,000 pixels" in reasons[5]
    assert "big.png has more than the limit" in reasons[6]


def station_with_a_photo_replaced_after_import(tmp_path: Path, make_hostile) -> Path:
    config = make_station(tmp_path, residents=2)
    assert station(config, "allocation", "add", "A1", "2", "--period", "2026-11").returncode == 0
    assert station(config, "enqueue", "--all").returncode == 0
    photo = make_hostile(tmp_path / "photo.jpg")
    with sqlite3.connect(tmp_path / "station.db") as db:
        db.execute("UPDATE residents SET foto = ? WHERE nik = (SELECT min(nik) FROM residents)", (str(photo),))
    return config


def test_a_photo_replaced_by_a_fifo_after_import_holds_its_card_and_printing_goes_on(tmp_path):
    config = station_with_a_photo_replaced_after_import(tmp_path, lambda p: (os.mkfifo(p), p)[1])
    printed = station(config, "print", timeout=60)  # it used to wait for a writer on the FIFO for ever
    assert "photo.jpg is not a regular file" in printed.stdout + printed.stderr
    snapshot = json.loads(station(config, "status", "--json").stdout)
    assert (snapshot["queue"]["held"], snapshot["untagged"]) == (1, 1)


def test_a_photo_replaced_by_gigabytes_after_import_is_never_read_whole(tmp_path):
    config = station_with_a_photo_replaced_after_import(tmp_path, jpeg_header_then_gigabytes)
    printed = station(config, "print", timeout=60)
    assert "photo.jpg is 3221225472 bytes" in printed.stdout + printed.stderr
    snapshot = json.loads(station(config, "status", "--json").stdout)
    assert (snapshot["queue"]["held"], snapshot["untagged"]) == (1, 1)
