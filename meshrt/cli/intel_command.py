"""``meshrt intel SYMBOL RUN_DIR | CAPTURE...``: a symbol's market structure per venue."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from meshrt.cli.argtypes import path, refuse
from meshrt.log.errors import LogError

EXIT_OK = 0


def _size(value: str) -> float:
    try:
        size = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size in units: {value!r}") from None
    if not (math.isfinite(size) and size > 0):
        raise argparse.ArgumentTypeError(f"must be a size > 0, got {value!r}")
    return size


def add_parser(commands: Any) -> None:
    intel = commands.add_parser(
        "intel",
        help="a symbol's market structure per venue (spread, depth, cost of taking sizes, "
        "NBBO share) from a run folder or recorded captures",
    )
    intel.add_argument("symbol", help="scenario symbol, e.g. BTC-USD")
    intel.add_argument(
        "sources",
        nargs="+",
        type=path,
        metavar="RUN_DIR | CAPTURE",
        help="one run folder, or capture files of Kraken, Coinbase or Binance (with a Binance "
        "cryptofeed capture, its REST log) (docs/intel.md)",
    )
    intel.add_argument(
        "--size",
        type=_size,
        default=1.0,
        help="the size (units) whose routing preference to rank (default 1; one of the "
        "sizes measured: 0.1, 0.3, 1, 3, 10, 30, 100)",
    )
    intel.add_argument("--json", action="store_true", help="machine-readable output")
    intel.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    from meshrt.analysis.intel import SIZES, IntelError, analyse
    from meshrt.analysis.intel_sources import CaptureError, capture_books, run_books
    from meshrt.analysis.intel_text import tables, to_json
    from meshrt.console import show

    if args.size not in SIZES:
        return refuse("intel", f"--size {args.size:g} is not one of the sizes measured {SIZES}")
    folders = [source for source in args.sources if source.is_dir()]
    if folders and len(args.sources) > 1:
        return refuse("intel", "give one run folder, or capture files, not both")
    try:
        books = (
            run_books(folders[0], args.symbol)
            if folders
            else capture_books(args.sources, args.symbol)
        )
        structure = analyse(args.symbol, books)
    except (IntelError, CaptureError, LogError) as e:
        return refuse("intel", str(e))
    if args.json:
        sys.stdout.write(to_json(structure, args.size) + "\n")
        return EXIT_OK
    show(tables(structure, args.size))
    return EXIT_OK
