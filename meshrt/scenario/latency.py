"""Latency: a constant plus seeded jitter, delivered in FIFO order.

A feed or an order session is one ordered stream (one TCP connection): jitter may
delay a message but never lets it overtake the one before it, so delivery time is
``max(ts + base + jitter, previous delivery)``. This also keeps every delivery
queue sorted by construction, which the sequencer relies on.

``LatencyStream`` (the delivery times of one stream) is compiled, in
meshrt/scenario/_latency.pyx: the intent desk and report ingress draw from it in C.
"""

from __future__ import annotations

import attrs

from meshrt.scenario._latency import LatencyStream
from meshrt.validators import finite, non_negative_ns, require

__all__ = ["Latency", "LatencyStream", "micros", "millis"]


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
