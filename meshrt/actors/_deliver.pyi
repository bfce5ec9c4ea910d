"""Types of the compiled module meshrt/actors/_deliver.pyx."""

from collections.abc import Callable
from typing import Any

from meshrt.sdk._actions import Actions

class LatencyHistogram:
    """Callback durations in ns, log-linear: exact below 256 ns, else within 1/256."""

    def __init__(self) -> None: ...
    @property
    def count(self) -> int: ...
    @property
    def max(self) -> int: ...
    def record(self, ns: int) -> None: ...
    def percentile(self, fraction: float) -> int: ...
    def buckets(self) -> list[tuple[int, int]]: ...
    def __reduce__(self) -> tuple[type[LatencyHistogram], tuple[()], tuple[bytes, int, int]]: ...
    def __setstate__(self, state: tuple[bytes, int, int]) -> None: ...

def deliver_books(
    items: list[Any],
    start: int,
    state: Any,
    actions: Actions,
    instance: Any,
    on_book: Callable[..., Any],
    flush: Callable[[int], None],
    latencies: LatencyHistogram,
) -> tuple[int, int, BaseException | None]:
    """Run consecutive book deliveries from ``items[start]``; (next, callbacks, error)."""

def guard(
    crash_fd: int, log_fd: int, resume_hint: str, watchdog_seconds: float, exit_code: int
) -> None:
    """Name the running deployment and callback on a fatal signal, and end a batch stuck
    longer than ``watchdog_seconds`` (0: never), until unguard()."""

def unguard() -> None:
    """Undo guard()."""

def step(instance: Any, batch: list[Any]) -> bool:
    """AlgoInstance.step: deliver ``batch`` in order, replying at each WindowEnd; True
    once told to stop."""

def deliver(instance: Any, item: Any) -> None:
    """AlgoInstance._deliver: one delivery other than a running algo's book."""

def flush(instance: Any, ts: int) -> None:
    """AlgoInstance._flush: a callback's actions moved into the window's outputs."""
