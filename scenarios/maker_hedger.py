"""Two venues in two regions: a maker on alpha (eu) reports each fill over the mesh to
a hedger on beta (us), which offsets it. The summary's net position across venues
stays small. Run: ``meshrt run scenarios/maker_hedger.py``, then ``meshrt mesh RUN_DIR``.
"""

from meshrt import (
    Deployment,
    FeeSchedule,
    RiskLimits,
    Scenario,
    SyntheticSpec,
    Venue,
    micros,
    price_to_int,
    seconds,
    size_to_int,
    start,
    stop,
)

TICK = price_to_int("0.01")
SIZE = size_to_int("1")


def book(seed: int) -> SyntheticSpec:
    return SyntheticSpec(
        symbol="BTC-USD",
        seed=seed,
        start_price=price_to_int("100.00"),
        tick=TICK,
        levels=20,
        level_size=(size_to_int("0.5"), size_to_int("8")),
        interval_ns=40_000,
        updates=100_000,
        trade_every=10,
        move_probability=0.1,
    )


scenario = Scenario(
    name="maker_hedger",
    seed=11,
    duration_ns=seconds(4.5),
    venues=[
        Venue(
            name="alpha",
            region="eu",
            sources=[book(42)],
            feed_latency=micros(500, jitter_us=100),
            order_latency=micros(500, jitter_us=100),
            fees=FeeSchedule(maker_ppm=-100, taker_ppm=500),
        ),
        Venue(
            name="beta",
            region="us",
            sources=[book(43)],
            feed_latency=micros(800, jitter_us=200),
            order_latency=micros(800, jitter_us=200),
            fees=FeeSchedule(maker_ppm=-50, taker_ppm=400),
        ),
    ],
    deployments=[
        Deployment(
            label="maker",
            venue="alpha",
            symbols=["BTC-USD"],
            algo="algos/hedger.py:ReportingMaker",
            params={"size": SIZE, "tick": TICK, "max_inventory": 4 * SIZE, "hedger": "hedger"},
            risk=RiskLimits(max_order_size=2 * SIZE, max_position=5 * SIZE, max_open_orders=4),
            # the maker stops early; the hedger's heartbeat at 4 s catches up what is left
            schedule=[start(0), stop(seconds(3.5))],
        ),
        Deployment(
            label="hedger",
            venue="beta",
            symbols=["BTC-USD"],
            algo="algos/hedger.py:Hedger",
            risk=RiskLimits(max_order_size=6 * SIZE, max_position=6 * SIZE),
        ),
    ],
)
