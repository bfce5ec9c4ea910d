"""Assertions about a finished run, for algo authors' tests: each takes a ``RunResult``
or a run folder and raises AssertionError saying what is wrong (raised, not ``assert``ed:
they hold under ``python -O`` too)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from meshrt.runtime.run import RunResult


def _summary(run: RunResult | Path) -> dict[str, Any]:
    if isinstance(run, RunResult):
        return run.summary
    summary: dict[str, Any] = orjson.loads((Path(run) / "summary.json").read_bytes())
    return summary


def _folder(run: RunResult | Path) -> Path:
    if isinstance(run, RunResult):
        if run.run_dir is None:
            raise ValueError("this run kept no folder: run it with a run_dir")
        return run.run_dir
    return Path(run)


def assert_no_invariant_violation(run: RunResult | Path) -> None:
    """The run did not fail closed on an order invariant, and reconciliation found every
    order and ledger as the venues and fills have them."""
    summary = _summary(run)
    if summary["status"] == "failed":
        raise AssertionError(f"the run failed closed: {summary['failure']}")
    mismatches = summary["reconciliation"].get("mismatches") or []
    if mismatches:
        raise AssertionError(
            f"reconciliation: {len(mismatches)} mismatches, first: {mismatches[0]}"
        )


def assert_positions_within(
    run: RunResult | Path, limit: int | Mapping[str, int] | None = None
) -> None:
    """Every deployment's position in every symbol ended within ``limit`` (size units;
    one for all, or by label). None: each deployment's own ``risk.max_position`` from the
    run's scenario (with its overrides); a deployment without one is not checked."""
    if limit is None:
        from meshrt.runtime.run_file import load_run_scenario

        scenario = load_run_scenario(_folder(run))
        limits = {d.label: d.risk.max_position for d in scenario.deployments}
        if all(value is None for value in limits.values()):
            raise ValueError("no deployment has risk.max_position: give the limit")
    elif isinstance(limit, int):
        limits = {d["label"]: limit for d in _summary(run)["deployments"]}
    else:
        limits = dict(limit)
    for deployment in _summary(run)["deployments"]:
        bound = limits.get(deployment["label"])
        if bound is None:
            continue
        for symbol, position in deployment["position"].items():
            if abs(position) > bound:
                raise AssertionError(
                    f"{deployment['label']}: position {position} in {symbol} is past the "
                    f"limit {bound}"
                )


def assert_deterministic_replay(run: RunResult | Path) -> None:
    """Re-running the run from its log (what ``meshrt replay`` does) gives every record
    identically."""
    from meshrt.runtime.replay import verify

    verdict = verify(_folder(run))
    divergence = verdict.divergence
    if divergence is not None:
        raise AssertionError(
            f"replay diverges at seq {divergence.seq}:\n  logged:   {divergence.logged}\n"
            f"  replayed: {divergence.replayed}"
        )
