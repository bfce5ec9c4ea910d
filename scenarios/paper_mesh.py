"""Paper trading on live books: a maker quotes BTC-USD on Coinbase and reports each
fill over the mesh to a hedger on Kraken, which offsets it; Binance's book joins the
NBBO the hedger watches across the three. No real order is sent: fills are simulated
against the live books (docs/live.md, "Paper mode").

Run: ``meshrt run scenarios/paper_mesh.py --duration 60`` (Ctrl-C ends it with its
summary), then ``meshrt replay RUN_DIR``.

Each venue's URL, and its symbol on the exchange, come from the environment when set
(``MESHRT_KRAKEN_URL``, ``MESHRT_KRAKEN_SYMBOL``, ``MESHRT_KRAKEN_DEPTH``,
``MESHRT_COINBASE_URL``, ``MESHRT_COINBASE_SYMBOL``, ``MESHRT_BINANCE_URL``,
``MESHRT_BINANCE_REST_URL``, ``MESHRT_BINANCE_SYMBOL``; ``MESHRT_PAPER_SYMBOL`` names the
one scenario symbol all three quote), so a test or a demo points them at ``meshrt
venue-sim`` on 127.0.0.1 (``MESHRT_VENUE_SIM=127.0.0.1:8765`` points all three at one
serving tests/data/venues' captures, as the README shows); unset, they are the
exchanges' public endpoints. The run records them (run.json ``environment``), so its
replay sees the same values. Binance quotes BTCUSDT: this scenario joins it to BTC-USD
by name, taking USDT for USD in the NBBO.
"""

import os

from meshrt import (
    Deployment,
    FeeSchedule,
    LiveSpec,
    RiskLimits,
    Scenario,
    Venue,
    millis,
    price_to_int,
    size_to_int,
)

# MESHRT_VENUE_SIM=HOST:PORT: every venue on ``meshrt venue-sim`` serving the captures in
# tests/data/venues, each on an instrument its capture holds (joined as one by name)
SIM = os.environ.get("MESHRT_VENUE_SIM")
LOCAL = {
    "PAPER_SYMBOL": "TEST-USD",
    "PAPER_SIZE": "0.01",
    "KRAKEN_URL": f"ws://{SIM}/kraken",
    "KRAKEN_SYMBOL": "XMR/USD",
    "KRAKEN_DEPTH": "1000",
    "COINBASE_URL": f"ws://{SIM}/coinbase",
    "COINBASE_SYMBOL": "SKL-USD",
    "BINANCE_URL": f"ws://{SIM}/binance/stream",
    "BINANCE_REST_URL": f"http://{SIM}",
    "BINANCE_SYMBOL": "BTCUSDT",
}


def env(name: str) -> str | None:
    return os.environ.get(f"MESHRT_{name}") or (LOCAL.get(name) if SIM else None)


SYMBOL = env("PAPER_SYMBOL") or "BTC-USD"
SIZE = size_to_int(env("PAPER_SIZE") or "0.0001")
TICK = price_to_int("0.01")


scenario = Scenario(
    name="paper_mesh",
    seed=1,
    venues=[
        Venue(
            name="coinbase",
            region="us",
            sources=[
                LiveSpec(
                    symbol=SYMBOL,
                    exchange="coinbase",
                    exchange_symbol=env("COINBASE_SYMBOL") or "BTC-USD",
                    url=env("COINBASE_URL"),
                )
            ],
            order_latency=millis(2),
            feed_latency=millis(1),
            fees=FeeSchedule(maker_ppm=0, taker_ppm=1200),
        ),
        Venue(
            name="kraken",
            region="eu",
            sources=[
                LiveSpec(
                    symbol=SYMBOL,
                    exchange="kraken",
                    exchange_symbol=env("KRAKEN_SYMBOL") or "BTC/USD",
                    url=env("KRAKEN_URL"),
                    depth=int(env("KRAKEN_DEPTH") or 10),
                )
            ],
            order_latency=millis(2),
            feed_latency=millis(1),
            fees=FeeSchedule(maker_ppm=1600, taker_ppm=2600),
        ),
        Venue(
            name="binance",
            region="ap",
            sources=[
                LiveSpec(
                    symbol=SYMBOL,
                    exchange="binance",
                    exchange_symbol=env("BINANCE_SYMBOL") or "BTCUSDT",
                    url=env("BINANCE_URL"),
                    rest_url=env("BINANCE_REST_URL"),
                )
            ],
            order_latency=millis(2),
            feed_latency=millis(1),
        ),
    ],
    deployments=[
        Deployment(
            label="maker",
            venue="coinbase",
            symbols=[SYMBOL],
            algo="algos/hedger.py:ReportingMaker",
            params={"size": SIZE, "tick": TICK, "max_inventory": 4 * SIZE, "hedger": "hedger"},
            risk=RiskLimits(max_order_size=2 * SIZE, max_position=5 * SIZE, max_open_orders=4),
        ),
        Deployment(
            label="hedger",
            venue="kraken",
            symbols=[SYMBOL],
            algo="algos/hedger.py:NbboHedger",
            risk=RiskLimits(max_order_size=6 * SIZE, max_position=6 * SIZE),
        ),
    ],
)
