"""A sweep point written as a scenario file (``--keep-runs``): the swept scenario with the
point's settings, so its kept run folder replays (``meshrt replay``) and the point runs
alone (``meshrt run FILE``)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from meshrt.sweep.grid import Point


class PointRun(Protocol):
    """What a point file is written from (a sweep ``Job`` is one)."""

    @property
    def scenario_path(self) -> str: ...
    @property
    def point(self) -> Point: ...


def write_point(path: Path, job: PointRun, duration_ns: int | None) -> Path:
    """Write ``job``'s scenario, run for ``duration_ns``, as the scenario file ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = "".join(f"        {setting!r},\n" for setting in job.point.settings)
    path.write_text(
        f'"""Point {job.point.index} of a sweep of {job.scenario_path}.\n'
        f'Run it alone: meshrt run {path}"""\n\n'
        "import attrs\n\n"
        "from meshrt.scenario.definition import load_scenario\n"
        "from meshrt.soak.failure_file import rooted\n"
        "from meshrt.scenario.overrides import Setting, apply\n\n"
        f"swept = rooted(load_scenario({job.scenario_path!r}))\n"
        "scenario = apply(\n"
        f"    attrs.evolve(swept, duration_ns={duration_ns}),\n"
        f"    (\n{settings}    ),\n"
        ")\n"
    )
    return path
