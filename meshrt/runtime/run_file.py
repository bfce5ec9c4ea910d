"""The run file (RUN_DIR/run.json): what a run folder was made from, so a resume or a
replay finds the same scenario and refuses one that changed since (meshrt.runtime.digest).

It records the scenario file and the overrides the run was started with (``meshrt run
--set``, as ``{"LABEL.PARAM": VALUE, "seed": N}``); a resume or a replay loads the file,
applies them again by the same rule (meshrt/scenario/overrides.py), then checks the digest
of the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from meshrt.log import checkpoint
from meshrt.runtime.digest import scenario_sha256
from meshrt.runtime.preflight import preflight
from meshrt.scenario.definition import Scenario, load_scenario
from meshrt.scenario.overrides import OverrideError, Setting, apply, setting

RUN_FILE = "run.json"
RUN_FILE_VERSION = 3  # 2: the digest covers the scenario's data files; 3: its overrides


def load_run_scenario(run_dir: Path, scenario: Scenario | None = None) -> Scenario:
    """The scenario a run folder was made from (``scenario``, or else its file), with the
    run's overrides; refused if it changed since."""
    info = read_run_file(run_dir)
    if scenario is None:
        path = Path(info["scenario_path"]) if info.get("scenario_path") else None
        if path is None:
            raise checkpoint.CheckpointError(
                f"{run_dir / RUN_FILE}: scenario_path: the run was not started from a "
                "scenario file; pass its Scenario value instead"
            )
        scenario = _overridden(run_dir, info, load_scenario(path))
        preflight(scenario, str(path))
    else:
        scenario = _overridden(run_dir, info, scenario)
    known = info.get("data_files")
    digest, _ = scenario_sha256(scenario, known if isinstance(known, dict) else {})
    if digest != info["scenario_sha256"]:
        raise checkpoint.CheckpointError(
            f"{run_dir / RUN_FILE}: scenario_sha256: the scenario changed since the run "
            "started (its value, its file, an algo file it names or a data file it reads); "
            "going on would not reproduce it"
        )
    return scenario


def _overridden(run_dir: Path, info: dict[str, Any], scenario: Scenario) -> Scenario:
    """``scenario`` with the overrides the run file records."""
    recorded = info["overrides"]
    try:
        if not isinstance(recorded, dict):
            raise OverrideError(f"expected an object, got {recorded!r}")
        return apply(scenario, [setting(name, value, scenario) for name, value in recorded.items()])
    except OverrideError as exc:
        raise checkpoint.CheckpointError(f"{run_dir / RUN_FILE}: overrides: {exc}") from None


def write_run_file(
    run_dir: Path,
    scenario: Scenario,
    overrides: Sequence[Setting],
    checkpoint_every: int,
    fsync_interval_s: float | None,
) -> None:
    """Record ``scenario`` (with ``overrides`` already applied) and how it is kept."""
    digest, data_files = scenario_sha256(scenario)
    (run_dir / RUN_FILE).write_bytes(
        orjson.dumps(
            {
                "format": "meshrt-run",
                "version": RUN_FILE_VERSION,
                "scenario_path": getattr(scenario, "source_path", None),
                "overrides": {s.name: s.value for s in overrides},
                "scenario_sha256": digest,
                "data_files": data_files,
                "checkpoint_every": checkpoint_every,
                "fsync_interval_s": fsync_interval_s,
            },
            option=orjson.OPT_INDENT_2,
        )
    )


def read_run_file(run_dir: Path) -> dict[str, Any]:
    path = run_dir / RUN_FILE
    try:
        info: dict[str, Any] = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise checkpoint.CheckpointError(
            f"{path}: no such file (is {run_dir} a run folder?)"
        ) from None
    except orjson.JSONDecodeError as exc:
        raise checkpoint.CheckpointError(f"{path}: not JSON ({exc})") from None
    if info.get("format") != "meshrt-run" or info.get("version") != RUN_FILE_VERSION:
        raise checkpoint.CheckpointError(
            f"{path}: not a meshrt run file of version {RUN_FILE_VERSION} (version "
            f"{info.get('version')!r}: written by another meshrt)"
        )
    return info
