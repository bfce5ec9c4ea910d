"""End-to-end benchmark: the bundled market maker on N book updates.

One instrument, 20 levels per side, a trade print after every 10th update. Reports
book events per second delivered to the algo (wall clock of the whole run, setup
excluded) and the process's peak RSS. Usage:

    .venv/bin/python bench/e2e.py [--updates 1000000] [--interval-us 10] [--latency-us 1000]
                                  [--no-log] [--algo REF]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meshrt.runtime.run import run  # noqa: E402
from meshrt.scenario.definition import load_scenario, start  # noqa: E402
from meshrt.scenario.latency import micros  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=1_000_000)
    parser.add_argument(
        "--interval-us",
        type=float,
        default=10.0,
        help="mean time between book updates (scenario time)",
    )
    parser.add_argument(
        "--latency-us",
        type=float,
        default=1000.0,
        help="feed and order latency base (jitter is 10%%)",
    )
    parser.add_argument("--no-log", action="store_true", help="do not write the replay log")
    parser.add_argument("--algo", help="algo reference to use instead of the Python maker")
    args = parser.parse_args()

    scenario = load_scenario(ROOT / "scenarios" / "market_maker.py")
    venue = scenario.venues[0]
    source = attrs.evolve(
        venue.sources[0], updates=args.updates, interval_ns=round(args.interval_us * 1000)
    )
    latency = micros(args.latency_us, jitter_us=args.latency_us / 10)
    venue = attrs.evolve(venue, sources=[source], feed_latency=latency, order_latency=latency)
    deployment = attrs.evolve(scenario.deployments[0], schedule=[start(0)])
    if args.algo:
        deployment = attrs.evolve(deployment, algo=args.algo)
    scenario = attrs.evolve(scenario, venues=[venue], deployments=[deployment], duration_ns=None)

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = None if args.no_log else Path(tmp) / "run"
        started, cpu_started = time.perf_counter(), time.process_time()
        result = run(scenario, run_dir)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    delivered = result.metrics["book_events_delivered"]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"updates {args.updates:,}  interval {args.interval_us} us  latency {args.latency_us} us"
        f"  log {'off' if args.no_log else 'on'}"
    )
    print(
        f"book events delivered {delivered:,}  events committed {result.summary['events']:,}"
        f"  windows {result.summary['windows']:,}  fills {result.summary['fills']:,}"
    )
    print(
        f"wall {wall:.2f} s  book events/s {delivered / wall:,.0f}  "
        f"cpu {cpu:.2f} s  book events per cpu-second {delivered / cpu:,.0f}  "
        f"peak RSS {peak_mib:,.0f} MiB"
    )


if __name__ == "__main__":
    main()
