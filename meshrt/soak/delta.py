"""Shrinking a failing fault schedule: delta debugging over a predicate that says whether a
candidate schedule still fails (the same way). Pure: the predicate is the only contact
with runs, so the algorithm is tested on fake predicates and the same schedule and
predicate always shrink to the same result.

Three passes, each keeping a candidate only when it still fails: remove faults (the
complement of each half, then of each quarter, ... down to one fault at a time, as in
Zeller's ddmin), then move each remaining fault to the earliest time that still fails,
then cut each duration to the shortest, both by bisection on a grid of ``grid_ns``.
Every candidate the predicate is asked about costs one run of a budget; a candidate
asked about twice is answered from memory.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from meshrt.scenario.faults import Fault

GRID_NS = 1_000_000  # times and durations bisect to whole milliseconds

Faults = tuple[Fault, ...]


@attrs.frozen(slots=True)
class Reduced:
    """What shrinking found: ``faults`` still fail; ``runs`` were spent of the budget, and
    ``exhausted`` says the budget ran out before every pass was done."""

    faults: Faults
    runs: int
    exhausted: bool


class _Oracle:
    """The predicate with a budget of runs and a memory of the answers."""

    def __init__(self, fails: Callable[[Faults], bool], runs: int) -> None:
        self.fails, self.budget = fails, runs
        self.runs, self.exhausted = 0, False
        self.known: dict[Faults, bool] = {}

    def __call__(self, faults: Faults) -> bool:
        if faults not in self.known:
            if self.runs >= self.budget:
                self.exhausted = True
                return False  # out of runs: keep what is known to fail
            self.runs += 1
            self.known[faults] = self.fails(faults)
        return self.known[faults]


def shrink(
    faults: Faults, fails: Callable[[Faults], bool], runs: int, grid_ns: int = GRID_NS
) -> Reduced:
    """The fewest faults, at the earliest times and shortest durations, that ``fails``
    holds for, found within ``runs`` calls of ``fails``; ``faults`` must fail."""
    oracle = _Oracle(fails, runs)
    oracle.known[faults] = True
    kept = fewest(faults, oracle)
    for field in ("at_ns", "duration_ns"):
        for i in range(len(kept)):
            kept = _least(kept, i, field, oracle, grid_ns)
    return Reduced(kept, oracle.runs, oracle.exhausted)


def fewest(faults: Faults, fails: Callable[[Faults], bool]) -> Faults:
    """A subset of ``faults`` that fails and from which no single fault can be removed
    (ddmin over complements: remove halves first, then ever smaller chunks)."""
    chunks = 2
    while faults:
        chunks = min(chunks, len(faults))
        size = -(-len(faults) // chunks)
        for start in range(0, len(faults), size):
            rest = faults[:start] + faults[start + size :]
            if fails(rest):
                faults, chunks = rest, max(chunks - 1, 2)
                break
        else:
            if chunks == len(faults):
                return faults
            chunks = min(2 * chunks, len(faults))
    return faults


def _least(
    faults: Faults, i: int, field: str, fails: Callable[[Faults], bool], grid: int
) -> Faults:
    """``faults`` with fault ``i``'s ``field`` (a time, or a length) bisected down to the
    least multiple of ``grid`` that still fails (times from 0, lengths from one grid step);
    unchanged when the fault has no such field or nothing smaller fails."""
    value = getattr(faults[i], field, None)
    if value is None:
        return faults
    low, high = (0 if field == "at_ns" else 1), (value - 1) // grid  # grid steps below value
    best = faults
    while low <= high:
        mid = (low + high) // 2
        candidate = (*faults[:i], attrs.evolve(faults[i], **{field: mid * grid}), *faults[i + 1 :])
        if fails(candidate):
            best, high = candidate, mid - 1
        else:
            low = mid + 1
    return best
