"""``meshrt record VENUE SYMBOL... --out FILE``: a live session with no runtime, writing
every received frame with its receive time (docs/live.md, "Recording format")."""

from __future__ import annotations

import argparse
import random
import signal
import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import trio

from meshrt.cli import argtypes
from meshrt.validators import ScenarioValueError
from meshrt.venues.live.adapters import TABLES, exchange_symbols
from meshrt.venues.live.protocols import WS_URLS
from meshrt.venues.live.recorder import CaptureWriter, header_line
from meshrt.venues.live.stats import SessionState, SessionStatistics
from meshrt.venues.live.verdicts import Received
from meshrt.venues.specs import EXCHANGES, LiveSpec


def add_parser(commands: Any) -> None:
    record = commands.add_parser(
        "record", help="record a live exchange feed's raw frames with receive times"
    )
    record.add_argument("venue", choices=EXCHANGES, help="the exchange")
    record.add_argument(
        "symbols",
        nargs="+",
        metavar="SYMBOL",
        help="scenario symbols (BTC-USD) or the exchange's own (BTC/USD, BTCUSDT)",
    )
    record.add_argument("--out", type=argtypes.path, required=True, help="FILE, .gz: gzipped")
    record.add_argument(
        "--duration", type=argtypes.seconds, metavar="S", help="stop after S seconds"
    )
    record.add_argument("--url", help="the websocket URL (default: the exchange's public one)")
    record.add_argument("--rest-url", help="the REST base URL (Binance snapshots)")
    record.add_argument(
        "--depth", type=int, default=10, help="Kraken's book depth (10/25/100/500/1000)"
    )
    record.set_defaults(handler=main)


def live_specs(
    exchange: str,
    names: Sequence[str],
    *,
    url: str | None = None,
    rest_url: str | None = None,
    depth: int = 10,
) -> list[LiveSpec]:
    """One spec per name: a scenario symbol of the exchange's table, an exchange symbol
    of it, or any other exchange symbol (recorded under its own name)."""
    table = TABLES[exchange]
    specs = []
    for name in names:
        if name in table.values():
            symbol, override = name, None
        else:
            symbol, override = table.get(name, name), name
        specs.append(
            LiveSpec(
                symbol=symbol,
                exchange=exchange,
                exchange_symbol=override,
                url=url,
                rest_url=rest_url,
                depth=depth,
            )
        )
    return specs


def anchored_clock() -> Callable[[], int]:
    """Wall-clock ns read off the monotonic clock, anchored once: never runs backwards."""
    anchor = time.time_ns() - time.monotonic_ns()
    return lambda: time.monotonic_ns() + anchor


async def record(
    specs: Sequence[LiveSpec], path: Path, duration_s: float | None
) -> tuple[CaptureWriter, SessionStatistics, Counter[str]]:
    """Record until ``duration_s`` passes or SIGINT; the writer's and session's counts."""
    from meshrt.venues.live.session import run_session  # every other command starts without it

    first = specs[0]
    clock = anchored_clock()
    url = first.url or WS_URLS[first.exchange]
    header = header_line(first.exchange, url, exchange_symbols(specs), first.depth, clock())
    state = SessionState()
    kinds: Counter[str] = Counter()
    send, receive = trio.open_memory_channel[Received](1024)
    with CaptureWriter(path, header) as writer:
        async with trio.open_nursery() as nursery:
            session = partial(
                run_session, specs, send, clock, rng=random.Random(), state=state, tap=writer.write
            )
            nursery.start_soon(session)
            nursery.start_soon(_count, receive, kinds)
            nursery.start_soon(_stop_on_sigint, nursery.cancel_scope)
            if duration_s is not None:
                await trio.sleep(duration_s)
                nursery.cancel_scope.cancel()
    return writer, state.statistics(), kinds


async def _count(receive: trio.MemoryReceiveChannel[Received], kinds: Counter[str]) -> None:
    async for item in receive:
        kinds.update(type(out).__name__ for out in item.outputs)


async def _stop_on_sigint(scope: trio.CancelScope) -> None:
    with trio.open_signal_receiver(signal.SIGINT) as signals:
        async for _ in signals:
            scope.cancel()
            return


def main(args: argparse.Namespace) -> int:
    try:
        specs = live_specs(
            args.venue, args.symbols, url=args.url, rest_url=args.rest_url, depth=args.depth
        )
        exchange_symbols(specs)
    except (ScenarioValueError, ValueError) as exc:
        return argtypes.refuse("record", str(exc))
    started = time.monotonic()
    try:
        writer, stats, kinds = trio.run(record, specs, args.out, args.duration)
    except OSError as exc:
        return argtypes.refuse("record", f"cannot write {args.out}: {exc.strerror or exc}")
    seconds = time.monotonic() - started
    print(
        f"recorded {writer.written:,} frames in {seconds:.1f} s to {args.out}"
        f" ({writer.refused:,} refused: a line break)"
    )
    resyncs = ", ".join(f"{why.name.lower()} {n}" for why, n in stats.resyncs.items()) or "none"
    print(
        f"connections {stats.connects}, disconnects {stats.disconnects} (stale {stats.stale}),"
        f" reconnect wait {stats.reconnect_delay_ns / 1e9:.1f} s, resyncs: {resyncs},"
        f" frame errors {stats.frame_errors}, snapshots {stats.snapshot_requests},"
        f" books {kinds['Feed']:,} feed items"
    )
    return 0
