"""Printer faults in the operator's words: what happened and what to do (the console's dialogs, `station print`)."""

from __future__ import annotations

from console.i18n import catalogue, t
from drivers.faults import PrinterFault


def _key(fault: PrinterFault, part: str) -> str:
    return _key_for_code(fault.code, part)


def _key_for_code(code: str, part: str) -> str:
    key = f"fault.{code}.{part}"
    return key if key in catalogue() else f"fault.unknown.{part}"


def fault_title(fault: PrinterFault | None) -> str:
    if fault is None:
        return ""
    return fault_title_for_code(fault.code, fault.reply)


def fault_title_for_code(code: str, reply: str | None = None) -> str:
    """The title of a fault known only by its code (as the engine publishes it in the database)."""
    return t(_key_for_code(code, "title"), reply=reply or code)


def fault_advice(fault: PrinterFault | None) -> str:
    if fault is None:
        return ""
    return t(_key(fault, "advice"), reply=fault.reply or fault.code)
