"""Seeded random fault schedules: the one place they are drawn, for ``meshrt soak`` and the
tests.

A schedule is a plain value (its faults spelled out, and whether crashed instances come
back), derived only from a scenario's names and duration and a seed: the same seed gives
the same schedule in any process, so a failing schedule reproduces from its seed alone.
Faults overlap freely, at times within the scenario's duration, and name only the labels
and venues the scenario has.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import attrs

from meshrt.scenario.definition import Scenario
from meshrt.scenario.faults import (
    DropRate,
    Fault,
    KillCoordinator,
    KillFeed,
    KillInstance,
    LatencySpike,
    Partition,
    RestartCoordinator,
)
from meshrt.scenario.restart import RestartPolicy, on_failure

MAX_FAULTS = 5
# fault times fall in [FIRST, LAST) of the duration, lengths in [SHORTEST, LONGEST] of it
FIRST, LAST = 0.05, 0.9
SHORTEST, LONGEST = 0.01, 0.4
# the restart policy a supervised schedule gives deployments that have none
SUPERVISED = on_failure(max_restarts=2, delay_ns=20_000_000)


@attrs.frozen(slots=True)
class Schedule:
    """What one soak run adds to its scenario: ``faults``, and with ``supervised`` the
    ``SUPERVISED`` restart policy for every deployment left at the default ``never``."""

    faults: tuple[Fault, ...]
    supervised: bool


def schedule_seed(seed: int, index: int) -> str:
    """The seed of schedule ``index`` of a soak seeded with ``seed`` (one schedule can be
    drawn alone: ``meshrt soak --seed S --only I``)."""
    return f"meshrt-soak:{seed}:{index}"


def random_schedule(scenario: Scenario, seed: int | str) -> Schedule:
    """Up to ``MAX_FAULTS`` faults of every kind the scenario can take, drawn from ``seed``;
    ``scenario.duration_ns`` must be set (faults fall within it)."""
    duration = scenario.duration_ns
    if duration is None:
        raise ValueError("a random fault schedule needs a scenario with duration_ns")
    rng = random.Random(seed)
    labels = sorted(d.label for d in scenario.deployments)
    venues = sorted(v.name for v in scenario.venues)

    def at() -> int:
        return rng.randrange(int(duration * FIRST), int(duration * LAST))

    def length() -> int:
        return rng.randint(max(1, int(duration * SHORTEST)), max(1, int(duration * LONGEST)))

    def link() -> tuple[str, str]:
        sender, receiver = rng.sample(labels, 2)
        return sender, receiver

    makers: list[Callable[[], Fault]] = [
        lambda: KillInstance(rng.choice(labels), at()),
        lambda: KillFeed(rng.choice(venues), at(), length()),
        lambda: KillCoordinator(at()),
        lambda: RestartCoordinator(at()),
        lambda: Partition(rng.choice(venues), at(), length()),
    ]
    if len(labels) > 1:  # link faults need two deployments
        makers.append(lambda: DropRate(*link(), rng.random(), at(), length()))
        makers.append(lambda: LatencySpike(*link(), length(), at(), length()))
    faults = tuple(rng.choice(makers)() for _ in range(rng.randint(0, MAX_FAULTS)))
    return Schedule(faults, rng.random() < 0.5)


def apply(scenario: Scenario, schedule: Schedule) -> Scenario:
    """``scenario`` with ``schedule``'s faults added to its own, and supervised if asked."""
    deployments = scenario.deployments
    if schedule.supervised:
        deployments = tuple(
            attrs.evolve(d, restart=SUPERVISED) if d.restart == RestartPolicy() else d
            for d in deployments
        )
    return attrs.evolve(
        scenario, faults=(*scenario.faults, *schedule.faults), deployments=deployments
    )
