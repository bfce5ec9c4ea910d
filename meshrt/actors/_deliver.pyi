"""Types of the C extension meshrt/actors/_deliver.c."""

from collections.abc import Callable
from typing import Any

D_BOOK: int

class LatencyHistogram:
    """Callback durations in ns, log-linear: exact below 256 ns, else within 1/256."""

    @property
    def count(self) -> int: ...
    @property
    def max(self) -> int: ...
    def record(self, ns: int) -> None: ...
    def percentile(self, fraction: float) -> int: ...

def deliver_books(items: list[Any], start: int, state: Any, actions: Any, instance: Any,
                  on_book: Callable[..., Any], flush: Callable[[int], None],
                  latencies: LatencyHistogram) -> tuple[int, int, BaseException | None]:
    """Run consecutive book deliveries from ``items[start]``; (next, callbacks, error)."""
