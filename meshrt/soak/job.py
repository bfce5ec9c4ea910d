"""One soak job and how a worker runs it.

A job is a plain picklable value: which scenario (its file and the digest of what it is
made of, so a worker refuses one that changed), the scenario time to run, the soak seed
and the schedule's index, the schedule itself, and whether to run it twice to check
determinism. A worker loads each scenario file once and runs many jobs with it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import attrs

from meshrt.jobs.scenarios import job_scenario
from meshrt.runtime.run import run
from meshrt.scenario.definition import load_scenario
from meshrt.soak.checks import RUN_RAISED, Failure, check_determinism, check_run
from meshrt.soak.failure_file import write_schedule
from meshrt.soak.schedules import Schedule, apply


@attrs.frozen(slots=True)
class Job:
    scenario_path: str
    scenario_sha256: str
    duration_ns: int | None  # None: the scenario's own
    seed: int
    index: int
    schedule: Schedule
    verify: bool
    keep: str | None = None  # a folder to keep the run and its scenario file in


@attrs.frozen(slots=True)
class Outcome:
    job: Job
    failures: tuple[Failure, ...]
    events: int

    @property
    def ok(self) -> bool:
        return not self.failures


def run_job(job: Job) -> Outcome:
    """Run one schedule (twice when ``job.verify``) and check it."""
    base = job_scenario(job.scenario_path, job.scenario_sha256, job.duration_ns)
    scenario = apply(base, job.schedule)
    work = Path(tempfile.mkdtemp(prefix="meshrt-soak-"))
    try:
        first = work / "run"
        if job.keep is not None:  # from a scenario file, so meshrt replay can re-execute it
            first = Path(job.keep) / "run"
            scenario = load_scenario(
                write_schedule(Path(job.keep) / "schedule.py", job, base.duration_ns)
            )
        try:
            result = run(scenario, first)
        except Exception as exc:  # noqa: BLE001 - whatever a runtime bug raises is the finding
            return Outcome(job, (Failure(RUN_RAISED, None, f"{type(exc).__name__}: {exc}"),), 0)
        failures = list(check_run(result.summary, first))
        if job.verify:
            run(scenario, work / "again")
            failure = check_determinism(first, work / "again")
            if failure is not None:
                failures.append(failure)
        return Outcome(job, tuple(failures), int(result.summary["events"]))
    finally:
        shutil.rmtree(work)
