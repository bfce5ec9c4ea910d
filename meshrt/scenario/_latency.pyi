"""Types of the Cython module meshrt/scenario/_latency.pyx."""

from collections.abc import Callable
from typing import final

from meshrt.scenario.latency import Latency

@final
class LatencyStream:
    """Delivery times of one ordered stream, from one seeded random source."""

    @property
    def base(self) -> int: ...
    @property
    def span(self) -> int: ...
    last: int
    draw: Callable[[], float]
    def __init__(self, latency: Latency, seed: str) -> None: ...
    def deliver_at(self, ts: int, extra: int = 0) -> int:
        """When a message sent at ``ts`` arrives; ``extra`` is added before the FIFO rule,
        so a delayed message holds back the ones behind it (head of line)."""
