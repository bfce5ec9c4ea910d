"""One venue, one symbol, one Python market maker: the bundled first scenario.

Run it with ``meshrt run scenarios/market_maker.py``.
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

scenario = Scenario(
    name="market_maker",
    seed=7,
    duration_ns=seconds(4),
    venues=[
        Venue(
            name="alpha",
            region="eu",
            sources=[
                SyntheticSpec(
                    symbol="BTC-USD",
                    seed=42,
                    start_price=price_to_int("100.00"),
                    tick=TICK,
                    levels=20,
                    level_size=(size_to_int("0.5"), size_to_int("8")),
                    interval_ns=20_000,
                    updates=200_000,
                    trade_every=10,
                    move_probability=0.1,
                )
            ],
            feed_latency=micros(500, jitter_us=100),
            order_latency=micros(500, jitter_us=100),
            fees=FeeSchedule(maker_ppm=-100, taker_ppm=500),
        )
    ],
    deployments=[
        Deployment(
            label="mm-1",
            venue="alpha",
            symbols=["BTC-USD"],
            algo="algos/market_maker.py:MarketMaker",
            params={"size": SIZE, "tick": TICK, "max_inventory": 4 * SIZE, "skew_ticks": 1},
            risk=RiskLimits(
                max_order_size=2 * SIZE,
                max_position=5 * SIZE,
                max_notional=price_to_int("1000"),
                max_open_orders=4,
                max_orders_per_second=2_000,
            ),
            schedule=[start(seconds(0.01)), stop(seconds(3.9))],
        )
    ],
)
