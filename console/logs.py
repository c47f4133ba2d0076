"""Structured logs: JSON lines to the configured file, never to the terminal (the console owns it).

One handler on the standard library's root logger writes every line, whoever logged it: structlog's events and
the records of libraries (asyncio, Textual, the emulator's threads) go through the same `ProcessorFormatter`, so
every line is one JSON object and a traceback is a field of it, never lines of its own. The file holds NIKs:
it is created 0600 (an older file is narrowed to 0600) and never opened through a link.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import structlog
from structlog.typing import Processor

from drivers.atomic_file import open_private_append

# aiosqlite logs every call at debug level with its arguments: whole resident rows. Never below warning.
QUIET_LIBRARIES = {"aiosqlite": logging.WARNING}

_handler: logging.StreamHandler[Any] | None = None

_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(file: Path, level: str = "info") -> None:
    """Send structlog and the standard library's logging to `file` as JSON lines, and nowhere else."""
    global _handler
    file.parent.mkdir(parents=True, exist_ok=True)
    stream = open_private_append(file, text=True)
    numeric = getattr(logging, level.upper())
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.dict_tracebacks,
                structlog.processors.JSONRenderer(ensure_ascii=False),
            ],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    if _handler is not None:
        _handler.close()
        _handler.stream.close()
    _handler = handler
    root.addHandler(handler)
    root.setLevel(numeric)
    for name, floor in QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(max(floor, numeric))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
