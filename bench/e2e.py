"""End-to-end benchmark: a whole run of the bundled market maker (or the do-nothing algo).

One instrument per venue, 20 levels per side, a trade print after every 10th update.
Reports book events delivered to the algos per wall second and per CPU second (setup
excluded), CPU time per window, and the process's peak RSS. Named shapes (issue 10) set
the defaults; any flag given overrides them:

| shape | what it measures |
|---|---|
| dense | updates 10 us apart, 1 ms latency: about 100 updates per window |
| sparse | updates 1 ms apart, 1 ms latency: about one update per window |
| sparse-fast | updates 1 ms apart, 100 us latency: windows with nothing in most of them |
| window | the do-nothing algo on the sparse shape: the runtime's cost per window |
| colocated | the do-nothing algo, dense, 50 us latency |
| venues | N venues (``--venues``), one do-nothing deployment each, 50k updates per venue |
| recorded | the market maker on ``--recorded FILE`` (bench/recorded_file.py; JSON lines, .mrec) |

Usage::

    .venv/bin/python bench/e2e.py [--shape dense] [--updates N] [--interval-us US]
                                  [--latency-us US] [--venues N] [--no-log] [--algo REF]
                                  [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meshrt.runtime.run import run  # noqa: E402
from meshrt.scenario.definition import Scenario, load_scenario, start  # noqa: E402
from meshrt.scenario.latency import micros  # noqa: E402

NOOP = str(ROOT / "bench" / "algos" / "noop.py") + ":NoOp"

SHAPES: dict[str, dict[str, Any]] = {
    "dense": {"updates": 1_000_000, "interval_us": 10.0, "latency_us": 1000.0},
    "sparse": {"updates": 100_000, "interval_us": 1000.0, "latency_us": 1000.0},
    "sparse-fast": {"updates": 100_000, "interval_us": 1000.0, "latency_us": 100.0},
    "window": {"updates": 100_000, "interval_us": 1000.0, "latency_us": 1000.0, "algo": NOOP},
    "colocated": {"updates": 1_000_000, "interval_us": 10.0, "latency_us": 50.0, "algo": NOOP},
    "venues": {
        "updates": 50_000,
        "interval_us": 10.0,
        "latency_us": 1000.0,
        "algo": NOOP,
        "venues": 4,
    },
    "recorded": {"latency_us": 1000.0},
}


def scenario_for(args: argparse.Namespace) -> Scenario:
    """The bundled market maker's scenario reshaped: one source per venue, no schedule."""
    scenario = load_scenario(ROOT / "scenarios" / "market_maker.py")
    venue = scenario.venues[0]
    latency = micros(args.latency_us, jitter_us=args.latency_us / 10)
    if args.recorded:  # a file from bench/recorded_file.py (JSON lines or .mrec)
        from meshrt.venues.specs import RecordedSpec

        from bench.recorded_file import SYMBOL, TICK

        path = str(args.recorded.resolve())
        source: Any = RecordedSpec(SYMBOL, path, start_at_zero=True)
        params = dict(scenario.deployments[0].params, tick=TICK)
        scenario = attrs.evolve(
            scenario, deployments=[attrs.evolve(scenario.deployments[0], params=params)]
        )
    else:
        source = attrs.evolve(
            venue.sources[0], updates=args.updates, interval_ns=round(args.interval_us * 1000)
        )
    venue = attrs.evolve(venue, sources=[source], feed_latency=latency, order_latency=latency)
    deployment = attrs.evolve(scenario.deployments[0], schedule=[start(0)])
    if args.algo:
        path, colon, name = args.algo.partition(":")
        if Path(path).exists():  # a file named from here, not from the scenario's folder
            args.algo = str(Path(path).resolve()) + colon + name
        deployment = attrs.evolve(deployment, algo=args.algo)  # the maker's params kept
    venues, deployments = [venue], [deployment]
    if args.venues > 1:
        venues = [
            attrs.evolve(
                venue,
                name=f"v{i}",
                sources=[attrs.evolve(source, seed=source.seed + i)],
            )
            for i in range(args.venues)
        ]
        deployments = [
            attrs.evolve(deployment, label=f"d{i}", venue=f"v{i}") for i in range(args.venues)
        ]
    return attrs.evolve(scenario, venues=venues, deployments=deployments, duration_ns=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="dense")
    parser.add_argument("--updates", type=int, help="book updates per venue")
    parser.add_argument("--interval-us", type=float, help="mean time between book updates")
    parser.add_argument("--latency-us", type=float, help="feed and order latency (10%% jitter)")
    parser.add_argument("--venues", type=int, help="venues, one deployment each")
    parser.add_argument("--recorded", type=Path, help="a recorded data file (shape recorded)")
    parser.add_argument("--no-log", action="store_true", help="do not write the replay log")
    parser.add_argument("--algo", help="algo reference to use instead of the Python maker")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    for name, value in {"venues": 1, "algo": None, **SHAPES[args.shape]}.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.shape == "recorded" and args.recorded is None:
        parser.error("shape recorded needs --recorded FILE")
    scenario = scenario_for(args)

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = None if args.no_log else Path(tmp) / "run"
        started, cpu_started = time.perf_counter(), time.process_time()
        result = run(scenario, run_dir)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        log_sha256 = None  # after the clock stops: two builds' logs compared byte for byte
        if run_dir is not None:
            with open(run_dir / "replay.jsonl", "rb") as log:
                log_sha256 = hashlib.file_digest(log, "sha256").hexdigest()
    crashed = [d for d in result.summary["deployments"] if d["crashed"]]
    if crashed:  # a figure of a run whose algo never ran measures nothing
        sys.exit(f"bench/e2e.py: {crashed[0]['label']} crashed: {crashed[0]['crashed']}")
    delivered = result.metrics["book_events_delivered"]
    windows = result.summary["windows"]
    figures = {
        "shape": args.shape,
        "updates": args.updates,
        "interval_us": args.interval_us,
        "latency_us": args.latency_us,
        "venues": args.venues,
        "algo": args.algo or "market maker",
        "log": not args.no_log,
        "book_events_delivered": delivered,
        "events_committed": result.summary["events"],
        "windows": windows,
        "fills": result.summary["fills"],
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "book_events_per_cpu_s": round(delivered / cpu),
        "cpu_us_per_window": round(cpu / windows * 1e6, 2) if windows else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "log_sha256": log_sha256,
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"shape {args.shape}  updates {args.recorded or f'{args.updates:,}'} x {args.venues} "
        f"venue(s)  interval {args.interval_us} us  latency {args.latency_us} us  "
        f"log {'off' if args.no_log else 'on'}"
    )
    print(
        f"book events delivered {delivered:,}  events committed {figures['events_committed']:,}"
        f"  windows {windows:,}  fills {figures['fills']:,}"
    )
    print(
        f"wall {wall:.2f} s  book events/s {delivered / wall:,.0f}  cpu {cpu:.2f} s  "
        f"book events per cpu-second {figures['book_events_per_cpu_s']:,}  "
        f"cpu per window {figures['cpu_us_per_window']} us  "
        f"peak RSS {figures['peak_rss_mib']:,} MiB"
    )


if __name__ == "__main__":
    main()
