"""Latency: a constant plus seeded jitter, delivered in FIFO order.

A feed or an order session is one ordered stream (one TCP connection): jitter may
delay a message but never lets it overtake the one before it, so delivery time is
``max(ts + base + jitter, previous delivery)``. This also keeps every delivery
queue sorted by construction, which the sequencer relies on.
"""

from __future__ import annotations

import random

import attrs

from meshrt.validators import finite, non_negative_ns, require


@attrs.frozen(slots=True)
class Latency:
    """One-way latency in ns: ``base_ns`` plus uniform jitter in ``[0, jitter_ns]``."""

    base_ns: int = attrs.field(validator=non_negative_ns)
    jitter_ns: int = attrs.field(default=0, validator=non_negative_ns)


def micros(us: float, jitter_us: float = 0.0) -> Latency:
    """Latency from microseconds, a convenience for scenario files."""
    require("micros(us)", finite, us)
    require("micros(jitter_us)", finite, jitter_us)
    return Latency(round(us * 1_000), round(jitter_us * 1_000))


def millis(ms: float, jitter_ms: float = 0.0) -> Latency:
    """Latency from milliseconds, a convenience for scenario files."""
    require("millis(ms)", finite, ms)
    require("millis(jitter_ms)", finite, jitter_ms)
    return Latency(round(ms * 1_000_000), round(jitter_ms * 1_000_000))


class LatencyStream:
    """Delivery times of one ordered stream, from one seeded random source."""

    __slots__ = ("base", "span", "last", "draw")

    def __init__(self, latency: Latency, seed: str) -> None:
        self.base = latency.base_ns
        self.span = latency.jitter_ns + 1 if latency.jitter_ns else 0
        self.last = 0
        # random() is an IEEE double from a seeded Mersenne Twister: the same on every
        # platform, and ~4x cheaper than randint on this path
        self.draw = random.Random(seed).random

    def deliver_at(self, ts: int, extra: int = 0) -> int:
        """When a message sent at ``ts`` arrives; ``extra`` is added before the FIFO rule,
        so a delayed message holds back the ones behind it (head of line)."""
        at = ts + self.base + extra
        if self.span:
            at += int(self.draw() * self.span)
        if at < self.last:
            at = self.last
        self.last = at
        return at
