"""The ``meshrt`` command."""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from meshrt.analysis.commands import add_parsers as add_analysis_parsers
from meshrt.analysis.commands import tca_main, trace_main
from meshrt.loaders.python import AlgoLoadError
from meshrt.scenario import ScenarioError, load_scenario
from meshrt.toolchain.commands import add_parsers as add_toolchain_parsers
from meshrt.venues.sources import SourceError

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="meshrt", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a scenario file in virtual time")
    run.add_argument("scenario", help="path to a scenario .py file")
    run.add_argument("--out", type=Path, help="run folder (default: runs/NAME-UTCTIME)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    mesh = commands.add_parser("mesh", help="print a run's topology and link statistics")
    mesh.add_argument("run_dir", type=Path, help="a run folder written by 'meshrt run'")
    add_analysis_parsers(commands)
    add_toolchain_parsers(commands)  # build, init: each sets args.handler
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is not None:
        return int(args.handler(args))
    if args.command == "run":
        return _run(args)
    if args.command == "trace":
        return trace_main(args)
    if args.command == "tca":
        return tca_main(args)
    if args.command == "mesh":
        return _mesh(args)
    return EXIT_BAD_INPUT  # pragma: no cover - argparse enforces a command


def _run(args: argparse.Namespace) -> int:
    from meshrt.runtime import run
    from meshrt.summary import format_table

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"meshrt: bad scenario: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    run_dir = args.out
    if run_dir is None:
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        run_dir = Path("runs") / f"{scenario.name}-{stamp}"
    progress = None if args.no_progress else ProgressBar()
    try:
        result = run(scenario, run_dir, progress)
    except (SourceError, AlgoLoadError) as exc:
        print(f"meshrt: bad input: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        if progress is not None:
            progress.close()
    print(format_table(result.summary, result.metrics))
    print(f"run folder: {run_dir}")
    return EXIT_OK if result.ok else EXIT_RUN_FAILED


def _mesh(args: argparse.Namespace) -> int:
    import orjson

    from meshrt.summary import format_mesh

    path = args.run_dir / "mesh.json"
    try:
        mesh = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        print(f"meshrt: {path}: no such file (is {args.run_dir} a run folder?)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except orjson.JSONDecodeError as exc:
        print(f"meshrt: {path}: not valid JSON: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(format_mesh(mesh))
    return EXIT_OK


class ProgressBar:
    """A one-line progress bar on stderr, shown only once a run lasts long enough to need it."""

    WIDTH = 30

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, now_ns: int, events: int, end_ns: int | None) -> None:
        if not sys.stderr.isatty():
            return
        self.shown = True
        if end_ns:
            fraction = min(1.0, now_ns / end_ns)
            filled = int(fraction * self.WIDTH)
            bar = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {fraction:4.0%}"
        else:
            bar = "[running]"
        sys.stderr.write(f"\r{bar}  t={now_ns / 1e9:.3f}s  events={events:,}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


if __name__ == "__main__":
    raise SystemExit(main())
