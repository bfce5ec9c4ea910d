"""How long ``meshrt report`` takes on a long run (issue 14: at most 30 s on 2.7M records).

Runs bench/report_scenario.py (the maker/hedger pair with faults, MESHRT_BENCH_UPDATES
book updates per venue: 1,160,000 gives about 2.7 million log records) into a run
folder, then times ``meshrt report`` on it as a user would run it (a fresh process:
imports, the pass over the log, the figures, the HTML written). An existing folder
given with ``--run`` is reported again without re-running it.

Usage::

    .venv/bin/python bench/report.py [--updates 1160000] [--run DIR] [--png]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
MESHRT = Path(sys.executable).parent / "meshrt"
LIMIT_S = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=1_160_000, help="book updates per venue")
    parser.add_argument("--run", type=Path, help="the run folder (kept; re-used if it exists)")
    parser.add_argument("--png", action="store_true", help="time --png as well")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="meshrt-report-bench-") as scratch:
        run_dir = args.run or Path(scratch) / "run"
        if not (run_dir / "summary.json").is_file():
            env = {**os.environ, "MESHRT_BENCH_UPDATES": str(args.updates)}
            started = time.perf_counter()
            subprocess.run(
                [
                    str(MESHRT),
                    "run",
                    str(ROOT / "bench" / "report_scenario.py"),
                    *("--out", str(run_dir), "--no-progress", "--checkpoint-every", "0"),
                ],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            print(f"run: {time.perf_counter() - started:.1f} s")
        records = orjson.loads((run_dir / "summary.json").read_bytes())["events"]
        size = (run_dir / "replay.jsonl").stat().st_size
        command = [str(MESHRT), "report", str(run_dir), "--out", str(Path(scratch) / "r.html")]
        if args.png:
            command += ["--png", str(Path(scratch) / "png")]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        page = (Path(scratch) / "r.html").stat().st_size
    print(
        f"meshrt report{' --png' if args.png else ''}: {records:,} records "
        f"({size / 1e6:,.0f} MB of log) in {seconds:.1f} s "
        f"({records / seconds:,.0f} records/s; CPU {cpu:.1f} s), page {page / 1e6:.1f} MB "
        f"(limit {LIMIT_S:.0f} s)"
    )
    return 0 if seconds <= LIMIT_S else 1


if __name__ == "__main__":
    sys.exit(main())
