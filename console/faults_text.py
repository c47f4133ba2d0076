"""Printer faults in the operator's words: what happened and what to do (the console's dialogs, `station print`)."""

from __future__ import annotations

from console.i18n import catalogue, t
from drivers.faults import PrinterFault


def _key_for_code(code: str, part: str) -> str:
    key = f"fault.{code}.{part}"
    return key if key in catalogue() else f"fault.unknown.{part}"


def _say(code: str, reply: str | None, part: str) -> str:
    """The words may name the whole reply (`{reply}`) or its parts (`{words[0]}`): a stop the station raises
    itself may carry two facts, as `printer_unknown` does (the serial and the counter)."""
    reply = reply or code
    return t(_key_for_code(code, part), reply=reply, words=reply.split())


def fault_title(fault: PrinterFault | None) -> str:
    return "" if fault is None else _say(fault.code, fault.reply, "title")


def fault_title_for_code(code: str, reply: str | None = None) -> str:
    """The title of a fault known only by its code (as the engine publishes it in the database)."""
    return _say(code, reply, "title")


def fault_advice(fault: PrinterFault | None) -> str:
    return "" if fault is None else _say(fault.code, fault.reply, "advice")
