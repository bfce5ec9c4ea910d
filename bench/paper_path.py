"""Paper mode's live path in one process: CPU time per frame, and frame-to-intent latency.

bench/paper_latency.py measures the live path as a user sees it, against ``meshrt
venue-sim`` at the captures' pace: the process sleeps between frames, so most of what it
measures there is cold caches. This one runs the same scenario (the Python maker on
Coinbase SKL-USD and Kraken XMR/USD, feed latency 0) with sessions that replay the same
captures through the real adapters in this process (Kraken's v1 capture as the v2 frames
venue-sim serves), no network: the CPU time per frame of the whole path (adapter,
windows, venue, maker, desk, log) and, for every order action, the time from the frame's
receive stamp to the desk's commit. Prints both.

By default the frames come back to back (a checkpoint between): the path warm.
``--gap-us G`` sleeps G µs before each frame, as the process does between frames at the
captures' pace: with G = 5000 it reproduces paper_latency.py's cold figure without a
second process (docs/performance.md, "Why the paper path is cold").

    .venv/bin/python bench/paper_path.py [--loops 3] [--gap-us 0] [--algo REF]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meshrt.runtime import paper  # noqa: E402
from meshrt.venues.live.adapters import adapter_for, exchange_symbols  # noqa: E402
from meshrt.venues.live.capture import cryptofeed_frames  # noqa: E402
from meshrt.venues.live.verdicts import (  # noqa: E402
    Connected,
    Feed,
    NeedSnapshot,
    Received,
    ReceivedSink,
)
from meshrt.venues.specs import LiveSpec  # noqa: E402
from meshrt.venuesim.kraken_v2 import v1_to_v2  # noqa: E402

from bench import paper_latency  # noqa: E402
from bench.paper_latency import CAPTURES, percentile  # noqa: E402

CAPTURE_OF = {"coinbase": CAPTURES[0], "kraken": CAPTURES[1]}
LONGEST = 2_702  # frames of the longer connection (Coinbase's): it bounds a run with gaps


class FrameProbe(Protocol):
    """Called around each frame, outside its timing (bench/cold_lines.py)."""

    def before(self) -> None: ...
    def after(self, reacted: bool) -> None: ...


class Tally:
    """What one loop saw: frames handed over, CPU time from the first to the last, and
    each order action's latency (ns)."""

    def __init__(self) -> None:
        self.frames = 0
        self.first_cpu = 0
        self.last_cpu = 0
        self.done = 0
        self.latencies: list[int] = []


def session(tally: Tally, gap_s: float = 0.0, probe: FrameProbe | None = None) -> paper.Session:
    """Each connection replays its capture through the adapter, ``gap_s`` apart."""

    async def replay(
        specs: Sequence[LiveSpec], send: ReceivedSink, clock: Callable[[], int]
    ) -> None:
        exchange = specs[0].exchange
        await send.send(Received(clock(), (Connected(exchange, 1),)))
        symbols = exchange_symbols(specs)
        adapter = adapter_for(exchange, symbols, depth=specs[0].depth)
        # what the connection would carry: the frames naming a subscribed symbol
        names = [f'"{name}"' for name in symbols.values()]
        frames = [
            text
            for _, text in cryptofeed_frames(CAPTURE_OF[exchange])
            if any(name in text for name in names)
        ]
        if exchange == "kraken":  # as venue-sim serves the v1 capture to a v2 session
            (name,) = symbols.values()
            frames = [v1_to_v2(text, name) for text in frames if text[:1] == "["]
        await trio.lowlevel.checkpoint()  # both connections have read their capture
        if not tally.first_cpu:
            tally.first_cpu = time.process_time_ns()
        for text in frames:
            if gap_s:
                await trio.sleep(gap_s)
            if probe is not None:
                actions = len(tally.latencies)
                probe.before()
            ts = clock()
            outputs = adapter.on_frame(text, ts)
            if not outputs:
                pass
            elif len(outputs) == 1 and type(outputs[0]) is Feed:  # as the session: one Feed
                item = Received(ts, (outputs[0],))
                try:
                    send.send_nowait(item)
                except trio.WouldBlock:
                    await send.send(item)
            else:  # the rest as the session hands it over (snapshot requests are its own)
                await send.send(
                    Received(ts, tuple(o for o in outputs if type(o) is not NeedSnapshot))
                )
            if probe is not None:
                probe.after(len(tally.latencies) > actions)
            tally.frames += 1
            await trio.lowlevel.checkpoint()
        tally.last_cpu = time.process_time_ns()
        tally.done += 1
        if tally.done == len(CAPTURE_OF):  # both captures played: end the run as Ctrl-C does
            os.kill(os.getpid(), signal.SIGINT)
        await trio.sleep_forever()

    return replay


def measure(
    tally: Tally,
    seconds: float,
    gap_s: float = 0.0,
    probe: FrameProbe | None = None,
    algo: str | None = None,
) -> None:
    urls = {"coinbase": "ws://127.0.0.1:1", "kraken": "ws://127.0.0.1:1"}  # never dialled
    replay = session(tally, gap_s, probe)
    reference = paper_latency.algo_reference(algo)
    paper_latency.measure(urls, seconds, replay, tally.latencies, reference)
    assert tally.done == 2, "the captures did not finish within the run: raise --seconds"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=3)
    parser.add_argument("--seconds", type=float, help="each loop's longest run")
    parser.add_argument("--gap-us", type=float, default=0.0, help="sleep before each frame")
    parser.add_argument("--algo", help="algo reference instead of the Python maker")
    args = parser.parse_args()
    gap_s = args.gap_us / 1e6
    seconds = args.seconds or 60.0 + LONGEST * gap_s * 1.3
    for loop in range(args.loops):
        tally = Tally()
        measure(tally, seconds, gap_s, algo=args.algo)
        cpu_us = (tally.last_cpu - tally.first_cpu) / 1000 / tally.frames
        lat = tally.latencies
        cpu = f"{cpu_us:.2f} us CPU per frame; " if not gap_s else ""  # else waits' work too
        print(
            f"loop {loop + 1}: {tally.frames:,} frames, {cpu}"
            f"{len(lat):,} order actions, frame to desk p50 {percentile(lat, 0.5):.1f} us, "
            f"p90 {percentile(lat, 0.9):.1f} us"
        )


if __name__ == "__main__":
    main()
