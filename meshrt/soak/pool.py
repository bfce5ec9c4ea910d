"""Run soak jobs on a local process pool: each worker imports meshrt once and runs many
jobs; outcomes come back as they finish. One job runs in this process (no pool) when
there is one worker, which is also the way to debug one schedule. Failures shrink the
same way, one failure's sequence of runs per worker."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from functools import partial

from meshrt.soak.job import Job, Outcome, load, run_job
from meshrt.soak.shrink import Shrunk, shrink_outcome


def run_jobs(jobs: Iterable[Job], workers: int) -> Iterator[Outcome]:
    """Each job's outcome, in the order they finish (at most ``2 * workers`` queued)."""
    pending = iter(jobs)
    if workers <= 1:
        yield from map(run_job, pending)
        return
    first = next(pending, None)
    if first is None:
        return
    with ProcessPoolExecutor(workers, initializer=load, initargs=(first.scenario_path,)) as pool:
        running: set[Future[Outcome]] = {pool.submit(run_job, first)}
        for job in pending:
            running.add(pool.submit(run_job, job))
            if len(running) >= 2 * workers:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in done)
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            yield from (future.result() for future in done)


def shrink_all(failed: list[Outcome], runs: int, workers: int) -> list[Shrunk]:
    """Each failed outcome shrunk in at most ``runs`` runs, in ``failed``'s order."""
    shrink = partial(shrink_outcome, runs=runs)
    if workers <= 1 or len(failed) <= 1:
        return list(map(shrink, failed))
    path = failed[0].job.scenario_path
    with ProcessPoolExecutor(min(workers, len(failed)), initializer=load, initargs=(path,)) as pool:
        return list(pool.map(shrink, failed))
