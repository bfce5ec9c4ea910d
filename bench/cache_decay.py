"""How fast this machine's caches forget a process: a fixed walk timed after a pause.

The paper path's latency at the captures' pace depends on what survives in the caches
between frames (docs/performance.md, "Why the paper path is cold"). This walks a random
cycle through a list of N ints (each step a dependent load: no prefetcher helps) for a
fixed number of steps, after nothing, after sleeping and after spinning (a loop that
touches almost no memory) for each pause, and prints the median time of the walk. Where
spinning is as slow as sleeping, the caches are lost to the machine's other tenants, not
to the process's own sleep.

    .venv/bin/python bench/cache_decay.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

SIZES = (4_000, 32_000, 256_000)  # list items: about 0.15, 1.2 and 10 MB with the ints
PAUSES_S = (0.0002, 0.002, 0.01)
STEPS = 4_000


def cycle(n: int) -> list[int]:
    """A random cycle through 0..n-1: ``nxt[i]`` is the item after ``i``."""
    order = list(range(n))
    random.Random(n).shuffle(order)
    nxt = [0] * n
    for a, b in zip(order, order[1:] + order[:1], strict=True):
        nxt[a] = b
    return nxt


def walk(nxt: list[int]) -> int:
    i = 0
    for _ in range(STEPS):
        i = nxt[i]
    return i


def spin(pause_s: float) -> None:
    end = time.perf_counter() + pause_s
    while time.perf_counter() < end:
        pass


def median_us(nxt: list[int], pause: Callable[[], None], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        pause()
        start = time.perf_counter_ns()
        walk(nxt)
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    header = ["items", "back to back"]
    for pause_s in PAUSES_S:
        header += [f"sleep {pause_s * 1e3:g} ms", f"spin {pause_s * 1e3:g} ms"]
    print(" | ".join(header))
    for n in SIZES:
        nxt = cycle(n)
        median_us(nxt, lambda: None, args.rounds)  # warm-up: the interpreter's own first runs
        row = [f"{n:,}", f"{median_us(nxt, lambda: None, args.rounds):.0f} us"]
        for pause_s in PAUSES_S:
            for pause in (lambda p=pause_s: time.sleep(p), lambda p=pause_s: spin(p)):
                row.append(f"{median_us(nxt, pause, args.rounds):.0f} us")
        print(" | ".join(row))


if __name__ == "__main__":
    main()
