"""Printer faults in the operator's words: what happened and what to do (the console's dialogs, `station print`)."""

from __future__ import annotations

from console.i18n import catalogue, t
from drivers.faults import PrinterFault


def _key(fault: PrinterFault, part: str) -> str:
    key = f"fault.{fault.code}.{part}"
    return key if key in catalogue() else f"fault.unknown.{part}"


def fault_title(fault: PrinterFault | None) -> str:
    if fault is None:
        return ""
    return t(_key(fault, "title"), reply=fault.reply or fault.code)


def fault_advice(fault: PrinterFault | None) -> str:
    if fault is None:
        return ""
    return t(_key(fault, "advice"), reply=fault.reply or fault.code)
