"""A soak schedule written as a scenario file with its faults spelled out, so it can be
run (``meshrt run FILE``), read and edited on its own, away from the soak.

The file loads the soaked scenario and adds the schedule. A scenario's relative paths
(algo files, recorded data) are relative to the file it is loaded from, so the written
file roots them at the soaked scenario's folder first (``rooted``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import attrs

from meshrt.scenario.definition import Scenario, Source
from meshrt.sdk import Algo
from meshrt.soak.schedules import Schedule
from meshrt.venues.specs import RecordedSpec


class ScheduledRun(Protocol):
    """What a schedule file is written from (a soak ``Job`` is one)."""

    @property
    def scenario_path(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def index(self) -> int: ...
    @property
    def schedule(self) -> Schedule: ...


def rooted(scenario: Scenario) -> Scenario:
    """``scenario`` with its algo files and data files named by absolute paths."""
    base = Path(scenario.base_dir)

    def algo(ref: type[Algo] | str) -> type[Algo] | str:
        if not isinstance(ref, str):
            return ref
        file, sep, name = ref.partition(":")
        if (sep and not file.endswith(".py")) or Path(file).is_absolute():
            return ref  # a module name, or already absolute
        return f"{base / file}{sep}{name}"

    def source(spec: Source) -> Source:
        if isinstance(spec, RecordedSpec) and not Path(spec.path).is_absolute():
            return attrs.evolve(spec, path=str(base / spec.path))
        return spec

    return attrs.evolve(
        scenario,
        deployments=[attrs.evolve(d, algo=algo(d.algo)) for d in scenario.deployments],
        venues=[attrs.evolve(v, sources=[source(s) for s in v.sources]) for v in scenario.venues],
    )


def write_schedule(
    path: Path, job: ScheduledRun, duration_ns: int | None, shrunk: str = ""
) -> Path:
    """Write ``job``'s scenario, run for ``duration_ns``, as the scenario file ``path``;
    ``shrunk`` names the failure the schedule was shrunk to keep, if it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    faults = "".join(f"            {fault!r},\n" for fault in job.schedule.faults)
    names = ", ".join(sorted({type(fault).__name__ for fault in job.schedule.faults}))
    path.write_text(
        f'"""Schedule {job.index} of the soak of {job.scenario_path} seeded {job.seed},\n'
        + (f"shrunk to the fewest faults that still fail with {shrunk},\n" if shrunk else "")
        + f'its faults spelled out. Run it alone: meshrt run {path}"""\n\n'
        "import attrs\n\n"
        "from meshrt.scenario.definition import load_scenario\n"
        + (f"from meshrt.scenario.faults import {names}\n" if names else "")
        + "from meshrt.soak.failure_file import rooted\n"
        "from meshrt.soak.schedules import Schedule, apply\n\n"
        f"soaked = rooted(load_scenario({job.scenario_path!r}))\n"
        "scenario = apply(\n"
        f"    attrs.evolve(soaked, duration_ns={duration_ns}),\n"
        "    Schedule(\n"
        f"        faults=(\n{faults}        ),\n"
        f"        supervised={job.schedule.supervised},\n"
        "    ),\n"
        ")\n"
    )
    return path
