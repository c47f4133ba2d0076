"""Structured logs: JSON lines to the configured file, never to the terminal (the console owns it)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TextIO

import structlog

_open_file: TextIO | None = None


def configure_logging(file: Path, level: str = "info") -> None:
    """Send structlog and the standard library's logging to `file` as JSON lines, and nowhere else."""
    global _open_file
    file.parent.mkdir(parents=True, exist_ok=True)
    if _open_file is not None:
        _open_file.close()
    _open_file = open(file, "a", encoding="utf-8", buffering=1)
    numeric = getattr(logging, level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.WriteLoggerFactory(file=_open_file),
        cache_logger_on_first_use=False,
    )
    # Libraries that use the standard library (asyncio, Textual's own) must not write into the screen either.
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.FileHandler(file, encoding="utf-8")
    handler.setFormatter(logging.Formatter('{"level": "%(levelname)s", "logger": "%(name)s", "event": %(message)r}'))
    root.addHandler(handler)
    root.setLevel(numeric)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
