"""Binance REST request weights and the budget they spend (docs/live.md, "Connections").

Binance Spot counts ``REQUEST_WEIGHT`` per IP: 6000 a minute; each endpoint costs a
published weight (``GET /api/v3/depth`` by its ``limit``, ``exchangeInfo`` 20). Over the
budget the venue answers 429 with ``Retry-After`` (seconds), and a client that keeps
going after 429s is banned with 418 (also with ``Retry-After``). ``WeightLimiter`` is the
pure accounting (times in ns, given by the caller); ``acquire`` waits on Trio's clock.
"""

from __future__ import annotations

from collections import deque
from typing import Final

import trio
from attrs import define, field

BUDGET: Final = 6000  # REQUEST_WEIGHT per minute
WINDOW_NS: Final = 60_000_000_000
EXCHANGE_INFO_WEIGHT: Final = 20
# GET /api/v3/depth: (highest limit, weight), by the published table
_DEPTH_WEIGHTS: Final = ((100, 5), (500, 25), (1000, 50), (5000, 250))


def depth_weight(limit: int) -> int:
    """The weight of ``GET /api/v3/depth?limit=...`` (1..5000)."""
    for highest, weight in _DEPTH_WEIGHTS:
        if 1 <= limit <= highest:
            return weight
    raise ValueError(f"depth limit must be in 1..5000, got {limit}")


def retry_after_ns(header: str | None, default_ns: int) -> int:
    """A ``Retry-After`` header (whole seconds) in ns; ``default_ns`` when absent or odd."""
    if header is not None and header.strip().isdigit():
        return int(header.strip()) * 1_000_000_000
    return default_ns


@define
class WeightLimiter:
    """Weights spent in the last ``window_ns`` (a sliding window, stricter than Binance's
    fixed minute), and a pause the venue imposed (429/418)."""

    budget: int = BUDGET
    window_ns: int = WINDOW_NS
    spent: deque[tuple[int, int]] = field(factory=deque, init=False)  # (at ns, weight)
    used: int = field(default=0, init=False)
    paused_until_ns: int = field(default=0, init=False)
    waits: int = field(default=0, init=False)  # requests that had to wait
    waited_ns: int = field(default=0, init=False)

    def delay_ns(self, weight: int, now_ns: int) -> int:
        """How long a request of ``weight`` must wait from ``now_ns``; 0: it may go now."""
        if weight > self.budget:
            raise ValueError(f"weight {weight} is above the whole budget {self.budget}")
        spent = self.spent
        while spent and spent[0][0] <= now_ns - self.window_ns:
            self.used -= spent.popleft()[1]
        wait = max(0, self.paused_until_ns - now_ns)
        used = self.used
        for at, w in spent:  # the earliest moment enough weight has left the window
            if used + weight <= self.budget:
                break
            used -= w
            wait = max(wait, at + self.window_ns - now_ns)
        return wait

    def take(self, weight: int, now_ns: int) -> None:
        self.spent.append((now_ns, weight))
        self.used += weight

    def pause(self, until_ns: int) -> None:
        """The venue said stop (429/418 with Retry-After) until ``until_ns``."""
        self.paused_until_ns = max(self.paused_until_ns, until_ns)

    async def acquire(self, weight: int) -> None:
        """Wait until ``weight`` fits the budget, then spend it (Trio's clock)."""
        while True:
            now = _now_ns()
            wait = self.delay_ns(weight, now)
            if not wait:
                self.take(weight, now)
                return
            self.waits += 1
            self.waited_ns += wait
            await trio.sleep(wait / 1e9)


def _now_ns() -> int:
    return int(trio.current_time() * 1e9)
