"""Coinbase Exchange adapter throughput: the real capture's frames through ``ExchangeFeed``
in a loop (parse, apply, verify), CPU time only. Usage:

    .venv/bin/python bench/live_coinbase.py [--loops N] [CAPTURE]

CAPTURE defaults to tests/data/venues/coinbase's gzipped copy; each loop starts a fresh
adapter, so every loop replays the same snapshots and updates.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meshrt.venues.live.capture import cryptofeed_frames  # noqa: E402
from meshrt.venues.live.coinbase import ExchangeFeed  # noqa: E402

CAPTURE = (
    ROOT / "tests/data/venues/coinbase/coinbase_exchange_level2_cryptofeed_COINBASE.ws.28.0.log.gz"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture", nargs="?", type=Path, default=CAPTURE)
    parser.add_argument("--loops", type=int, default=20)
    args = parser.parse_args()
    frames = list(cryptofeed_frames(args.capture))
    count = updates = 0
    started = time.process_time()
    for _ in range(args.loops):
        adapter = ExchangeFeed()
        for ts, text in frames:
            adapter.on_frame(text, ts)
        counters = adapter.counters()
        count += counters.frames
        updates += counters.level_changes
    cpu = time.process_time() - started
    print(f"{args.capture.name}: {count:,} frames, {updates:,} level changes in {cpu:.2f} cpu-s: "
          f"{count / cpu:,.0f} frames/s, {updates / cpu:,.0f} level changes/s")  # fmt: skip


if __name__ == "__main__":
    main()
