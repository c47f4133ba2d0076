"""The printer emulator (emulator.md): a model of an Evolis card printer behind a pseudo-terminal or a TCP port.

from drivers.emulator import EmulatorServer
async with EmulatorServer.pty(feeder=100, time_scale=0.05, log="var/out.jsonl") as emu:
    ...  # open emu.port with pyserial; emu.jam(), emu.clear(), emu.status(), ...
"""

from drivers.emulator.faults import KINDS, FaultSpecError, parse_faults
from drivers.emulator.inprocess import EmulatorServer
from drivers.emulator.outlog import OutputLogError, read_output_log
from drivers.emulator.runtime import Emulator, EmulatorOptions
from drivers.emulator.servers import EmulatorService
from drivers.emulator.state import EmulatorStateError

__all__ = [
    "KINDS",
    "Emulator",
    "EmulatorOptions",
    "EmulatorServer",
    "EmulatorService",
    "EmulatorStateError",
    "FaultSpecError",
    "OutputLogError",
    "parse_faults",
    "read_output_log",
]
