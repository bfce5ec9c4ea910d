"""One sweep job and how a worker runs it.

A job is a plain picklable value: which scenario (its file and the digest of what it is
made of, so a worker refuses one that changed), the scenario time to run, the point's
settings, the markout horizons, and where to keep the run (or None: a temporary folder,
removed once its figures are read). A worker loads each scenario file once and runs
many points with it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import attrs

from meshrt.analysis.tca import analyse
from meshrt.jobs.scenarios import job_scenario, load
from meshrt.runtime.run import run
from meshrt.scenario.definition import load_scenario
from meshrt.scenario.overrides import apply
from meshrt.sweep.figures import Figures, figures
from meshrt.sweep.grid import Point
from meshrt.sweep.point_file import write_point


@attrs.frozen(slots=True)
class Job:
    scenario_path: str
    scenario_sha256: str
    duration_ns: int | None  # None: the scenario's own
    point: Point
    horizons_ns: tuple[int, ...]
    keep: str | None = None  # a folder to keep the run and its scenario file in


@attrs.frozen(slots=True)
class Result:
    """A point's run: how it ended (``status`` of summary.json, and its failure if any),
    its figures in total and per deployment (label, figures) in scenario order."""

    point: Point
    status: str
    failure: str | None
    events: int
    total: Figures
    deployments: tuple[tuple[str, Figures], ...]


def warm(job: Job) -> None:
    load(job.scenario_path)


def run_job(job: Job) -> Result:
    """Run the scenario at the job's point and read its figures."""
    base = job_scenario(job.scenario_path, job.scenario_sha256, job.duration_ns)
    scenario = apply(base, job.point.settings)
    work = Path(tempfile.mkdtemp(prefix="meshrt-sweep-"))
    try:
        folder = work / "run"
        if job.keep is not None:  # from a scenario file, so meshrt replay can re-execute it
            folder = Path(job.keep) / "run"
            scenario = load_scenario(
                write_point(Path(job.keep) / "point.py", job, base.duration_ns)
            )
        result = run(scenario, folder)
        total, each = figures(
            result.summary, analyse(folder, horizons_ns=job.horizons_ns), job.horizons_ns
        )
    finally:
        shutil.rmtree(work)
    summary = result.summary
    return Result(
        job.point,
        summary["status"],
        summary["failure"],
        int(summary["events"]),
        total,
        tuple(each.items()),
    )
