"""The grid a sweep runs: its axes (``--param NAME=V1,V2,...``) and its points, each a
set of overrides (meshrt/scenario/overrides.py ``apply`` puts one on the scenario).

An axis names what it overrides and reads each of its values by the rule of
meshrt/scenario/overrides.py (``LABEL.PARAM`` or ``seed``, values as JSON). Points are
numbered in grid order (the last axis varies fastest); K random points are drawn
without replacement from the seed ``meshrt-sweep:S`` alone.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import attrs

from meshrt.scenario.definition import Scenario
from meshrt.scenario.overrides import OverrideError, Setting, name_of, setting, target, value_of


class GridError(ValueError):
    """A ``--param`` that does not fit the scenario; its message is the one line to show."""


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
    parsed = tuple(value_of(word) for word in values.split(","))
    try:
        deployment, param = target(name, scenario)
        for value in parsed:
            setting(name, value, scenario)
    except OverrideError as exc:
        raise GridError(f"--param {exc}") from None
    return Axis(deployment, param, parsed)


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
