"""Kraken adapter throughput: the real capture (tests/data/venues/kraken) parsed, applied
and checksum-verified by ``KrakenFeed.on_frame``, in a loop, per CPU second.

Every loop replays the whole capture (10 snapshots at depth 1000, 4269 updates, heartbeats)
into one feed; each snapshot rebuilds its pair's book. ``--protocol v2`` (the default, the
issue's target) replays it as WebSocket v2 frames (tests/kraken_v2.py: numbers as JSON
numbers, same text and checksums), ``v1`` as recorded (every value a string). Usage:

    .venv/bin/python bench/live_kraken.py [--loops 20] [--protocol v2|v1]
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meshrt.venues.live.capture import cryptofeed_frames  # noqa: E402
from meshrt.venues.live.kraken import KrakenFeed  # noqa: E402
from tests.kraken_v2 import v2_frames, v2_name  # noqa: E402

CAPTURE = ROOT / "tests/data/venues/kraken/kraken_v1_book1000_cryptofeed_KRAKEN.ws.50.0.log.gz"
PAIRS = ["WAVES/EUR", "XMR/USD", "KSM/XBT", "GRT/ETH", "SC/EUR"]
PAIRS += ["ETH/CHF", "OCEAN/XBT", "OMG/USD", "XBT/CHF", "ADA/XBT"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=20)
    parser.add_argument("--protocol", choices=("v2", "v1"), default="v2")
    args = parser.parse_args()
    frames = list(cryptofeed_frames(gzip.decompress(CAPTURE.read_bytes()).decode().splitlines()))
    pairs = PAIRS
    if args.protocol == "v2":
        frames = list(v2_frames(frames))
        pairs = [v2_name(pair) for pair in PAIRS]
    feed = KrakenFeed(pairs, depth=1000)
    started = time.process_time()
    for _ in range(args.loops):
        for ts, text in frames:
            feed.on_frame(text, ts)
    cpu = time.process_time() - started
    counts = feed.counts()
    assert counts.checksum_ok >= counts.updates and counts.checksum_bad == counts.resyncs == 0
    print(
        f"{len(frames) * args.loops:,} frames ({counts.updates:,} updates) in {cpu:.2f} cpu-s: "
        f"{len(frames) * args.loops / cpu:,.0f} frames/s, {counts.updates / cpu:,.0f} updates/s, "
        f"{counts.checksum_ok:,} checksums verified ({args.protocol})"
    )


if __name__ == "__main__":
    main()
