"""The ``meshrt`` command."""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from meshrt import __version__
from meshrt.cli import (
    argtypes,
    convert,
    intel_command,
    live_commands,
    report_command,
    soak_command,
    sweep_command,
    venuesim_command,
)
from meshrt.cli.read_commands import add_parsers as add_analysis_parsers, tca_main, trace_main
from meshrt.cli.toolchain_commands import add_parsers as add_toolchain_parsers
from meshrt.loaders.python import AlgoLoadError
from meshrt.runtime.watchdog import DEFAULT_SECONDS as DEFAULT_WATCHDOG_S, EXIT_STUCK
from meshrt.scenario import overrides
from meshrt.scenario.definition import Scenario, ScenarioError, load_scenario
from meshrt.venues.recorded import SourceError

if TYPE_CHECKING:
    from meshrt.runtime.run import RunResult

DESCRIPTION = (
    "Run trading algos against simulated venues in virtual time, then replay, "
    "trace and analyse the runs."
)  # plain text: argparse shows it as written
DEFAULT_CHECKPOINT_EVERY = 250_000
EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report a process SIGINT ended (128 + 2)
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a tool its reader left


def main(argv: list[str] | None = None) -> int:
    """Run one command. A reader that goes away (``meshrt tca RUN | head``) ends it
    quietly, with the exit status of a command killed by SIGPIPE."""
    try:
        code = _main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the exit-time flush has nowhere to fail
        return EXIT_BROKEN_PIPE
    return code


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="meshrt", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"meshrt {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a scenario file in virtual time")
    run.add_argument("scenario", nargs="?", type=argtypes.path, help="path to a scenario .py file")
    run.add_argument(
        "--out",
        type=argtypes.path,
        help="run folder (default: runs/NAME-UTCTIME, or NAME-UTCTIME-2...)",
    )
    run.add_argument(
        "--replace",
        action="store_true",
        help="--out may name a folder that holds a finished run: replace it",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument(
        "--checkpoint-every",
        type=argtypes.count,
        default=DEFAULT_CHECKPOINT_EVERY,
        metavar="EVENTS",
        help=f"write a checkpoint every EVENTS events (default "
        f"{DEFAULT_CHECKPOINT_EVERY:,}; 0: none)",
    )
    run.add_argument(
        "--fsync-interval",
        type=argtypes.seconds,
        default=None,
        metavar="SECONDS",
        help="fsync the replay log at least this often (default: only at "
        "checkpoints; 0: every window)",
    )
    run.add_argument(
        "--watchdog",
        type=argtypes.seconds,
        default=DEFAULT_WATCHDOG_S,
        metavar="SECONDS",
        help=f"end the run (exit {EXIT_STUCK}, resumable) when one algo's batch "
        f"of a window runs longer than SECONDS of wall-clock time "
        f"(default {DEFAULT_WATCHDOG_S:g}; 0: never)",
    )
    run.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="run with this seed instead of the scenario's (the same as --set seed=N)",
    )
    run.add_argument(
        "--duration",
        type=argtypes.seconds,
        metavar="SECONDS",
        help="run this long instead of the scenario's duration_ns (the same as --set "
        "duration_ns=NS; a paper run: wall-clock seconds)",
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        dest="settings",
        metavar="LABEL.PARAM=VALUE",
        help="run with a deployment's param (or seed) set to VALUE, read as JSON "
        "(repeatable; kept in run.json, so --resume and 'meshrt replay' use it)",
    )
    run.add_argument(
        "--resume",
        type=argtypes.path,
        metavar="RUN_DIR",
        help="finish a killed run from its newest checkpoint",
    )
    replay = commands.add_parser(
        "replay", help="re-execute a run from its log and check every record"
    )
    replay.add_argument("run_dir", type=argtypes.path, help="a run folder written by 'meshrt run'")
    summary = commands.add_parser("summary", help="print a finished run's summary table again")
    summary.add_argument("run_dir", type=argtypes.path, help="a run folder written by 'meshrt run'")
    mesh = commands.add_parser("mesh", help="print a run's topology and link statistics")
    mesh.add_argument("run_dir", type=argtypes.path, help="a run folder written by 'meshrt run'")
    add_analysis_parsers(commands)
    add_toolchain_parsers(commands)  # build, init: each sets args.handler
    convert.add_parser(commands)  # sets args.handler
    live_commands.add_parser(commands)  # record: sets args.handler
    soak_command.add_parser(commands)  # sets args.handler
    sweep_command.add_parser(commands)  # sets args.handler
    venuesim_command.add_parser(commands)  # sets args.handler
    intel_command.add_parser(commands)  # sets args.handler
    report_command.add_parser(commands)  # sets args.handler
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
    if args.command == "summary":
        return _summary(args)
    if args.command == "replay":
        return _replay(args)
    return EXIT_BAD_INPUT  # pragma: no cover - argparse enforces a command


def _run(args: argparse.Namespace) -> int:
    from meshrt.console import show
    from meshrt.log.checkpoint import CheckpointError
    from meshrt.runtime.preflight import preflight
    from meshrt.runtime.run import RunOptions, resume, run
    from meshrt.runtime.run_folder import RunFolderError
    from meshrt.runtime.summary import summary_table

    if (args.scenario is None) == (args.resume is None):
        return argtypes.refuse("run", "needs a scenario file, or --resume RUN_DIR (not both)")
    given = [("--seed", f"seed={args.seed}")] if args.seed is not None else []
    if args.duration is not None:
        given.append(("--duration", f"duration_ns={round(args.duration * 1e9)}"))
    given += [("--set", text) for text in args.settings]
    if args.resume is not None and given:
        return argtypes.refuse(
            "run", "--resume uses the run's own --seed, --duration and --set (run.json)"
        )
    progress = None if args.no_progress else ProgressBar()
    try:
        if args.resume is not None:
            result = resume(args.resume, progress=progress, watchdog_s=args.watchdog)
        else:
            scenario = load_scenario(args.scenario)
            settings = _overrides(given, scenario)
            preflight(overrides.apply(scenario, settings), str(args.scenario))
            run_dir = args.out
            if run_dir is None:
                stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
                run_dir = Path("runs") / f"{scenario.name}-{stamp}"
            options = RunOptions(
                args.checkpoint_every,
                args.fsync_interval,
                args.watchdog,
                fresh_folder=args.out is None,
                replace=args.replace,
                overrides=settings,
            )
            result = run(scenario, run_dir, progress, options)
    except overrides.OverrideError as exc:
        return argtypes.refuse("run", str(exc))
    except ScenarioError as exc:
        return argtypes.refuse("run", f"bad scenario: {exc}")
    except CheckpointError as exc:
        return argtypes.refuse("run", f"cannot resume: {exc}")
    except RunFolderError as exc:
        return argtypes.refuse("run", f"bad run folder: {exc}")
    except (SourceError, AlgoLoadError) as exc:
        return argtypes.refuse("run", f"bad input: {exc}")
    except KeyboardInterrupt:  # Ctrl-C before the run started (or after it ended)
        print("meshrt run: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if progress is not None:
            progress.close()
    if result.interrupted:
        print(_interrupted(result), file=sys.stderr)
        return EXIT_INTERRUPTED
    show(summary_table(result.summary, result.metrics))
    print(f"run folder: {result.run_dir}")
    return EXIT_OK if result.ok else EXIT_RUN_FAILED


def _overrides(given: list[tuple[str, str]], scenario: Scenario) -> tuple[overrides.Setting, ...]:
    """Each (option, ``NAME=VALUE``) checked against ``scenario``; OverrideError is the one
    line naming the option and what is wrong (a name given twice among them)."""
    settings: list[overrides.Setting] = []
    for option, text in given:
        try:
            setting = overrides.parse(text, scenario)
        except overrides.OverrideError as exc:
            raise overrides.OverrideError(f"{option} {exc}") from None
        if any(s.name == setting.name for s in settings):
            raise overrides.OverrideError(f"{option} {setting.name}: given twice")
        settings.append(setting)
    return tuple(settings)


def _interrupted(result: RunResult) -> str:
    """The one line a Ctrl-C'd run ends with: how to finish it, or why it cannot be."""
    from meshrt.log.checkpoint import all_checkpoints

    run_dir = result.run_dir
    assert run_dir is not None  # the command always runs in a folder
    at = f"meshrt run: interrupted at t={result.summary['scenario_time_ns'] / 1e9:.6f}s"
    if all_checkpoints(run_dir):
        return f"{at}; resume with: meshrt run --resume {shlex.quote(str(run_dir))}"
    return (
        f"{at}; no checkpoint was written (--checkpoint-every 0, or the state cannot "
        f"be saved: see {run_dir / 'metrics.json'}), so it cannot be resumed"
    )


def _replay(args: argparse.Namespace) -> int:
    from meshrt.log.checkpoint import CheckpointError
    from meshrt.log.errors import LogError
    from meshrt.runtime.replay import verify
    from meshrt.runtime.run_folder import RunFolderError

    try:
        verdict = verify(args.run_dir)
    except (CheckpointError, ScenarioError, LogError, SourceError, AlgoLoadError) as exc:
        return argtypes.refuse("replay", f"cannot replay: {exc}")
    except RunFolderError as exc:
        return argtypes.refuse("replay", f"bad run folder: {exc}")
    if verdict.ok:
        print(f"replay verified: all {verdict.records:,} records identical")
        return EXIT_OK
    divergence = verdict.divergence
    assert divergence is not None
    print(
        f"replay diverges at seq {divergence.seq}:\n  logged:   {divergence.logged}\n"
        f"  replayed: {divergence.replayed}"
    )
    return EXIT_RUN_FAILED


def _summary(args: argparse.Namespace) -> int:
    import orjson

    from meshrt.console import show
    from meshrt.runtime.summary import summary_table

    read = {}
    for name in ("summary.json", "metrics.json"):
        path = args.run_dir / name
        try:
            read[name] = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return argtypes.refuse(
                "summary",
                f"{path}: no such file (is {args.run_dir} the folder of a run that ended?)",
            )
        except orjson.JSONDecodeError as exc:
            return argtypes.refuse("summary", f"{path}: not valid JSON: {exc}")
    show(summary_table(read["summary.json"], read["metrics.json"]))
    return EXIT_OK


def _mesh(args: argparse.Namespace) -> int:
    import orjson

    from meshrt.console import show
    from meshrt.runtime.summary import mesh_table

    path = args.run_dir / "mesh.json"
    try:
        mesh = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return argtypes.refuse("mesh", f"{path}: no such file (is {args.run_dir} a run folder?)")
    except orjson.JSONDecodeError as exc:
        return argtypes.refuse("mesh", f"{path}: not valid JSON: {exc}")
    show(mesh_table(mesh))
    return EXIT_OK


class ProgressBar:
    """The run's progress in scenario time, with its ETA, on stderr (a terminal only)."""

    def __init__(self) -> None:
        from meshrt.console import Bar

        self.bar = Bar("run")

    def __call__(self, now_ns: int, events: int, end_ns: int | None) -> None:
        self.bar.update(now_ns, end_ns or None, f"t={now_ns / 1e9:.3f}s  events={events:,}")

    def close(self) -> None:
        self.bar.close()


if __name__ == "__main__":
    raise SystemExit(main())
