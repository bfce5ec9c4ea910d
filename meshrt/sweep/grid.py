"""The grid a sweep runs: its axes (``--param NAME=V1,V2,...``), its points, and how a
point is applied to the scenario.

An axis names a deployment's param as ``LABEL.PARAM`` (an existing one: a typo is
refused, not swept) or the scenario's ``seed``. Each value is read as JSON (``5``,
``0.5``, ``true``, ``"a,b"``); one that is not JSON is taken as a string. Points are
numbered in grid order (the last axis varies fastest); K random points are drawn
without replacement from the seed ``meshrt-sweep:S`` alone.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

import attrs

from meshrt.scenario.definition import Scenario
from meshrt.validators import ScenarioValueError, check_param

SEED = "seed"


def name_of(deployment: str | None, param: str) -> str:
    """How an axis is named on the command line and in the results: ``LABEL.PARAM``."""
    return param if deployment is None else f"{deployment}.{param}"


class GridError(ValueError):
    """A ``--param`` that does not fit the scenario; its message is the one line to show."""


@attrs.frozen(slots=True)
class Setting:
    """One value of one axis: a deployment's param, or (``deployment`` None) the seed."""

    deployment: str | None
    param: str
    value: Any

    @property
    def name(self) -> str:
        return name_of(self.deployment, self.param)


@attrs.frozen(slots=True)
class Axis:
    deployment: str | None
    param: str
    values: tuple[Any, ...]

    @property
    def name(self) -> str:
        return name_of(self.deployment, self.param)


@attrs.frozen(slots=True)
class Point:
    """Point ``index`` of the grid (its number in grid order) and its settings."""

    index: int
    settings: tuple[Setting, ...]


def parse_axis(text: str, scenario: Scenario) -> Axis:
    """``NAME=V1,V2,...`` checked against ``scenario`` (GridError names what is wrong)."""
    name, sep, values = text.partition("=")
    if not sep or not name or not values:
        raise GridError(f"--param {text!r}: expected NAME=V1,V2,...")
    parsed = tuple(_value(word) for word in values.split(","))
    if name == SEED:
        axis = Axis(None, SEED, parsed)
    else:
        labels = [d.label for d in scenario.deployments]
        label = next((lb for lb in labels if name.startswith(f"{lb}.")), None)
        if label is None:
            raise GridError(
                f"--param {name}: no deployment {name.rpartition('.')[0] or name!r} in "
                f"{scenario.name} (deployments: {', '.join(labels)}; or 'seed')"
            )
        param = name[len(label) + 1 :]
        known = next(d for d in scenario.deployments if d.label == label).params
        if param not in known:
            raise GridError(
                f"--param {name}: deployment {label!r} has no param {param!r} "
                f"(params: {', '.join(sorted(known))})"
            )
        axis = Axis(label, param, parsed)
    for value in parsed:
        try:
            if axis.deployment is None:
                apply(scenario, (Setting(None, SEED, value),))
            else:
                check_param(axis.name, value)
        except ScenarioValueError as exc:
            raise GridError(f"--param {name}: {exc}") from None
    return axis


def _value(word: str) -> Any:
    try:
        return json.loads(word)
    except ValueError:
        return word


def size(axes: Sequence[Axis]) -> int:
    total = 1
    for axis in axes:
        total *= len(axis.values)
    return total


def points(axes: Sequence[Axis], sample: int | None = None, seed: int = 0) -> list[Point]:
    """Every point of the grid, or ``sample`` of them drawn from ``seed`` (in grid order)."""
    total = size(axes)
    if sample is None:
        chosen: Sequence[int] = range(total)
    else:
        chosen = sorted(
            random.Random(f"meshrt-sweep:{seed}").sample(range(total), min(sample, total))
        )
    return [Point(i, _settings(axes, i)) for i in chosen]


def _settings(axes: Sequence[Axis], index: int) -> tuple[Setting, ...]:
    """The settings of point ``index``: its digits in the grid's mixed radix."""
    settings = []
    for axis in reversed(axes):
        index, digit = divmod(index, len(axis.values))
        settings.append(Setting(axis.deployment, axis.param, axis.values[digit]))
    return tuple(reversed(settings))


def apply(scenario: Scenario, settings: Sequence[Setting]) -> Scenario:
    """``scenario`` with the point's settings (ScenarioValueError for a bad seed)."""
    seed = next((s.value for s in settings if s.deployment is None), scenario.seed)
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
    return attrs.evolve(scenario, seed=seed, deployments=deployments)
