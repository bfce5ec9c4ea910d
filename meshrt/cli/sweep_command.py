"""``meshrt sweep SCENARIO --param NAME=V1,V2,...``: the scenario run at every point of a
grid of deployment params (or K random points of it) on a local process pool (or a Dask
cluster); each point's figures written to results.csv and results.json, the best printed
(docs/sweep.md)."""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from meshrt.cli import argtypes
from meshrt.cli.soak_command import add_execution_options

EXIT_FAILED = 1
DEFAULT_TOP = 10


def add_parser(commands: Any) -> None:
    sweep = commands.add_parser(
        "sweep", help="run a scenario over a grid of deployment params and compare the points"
    )
    sweep.add_argument("scenario", type=argtypes.path, help="path to a scenario .py file")
    sweep.add_argument(
        "--param",
        action="append",
        required=True,
        metavar="NAME=V1,V2,...",
        help="an axis: LABEL.PARAM (a deployment's param) or seed, and its values as JSON "
        "(repeat for more axes; the grid is every combination)",
    )
    sweep.add_argument(
        "--random", type=argtypes.count, metavar="K", help="run K random points of the grid"
    )
    sweep.add_argument(
        "--seed",
        type=argtypes.count,
        metavar="S",
        help="the seed --random draws from (default: a random one)",
    )
    add_execution_options(sweep)
    sweep.add_argument(
        "--markouts",
        type=argtypes.durations,
        metavar="H1,H2,...",
        help="markout horizons, e.g. 100ms,1s (a bare number is seconds; default: meshrt "
        "tca's rule, three chosen from the run's duration)",
    )
    sweep.add_argument(
        "--out",
        type=argtypes.path,
        metavar="DIR",
        help="the sweep folder (default: sweeps/NAME-N, the first N free)",
    )
    sweep.add_argument(
        "--keep-runs",
        action="store_true",
        help="keep each point's run folder and scenario file in DIR/points/POINT/",
    )
    sweep.add_argument(
        "--rank",
        default="pnl",
        metavar="FIELD",
        help="the results column the top points are chosen by (default pnl)",
    )
    sweep.add_argument(
        "--top",
        type=argtypes.count,
        default=DEFAULT_TOP,
        metavar="N",
        help=f"how many points to print (default {DEFAULT_TOP})",
    )
    sweep.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from meshrt.analysis.tca import default_horizons
    from meshrt.console import Bar, show
    from meshrt.jobs.cluster import ClusterError, run_jobs_on_cluster
    from meshrt.jobs.pool import run_jobs
    from meshrt.jobs.scenarios import load
    from meshrt.jobs.shipped import ShipmentError
    from meshrt.loaders.python import AlgoLoadError
    from meshrt.scenario.definition import ScenarioError, seconds
    from meshrt.sweep import grid, results
    from meshrt.sweep.job import Job, run_job, warm
    from meshrt.venues.recorded import SourceError

    try:
        scenario, digest = load(str(args.scenario))
    except (ScenarioError, SourceError, AlgoLoadError) as exc:
        return argtypes.refuse("sweep", f"bad scenario: {exc}")
    try:
        axes = [grid.parse_axis(text, scenario) for text in args.param]
    except grid.GridError as exc:
        return argtypes.refuse("sweep", str(exc))
    names = [axis.name for axis in axes]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        return argtypes.refuse("sweep", f"--param {repeated[0]} given twice")
    duration_ns = None if args.duration is None else seconds(args.duration)
    run_ns = duration_ns or scenario.duration_ns
    if run_ns is None:
        return argtypes.refuse("sweep", "the scenario has no duration_ns: give --duration")
    if args.cluster is not None and args.keep_runs:
        return argtypes.refuse("sweep", "--keep-runs keeps runs on this disk: not with --cluster")
    horizons = args.markouts or default_horizons(run_ns)
    if args.rank not in results.figure_names(horizons):
        return argtypes.refuse(
            "sweep",
            f"--rank {args.rank}: not a figure (figures: "
            f"{', '.join(results.figure_names(horizons))})",
        )
    seed = None
    if args.random is not None:
        seed = secrets.randbelow(2**32) if args.seed is None else args.seed
    points = grid.points(axes, args.random, seed or 0)
    out = args.out or _fresh(Path("sweeps"), scenario.name)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [
        Job(
            str(args.scenario),
            digest,
            duration_ns,
            point,
            horizons,
            keep=str(out / "points" / str(point.index)) if args.keep_runs else None,
        )
        for point in points
    ]
    drawn = "" if seed is None else f" (random, seed {seed})"
    where = f"{args.jobs} workers" if args.cluster is None else f"the cluster at {args.cluster}"
    print(
        f"meshrt sweep: {len(jobs):,} of {grid.size(axes):,} points{drawn} on {where}",
        file=sys.stderr,
    )
    started = time.perf_counter()
    bar = Bar("sweep")
    finished = []
    try:
        if args.cluster is None:
            running = run_jobs(jobs, args.jobs, run_job, warm)
        else:
            running = run_jobs_on_cluster(jobs, args.cluster, run_job)
        for result in running:
            finished.append(result)
            bar.update(len(finished), len(jobs), f"{len(finished):,}/{len(jobs):,} points")
    except (ClusterError, ShipmentError) as exc:
        return argtypes.refuse("sweep", str(exc))
    finally:
        bar.close()
    done = sorted(finished, key=lambda r: r.point.index)
    head = {
        "scenario": scenario.name,
        "scenario_file": str(args.scenario),
        "scenario_sha256": digest,
        "duration_ns": run_ns,
        "params": {axis.name: list(axis.values) for axis in axes},
        "random": args.random,
        "seed": seed,
        "markout_horizons_ns": list(horizons),
    }
    results.write(out, head, axes, done)
    top = results.ranked(done, args.rank)[: args.top]
    print(f"top {len(top)} of {len(done)} points by {args.rank}:")
    show(results.table(top, axes, horizons))
    failed = [r for r in done if r.status != "ok"]
    for result in failed:
        print(f"point {result.point.index} {result.status}: {result.failure}")
    print(f"{len(done):,} points in {time.perf_counter() - started:.1f} s; results: {out}")
    return EXIT_FAILED if failed else 0


def _fresh(parent: Path, name: str) -> Path:
    """``parent/NAME-N`` for the first N from 1 not taken."""
    n = 1
    while (parent / f"{name}-{n}").exists():
        n += 1
    return parent / f"{name}-{n}"
