"""How a run manages Python's cyclic garbage collector.

The hot path allocates a few tuples per book event; they die by reference counting
within a window or two and cannot form cycles. Left at its defaults the collector
still traverses every young container each 700 allocations, and now and then the
whole heap (modules, scenario, algos): 5-17% of a run's instructions by callgrind,
and the source of the tens-of-milliseconds pauses DESIGN section 5 measured.
So during a run everything loaded before it is frozen (never traversed again) and a
young collection runs each ``YOUNG_THRESHOLD`` net allocations. Cycles an algo
makes are still collected.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 100_000


@contextmanager
def run_collector() -> Iterator[None]:
    """The collector policy of one run; the process's own policy comes back after it."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
