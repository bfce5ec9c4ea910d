"""Overrides of a scenario from the command line (``meshrt run --set``, ``meshrt sweep
--param``), kept in one place so a run, its resume, its replay and a sweep read them alike.

An override names a deployment's param as ``LABEL.PARAM`` (an existing one: a typo is
refused, not silently added), the scenario's ``seed`` or its ``duration_ns`` (``meshrt run
--duration``). A value is read as JSON (``5``, ``0.5``, ``true``, ``"a,b"``, ``[1,2]``);
one that is not JSON is taken as a string. A value must pass the rule for algo params
(``check_param``), a seed or duration the scenario's own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

from meshrt.scenario.definition import Scenario
from meshrt.validators import ScenarioValueError, check_param

SEED = "seed"
DURATION = "duration_ns"  # meshrt run --duration
SCENARIO_FIELDS = (SEED, DURATION)  # overridden on the scenario itself, not a deployment


class OverrideError(ValueError):
    """An override that does not fit the scenario; its message (``NAME: what is wrong``)
    is the one line to show, after the option that gave it."""


def name_of(deployment: str | None, param: str) -> str:
    """How an override is named on the command line and in records: ``LABEL.PARAM``."""
    return param if deployment is None else f"{deployment}.{param}"


@attrs.frozen(slots=True)
class Setting:
    """One override: a deployment's param, or (``deployment`` None) the seed or the
    duration."""

    deployment: str | None
    param: str
    value: Any

    @property
    def name(self) -> str:
        return name_of(self.deployment, self.param)


def value_of(word: str) -> Any:
    """A value as given on the command line: JSON, or else the text itself."""
    try:
        return json.loads(word)
    except ValueError:
        return word


def target(name: str, scenario: Scenario) -> tuple[str | None, str]:
    """The (deployment label or None, param) ``name`` overrides in ``scenario``."""
    if name in SCENARIO_FIELDS:
        return None, name
    labels = [d.label for d in scenario.deployments]
    label = next((lb for lb in labels if name.startswith(f"{lb}.")), None)
    if label is None:
        raise OverrideError(
            f"{name}: no deployment {name.rpartition('.')[0] or name!r} in "
            f"{scenario.name} (deployments: {', '.join(labels)}; or 'seed', 'duration_ns')"
        )
    param = name[len(label) + 1 :]
    known = next(d for d in scenario.deployments if d.label == label).params
    if param not in known:
        raise OverrideError(
            f"{name}: deployment {label!r} has no param {param!r} "
            f"(params: {', '.join(sorted(known))})"
        )
    return label, param


def setting(name: str, value: Any, scenario: Scenario) -> Setting:
    """The override ``name`` = ``value``, checked against ``scenario``."""
    deployment, param = target(name, scenario)
    checked = Setting(deployment, param, value)
    try:
        if deployment is None:
            apply(scenario, (checked,))
        else:
            check_param(name, value)
    except ScenarioValueError as exc:
        raise OverrideError(f"{name}: {exc}") from None
    return checked


def parse(text: str, scenario: Scenario) -> Setting:
    """``NAME=VALUE`` checked against ``scenario``."""
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise OverrideError(f"{text!r}: expected NAME=VALUE")
    return setting(name, value_of(value), scenario)


def apply(scenario: Scenario, settings: Sequence[Setting]) -> Scenario:
    """``scenario`` with ``settings`` (ScenarioValueError for a bad seed); with none, the
    very value given (nothing is evolved, so nothing is checked again)."""
    if not settings:
        return scenario
    fields = {s.param: s.value for s in settings if s.deployment is None}
    deployments = [
        attrs.evolve(
            d,
            params={
                **d.params,
                **{s.param: s.value for s in settings if s.deployment == d.label},
            },
        )
        for d in scenario.deployments
    ]
    return attrs.evolve(scenario, **fields, deployments=deployments)
