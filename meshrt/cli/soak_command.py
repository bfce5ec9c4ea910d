"""``meshrt soak SCENARIO --schedules N``: random fault schedules on a local process pool
(or a Dask cluster), each run checked; a failure is printed with its seed and the command
that reproduces it alone, written as a scenario file with its faults spelled out, and
shrunk to the fewest faults that keep its signature, written the same way (docs/soak.md)."""

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
    from meshrt.soak.job import Job, Outcome
    from meshrt.soak.shrink import Shrunk

EXIT_FAILED = 1
DEFAULT_SHRINK_RUNS = 100
DEFAULT_VERIFY_EVERY = 10


def default_workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def add_execution_options(parser: argparse.ArgumentParser) -> None:
    """--jobs and --cluster: where the jobs run; --duration: how long each runs (soak's
    and sweep's)."""
    parser.add_argument(
        "--duration",
        type=argtypes.seconds,
        metavar="SECONDS",
        help="run this much scenario time (default: the scenario's duration)",
    )
    parser.add_argument(
        "--jobs",
        type=argtypes.count,
        default=default_workers(),
        metavar="J",
        help="worker processes (default: the cores, %(default)s here; 1: in this process)",
    )
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run the jobs on the Dask cluster whose scheduler is at ADDRESS "
        "(tcp://HOST:PORT; needs meshrt[cluster]), not on --jobs local processes",
    )


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
    add_execution_options(soak)
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
    soak.add_argument(
        "--shrink-runs",
        type=argtypes.count,
        default=DEFAULT_SHRINK_RUNS,
        metavar="N",
        help=f"runs each failure may take to shrink (default {DEFAULT_SHRINK_RUNS})",
    )
    soak.add_argument("--no-shrink", action="store_true", help="do not shrink failures")
    soak.add_argument(
        "--as-is",
        action="store_true",
        help="run the scenario once as it is, no random faults, with the same checks "
        "(to check a written schedule file)",
    )
    soak.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    import attrs

    from meshrt.console import show
    from meshrt.jobs.cluster import ClusterError
    from meshrt.jobs.scenarios import load
    from meshrt.jobs.shipped import ShipmentError
    from meshrt.loaders.python import AlgoLoadError
    from meshrt.scenario.definition import ScenarioError, seconds
    from meshrt.soak import pool, report
    from meshrt.soak.failure_file import write_schedule
    from meshrt.venues.recorded import SourceError

    try:
        scenario, digest = load(str(args.scenario))
    except (ScenarioError, SourceError, AlgoLoadError) as exc:
        return argtypes.refuse("soak", f"bad scenario: {exc}")
    if args.cluster is not None and args.keep is not None:
        return argtypes.refuse("soak", "--keep keeps runs on this disk: not with --cluster")
    duration_ns = None if args.duration is None else seconds(args.duration)
    if (duration_ns or scenario.duration_ns) is None:
        return argtypes.refuse("soak", "the scenario has no duration_ns: give --duration")
    seed = secrets.randbelow(2**32) if args.seed is None else args.seed
    shaped = scenario if duration_ns is None else attrs.evolve(scenario, duration_ns=duration_ns)
    jobs = plan(args, shaped, digest, duration_ns, seed)
    workers = 1 if args.as_is else args.jobs
    what = "as it is" if args.as_is else f"seed {seed}, {len(jobs):,} schedules"
    where = f"{workers} workers" if args.cluster is None else f"the cluster at {args.cluster}"
    print(f"meshrt soak: {what} on {where}", file=sys.stderr)
    progress = report.Progress(len(jobs))
    started = time.perf_counter()
    outcomes = []
    try:
        for outcome in pool.run_jobs(jobs, workers, args.cluster):
            outcomes.append(outcome)
            progress.update(outcome)
    except (ClusterError, ShipmentError) as exc:
        return argtypes.refuse("soak", str(exc))
    finally:
        progress.close()
    outcomes.sort(key=lambda o: o.job.index)
    show(report.table(outcomes, time.perf_counter() - started, sum(j.verify for j in jobs)))
    failed = [o for o in outcomes if not o.ok]
    if args.as_is:
        for outcome in failed:
            print(f"\n{args.scenario} failed:")
            print_failures(outcome)
        return EXIT_FAILED if failed else 0
    out = args.out or Path("soak") / f"{scenario.name}-{seed}"
    shrunk = {} if args.no_shrink else shrink(failed, args)
    for outcome in failed:
        job = outcome.job
        print(f"\nschedule {job.index} (seed {seed}) failed:")
        print_failures(outcome)
        print(f"  reproduce: {reproduce(args, seed, job.index)}")
        written = write_schedule(out / f"schedule-{job.index}.py", job, shaped.duration_ns)
        print(f"  scenario:  {written}  ({faults(job)})")
        done = shrunk.get(outcome.failures[0].signature)
        if done is None:
            continue
        if done.original is not outcome:
            print(f"  shrunk:    see schedule {done.original.job.index} (the same signature)")
            continue
        check, deployment = done.signature
        kept = check + (f" ({deployment})" if deployment else "")
        path = out / f"schedule-{job.index}-shrunk.py"
        written = write_schedule(path, done.job, shaped.duration_ns, shrunk=kept)
        spent = f"{done.runs} runs" + (", budget used up" if done.exhausted else "")
        print(f"  shrunk:    {written}  ({faults(job)} -> {faults(done.job)}, {spent})")
        print(f"  check it:  {shlex.join(['meshrt', 'soak', str(written), '--as-is'])}")
    return EXIT_FAILED if failed else 0


def print_failures(outcome: Outcome) -> None:
    for failure in outcome.failures:
        where = f" [{failure.deployment}]" if failure.deployment else ""
        print(f"  {failure.check}{where}: {failure.detail}")


def faults(job: Job) -> str:
    count = len(job.schedule.faults)
    return f"{count} fault" + ("" if count == 1 else "s")


def shrink(failed: list[Outcome], args: argparse.Namespace) -> dict[tuple[str, str | None], Shrunk]:
    """The first failed schedule of each signature (its first failure's), shrunk: the
    others with that signature are the same failure."""
    from meshrt.soak import pool

    first: dict[tuple[str, str | None], Outcome] = {}
    for outcome in failed:
        first.setdefault(outcome.failures[0].signature, outcome)
    if not first:
        return {}
    count = f"{len(first)} failure" + ("" if len(first) == 1 else "s")
    print(f"meshrt soak: shrinking {count}, up to {args.shrink_runs} runs each", file=sys.stderr)
    done = pool.shrink_all(list(first.values()), args.shrink_runs, args.jobs)
    return {s.signature: s for s in done}


def plan(
    args: argparse.Namespace, shaped: Scenario, digest: str, duration_ns: int | None, seed: int
) -> list[Job]:
    """The jobs to run: schedule I of the seed for each I asked for, drawn for ``shaped``
    (the scenario with the duration it runs for)."""
    from meshrt.soak.job import Job
    from meshrt.soak.schedules import Schedule, random_schedule, schedule_seed

    if args.as_is:
        return [Job(str(args.scenario), digest, duration_ns, seed, 0, Schedule((), False), True)]
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
