"""`station emulator`: the printer emulator on a pseudo-terminal or a TCP port, until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import math
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from console.commands import decimal_number, whole_number
from console.config import Settings
from console.errors import ConfigError, UsageError
from console.i18n import t

if TYPE_CHECKING:
    from drivers.emulator import EmulatorOptions


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("emulator", parents=[common], help=t("help.emulator"))
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--pty", action="store_true", help=t("help.emulator.pty"))
    where.add_argument("--tcp", metavar="HOST:PORT", help=t("help.emulator.tcp"))
    p.add_argument("--state", type=Path, metavar="FILE", help=t("help.emulator.state"))
    p.add_argument("--log", type=Path, metavar="FILE", help=t("help.emulator.log"))
    p.add_argument("--cards", type=Path, metavar="DIR", help=t("help.emulator.cards"))
    p.add_argument("--faults", default="", metavar="SPEC", help=t("help.emulator.faults"))
    p.add_argument("--seed", type=whole_number, metavar="N", help=t("help.emulator.seed"))
    p.add_argument("--time-scale", type=decimal_number, default=1.0, metavar="X", help=t("help.emulator.time_scale"))
    p.add_argument("--baud", type=whole_number, metavar="N", help=t("help.emulator.baud"))
    p.add_argument("--control", metavar="HOST:PORT", help=t("help.emulator.control"))
    p.add_argument("--feeder", type=whole_number, default=500, metavar="N", help=t("help.emulator.feeder"))
    p.set_defaults(handler=run, language_only=True)


async def run(args: argparse.Namespace, settings: Settings | None) -> int:
    # The emulator (and Pillow) loads when this command runs, not with every command of the station.
    from drivers.emulator import EmulatorService, EmulatorStateError, OutputLogError
    from drivers.emulator.servers import LOOPBACK

    options = _options(args)
    tcp = _address("--tcp", args.tcp) if args.tcp else None
    control = _address("--control", args.control) if args.control else None
    if control is not None and control[0] not in LOOPBACK:
        raise UsageError(t("emulator.control_not_loopback", host=control[0]))
    service = EmulatorService(options, tcp=tcp, control=control)
    try:
        await service.start()
    except (EmulatorStateError, OutputLogError) as exc:
        raise ConfigError(t("emulator.bad_file", file=exc.path, why=exc.why)) from None
    except OSError as exc:
        raise UsageError(t("emulator.cannot_listen", error=exc)) from None
    try:
        print(service.port, flush=True)
        if service.control_address is not None:
            host, port = service.control_address
            print(t("emulator.control_at", host=host, port=port), file=sys.stderr, flush=True)
        await _until_signalled()
    finally:
        await service.close()
    return 0


def _options(args: argparse.Namespace) -> EmulatorOptions:
    from drivers.emulator import EmulatorOptions, FaultSpecError, parse_faults

    try:
        parse_faults(args.faults)
    except FaultSpecError as exc:
        raise UsageError(
            t("emulator.bad_fault", position=exc.position, item=exc.item, why=t(f"emulator.fault_{exc.why}"))
        ) from None
    if not math.isfinite(args.time_scale):
        raise UsageError(t("emulator.not_finite", option="--time-scale", value=args.time_scale))
    for name, value, low in (("--time-scale", args.time_scale, 0), ("--feeder", args.feeder, 0)):
        if value < low:
            raise UsageError(t("emulator.too_small", option=name, low=low, value=value))
    if args.baud is not None and args.baud <= 0:
        raise UsageError(t("emulator.too_small", option="--baud", low=1, value=args.baud))
    return EmulatorOptions(
        feeder=args.feeder, time_scale=args.time_scale, faults=args.faults, seed=args.seed, baud=args.baud,
        state=args.state, log=args.log, cards=args.cards,
    )  # fmt: skip


def _address(option: str, value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    host = host.strip("[]")
    if not host or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise UsageError(t("emulator.bad_address", option=option, value=value))
    return host, int(port)


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
