"""Assemble a scenario's actors, run them under one nursery, and report.

The sequencer is awaited in the nursery's own task; venues and instances run as
children. When the sequencer ends (the run is over, or it failed closed) every other
actor is stopped or cancelled with it: nothing outlives the run.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
import orjson
import trio

from meshrt.actors.instance import AlgoInstance
from meshrt.actors.venue import VenueActor
from meshrt.log import checkpoint
from meshrt.log.writer import ReplayLog
from meshrt.runtime import interrupts, run_folder, watchdog
from meshrt.runtime.assemble import is_live, slot_factory, topology_of, venue_actors
from meshrt.runtime.collector import run_collector
from meshrt.runtime.paper import LiveRun, Session, live_windows
from meshrt.runtime.preflight import preflight
from meshrt.runtime.run_file import load_run_scenario, read_run_file, write_run_file
from meshrt.runtime.summary import build_mesh, build_metrics, build_summary
from meshrt.scenario.definition import Scenario
from meshrt.scenario.overrides import Setting, apply
from meshrt.sequencer.actor import Sequencer, sequencer_mailbox
from meshrt.sequencer.live import run_live
from meshrt.sequencer.reports import RunFailed


@attrs.frozen(slots=True)
class RunResult:
    summary: dict[str, Any]
    metrics: dict[str, Any]
    run_dir: Path | None

    @property
    def ok(self) -> bool:
        status: str = self.summary["status"]
        return status == "ok"

    @property
    def interrupted(self) -> bool:
        """Stopped by Ctrl-C between two windows; ``meshrt run --resume`` finishes it."""
        status: str = self.summary["status"]
        return status == "interrupted"

    @property
    def reports(self) -> dict[str, Any]:
        """Each deployment's ``Algo.report()`` by label (None: it reported nothing)."""
        return {d["label"]: d["report"] for d in self.summary["deployments"]}


@attrs.frozen(slots=True)
class RunOptions:
    """How a run keeps its record: checkpoints every ``checkpoint_every`` events (0: none)
    and the log's fsync policy (``fsync_interval_s``: None flushes to the OS every window
    and fsyncs only at checkpoints; 0 fsyncs every window), the watchdog's limit on one
    window's batch of one algo, in wall-clock seconds (0: none; see meshrt/runtime/watchdog.py),
    whether its folder must be a new one, the overrides to run the scenario with (made by
    meshrt/scenario/overrides.py ``parse``/``setting``, which check them; kept in run.json
    for a resume and a replay), and ``actors_as_tasks``: run venues, instances
    and the coordinator as Trio tasks woken by their mailboxes instead of having the
    sequencer step them (slower, the same log byte for byte). Paper mode (a venue on a
    live feed: docs/live.md) runs in wall-clock time, connecting through ``session``
    (None: the live sessions' ``run_session``);
    ``paper_log``: replay a paper run instead, its windows and feed read from that log
    (meshrt/runtime/replay.py)."""

    checkpoint_every: int = 0
    fsync_interval_s: float | None = None
    watchdog_s: float = watchdog.DEFAULT_SECONDS
    fresh_folder: bool = False  # run_dir is a default name: never reuse it, take NAME-2...
    replace: bool = False  # run_dir may hold a finished run: overwrite it
    actors_as_tasks: bool = False
    overrides: tuple[Setting, ...] = ()
    session: Session | None = None
    paper_log: Path | None = None


def run(
    scenario: Scenario,
    run_dir: Path | None = None,
    progress: Callable[[int, int, int | None], None] | None = None,
    options: RunOptions = RunOptions(),
) -> RunResult:
    """Run a scenario (with ``options.overrides``) to completion in virtual time (no
    wall-clock sleeping)."""
    return trio.run(run_async, scenario, run_dir, progress, options)


def resume(
    run_dir: Path,
    scenario: Scenario | None = None,
    progress: Callable[[int, int, int | None], None] | None = None,
    watchdog_s: float = watchdog.DEFAULT_SECONDS,
) -> RunResult:
    """Finish a killed run from its newest checkpoint (see ``resume_async``)."""
    return trio.run(resume_async, run_dir, scenario, progress, watchdog_s)


async def run_async(
    scenario: Scenario,
    run_dir: Path | None = None,
    progress: Callable[[int, int, int | None], None] | None = None,
    options: RunOptions = RunOptions(),
) -> RunResult:
    scenario = apply(scenario, options.overrides)
    with interrupts.sigint_receiver() as signals:  # from the first line of algo code on
        return await _claim_and_start(scenario, run_dir, progress, options, signals)


async def _claim_and_start(
    scenario: Scenario,
    run_dir: Path | None,
    progress: Callable[[int, int, int | None], None] | None,
    options: RunOptions,
    signals: AsyncIterator[int] | None,
) -> RunResult:
    preflight(scenario)
    live = live_windows(scenario, options.session, options.paper_log)
    mailbox = sequencer_mailbox()
    venues = venue_actors(scenario, mailbox)
    folder = None
    if run_dir is not None:  # only once the data opened: bad input leaves no empty folder
        folder = run_folder.claim(run_dir, options.fresh_folder)
        if not options.replace:
            run_folder.refuse_a_run_in(folder)
        run_dir = folder.path
    try:
        if run_dir is not None:
            write_run_file(
                run_dir,
                scenario,
                options.overrides,
                options.checkpoint_every,
                options.fsync_interval_s,
            )
        return await _start(scenario, venues, mailbox, run_dir, progress, options, signals, live)
    finally:
        if folder is not None:
            folder.release()


async def _start(
    scenario: Scenario,
    venues: list[VenueActor],
    mailbox: Any,
    run_dir: Path | None,
    progress: Callable[[int, int, int | None], None] | None,
    options: RunOptions,
    signals: AsyncIterator[int] | None,
    live: LiveRun | None,
) -> RunResult:
    """Load the algos, write the log header and run: the part of a new run done while
    its folder is claimed (``live``: a paper run's windows)."""
    base_dir = Path(scenario.base_dir)
    instances = []
    crashed_at_load: dict[int, str] = {}
    for i, dep in enumerate(scenario.deployments):
        instance = AlgoInstance(
            i, dep.label, list(dep.symbols), dict(dep.params), mailbox, dep.mailbox
        )
        instance.factory = slot_factory(scenario, dep, base_dir)
        try:
            instance.attach(instance.factory(instance))
        except BaseException as exc:  # noqa: BLE001 - an algo's constructor may raise anything
            crashed_at_load[i] = f"{type(exc).__name__}: {exc}"
            instance.crashed = crashed_at_load[i]
        instances.append(instance)
    log = ReplayLog(
        run_dir / "replay.jsonl" if run_dir is not None else None, options.fsync_interval_s
    )
    log.header(
        {
            "scenario": scenario.name,
            "seed": scenario.seed,
            "venues": [
                {"name": v.name, "region": v.region, "symbols": list(v.symbols)}
                for v in scenario.venues
            ],
            "deployments": [
                {"label": d.label, "venue": d.venue, "symbols": list(d.symbols)}
                for d in scenario.deployments
            ],
        }
    )
    sequencer = Sequencer(topology_of(scenario), venues, instances, log, mailbox, progress)
    for index, error in crashed_at_load.items():
        sequencer.fail_at_load(index, error)
    sequencer.checkpoint_every = options.checkpoint_every
    sequencer.actors_as_tasks = options.actors_as_tasks
    sequencer.next_checkpoint = options.checkpoint_every
    if any(is_live(venue) for venue in scenario.venues):
        sequencer.checkpoint_note = "a live venue's feed (LiveSpec, CaptureSpec) is not saved"
    elif run_dir is not None and options.checkpoint_every:
        _probe_checkpoints(sequencer)
    return await _drive(
        scenario,
        sequencer,
        run_dir,
        signals,
        options.watchdog_s,
        resumed=False,
        live=live,
    )


async def resume_async(
    run_dir: Path,
    scenario: Scenario | None = None,
    progress: Callable[[int, int, int | None], None] | None = None,
    watchdog_s: float = watchdog.DEFAULT_SECONDS,
) -> RunResult:
    """Finish a killed run: restore its newest checkpoint, cut the replay log back to what
    that checkpoint covers (a torn last record included), and go on. The end state and the
    log are those of an uninterrupted run."""
    run_dir = run_dir.absolute()
    with interrupts.sigint_receiver() as signals:
        return await _resume(run_dir, scenario, progress, watchdog_s, signals)


async def _resume(
    run_dir: Path,
    scenario: Scenario | None,
    progress: Callable[[int, int, int | None], None] | None,
    watchdog_s: float,
    signals: AsyncIterator[int] | None,
) -> RunResult:
    info = read_run_file(run_dir)
    folder = run_folder.claim(run_dir)
    try:
        return await _resume_claimed(run_dir, info, scenario, progress, watchdog_s, signals)
    finally:
        folder.release()


async def _resume_claimed(
    run_dir: Path,
    info: dict[str, Any],
    scenario: Scenario | None,
    progress: Callable[[int, int, int | None], None] | None,
    watchdog_s: float,
    signals: AsyncIterator[int] | None,
) -> RunResult:
    scenario = load_run_scenario(run_dir, scenario)
    header, sequencer, skipped = _newest_usable_checkpoint(run_dir)
    log_path = run_dir / "replay.jsonl"
    if log_path.stat().st_size < header["log_offset"]:
        raise checkpoint.CheckpointError(
            f"{log_path}: record {header['log_records']}: the log is shorter than the "
            "checkpoint says it was when the checkpoint was written"
        )
    sequencer.log.reopen(log_path, header["log_sha256"])
    sequencer.progress = progress
    sequencer.checkpoint_every = info["checkpoint_every"]
    base_dir = Path(scenario.base_dir)
    for dep, spec in zip(sequencer.deployed, scenario.deployments, strict=True):
        dep.instance.factory = slot_factory(scenario, spec, base_dir)
    return await _drive(
        scenario, sequencer, run_dir, signals, watchdog_s, resumed=True, skipped=skipped
    )


def _probe_checkpoints(sequencer: Sequencer) -> None:
    """Save each deployment once before the run starts: one that cannot be saved is named
    on stderr now (one line each), and the run goes on without checkpoints."""
    for dep in sequencer.deployed:
        why = checkpoint.unsaveable(dep.instance, f"deployment {dep.label!r}")
        if why is not None:
            print(f"meshrt: no checkpoints: {why}; the run goes on without them", file=sys.stderr)
            sequencer.checkpoint_note = sequencer.checkpoint_note or why


def _newest_usable_checkpoint(run_dir: Path) -> tuple[dict[str, Any], Sequencer, tuple[str, ...]]:
    """The newest checkpoint that loads; damaged newer ones are passed over and named.
    With none usable, the newest one's error is the answer."""
    errors: list[str] = []
    for path in checkpoint.all_checkpoints(run_dir)[::-1]:
        try:
            header, sequencer = checkpoint.load(path)
        except checkpoint.CheckpointError as exc:
            errors.append(str(exc))
            continue
        return header, sequencer, tuple(errors)
    if errors:
        raise checkpoint.CheckpointError(errors[0])
    raise checkpoint.CheckpointError(f"{run_dir / checkpoint.FOLDER}: no checkpoint to resume from")


async def _drive(
    scenario: Scenario,
    sequencer: Sequencer,
    run_dir: Path | None,
    signals: AsyncIterator[int] | None,
    watchdog_s: float,
    resumed: bool,
    skipped: tuple[str, ...] = (),
    live: LiveRun | None = None,
) -> RunResult:
    """Run the actors under one nursery until the sequencer is done (or a Ctrl-C stopped
    it between two windows); write the results. ``live``: a paper run's windows (its
    sessions, cancelled when it ends, run in the same nursery)."""
    venues = [lane.actor for lane in sequencer.lanes]
    instances = [dep.instance for dep in sequencer.deployed]
    log = sequencer.log
    if run_dir is not None and sequencer.checkpoint_every and sequencer.checkpoint_note is None:
        digest = read_run_file(run_dir)["scenario_sha256"]  # as the run began, or resumed

        def save(state: Sequencer) -> None:
            log.sync()  # the log first: a checkpoint must never cover unsaved records
            try:
                checkpoint.write(run_dir, state, digest, scenario.seed)
            except checkpoint.CheckpointUnsupported as exc:
                state.checkpoint = None
                state.checkpoint_note = str(exc)
                print(f"meshrt: checkpoints stop at event {state.seq:,}: {exc}", file=sys.stderr)

        sequencer.checkpoint = save
    failed: str | None = None
    before = (sequencer.seq, sum(instance.book_callbacks for instance in instances))
    started = time.perf_counter()
    try:
        with run_collector(), watchdog.guarded(run_dir, log.fileno(), watchdog_s):
            async with _single_errors(), trio.open_nursery() as nursery:
                if sequencer.actors_as_tasks:  # else the sequencer steps them
                    for venue in venues:
                        nursery.start_soon(venue.run)
                    for instance in instances:
                        nursery.start_soon(instance.run)
                watcher = trio.CancelScope()
                if signals is not None:
                    nursery.start_soon(
                        interrupts.watch, signals, sequencer, nursery.cancel_scope, watcher
                    )
                try:
                    if live is None:
                        await sequencer.run(nursery, resumed=resumed)
                    else:
                        await run_live(sequencer, nursery, live.open(nursery))
                        nursery.cancel_scope.cancel()  # the sessions run until cancelled
                except RunFailed as exc:
                    failed = str(exc)
                    nursery.cancel_scope.cancel()
                if sequencer.interrupted:
                    nursery.cancel_scope.cancel()  # the actors wait for a window never sent
                watcher.cancel()
    finally:
        if sequencer.interrupted:  # what an interrupted run logged is on disk before it says so
            log.flush()
            log.sync()
        log.close()
        reports = _reports(instances)
        for instance in instances:
            if instance.slot is not None:
                instance.slot.close()  # native: destroy the instance before its library goes
    wall = time.perf_counter() - started
    summary = build_summary(
        scenario.name, scenario.seed, sequencer, failed, sequencer.interrupted, reports
    )
    metrics = build_metrics(
        sequencer, wall, summary["status"], before if resumed else (0, 0), skipped
    )
    if live is not None:
        metrics["sessions"] = live.statistics()
    if run_dir is not None:
        (run_dir / "summary.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
        (run_dir / "metrics.json").write_bytes(orjson.dumps(metrics, option=orjson.OPT_INDENT_2))
        (run_dir / "mesh.json").write_bytes(
            orjson.dumps(build_mesh(sequencer), option=orjson.OPT_INDENT_2)
        )
    return RunResult(summary, metrics, run_dir)


def _reports(instances: list[AlgoInstance]) -> dict[str, tuple[Any, str | None]]:
    """Each Python algo's ``report()`` (meshrt.Algo.report) as (value, error): a report
    that fails or is not JSON is named, and loses nothing else of the run."""
    reports: dict[str, tuple[Any, str | None]] = {}
    for instance in instances:
        report = getattr(instance.slot, "report", None)  # Python slots only
        if report is None:
            continue
        try:
            reports[instance.label] = (report(), None)
        except Exception as exc:  # noqa: BLE001 - algo code may raise anything
            reports[instance.label] = (None, f"{type(exc).__name__}: {exc}")
    return reports


@contextlib.asynccontextmanager
async def _single_errors() -> AsyncIterator[None]:
    """An actor that fails on bad input (a data file's bad line) fails the run with that
    error itself, not with the exception group Trio wraps it in. Several actors failing
    alike (every venue of a run reads the same damaged log) fail it with one of them,
    the same one every time; errors of different kinds stay a group (a bug hides none)."""
    try:
        yield
    except BaseExceptionGroup as group:
        errors = _leaves(group)
        if all(isinstance(e, Exception) for e in errors) and len({type(e) for e in errors}) == 1:
            raise min(errors, key=str) from None
        raise


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    return [
        leaf
        for e in group.exceptions
        for leaf in (_leaves(e) if isinstance(e, BaseExceptionGroup) else [e])
    ]
