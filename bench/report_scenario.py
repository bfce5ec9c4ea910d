"""The bundled maker/hedger pair scaled up, with faults: the run bench/report.py reports.

Two venues in two regions, a maker reporting its fills over the mesh to a hedger, and
one fault of each kind a report marks (a kill with a restart, a partition, a feed
outage, a lossy link). MESHRT_BENCH_UPDATES sets each venue's book updates (default
1,160,000: about 2.7 million log records in all).
"""

import os

from meshrt import (
    Deployment,
    DropRate,
    FeeSchedule,
    KillFeed,
    KillInstance,
    Partition,
    RiskLimits,
    Scenario,
    SyntheticSpec,
    Venue,
    micros,
    on_failure,
    price_to_int,
    seconds,
    size_to_int,
    start,
)

TICK = price_to_int("0.01")
SIZE = size_to_int("1")
UPDATES = int(os.environ.get("MESHRT_BENCH_UPDATES", "1160000"))
INTERVAL_NS = 20_000
LENGTH_NS = UPDATES * INTERVAL_NS


def book(seed: int) -> SyntheticSpec:
    return SyntheticSpec(
        symbol="BTC-USD",
        seed=seed,
        start_price=price_to_int("100.00"),
        tick=TICK,
        levels=20,
        level_size=(size_to_int("0.5"), size_to_int("8")),
        interval_ns=INTERVAL_NS,
        updates=UPDATES,
        trade_every=10,
        move_probability=0.1,
    )


def at(fraction: float) -> int:
    return int(LENGTH_NS * fraction)


scenario = Scenario(
    name="report_bench",
    seed=11,
    duration_ns=LENGTH_NS + seconds(0.1),
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
            algo="../scenarios/algos/hedger.py:ReportingMaker",
            params={"size": SIZE, "tick": TICK, "max_inventory": 4 * SIZE, "hedger": "hedger"},
            risk=RiskLimits(max_order_size=2 * SIZE, max_position=5 * SIZE, max_open_orders=4),
            schedule=[start(0)],
            restart=on_failure(),
        ),
        Deployment(
            label="hedger",
            venue="beta",
            symbols=["BTC-USD"],
            algo="../scenarios/algos/hedger.py:Hedger",
            risk=RiskLimits(max_order_size=6 * SIZE, max_position=6 * SIZE),
        ),
    ],
    faults=[
        KillInstance("maker", at(0.2)),
        Partition("beta", at(0.4), at(0.05)),
        KillFeed("alpha", at(0.6), at(0.03)),
        DropRate("maker", "hedger", 0.5, at(0.8), at(0.05)),
    ],
)
