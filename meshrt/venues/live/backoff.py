"""Reconnect delays: exponential backoff with full jitter from a seeded generator, so a
session's delays are reproducible in tests (docs/live.md, "Connections")."""

from __future__ import annotations

import random

from attrs import define, field


@define
class Backoff:
    """The n-th consecutive reconnect waits a uniform draw in ``[min_ns, ceiling]`` with
    ``ceiling = min(max_ns, min_ns * 2**n)``: spread over the whole window (full jitter) so
    many clients dropped at once do not come back at once, and never below ``min_ns``.
    ``reset`` after a connection that delivered a frame starts the doubling over."""

    min_ns: int
    max_ns: int
    rng: random.Random
    failures: int = field(default=0, init=False)

    def __attrs_post_init__(self) -> None:
        if not 0 < self.min_ns <= self.max_ns:
            raise ValueError(
                f"reconnect delays need 0 < min <= max, got {self.min_ns}..{self.max_ns} ns"
            )

    def next_ns(self) -> int:
        self.failures += 1
        ceiling = min(self.max_ns, self.min_ns << min(self.failures, 62))
        return self.rng.randint(self.min_ns, ceiling)

    def reset(self) -> None:
        self.failures = 0
