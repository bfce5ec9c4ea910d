"""What a soak shows: a progress line while it runs, and the table and failures at the end.

The progress line goes to stderr: redrawn in place on a terminal, otherwise a plain line
about every tenth of the schedules (a log file gets no carriage returns).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TextIO

from meshrt.soak.job import Outcome

WIDTH = 30


class Progress:
    """Schedules done of ``total``, schedules per second and failures so far."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.stream = total, stream or sys.stderr
        self.tty = self.stream.isatty()
        self.done = self.failures = 0
        self.started = time.perf_counter()
        self._step = max(1, total // 10)

    @property
    def rate(self) -> float:
        return self.done / max(time.perf_counter() - self.started, 1e-9)

    def update(self, outcome: Outcome) -> None:
        self.done += 1
        self.failures += not outcome.ok
        line = f"{self.done}/{self.total} schedules  {self.rate:.2f}/s  failures {self.failures}"
        if self.tty:
            filled = self.done * WIDTH // max(self.total, 1)
            self.stream.write(f"\r[{'#' * filled}{'.' * (WIDTH - filled)}] {line}")
        elif self.done % self._step == 0 or self.done == self.total:
            self.stream.write(f"soak: {line}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.done:
            self.stream.write("\n")
            self.stream.flush()


def table(outcomes: list[Outcome], seconds: float, verified: int) -> str:
    """The summary: schedules run, verified and failed, speed, and failures by signature."""
    failed = [o for o in outcomes if not o.ok]
    events = sum(o.events for o in outcomes)
    rows = [
        ("schedules", f"{len(outcomes):,}"),
        ("re-run for determinism", f"{verified:,}"),
        ("failed", f"{len(failed):,}"),
        ("events", f"{events:,}"),
        ("wall time", f"{seconds:.1f} s"),
        ("schedules/s", f"{len(outcomes) / max(seconds, 1e-9):.2f}"),
    ]
    by_signature = Counter(f.signature for o in failed for f in o.failures)
    for (check, deployment), count in sorted(by_signature.items(), key=str):
        rows.append((f"  {check}" + (f" ({deployment})" if deployment else ""), f"{count:,}"))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value:>10}" for name, value in rows)
