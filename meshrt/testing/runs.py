"""Run a scenario file for a test: with a seed or param overrides, into a given folder."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from meshrt.runtime.run import RunOptions, RunResult, run
from meshrt.scenario import overrides
from meshrt.scenario.definition import load_scenario


def run_scenario(
    path: Path | str,
    run_dir: Path,
    *,
    seed: int | None = None,
    settings: Mapping[str, Any] | None = None,
) -> RunResult:
    """The run ``meshrt run PATH --out RUN_DIR [--seed N] [--set NAME=VALUE ...]`` makes
    (``settings``: ``{"LABEL.PARAM": value}``, checked by meshrt/scenario/overrides.py;
    kept in run.json, so the run replays). OverrideError names a bad one."""
    scenario = load_scenario(path)
    given = dict(settings or {})
    if seed is not None:
        given["seed"] = seed
    checked = tuple(overrides.setting(name, value, scenario) for name, value in given.items())
    return run(scenario, run_dir, options=RunOptions(overrides=checked))
