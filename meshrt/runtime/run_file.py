"""The run file (RUN_DIR/run.json): what a run folder was made from, so a resume or a
replay finds the same scenario and refuses one that changed since (meshrt.runtime.digest).

It records the scenario file, the overrides the run was started with (``meshrt run
--set``, as ``{"LABEL.PARAM": VALUE, "seed": N}``) and the ``MESHRT_*`` environment
variables set then (a scenario file may read them: scenarios/paper_mesh.py takes its
venues' URLs and symbols from them); a resume or a replay loads the file with exactly
those variables set, applies the overrides again by the same rule
(meshrt/scenario/overrides.py), then checks the digest of the result.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from meshrt.log import checkpoint
from meshrt.runtime.digest import scenario_sha256
from meshrt.runtime.preflight import preflight
from meshrt.scenario.definition import Scenario, load_scenario
from meshrt.scenario.overrides import OverrideError, Setting, apply, setting

RUN_FILE = "run.json"
RUN_FILE_VERSION = 4  # 2: the digest covers the scenario's data files; 3: its overrides;
# 4: the MESHRT_* environment
ENVIRONMENT_PREFIX = "MESHRT_"
# the meshrt command's own settings, not a scenario's: never recorded, never changed
TOOL_VARIABLES = frozenset({"MESHRT_CACHE_DIR", "MESHRT_CHROMIUM"})


def scenario_environment() -> dict[str, str]:
    """The ``MESHRT_*`` variables a scenario file may read, as set now."""
    return {
        name: value
        for name, value in sorted(os.environ.items())
        if name.startswith(ENVIRONMENT_PREFIX) and name not in TOOL_VARIABLES
    }


@contextmanager
def _environment(recorded: Mapping[str, str]) -> Iterator[None]:
    """Exactly ``recorded`` of the scenario variables set while the block runs."""
    saved = scenario_environment()
    for name in saved:
        del os.environ[name]
    os.environ.update(recorded)
    try:
        yield
    finally:
        for name in scenario_environment():
            del os.environ[name]
        os.environ.update(saved)


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
        environment = info["environment"]
        if not (
            isinstance(environment, dict) and all(isinstance(v, str) for v in environment.values())
        ):
            raise checkpoint.CheckpointError(
                f"{run_dir / RUN_FILE}: environment: expected an object of strings"
            )
        with _environment(environment):
            loaded = load_scenario(path)
        scenario = _overridden(run_dir, info, loaded)
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
                "environment": scenario_environment(),
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
