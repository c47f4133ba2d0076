"""Printer benchmark: cards a second through the driver and the emulator, and the bytes each card puts on the wire.

The emulator runs as a process of its own (`station emulator --pty`), as a printer is a device of its own, behind a
real pseudo-terminal at time-scale 0: what is timed is the driver, the link and the emulator's protocol handling,
not a printer's motion. `--in-process` runs it in a thread of this process instead, where it competes with the
driver for the interpreter. The cards are laid out by `drivers.layout` beforehand (a photo and a signature on
each), and the layout's own cost is shown apart. From the bytes of a card, the link time at 115200 baud (10 bits a
byte); the target is no more than 3 s of link time a card. A short run with the emulator holding its line to
115200 baud checks that figure against a clock.

    .venv/bin/python bench/printer.py [--cards N] [--rounds N] [--paced N] [--seed S] [--in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import structlog
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drivers import protocol  # noqa: E402
from drivers.emulator import EmulatorServer, read_output_log  # noqa: E402
from drivers.layout import CardFields, layout_card  # noqa: E402
from drivers.printer import Printer  # noqa: E402
from tests.card_sample import FIELDS  # noqa: E402

BAUD = 115200
TARGET_S = 3.0
CARD_COMMANDS = ("Ss", "Sr", "Se")  # around the layout's frames
REPLY_BYTES = len(protocol.encode_reply(protocol.OK))

NAMES = (
    "BAIQ NURUL AINI",
    "LALU MUHAMMAD ZAINUL MUTTAQIN",
    "NI WAYAN SRI ASTUTI",
    "H. AHMAD FAUZI",
    "SITI RAHMAWATI",
    "I GUSTI NGURAH PUTU WIRAWAN",
)
VILLAGES = ("PANCOR", "SELONG", "RAKAM", "DENGGEN", "SANDUBAYA", "KELAYU JORONG")


def portrait(rng: random.Random) -> bytes:
    """A photo-like JPEG: a lit backdrop, a face with features, shoulders, and sensor noise everywhere."""
    width, height = 600, 800
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    tint = rng.randrange(40, 120)
    for y in range(height):
        draw.line((0, y, width, y), fill=(tint + y // 12, 100 + y // 16, 170 - y // 10))
    skin = (rng.randrange(170, 240), rng.randrange(130, 190), rng.randrange(100, 160))
    draw.ellipse((160, 110, 440, 470), fill=skin)
    draw.ellipse((140, 80, 460, 250), fill=(25, 20, 20))  # hair
    for eye_x in (235, 335):
        draw.ellipse((eye_x, 270, eye_x + 40, 295), fill=(40, 30, 30))
    draw.line((300, 300, 290, 370), fill=(150, 100, 80), width=6)
    draw.arc((250, 370, 350, 420), 20, 160, fill=(120, 50, 50), width=6)
    draw.rectangle((80, 500, 520, 800), fill=(rng.randrange(20, 80), 30, 60))
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    image = Image.blend(image.filter(ImageFilter.GaussianBlur(3)), noise, 0.15)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def signature(rng: random.Random) -> bytes:
    image = Image.new("RGBA", (400, 120), (0, 0, 0, 0))
    points = [(10 + i * 38, rng.randrange(15, 105)) for i in range(11)]
    ImageDraw.Draw(image).line(points, fill=(0, 0, 0, 255), width=5)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def resident(n: int, rng: random.Random) -> CardFields:
    village = VILLAGES[n % len(VILLAGES)]
    return replace(
        FIELDS,
        nik=f"520307470890{n:04d}",
        nama=NAMES[n % len(NAMES)],
        alamat=f"JL. PAHLAWAN NO. {n % 90 + 1}, DUSUN {village} DAYA",
        kel_desa=village,
        photo=portrait(rng),
        signature=signature(rng),
    )


def card_bytes(frames: tuple[bytes, ...]) -> tuple[int, int, int]:
    """Bytes host to printer, printer to host, and commands, for one card (Ss, Sr, frames, Se)."""
    commands = len(frames) + len(CARD_COMMANDS)
    sent = sum(map(len, frames)) + sum(len(protocol.encode_command(name)) for name in CARD_COMMANDS)
    return sent, commands * REPLY_BYTES, commands


STATION = Path(sys.executable).with_name("station")


@asynccontextmanager
async def emulator(
    feeder: int, time_scale: float, *, in_process: bool = False, baud: int | None = None
) -> AsyncIterator[tuple[str, Path]]:
    """An emulator on a pseudo-terminal: its port, and its output log (a line a card that left it)."""
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "output.jsonl"
        if in_process:
            async with EmulatorServer.pty(feeder=feeder, time_scale=time_scale, baud=baud, log=log) as emu:
                yield emu.port, log
            return
        async with standalone_emulator(Path(folder), feeder, time_scale, baud) as port:
            yield port, log


@asynccontextmanager
async def standalone_emulator(folder: Path, feeder: int, time_scale: float, baud: int | None) -> AsyncIterator[str]:
    """`station emulator --pty` as a process of its own, its output log and state file in `folder`: its port."""
    args = [str(STATION), "emulator", "--pty", "--feeder", str(feeder), "--time-scale", str(time_scale),
            "--log", str(folder / "output.jsonl"), "--state", str(folder / "state.json")]  # fmt: skip
    if baud:
        args += ["--baud", str(baud)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = (await asyncio.to_thread(process.stdout.readline)).strip()
        if not port.startswith("/dev/"):
            raise RuntimeError(f"the emulator did not start: {port or process.stderr.read()}")
        yield port
    finally:
        process.terminate()
        process.communicate(timeout=30)


def cards_in_hopper(log: Path) -> int:
    return sum(card["dest"] == "hopper" for card in read_output_log(log))


async def print_cards(layouts: list[tuple[bytes, ...]], in_process: bool = False, baud: int | None = None) -> float:
    """Print every card; the seconds it took, from the first Ss to the last Se's reply."""
    async with emulator(len(layouts), 0, in_process=in_process, baud=baud) as (port, log):
        async with await Printer.open(port, reply_timeout=60) as printer:
            await printer.setup("ko")
            started = time.perf_counter()
            for frames in layouts:
                await printer.take_blank()
                await printer.print_front(frames)
            seconds = time.perf_counter() - started
        if cards_in_hopper(log) != len(layouts):
            raise RuntimeError(f"{cards_in_hopper(log)} cards in the hopper, expected {len(layouts)}")
    return seconds


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"  {label:<{width}}  {value}" for label, value in rows)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=60, help="cards through driver and emulator (default 60)")
    parser.add_argument("--rounds", type=int, default=3, help="times the cards are printed; best and median shown")
    parser.add_argument("--paced", type=int, default=3, help="cards on a line held to 115200 baud (default 3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--in-process", action="store_true", help="the emulator in a thread of this process")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))  # as the station runs

    rng = random.Random(args.seed)
    residents = [resident(n, rng) for n in range(1, args.cards + 1)]
    started = time.perf_counter()
    layouts = [layout_card(fields).frames for fields in residents]
    layout_s = time.perf_counter() - started

    rounds = sorted([await print_cards(layouts, args.in_process) for _ in range(max(1, args.rounds))])
    best, median = rounds[0], statistics.median(rounds)
    paced_s = await print_cards(layouts[: args.paced], args.in_process, baud=BAUD) if args.paced else None

    sizes = [card_bytes(frames) for frames in layouts]
    sent = [s for s, _, _ in sizes]
    received = [r for _, r, _ in sizes]
    tx_s = [s / (BAUD / 10) for s in sent]  # the line is full duplex: the host's bytes are the link time
    worst = max(tx_s)
    rows = [
        ("cards", f"{args.cards} (a photo and a signature each, ko ribbon)"),
        ("layout (Pillow, dithering)", f"{layout_s / args.cards * 1000:.1f} ms a card"),
        (
            f"driver + emulator ({'a thread' if args.in_process else 'own process'}), pty, time-scale 0",
            f"best {args.cards / best:.0f} cards/s ({best / args.cards * 1000:.1f} ms a card), "
            f"median {args.cards / median:.0f} cards/s over {len(rounds)} rounds",
        ),
        ("commands a card", f"{sizes[0][2]}"),
        ("bytes a card, host -> printer", f"mean {statistics.mean(sent):,.0f}, max {max(sent):,}"),
        ("bytes a card, printer -> host", f"{received[0]}"),
        (f"link time a card at {BAUD} baud", f"mean {statistics.mean(tx_s):.2f} s, max {worst:.2f} s"),
        ("target", f"<= {TARGET_S:.0f} s a card: {'met' if worst <= TARGET_S else 'MISSED'}"),
    ]
    if paced_s is not None:
        rows.append((f"measured on a {BAUD}-baud line", f"{paced_s / args.paced:.2f} s a card over {args.paced} cards"))
    print("Printer benchmark\n" + table(rows))
    return 0 if worst <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
