"""Progress of a long command for the person waiting: a live bar on a terminal, a line now and then otherwise.

The core reports through a plain `on_progress(done, total)` callable; this module is the only one of `console/`
that draws it (with `rich.progress`, which comes with Textual). Both go to standard error, so that standard output
stays the command's result.

    with progress_report("residents.progress_label", "progress.rows") as on_progress:
        await import_residents(..., on_progress=on_progress)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from console.formats import count, duration
from console.i18n import t

LINE_EVERY_S = 10.0  # without a terminal: a line at least this often…
LINE_EVERY_FRACTION = 0.1  # …and at every tenth of the work…
QUIET_FOR_S = 1.0  # …once the work has taken this long: a command done within a second needs no news


@contextmanager
def progress_report(label: str, unit: str, stream: TextIO | None = None) -> Iterator[Callable[[int, int], None]]:
    """An `on_progress(done, total)` for the work named by the catalogue key `label`, counted in `unit` (a key)."""
    stream = stream if stream is not None else sys.stderr
    if stream.isatty():
        with _bar(label, unit, stream) as on_progress:
            yield on_progress
    else:
        yield _Lines(label, unit, stream)


@contextmanager
def _bar(label: str, unit: str, stream: TextIO) -> Iterator[Callable[[int, int], None]]:
    # rich loads only for a terminal that will see a bar: every command imports this module
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        Task,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class _Counts(ProgressColumn):
        """ "12.000/1.000.000 baris · 8.500/dtk": the counts and rate in the language's grouping."""

        def __init__(self, unit: str) -> None:
            super().__init__()
            self.unit = unit

        def render(self, task: Task) -> Text:
            rate = t("progress.rate", rate=count(round(task.speed))) if task.speed else ""
            return Text(
                t(
                    "progress.counts",
                    done=count(int(task.completed)),
                    total=count(int(task.total or 0)),
                    unit=t(self.unit),
                    rate=rate,
                )
            )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        _Counts(unit),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=stream), transient=False) as progress:
        task = progress.add_task(t(label), total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield on_progress


class _Lines:
    """Without a terminal (a log, a pipe): after the first second, a line at every tenth of the work and at least
    every LINE_EVERY_S."""

    def __init__(self, label: str, unit: str, stream: TextIO) -> None:
        self.label, self.unit, self.stream = label, unit, stream
        self.started = self.last_at = time.monotonic()
        self.last_tenth = 0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.started < QUIET_FOR_S:
            return
        tenth = int(done / total / LINE_EVERY_FRACTION) if total else 0
        if tenth <= self.last_tenth and now - self.last_at < LINE_EVERY_S:
            return
        self.last_tenth, self.last_at = max(tenth, self.last_tenth), now
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = duration((total - done) / rate) if rate and total >= done else "?"
        percent = int(100 * done / total) if total else 0
        print(
            t(
                "progress.line",
                label=t(self.label),
                percent=percent,
                done=count(done),
                total=count(total),
                unit=t(self.unit),
                rate=count(round(rate)),
                left=left,
            ),
            file=self.stream,
            flush=True,
        )
