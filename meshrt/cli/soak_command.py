"""``meshrt soak SCENARIO --schedules N``: random fault schedules on a local process pool,
each run checked; a failure is printed with its seed and the command that reproduces it
alone, and written as a scenario file with its faults spelled out (docs/soak.md)."""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshrt.cli import argtypes

if TYPE_CHECKING:
    from meshrt.scenario.definition import Scenario
    from meshrt.soak.job import Job

EXIT_FAILED = 1
DEFAULT_VERIFY_EVERY = 10


def default_workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def add_parser(commands: Any) -> None:
    soak = commands.add_parser(
        "soak", help="run a scenario under many seeded random fault schedules and check each"
    )
    soak.add_argument("scenario", type=argtypes.path, help="path to a scenario .py file")
    soak.add_argument(
        "--schedules", type=argtypes.count, default=100, metavar="N", help="how many (default 100)"
    )
    soak.add_argument(
        "--seed", type=argtypes.count, metavar="S", help="the soak's seed (default: a random one)"
    )
    soak.add_argument(
        "--jobs",
        type=argtypes.count,
        default=default_workers(),
        metavar="J",
        help="worker processes (default: the cores, %(default)s here; 1: in this process)",
    )
    soak.add_argument(
        "--duration",
        type=argtypes.seconds,
        metavar="SECONDS",
        help="run this much scenario time (default: the scenario's duration)",
    )
    soak.add_argument(
        "--verify-every",
        type=argtypes.count,
        default=DEFAULT_VERIFY_EVERY,
        metavar="K",
        help="run every K-th schedule twice and compare the logs byte for byte "
        f"(default {DEFAULT_VERIFY_EVERY}; 0: never)",
    )
    soak.add_argument(
        "--only", type=argtypes.count, metavar="I", help="run schedule I of the seed alone"
    )
    soak.add_argument(
        "--out",
        type=argtypes.path,
        metavar="DIR",
        help="where failing schedules are written as scenario files (default soak/NAME-SEED)",
    )
    soak.add_argument(
        "--keep",
        type=argtypes.path,
        metavar="DIR",
        help="keep each schedule as DIR/I/schedule.py and its run folder DIR/I/run",
    )
    soak.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    import attrs

    from meshrt.jobs.scenarios import load
    from meshrt.loaders.python import AlgoLoadError
    from meshrt.scenario.definition import ScenarioError, seconds
    from meshrt.soak import pool, report
    from meshrt.soak.failure_file import write_schedule
    from meshrt.venues.recorded import SourceError

    try:
        scenario, digest = load(str(args.scenario))
    except (ScenarioError, SourceError, AlgoLoadError) as exc:
        return argtypes.refuse("soak", f"bad scenario: {exc}")
    duration_ns = None if args.duration is None else seconds(args.duration)
    if (duration_ns or scenario.duration_ns) is None:
        return argtypes.refuse("soak", "the scenario has no duration_ns: give --duration")
    seed = secrets.randbelow(2**32) if args.seed is None else args.seed
    shaped = scenario if duration_ns is None else attrs.evolve(scenario, duration_ns=duration_ns)
    jobs = plan(args, shaped, digest, duration_ns, seed)
    print(
        f"meshrt soak: seed {seed}, {len(jobs):,} schedules on {args.jobs} workers", file=sys.stderr
    )
    progress = report.Progress(len(jobs))
    started = time.perf_counter()
    outcomes = []
    try:
        for outcome in pool.run_jobs(jobs, args.jobs):
            outcomes.append(outcome)
            progress.update(outcome)
    finally:
        progress.close()
    outcomes.sort(key=lambda o: o.job.index)
    print(report.table(outcomes, time.perf_counter() - started, sum(j.verify for j in jobs)))
    failed = [o for o in outcomes if not o.ok]
    out = args.out or Path("soak") / f"{scenario.name}-{seed}"
    for outcome in failed:
        job = outcome.job
        print(f"\nschedule {job.index} (seed {seed}) failed:")
        for failure in outcome.failures:
            where = f" [{failure.deployment}]" if failure.deployment else ""
            print(f"  {failure.check}{where}: {failure.detail}")
        print(f"  reproduce: {reproduce(args, seed, job.index)}")
        written = write_schedule(out / f"schedule-{job.index}.py", job, shaped.duration_ns)
        print(f"  scenario:  {written}")
    return EXIT_FAILED if failed else 0


def plan(
    args: argparse.Namespace, shaped: Scenario, digest: str, duration_ns: int | None, seed: int
) -> list[Job]:
    """The jobs to run: schedule I of the seed for each I asked for, drawn for ``shaped``
    (the scenario with the duration it runs for)."""
    from meshrt.soak.job import Job
    from meshrt.soak.schedules import random_schedule, schedule_seed

    indices = range(args.schedules) if args.only is None else [args.only]
    every = args.verify_every
    return [
        Job(
            str(args.scenario),
            digest,
            duration_ns,
            seed,
            i,
            random_schedule(shaped, schedule_seed(seed, i)),
            verify=args.only is not None or (every > 0 and i % every == 0),
            keep=None if args.keep is None else str(args.keep / str(i)),
        )
        for i in indices
    ]


def reproduce(args: argparse.Namespace, seed: int, index: int) -> str:
    """The command that runs schedule ``index`` alone, with the same checks."""
    words = ["meshrt", "soak", str(args.scenario), "--seed", str(seed), "--only", str(index)]
    if args.duration is not None:
        words += ["--duration", repr(args.duration)]
    words += ["--jobs", "1"]
    return shlex.join(words)
