"""Paper mode's live path: from a frame's receipt to the algo's intent reaching the venue.

``meshrt venue-sim`` runs as its own process on 127.0.0.1 (sharing the machine's cores,
as a colocated feed handler would), replaying the Coinbase and Kraken captures at
``--speed`` times their recorded pace. A paper run of the Python market maker on each
(SKL-USD on Coinbase, XMR/USD on Kraken, feed latency 0) connects through the real live
sessions. For every order action the desk commits (new order, replace, cancel: the
moment the order is handed to the venue's transport, before the simulated order
latency), the latency is the run's wall clock at that moment minus the action's time,
which is the receive time of the frame whose book the algo answered (stamped by the
session when the websocket receive returned it). Prints p50, p90, p99 and the count.

    .venv/bin/python bench/paper_latency.py [--seconds 20] [--speed 2] [--algo REF]

``--algo`` runs another build of the maker (the same params) instead of the Python
class: its native or WASM build (``meshrt build scenarios/algos/market_maker.c``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meshrt.runtime import paper  # noqa: E402
from meshrt.runtime.paper import Session  # noqa: E402
from meshrt.runtime.run import RunOptions, run  # noqa: E402
from meshrt.scenario.definition import load_scenario  # noqa: E402
from meshrt.scenario.overrides import DURATION, Setting  # noqa: E402
from meshrt.sequencer import actor  # noqa: E402
from meshrt.sequencer._live import WallClock  # noqa: E402
from meshrt.sequencer.desk import IntentDesk  # noqa: E402

DATA = ROOT / "tests" / "data" / "venues"
CAPTURES = [
    DATA / "coinbase" / "coinbase_exchange_level2_cryptofeed_COINBASE.ws.28.0.log.gz",
    DATA / "kraken" / "kraken_v1_book1000_cryptofeed_KRAKEN.ws.50.0.log.gz",
]
SCENARIO = """
from meshrt import Deployment, FeeSchedule, LiveSpec, Scenario, Venue, millis
from meshrt import micros, price_to_int, size_to_int
from scenarios.algos.market_maker import MarketMaker

def venue(name, spec):
    return Venue(name=name, sources=[spec], feed_latency=micros(0), order_latency=millis(1),
                 fees=FeeSchedule())

def maker(name, symbol, tick):
    return Deployment(label="mm-" + name, venue=name, symbols=[symbol], algo={algo},
                      params={{"size": size_to_int("1"), "tick": price_to_int(tick),
                               "max_inventory": size_to_int("3")}})

scenario = Scenario(
    name="paper_latency",
    seed=1,
    venues=[
        venue("coinbase", LiveSpec(symbol="SKL-USD", exchange="coinbase", url="{coinbase}")),
        venue("kraken", LiveSpec(symbol="XMR-USD", exchange="kraken", exchange_symbol="XMR/USD",
                                 url="{kraken}", depth=1000)),
    ],
    deployments=[maker("coinbase", "SKL-USD", "0.0001"), maker("kraken", "XMR-USD", "0.01")],
)
"""


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--speed", type=float, default=2.0)
    parser.add_argument("--algo", help="algo reference instead of the Python maker")
    args = parser.parse_args()
    command = [sys.executable, "-m", "meshrt.cli.main", "venue-sim", *map(str, CAPTURES)]
    sim = subprocess.Popen(
        [*command, "--port", "0", "--speed", str(args.speed)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sim.stdout is not None
        urls = dict(sim.stdout.readline().split()[:2] for _ in CAPTURES)
        latencies = measure(urls, args.seconds, algo=algo_reference(args.algo))
    finally:
        sim.terminate()
        sim.wait(10)
    print(
        f"{len(latencies):,} order actions in {args.seconds:g} s (captures at {args.speed:g}x): "
        f"frame receipt to the venue's transport p50 {percentile(latencies, 0.5):.1f} us, "
        f"p90 {percentile(latencies, 0.9):.1f} us, p99 {percentile(latencies, 0.99):.1f} us"
    )


def algo_reference(algo: str | None) -> str:
    """The scenario's ``algo=`` for ``--algo`` (None: the Python maker)."""
    return "MarketMaker" if algo is None else repr(str(Path(algo).resolve()))


def measure(
    urls: dict[str, str],
    seconds: float,
    session: Session | None = None,
    latencies: list[int] | None = None,
    algo: str = "MarketMaker",
) -> list[int]:
    """Run the paper scenario for ``seconds`` against ``urls`` (or through ``session``),
    timing each order action the desk commits: ns from its frame's receipt, appended to
    ``latencies`` as they happen (a new list if None)."""
    clocks: list[WallClock] = []
    timed: list[int] = [] if latencies is None else latencies

    class TimedClock(WallClock):
        def __init__(self) -> None:
            super().__init__()
            clocks.append(self)

    class TimedDesk(IntentDesk):
        """The desk (compiled: its methods cannot be patched) timing each action."""

        def commit_action(self, ts: int, dep: Any, action: tuple[Any, ...]) -> None:
            super().commit_action(ts, dep, action)
            timed.append(clocks[-1]() - ts)

    paper.WallClock = TimedClock  # type: ignore[misc]
    actor.IntentDesk = TimedDesk  # type: ignore[misc]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "paper_latency.py"
        path.write_text(SCENARIO.format(**urls, algo=algo))
        scenario = load_scenario(path)
        duration = Setting(None, DURATION, int(seconds * 1e9))
        options = RunOptions(overrides=(duration,), session=session)
        result = run(scenario, Path(folder) / "run", options=options)
        assert result.ok, result.summary["failure"]
    return timed


if __name__ == "__main__":
    main()
