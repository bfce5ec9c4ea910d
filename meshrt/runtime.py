"""Assemble a scenario's actors, run them under one nursery, and report.

The sequencer is awaited in the nursery's own task; venues and instances run as
children. When the sequencer ends (the run is over, or it failed closed) every other
actor is stopped or cancelled with it: nothing outlives the run.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
import orjson
import trio

from meshrt.actors.instance import AlgoInstance
from meshrt.actors.sequencer import RunFailed, Sequencer, sequencer_mailbox
from meshrt.actors.venue import VenueActor
from meshrt.loaders import algo_kind, load_slot, slot_context
from meshrt.loaders.python import PythonSlot, resolve_algo_class
from meshrt.replaylog import ReplayLog
from meshrt.scenario import Scenario, validate
from meshrt.summary import build_mesh, build_metrics, build_summary
from meshrt.venues.matching import MatchingEngine
from meshrt.venues.sources import RecordedSpec, open_source


@attrs.frozen(slots=True)
class RunResult:
    summary: dict[str, Any]
    metrics: dict[str, Any]
    run_dir: Path | None

    @property
    def ok(self) -> bool:
        return self.summary["status"] == "ok"


def run(scenario: Scenario, run_dir: Path | None = None,
        progress: Callable[[int, int, int | None], None] | None = None) -> RunResult:
    """Run a scenario to completion in virtual time (no wall-clock sleeping)."""
    return trio.run(run_async, scenario, run_dir, progress)


async def run_async(scenario: Scenario, run_dir: Path | None = None,
                    progress: Callable[[int, int, int | None], None] | None = None) -> RunResult:
    validate(scenario)
    base_dir = Path(scenario.base_dir)
    mailbox = sequencer_mailbox()
    venues = [
        VenueActor(
            i, venue.name, venue.symbols,
            [open_source(_resolved(source, base_dir)) for source in venue.sources],
            [MatchingEngine(venue.fees) for _ in venue.sources],
            mailbox,
        )
        for i, venue in enumerate(scenario.venues)
    ]
    if run_dir is not None:  # only once the data opened: bad input leaves no empty folder
        run_dir.mkdir(parents=True, exist_ok=True)
    instances = []
    crashed_at_load: dict[int, str] = {}
    for i, dep in enumerate(scenario.deployments):
        instance = AlgoInstance(i, dep.label, list(dep.symbols), dict(dep.params), mailbox,
                                dep.mailbox)
        instance.factory = _slot_factory(scenario, dep, base_dir)
        try:
            instance.attach(instance.factory(instance))
        except Exception as exc:  # noqa: BLE001 - an algo's constructor may raise anything
            crashed_at_load[i] = f"{type(exc).__name__}: {exc}"
            instance.crashed = crashed_at_load[i]
        instances.append(instance)
    log = ReplayLog(run_dir / "replay.jsonl" if run_dir is not None else None)
    log.header({
        "scenario": scenario.name,
        "seed": scenario.seed,
        "venues": [{"name": v.name, "region": v.region, "symbols": list(v.symbols)}
                   for v in scenario.venues],
        "deployments": [{"label": d.label, "venue": d.venue, "symbols": list(d.symbols)}
                        for d in scenario.deployments],
    })
    sequencer = Sequencer(scenario, venues, instances, log, mailbox, progress)
    for index, error in crashed_at_load.items():
        sequencer.fail_at_load(index, error)
    failed: str | None = None
    started = time.perf_counter()
    try:
        async with _single_errors(), trio.open_nursery() as nursery:
            for actor in (*venues, *instances):
                nursery.start_soon(actor.run)
            try:
                await sequencer.run(nursery)
            except RunFailed as exc:
                failed = str(exc)
                nursery.cancel_scope.cancel()
    finally:
        log.close()
        for instance in instances:
            if instance.slot is not None:
                instance.slot.close()  # native: destroy the instance before its library goes
    wall = time.perf_counter() - started
    summary = build_summary(scenario.name, scenario.seed, sequencer, failed)
    metrics = build_metrics(sequencer, wall)
    if run_dir is not None:
        (run_dir / "summary.json").write_bytes(
            orjson.dumps(summary, option=orjson.OPT_INDENT_2))
        (run_dir / "metrics.json").write_bytes(
            orjson.dumps(metrics, option=orjson.OPT_INDENT_2))
        (run_dir / "mesh.json").write_bytes(
            orjson.dumps(build_mesh(sequencer), option=orjson.OPT_INDENT_2))
    return RunResult(summary, metrics, run_dir)


def _slot_factory(scenario: Scenario, dep: Any, base_dir: Path) -> Callable[[AlgoInstance], Any]:
    """How an instance makes (and, when supervised, re-makes) its algo slot.

    A bad Python reference is bad input for the whole run; a WASM or native artifact that
    fails to load (load_scenario has already checked it) crashes only its own instance.
    """
    if algo_kind(dep.algo) == "python":
        cls = resolve_algo_class(dep.algo, base_dir)

        def make(instance: AlgoInstance) -> Any:
            return PythonSlot(cls, instance.host, instance.params)

        return make
    context = slot_context(scenario, dep)

    def load(instance: AlgoInstance) -> Any:
        return load_slot(dep, base_dir, instance.host, instance.params, context)

    return load


@contextlib.asynccontextmanager
async def _single_errors() -> AsyncIterator[None]:
    """An actor that fails on bad input (a data file's bad line) fails the run with that
    error itself, not with the exception group Trio wraps it in."""
    try:
        yield
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1 and isinstance(group.exceptions[0], Exception):
            raise group.exceptions[0] from None
        raise


def _resolved(spec: Any, base_dir: Path) -> Any:
    if isinstance(spec, RecordedSpec) and not Path(spec.path).is_absolute():
        return attrs.evolve(spec, path=str(base_dir / spec.path))
    return spec
