"""The terminal: the one home of how meshrt's commands write tables and progress bars.

Everything goes through rich: colour and live bars on a terminal, plain text when piped
(a pipe or a file has no width, so piped text is never wrapped; tests and scripts read
it). Strings are printed as given (no rich markup: a label or a path may hold ``[...]``).
"""

from __future__ import annotations

import sys
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

PIPE_WIDTH = 1_000_000  # piped text: as wide as its longest line


def console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr) as it is now: a terminal's width and colours, or
    plain unwrapped text."""
    made = Console(stderr=stderr, markup=False, highlight=False)
    if not made.is_terminal:
        made.width = PIPE_WIDTH
    return made


def table(*columns: str, left: int = 1) -> Table:
    """The house table: a rule under the header, two spaces between columns; the first
    ``left`` columns are text (left-aligned), the rest figures (right-aligned)."""
    made = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        header_style="bold",
    )
    for k, name in enumerate(columns):
        made.add_column(name, justify="left" if k < left else "right")
    return made


class Bar:
    """A progress bar with its ETA on stderr, drawn only on a terminal and only
    from its first update (a task shorter than one update never shows it)."""

    def __init__(self, description: str) -> None:
        self._console = console(stderr=True)
        self.shown = self._console.is_terminal
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[detail]}"),
            console=self._console,
            auto_refresh=False,  # redrawn at each update: no thread of its own
            transient=True,  # gone once done: the table that follows says how it ended
        )
        self._task: TaskID | None = None
        self._description = description

    def update(self, completed: float, total: float | None, detail: str = "") -> None:
        """``completed`` of ``total`` (None: unknown, a pulsing bar without ETA)."""
        if not self.shown:
            return
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task(self._description, total=total, detail="")
        self._progress.update(self._task, completed=completed, total=total, detail=detail)
        self._progress.refresh()

    def close(self) -> None:
        if self._task is not None:
            self._progress.stop()


def show(renderable: Any) -> None:
    """Print to stdout through a console as stdout is now; piped, without the padding
    table cells end lines with."""
    out = console()
    if out.is_terminal:
        out.print(renderable)
        return
    with out.capture() as captured:
        out.print(renderable)
    sys.stdout.write("\n".join(line.rstrip() for line in captured.get().split("\n")))
