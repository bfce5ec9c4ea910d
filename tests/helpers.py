"""Small scenarios built in code, shared by the runtime tests."""

from __future__ import annotations

from typing import Any

import attrs

from meshrt import (
    Algo,
    Deployment,
    FeeSchedule,
    RiskLimits,
    Scenario,
    SyntheticSpec,
    Venue,
    micros,
    price_to_int,
    size_to_int,
    start,
)

TICK = price_to_int("0.01")
UNIT = size_to_int("1")


class Quiet(Algo):
    """The three required callbacks, doing nothing."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        pass

    def on_fill(self, fill, state, actions):  # type: ignore[no-untyped-def]
        pass

    def on_reject(self, reject, state, actions):  # type: ignore[no-untyped-def]
        pass


def synthetic(
    symbol: str = "XYZ", updates: int = 3_000, seed: int = 1, interval_ns: int = 20_000
) -> SyntheticSpec:
    return SyntheticSpec(
        symbol=symbol,
        seed=seed,
        start_price=price_to_int("100"),
        tick=TICK,
        levels=20,
        level_size=(size_to_int("0.5"), size_to_int("5")),
        interval_ns=interval_ns,
        updates=updates,
        trade_every=10,
        move_probability=0.1,
    )


def deployment(algo: Any, label: str = "algo", **kwargs: Any) -> Deployment:
    kwargs.setdefault("venue", "v1")
    kwargs.setdefault("symbols", ["XYZ"])
    kwargs.setdefault("params", {"size": UNIT, "tick": TICK, "max_inventory": 3 * UNIT})
    return Deployment(label=label, algo=algo, **kwargs)


def scenario(
    *deployments: Deployment,
    updates: int = 3_000,
    seed: int = 5,
    duration_ns: int | None = None,
    **venue_kwargs: Any,
) -> Scenario:
    venue_kwargs.setdefault("feed_latency", micros(200, jitter_us=50))
    venue_kwargs.setdefault("order_latency", micros(300, jitter_us=50))
    venue_kwargs.setdefault("fees", FeeSchedule(maker_ppm=-100, taker_ppm=400))
    return Scenario(
        name="test",
        seed=seed,
        duration_ns=duration_ns,
        venues=[Venue(name="v1", sources=[synthetic(updates=updates)], **venue_kwargs)],
        deployments=list(deployments),
    )


def thinned(scenario: Scenario, factor: int) -> Scenario:
    """``scenario`` with every feed ``factor`` times sparser over the same time span: its
    lifecycle, faults and end unchanged, at a fraction of the events (for properties that
    do not need a dense feed)."""
    return attrs.evolve(
        scenario,
        venues=[
            attrs.evolve(
                venue,
                sources=[
                    attrs.evolve(
                        source,
                        updates=source.updates // factor,
                        interval_ns=source.interval_ns * factor,
                    )
                    for source in venue.sources
                ],
            )
            for venue in scenario.venues
        ],
    )


__all__ = [
    "TICK",
    "UNIT",
    "Quiet",
    "RiskLimits",
    "deployment",
    "scenario",
    "start",
    "synthetic",
    "thinned",
]
