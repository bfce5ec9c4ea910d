"""Kraken adapter throughput: the real v1 capture (tests/data/venues/kraken) parsed, applied
and checksum-verified by ``KrakenFeed.on_frame``, in a loop, per CPU second.

Every loop replays the whole capture (10 snapshots at depth 1000, 4269 updates, heartbeats
and subscription acks) into one feed; each snapshot rebuilds its pair's book. Usage:

    .venv/bin/python bench/live_kraken.py [--loops 20]
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

CAPTURE = ROOT / "tests/data/venues/kraken/kraken_v1_book1000_cryptofeed_KRAKEN.ws.50.0.log.gz"
PAIRS = ["WAVES/EUR", "XMR/USD", "KSM/XBT", "GRT/ETH", "SC/EUR"]
PAIRS += ["ETH/CHF", "OCEAN/XBT", "OMG/USD", "XBT/CHF", "ADA/XBT"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=20)
    args = parser.parse_args()
    frames = list(cryptofeed_frames(gzip.decompress(CAPTURE.read_bytes()).decode().splitlines()))
    feed = KrakenFeed(PAIRS, depth=1000)
    started = time.process_time()
    for _ in range(args.loops):
        for ts, text in frames:
            feed.on_frame(text, ts)
    cpu = time.process_time() - started
    counts = feed.counts()
    assert counts.checksum_ok == counts.updates and counts.resyncs == 0
    print(
        f"{len(frames) * args.loops:,} frames ({counts.updates:,} updates) in {cpu:.2f} cpu-s: "
        f"{len(frames) * args.loops / cpu:,.0f} frames/s, {counts.updates / cpu:,.0f} updates/s, "
        f"{counts.checksum_ok:,} checksums verified"
    )


if __name__ == "__main__":
    main()
