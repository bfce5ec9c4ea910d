"""``meshrt trace`` and ``meshrt tca``: argument parsing and exit codes for the CLI.

Kept apart from meshrt/cli/main.py so the read-side commands change in one place; the
tools themselves are meshrt/analysis/.
Exit codes follow ``meshrt run``: 0 done, 2 bad input (no such run folder, no such
order, a log that is corrupt or of another version).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from meshrt.cli.argtypes import EXIT_BAD_INPUT, durations, path, refuse
from meshrt.log.errors import LogError
from meshrt.log.reader import log_path

EXIT_OK = 0
T = TypeVar("T")


def add_parsers(commands: Any) -> None:
    """Register both subcommands on the CLI's subparsers."""
    trace = commands.add_parser(
        "trace", help="one order's lifecycle from a run folder's replay log"
    )
    trace.add_argument("run_dir", type=path, help="a run folder written by 'meshrt run'")
    trace.add_argument("order", help="global order id (e.g. 7) or LABEL:CLIENT_ID (e.g. mm-1:7)")
    tca = commands.add_parser(
        "tca", help="transaction cost analysis per venue and deployment of a run folder"
    )
    tca.add_argument("run_dir", type=path, help="a run folder written by 'meshrt run'")
    tca.add_argument("--symbol", help="only orders of this symbol")
    tca.add_argument(
        "--horizons",
        type=durations,
        metavar="H1,H2,...",
        help="markout horizons, e.g. 100ms,1s,10s (default: three chosen from the run's "
        "length, the longest within a quarter of it)",
    )
    tca.add_argument("--json", action="store_true", help="machine-readable output")


def trace_main(args: argparse.Namespace) -> int:
    from meshrt.analysis.trace import TraceError, trace_order
    from meshrt.analysis.trace_text import trace_table
    from meshrt.console import show

    trace = _read(args.run_dir, "trace", TraceError, lambda: trace_order(args.run_dir, args.order))
    if trace is None:
        return EXIT_BAD_INPUT
    show(trace_table(trace))
    return EXIT_OK


def tca_main(args: argparse.Namespace) -> int:
    from meshrt.analysis.tca import TcaError, analyse
    from meshrt.analysis.tca_text import tca_table
    from meshrt.console import show

    report = _read(
        args.run_dir, "tca", TcaError, lambda: analyse(args.run_dir, args.symbol, args.horizons)
    )
    if report is None:
        return EXIT_BAD_INPUT
    if args.json:
        sys.stdout.write(report.to_json().decode() + "\n")
    else:
        show(tca_table(report))
    return EXIT_OK


def _read(run_dir: Path, command: str, refused: type[Exception], read: Callable[[], T]) -> T | None:
    """What ``read`` makes of a run folder's log, or None once the reason it cannot was
    printed (no log, a refusal of the command, a bad log)."""
    if not _has_log(run_dir, command):
        return None
    try:
        return read()
    except refused as exc:
        refuse(command, str(exc))
    except LogError as exc:
        refuse(command, f"bad replay log: {exc}")
    return None


def _has_log(run_dir: Path, command: str) -> bool:
    log = log_path(run_dir)
    if not log.is_file():
        refuse(command, f"no replay log at {log} (expected a run folder written by 'meshrt run')")
        return False
    return True
