"""Recorded data: parse-only events/s of a file's source (the market maker on a file is
``bench/e2e.py --shape recorded --recorded FILE``).

Every event is pulled through ``open_source(RecordedSpec(...)).batch`` in 1 ms windows,
as a venue does. Write the file first with bench/recorded_file.py. Usage:

    .venv/bin/python bench/recorded_speed.py FILE [FILE ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meshrt.venues.sources import open_source  # noqa: E402
from meshrt.venues.specs import RecordedSpec  # noqa: E402

from bench.recorded_file import SYMBOL  # noqa: E402

WINDOW_NS = 1_000_000


def parse(path: Path) -> None:
    started = time.process_time()
    source = open_source(RecordedSpec(SYMBOL, str(path), start_at_zero=True))
    events, until = 0, 0
    while not source.exhausted:
        until += WINDOW_NS
        events += len(source.batch(until))
    cpu = time.process_time() - started
    print(f"{path.name}: {events:,} events in {cpu:.2f} cpu-s: {events / cpu:,.0f} events/s "
          f"({cpu / events * 1e9:,.0f} ns/event)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+")
    args = parser.parse_args()
    for path in args.files:
        parse(path)


if __name__ == "__main__":
    main()
