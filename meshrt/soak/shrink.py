"""Shrink a failed soak schedule to the fewest faults, earliest times and shortest
durations that still fail with the same signature (the same check, the same deployment).

Each candidate is a soak job like any other (the failed job with fewer or moved faults),
run by ``run_job`` with the same checks; the shrink of one failure is a sequence of runs,
so a pool shrinks several failures side by side, one per worker (``pool.shrink_all``).
"""

from __future__ import annotations

import attrs

from meshrt.soak import delta
from meshrt.soak.checks import DETERMINISM
from meshrt.soak.job import Job, Outcome, run_job

DEFAULT_RUNS = 100


@attrs.frozen(slots=True)
class Shrunk:
    """``job`` is the shrunk schedule of ``original``'s job; it fails with ``signature``.
    ``runs`` candidates were run; ``exhausted``: the budget ran out first."""

    original: Outcome
    signature: tuple[str, str | None]
    job: Job
    runs: int
    exhausted: bool


def shrink_outcome(outcome: Outcome, runs: int = DEFAULT_RUNS) -> Shrunk:
    """Shrink ``outcome``'s schedule, keeping its first failure's signature, in at most
    ``runs`` runs (a determinism failure needs each candidate run twice)."""
    signature = outcome.failures[0].signature
    failed = attrs.evolve(outcome.job, verify=signature[0] == DETERMINISM, keep=None)

    def candidate(faults: delta.Faults) -> Job:
        return attrs.evolve(failed, schedule=attrs.evolve(failed.schedule, faults=faults))

    def fails(faults: delta.Faults) -> bool:
        return any(f.signature == signature for f in run_job(candidate(faults)).failures)

    found = delta.shrink(outcome.job.schedule.faults, fails, runs)
    return Shrunk(outcome, signature, candidate(found.faults), found.runs, found.exhausted)
