"""``meshrt report RUN_DIR [--out FILE.html] [--png DIR]``: a run's figures (docs/report.md)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from meshrt.cli import argtypes
from meshrt.log.errors import LogError
from meshrt.log.reader import log_path

INSTALL = 'pip install "meshrt[report]"'


def add_parser(commands: Any) -> None:
    report = commands.add_parser(
        "report", help="write a run's figures as one self-contained HTML file (and PNGs)"
    )
    report.add_argument("run_dir", type=argtypes.path, help="a run folder written by 'meshrt run'")
    report.add_argument(
        "--out", type=argtypes.path, metavar="FILE.html", help="default: RUN_DIR/report.html"
    )
    report.add_argument(
        "--png", type=argtypes.path, metavar="DIR", help="also write each figure as DIR/NAME.png"
    )
    report.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    log = log_path(args.run_dir)
    if not log.is_file():
        return argtypes.refuse(
            "report", f"no replay log at {log} (expected a run folder written by 'meshrt run')"
        )
    try:
        from meshrt.report.page import write_report
    except ImportError as exc:
        return argtypes.refuse("report", f"needs the report extra ({exc.name}): {INSTALL}")
    out = args.out or args.run_dir / "report.html"
    started = time.perf_counter()
    try:
        drawn = write_report(args.run_dir, out)
    except LogError as exc:
        return argtypes.refuse("report", f"bad replay log: {exc}")
    except OSError as exc:
        return argtypes.refuse("report", f"cannot write {out}: {exc.strerror or exc}")
    print(f"wrote {out} ({len(drawn)} figures, {time.perf_counter() - started:.1f} s)")
    if args.png is not None:
        from meshrt.report.browser import BrowserMissing
        from meshrt.report.png import write_pngs

        try:
            pngs = write_pngs(out, drawn, args.png)
        except BrowserMissing as exc:
            return argtypes.refuse("report", f"--png needs Chromium: {exc}")
        except ImportError as exc:
            return argtypes.refuse(
                "report", f"--png needs the report extra ({exc.name}): {INSTALL}"
            )
        print(f"wrote {len(pngs)} images to {args.png}")
    return 0
