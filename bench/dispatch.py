"""Per-callback dispatch cost of each loader: on_book with a full 20+20-level book.

Bare: the slot's on_book called in a tight loop, as the instance actor calls it, with a
do-nothing algo (Python ``NoOp``, ``bench/algos/noop.c`` built to WASM and native). Each
sample times a batch of calls (a per-call clock read would cost more than the call), so
p50/p99 are over per-call averages of batches. Four variants: the books of a real feed
(the bundled scenario's stream through the venue's book, in order: most updates change
one side's sizes, and the venue reuses every tuple that did not change), every call a
new book (all 80 levels change), one side changes, the same book again. In every
variant the full 656-byte book is copied into the algo's memory; only the
Python-int-to-struct packing is skipped for tuples that did not change.

Inside the runtime: the instance actor's own callback latency (perf_counter_ns around
each on_book, so it includes one clock read) over the bundled scenario run with the
do-nothing algos and with the market maker in each loader, plus book events/s.

Usage: .venv/bin/python bench/dispatch.py [--calls 200000] [--runs 5] [--updates 200000]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meshrt import AlgoState, Side  # noqa: E402
from meshrt.actors.instance import InstanceHost  # noqa: E402
from meshrt.actors.venue import VenueActor  # noqa: E402
from meshrt.contract import BOOK_DEPTH  # noqa: E402
from meshrt.loaders import load_slot  # noqa: E402
from meshrt.loaders.compiled import SlotContext  # noqa: E402
from meshrt.runtime.run import run  # noqa: E402
from meshrt.scenario.definition import load_scenario, start  # noqa: E402
from meshrt.scenario.latency import micros  # noqa: E402
from meshrt.sdk import Actions, Book, Features  # noqa: E402
from meshrt.toolchain import build  # noqa: E402
from meshrt.venues._matching import MatchingEngine  # noqa: E402
from meshrt.venues.outputs import BookUpdate  # noqa: E402
from meshrt.venues.sources import open_source  # noqa: E402

from bench.algos.noop import NoOp  # noqa: E402

BATCH = 100


class _Instance:
    """Just enough of an AlgoInstance for InstanceHost."""

    def __init__(self, state: AlgoState) -> None:
        self.state, self.params, self.outputs = state, {}, []
        self.messages_this_callback = self.messages_refused = 0


def full_book(ts: int, shift: int) -> Book:
    bids = tuple(100_000_000_000 - (i + shift) * 10_000_000 for i in range(BOOK_DEPTH))
    asks = tuple(100_010_000_000 + (i + shift) * 10_000_000 for i in range(BOOK_DEPTH))
    sizes = tuple(50_000_000 + 1_000_000 * (i + shift) for i in range(BOOK_DEPTH))
    return Book(ts, "BTC-USD", "alpha", bids, sizes, asks, tuple(reversed(sizes)))


def feed_books(count: int) -> list[tuple[Book, Features]]:
    """The first ``count`` books the bundled scenario's venue shows its algos."""
    venue = load_scenario(ROOT / "scenarios" / "market_maker.py").venues[0]
    spec = attrs.evolve(venue.sources[0], symbol="BTC-USD", updates=count + count // 5)
    actor = VenueActor(
        0, "alpha", ["BTC-USD"], [open_source(spec)], [MatchingEngine()], reply_to=None
    )  # type: ignore[arg-type]
    out = actor.advance(2**62, [])
    return [
        (event.book, event.features)
        for event in out
        if isinstance(event, BookUpdate) and event.book is not None and event.features is not None
    ][:count]


def bare(slot: Any, calls: int, variant: str) -> tuple[float, float]:
    """(p50, p99) ns per call of slot.on_book; variant: 'feed', 'new', 'one side' or 'same'."""
    state = AlgoState("BTC-USD")
    state.ledger.apply_fill("BTC-USD", Side.BUY, 100_000_000_000, 100_000_000, 10)  # a position
    actions = Actions(state, "BTC-USD")
    if variant == "feed":
        pairs = feed_books(BATCH * 10)
    else:
        first, second = full_book(1, 0), full_book(2, 1)
        if variant == "one side":  # one side moved, the other's tuples reused
            second = second._replace(ask_prices=first.ask_prices, ask_sizes=first.ask_sizes)
        books = [first, first if variant == "same" else second]
        pairs = [(book, Features(book, 1_000, -2_000)) for book in books] * (BATCH // 2)
    state.books["BTC-USD"] = pairs[0][0]
    on_book = slot.on_book
    samples = []
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for k in range(calls // BATCH):
            batch = pairs[k * BATCH % len(pairs) :][:BATCH]
            t = clock()
            for book, features in batch:
                on_book(book, state, features, actions)
            samples.append((clock() - t) / BATCH)
    finally:
        gc.enable()
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99)]


def slots(noop: dict[str, Path]) -> dict[str, Any]:
    state = AlgoState("BTC-USD")
    host = InstanceHost(_Instance(state))  # type: ignore[arg-type]
    context = SlotContext(("alpha",), ("BTC-USD",))

    def deployment(algo: Any) -> Any:
        return attrs.make_class("D", ["algo", "venue", "symbols"])(algo, "alpha", ("BTC-USD",))

    return {
        "python": load_slot(deployment(NoOp), None, host, {}, context),
        "native": load_slot(deployment(str(noop["native"])), None, host, {}, context),
        "wasm": load_slot(deployment(str(noop["wasm"])), None, host, {}, context),
    }


def runtime_figures(algo: Any, updates: int) -> tuple[int, int, float]:
    """(callback p50 ns, p99 ns, book events/s) of the bundled scenario with this algo."""
    scenario = load_scenario(ROOT / "scenarios" / "market_maker.py")
    venue = scenario.venues[0]
    source = attrs.evolve(venue.sources[0], updates=updates, interval_ns=10_000)
    latency = micros(1000, jitter_us=100)
    venue = attrs.evolve(venue, sources=[source], feed_latency=latency, order_latency=latency)
    dep = attrs.evolve(scenario.deployments[0], schedule=[start(0)], algo=algo)
    scenario = attrs.evolve(scenario, venues=[venue], deployments=[dep], duration_ns=None)
    result = run(scenario, None)
    lat = result.metrics["instances"][0]["callback_latency_ns"]
    return lat["p50"], lat["p99"], result.metrics["book_events_per_second"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5, help="repeat, report the median")
    parser.add_argument(
        "--updates", type=int, default=200_000, help="book updates of the in-runtime scenario"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        noop = {a.target: a.path for a in build(ROOT / "bench" / "algos" / "noop.c", Path(tmp))}
        mm = {
            a.target: a.path
            for a in build(ROOT / "scenarios" / "algos" / "market_maker.c", Path(tmp))
        }
        loaded = slots(noop)
        print(
            f"bare on_book, full {BOOK_DEPTH}+{BOOK_DEPTH}-level book, median of {args.runs} "
            f"runs of {args.calls:,} calls (ns per call)"
        )
        variants = ("feed", "new", "one side", "same")
        print(f"{'loader':8}" + "".join(f" {v + ' p50':>13} {'p99':>7}" for v in variants))
        for name, slot in loaded.items():
            row = f"{name:8}"
            for variant in variants:
                runs = [bare(slot, args.calls, variant) for _ in range(args.runs)]
                row += (
                    f" {statistics.median(p for p, _ in runs):13.1f}"
                    f" {statistics.median(q for _, q in runs):7.1f}"
                )
            print(row)
        for slot in loaded.values():
            slot.close()
        print(
            f"\ninside the runtime: bundled scenario, {args.updates:,} updates, 1 ms latency; "
            f"median of {args.runs} runs"
        )
        print(f"{'algo':16} {'cb p50 ns':>10} {'cb p99 ns':>10} {'book events/s':>14}")
        cases = {
            "python noop": NoOp,
            "native noop": str(noop["native"]),
            "wasm noop": str(noop["wasm"]),
            "python mm": "algos/market_maker.py:MarketMaker",
            "native mm": str(mm["native"]),
            "wasm mm": str(mm["wasm"]),
        }
        for name, algo in cases.items():
            figures = [runtime_figures(algo, args.updates) for _ in range(args.runs)]
            print(
                f"{name:16} {statistics.median(f[0] for f in figures):10.0f} "
                f"{statistics.median(f[1] for f in figures):10.0f} "
                f"{statistics.median(f[2] for f in figures):14,.0f}"
            )


if __name__ == "__main__":
    main()
