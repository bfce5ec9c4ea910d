"""Memory and collector pauses on a long run (issue 10): the bundled market maker on a
dense feed with checkpoints on, its resident set sampled as the run passes 1M, 5M and
10M book updates, every cyclic-collector pause timed through ``gc.callbacks``, and the
checkpoint files' sizes. Usage::

    .venv/bin/python bench/memory.py [--updates 10000000] [--checkpoint-every 250000]
                                     [--json]

Resident set is the current one (/proc/self/statm), not the peak: growth per million
updates after warm-up is what must stay flat.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meshrt.runtime.run import RunOptions, run  # noqa: E402
from meshrt.scenario.definition import load_scenario, start  # noqa: E402
from meshrt.scenario.latency import micros  # noqa: E402

INTERVAL_NS = 10_000
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


class Pauses:
    """Wall time of every collection, from gc.callbacks' start and stop."""

    def __init__(self) -> None:
        self.durations_ns: list[int] = []
        self._began = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter_ns()
        else:
            self.durations_ns.append(time.perf_counter_ns() - self._began)

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.durations_ns)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=10_000_000)
    parser.add_argument("--checkpoint-every", type=int, default=250_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    scenario = load_scenario(ROOT / "scenarios" / "market_maker.py")
    venue = scenario.venues[0]
    source = attrs.evolve(venue.sources[0], updates=args.updates, interval_ns=INTERVAL_NS)
    latency = micros(1000, jitter_us=100)
    venue = attrs.evolve(venue, sources=[source], feed_latency=latency, order_latency=latency)
    deployment = attrs.evolve(scenario.deployments[0], schedule=[start(0)])
    scenario = attrs.evolve(scenario, venues=[venue], deployments=[deployment], duration_ns=None)

    marks = [m for m in (1_000_000, 5_000_000, 10_000_000) if m <= args.updates]
    samples: dict[int, float] = {}

    def progress(ts: int, seq: int, end: int | None) -> None:
        updates = ts // INTERVAL_NS  # the synthetic feed's mean spacing
        for mark in marks:
            if mark not in samples and updates >= mark:
                samples[mark] = rss_mib()

    pauses = Pauses()
    gc.callbacks.append(pauses)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        started = time.process_time()
        result = run(
            scenario, run_dir, progress, RunOptions(checkpoint_every=args.checkpoint_every)
        )
        cpu = time.process_time() - started
        samples.setdefault(marks[-1] if marks else args.updates, rss_mib())
        checkpoints = sorted((run_dir / "checkpoints").glob("checkpoint-*.bin"))
        sizes = [path.stat().st_size for path in checkpoints]
    gc.callbacks.remove(pauses)
    first = min(samples)
    last = max(samples)
    growth = (samples[last] - samples[first]) / ((last - first) / 1e6) if last > first else 0.0
    figures = {
        "updates": args.updates,
        "checkpoint_every": args.checkpoint_every,
        "cpu_s": round(cpu, 2),
        "book_events_delivered": result.metrics["book_events_delivered"],
        "rss_mib": {f"{mark:,}": round(mib, 1) for mark, mib in sorted(samples.items())},
        "rss_growth_mib_per_million": round(growth, 3),
        "checkpoint_bytes": sizes,
        "gc_collections": len(pauses.durations_ns),
        "gc_pause_p99_9_ms": round(pauses.percentile_ms(0.999), 3),
        "gc_pause_max_ms": round(max(pauses.durations_ns, default=0) / 1e6, 3),
    }
    if args.json:
        print(json.dumps(figures))
        return
    for name, value in figures.items():
        print(f"{name:28} {value}")


if __name__ == "__main__":
    main()
