"""What a soak shows: its progress while it runs, and the table and failures at the end.

Progress goes to stderr: a bar with its ETA on a terminal, otherwise a plain line about
every tenth of the schedules (a log file gets no redrawn lines).
"""

from __future__ import annotations

import sys
import time
from collections import Counter

from rich.table import Table

from meshrt.console import Bar, table as house_table
from meshrt.soak.job import Outcome


class Progress:
    """Schedules done of ``total``, schedules per second and failures so far."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar = Bar("soak")
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
        if self.bar.shown:
            self.bar.update(self.done, self.total, line)
        elif self.done % self._step == 0 or self.done == self.total:
            print(f"soak: {line}", file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.close()


def table(outcomes: list[Outcome], seconds: float, verified: int) -> Table:
    """The summary: schedules run, verified and failed, speed, and failures by signature."""
    failed = [o for o in outcomes if not o.ok]
    events = sum(o.events for o in outcomes)
    made = house_table("", "")
    made.show_header = False
    for name, value in (
        ("schedules", f"{len(outcomes):,}"),
        ("re-run for determinism", f"{verified:,}"),
        ("failed", f"{len(failed):,}"),
        ("events", f"{events:,}"),
        ("wall time", f"{seconds:.1f} s"),
        ("schedules/s", f"{len(outcomes) / max(seconds, 1e-9):.2f}"),
    ):
        made.add_row(name, value)
    by_signature = Counter(f.signature for o in failed for f in o.failures)
    for (check, deployment), count in sorted(by_signature.items(), key=str):
        made.add_row(f"  {check}" + (f" ({deployment})" if deployment else ""), f"{count:,}")
    return made
