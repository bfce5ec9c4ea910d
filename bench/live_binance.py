"""Binance adapter throughput: the hftbacktest BTCUSDT capture replayed in a loop.

Frames (depth, bookTicker, trade) and depth events applied per CPU-second through
``BinanceSpot``, snapshot bridging included. Usage:

    .venv/bin/python bench/live_binance.py [--rounds N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from binance_replay import DATA, HFTBACKTEST, capture_adapter, hftbacktest, read, replay  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    items = list(hftbacktest(read(DATA / (HFTBACKTEST + ".gz"))))
    frames = applied = levels = 0
    started = time.process_time()
    for _ in range(rounds):
        adapter = capture_adapter(["BTCUSDT"])
        replay(adapter, iter(items))
        counters = adapter.books["BTCUSDT"].counters
        frames += adapter.counters.frames
        applied += counters.applied
        levels += counters.level_changes
    cpu = time.process_time() - started
    print(f"{frames:,} frames, {applied:,} depth events, {levels:,} level changes in "
          f"{cpu:.2f} cpu-s: {frames / cpu:,.0f} frames/s, {applied / cpu:,.0f} depth events/s, "
          f"{levels / cpu:,.0f} level changes/s")  # fmt: skip


if __name__ == "__main__":
    main()
