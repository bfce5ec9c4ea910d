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

from meshrt.runtime.digest import scenario_sha256
from meshrt.runtime.preflight import preflight
from meshrt.runtime.run import run
from meshrt.scenario.definition import Scenario, load_scenario
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


_scenarios: dict[str, tuple[Scenario, str]] = {}


def load(path: str) -> tuple[Scenario, str]:
    """The scenario file at ``path`` and its digest, loaded and checked once per process
    (ScenarioError, SourceError or AlgoLoadError when it cannot run)."""
    known = _scenarios.get(path)
    if known is None:
        scenario = load_scenario(path)
        preflight(scenario, path)
        known = _scenarios[path] = (scenario, scenario_sha256(scenario)[0])
    return known


def run_job(job: Job) -> Outcome:
    """Run one schedule (twice when ``job.verify``) and check it."""
    base, digest = load(job.scenario_path)
    if digest != job.scenario_sha256:
        raise RuntimeError(f"{job.scenario_path}: the scenario changed since the soak began")
    if job.duration_ns is not None:
        base = attrs.evolve(base, duration_ns=job.duration_ns)
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
