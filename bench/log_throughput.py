"""Replay log write throughput: records/s and MB/s of the writer on the hot record type.

It serializes and writes N book-delta records the way the sequencer does (orjson per
record, one write per window of W records) to a file, under each durability policy.
Usage: .venv/bin/python bench/log_throughput.py [--records 1000000] [--window 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from meshrt.log.writer import ReplayLog


def write(path: Path, records: int, window: int, fsync_interval_s: float | None) -> float:
    log = ReplayLog(path, fsync_interval_s)
    log.header({"scenario": "bench", "seed": 0, "venues": [], "deployments": []})
    dumps, lines = orjson.dumps, log.lines
    started = time.perf_counter()
    ts = 1_700_000_000_000_000_000
    for seq in range(1, records + 1):
        ts += 10_000
        lines.append(
            dumps(
                [
                    seq,
                    ts,
                    ts,
                    "venue:alpha",
                    "alpha",
                    "BTC-USD",
                    "delta",
                    (1, 100_010_000_000 + (seq % 50) * 10_000_000, 123_000_000),
                    seq,
                ]
            )
        )
        if not seq % window:
            log.flush()
    log.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--window", type=int, default=100, help="records per flush")
    args = parser.parse_args()
    policies = [
        ("flush per window, fsync never", None),
        ("fsync every 0.1 s", 0.1),
        ("fsync every window", 0.0),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for name, interval in policies:
            path = Path(tmp) / "replay.jsonl"
            records = args.records if interval != 0.0 else args.records // 10
            seconds = write(path, records, args.window, interval)
            size = path.stat().st_size
            print(
                f"{name:30s} {records / seconds:12,.0f} records/s "
                f"{size / seconds / 1e6:8.1f} MB/s  ({records:,} records, "
                f"{size / records:.0f} B/record)"
            )


if __name__ == "__main__":
    main()
