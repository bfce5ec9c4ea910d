"""Run jobs on a local process pool: each worker imports meshrt and warms up once (the
first job's scenario, loaded), then runs many jobs; results come back as they finish.
With one worker the jobs run in this process (no pool), which is also the way to debug
one job. A job and its result are plain picklable values, so what runs them is the
caller's choice (a cluster later, docs/design.md "Packages")."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TypeVar

J = TypeVar("J")
R = TypeVar("R")


def run_jobs(
    jobs: Iterable[J], workers: int, work: Callable[[J], R], warm: Callable[[J], object]
) -> Iterator[R]:
    """``work(job)`` for each job, in the order they finish (at most ``2 * workers``
    queued); each worker first calls ``warm`` on the first job. ``work`` and ``warm``
    are module-level functions, so a worker process can import them."""
    pending = iter(jobs)
    if workers <= 1:
        yield from map(work, pending)
        return
    first = next(pending, None)
    if first is None:
        return
    with ProcessPoolExecutor(workers, initializer=warm, initargs=(first,)) as pool:
        running: set[Future[R]] = {pool.submit(work, first)}
        for job in pending:
            running.add(pool.submit(work, job))
            if len(running) >= 2 * workers:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in done)
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            yield from (future.result() for future in done)
