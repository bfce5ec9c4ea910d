"""Scenario files: a Python file that builds one ``Scenario`` value.

A scenario declares venues (name, region, one data source per symbol, latencies,
fees), deployments (label, venue, symbols, algo, risk, params, lifecycle schedule) and
the run (length, seed). ``load_scenario`` runs the file and checks the value, so a
mistake is reported as ``FILE: FIELD: what is wrong`` rather than a traceback.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from meshrt.actors.mailbox import MailboxConfig
from meshrt.faults import FAULT_TYPES, Fault, KillFeed, KillInstance, Partition
from meshrt.latency import Latency, micros
from meshrt.mesh import Mesh
from meshrt.loaders import AlgoLoadError, SandboxLimits, check_algo
from meshrt.risk import RiskLimits
from meshrt.sdk import Algo
from meshrt.supervision import RestartPolicy
from meshrt.venues.matching import FeeSchedule
from meshrt.venues.sources import RecordedSpec, SyntheticSpec

NS_PER_SECOND = 1_000_000_000
LIFECYCLE_ACTIONS = ("start", "stop", "pause", "resume")
# legal lifecycle transitions: action -> states it may be applied in
_LEGAL_FROM = {"start": {"stopped"}, "stop": {"running", "paused"}, "pause": {"running"},
               "resume": {"paused"}}
_RESULT = {"start": "running", "stop": "stopped", "pause": "paused", "resume": "running"}


def seconds(value: float) -> int:
    """Scenario time in ns from seconds."""
    return round(value * NS_PER_SECOND)


class ScenarioError(Exception):
    """A malformed scenario; ``str()`` names the file, the field and the problem."""

    def __init__(self, path: str, field: str, problem: str) -> None:
        self.path, self.field, self.problem = path, field, problem
        where = f"{path}: {field}: " if field else f"{path}: "
        super().__init__(where + problem)


@attrs.frozen(slots=True)
class LifecycleStep:
    at_ns: int
    action: str


def start(at_ns: int = 0) -> LifecycleStep:
    return LifecycleStep(at_ns, "start")


def stop(at_ns: int) -> LifecycleStep:
    return LifecycleStep(at_ns, "stop")


def pause(at_ns: int) -> LifecycleStep:
    return LifecycleStep(at_ns, "pause")


def resume(at_ns: int) -> LifecycleStep:
    return LifecycleStep(at_ns, "resume")


Source = SyntheticSpec | RecordedSpec


@attrs.frozen(slots=True)
class Venue:
    """A simulated venue edge: one data source per symbol, latencies and fees."""

    name: str
    sources: tuple[Source, ...] = attrs.field(converter=tuple)
    region: str = "default"
    feed_latency: Latency = micros(500)
    order_latency: Latency = micros(500)
    fees: FeeSchedule = FeeSchedule()

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(source.symbol for source in self.sources)


@attrs.frozen(slots=True)
class Deployment:
    """One algo instance at one venue edge, addressed by its label."""

    label: str
    venue: str
    symbols: tuple[str, ...] = attrs.field(converter=tuple)
    algo: type[Algo] | str
    risk: RiskLimits = RiskLimits()
    params: Mapping[str, Any] = attrs.field(factory=dict, converter=dict)
    schedule: tuple[LifecycleStep, ...] = attrs.field(default=(start(0),), converter=tuple)
    mailbox: MailboxConfig = MailboxConfig()
    restart: RestartPolicy = RestartPolicy()
    sandbox: SandboxLimits = SandboxLimits()  # WASM algos only: fuel per callback, memory cap


@attrs.frozen(slots=True)
class Scenario:
    """The whole topology and run: what ``meshrt run FILE`` executes."""

    name: str
    venues: tuple[Venue, ...] = attrs.field(converter=tuple)
    deployments: tuple[Deployment, ...] = attrs.field(converter=tuple)
    duration_ns: int | None = None
    seed: int = 0
    mesh: Mesh = Mesh()
    faults: tuple[Fault, ...] = attrs.field(default=(), converter=tuple)
    base_dir: str = "."
    source_path: str | None = None  # the file it was loaded from (set by load_scenario)


def load_scenario(path: str | Path) -> Scenario:
    """Run a scenario file and return its checked ``Scenario``; ScenarioError otherwise."""
    path = Path(path)
    shown = str(path)
    if not path.is_file():
        raise ScenarioError(shown, "", "no such scenario file")
    try:
        namespace = _exec_scenario(path)
    except SyntaxError as exc:
        raise ScenarioError(shown, f"line {exc.lineno}", f"syntax error: {exc.msg}") from None
    except SystemExit as exc:  # a stray sys.exit() is a mistake in the file, not an exit
        line = _line_in(path, exc)
        raise ScenarioError(shown, f"line {line}" if line else "",
                            f"the file calls sys.exit({exc.code!r}); a scenario file must "
                            "define a scenario, not exit") from None
    except Exception as exc:  # noqa: BLE001 - report any error in user code without a traceback
        line = _line_in(path, exc)
        raise ScenarioError(shown, f"line {line}" if line else "",
                            f"{type(exc).__name__}: {exc}") from None
    found = [value for value in namespace.values() if isinstance(value, Scenario)]
    candidate = namespace.get("scenario", found[0] if len(found) == 1 else None)
    if not isinstance(candidate, Scenario):
        raise ScenarioError(
            shown, "scenario",
            "the file must define a variable 'scenario' holding a meshrt Scenario"
            + (f" (found {type(candidate).__name__})" if candidate is not None else ""),
        )
    scenario = attrs.evolve(candidate, base_dir=str(path.parent.resolve()),
                            source_path=str(path.resolve()))
    validate(scenario, shown)
    return scenario


def _exec_scenario(path: Path) -> dict[str, Any]:
    """Run the file as a module with a name derived from its path, kept in sys.modules,
    so algo classes it defines can be found again (a checkpoint refers to them by name)."""
    resolved = path.resolve()
    name = "meshrt_scenario_" + hashlib.sha1(str(resolved).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, resolved)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return vars(module)


def _line_in(path: Path, exc: BaseException) -> int | None:
    resolved = str(path.resolve())
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if str(Path(frame.filename).resolve()) == resolved:
            line = frame.lineno
    return line


def validate(scenario: Scenario, path: str = "<scenario>") -> None:
    """Check a scenario value; the first problem raises ScenarioError naming its field."""

    def fail(field: str, problem: str) -> None:
        raise ScenarioError(path, field, problem)

    if not isinstance(scenario.name, str) or not scenario.name:
        fail("name", "must be a non-empty string")
    _validate_name(scenario.name, fail)
    if not isinstance(scenario.seed, int):
        fail("seed", f"must be an integer, got {scenario.seed!r}")
    if scenario.duration_ns is not None and (
        not isinstance(scenario.duration_ns, int) or scenario.duration_ns <= 0
    ):
        fail("duration_ns", f"must be a positive integer of ns, got {scenario.duration_ns!r}")
    if not scenario.venues:
        fail("venues", "at least one venue is needed")
    venues: dict[str, Venue] = {}
    for i, venue in enumerate(scenario.venues):
        where = f"venues[{i}]"
        if not isinstance(venue, Venue):
            fail(where, f"must be a meshrt Venue, got {type(venue).__name__}")
        if not isinstance(venue.name, str) or not venue.name:
            fail(f"{where}.name", "must be a non-empty string")
        if venue.name in venues:
            fail(f"{where}.name", f"duplicate venue name {venue.name!r}")
        venues[venue.name] = venue
        if not venue.sources:
            fail(f"{where}.sources", "at least one data source is needed")
        symbols = set()
        for j, source in enumerate(venue.sources):
            if not isinstance(source, (SyntheticSpec, RecordedSpec)):
                fail(f"{where}.sources[{j}]",
                     f"must be a SyntheticSpec or RecordedSpec, got {type(source).__name__}")
            if source.symbol in symbols:
                fail(f"{where}.sources[{j}].symbol", f"duplicate symbol {source.symbol!r}")
            symbols.add(source.symbol)
            if isinstance(source, RecordedSpec):
                data = Path(source.path)
                if not data.is_absolute():
                    data = Path(scenario.base_dir) / data
                if not data.is_file():
                    fail(f"{where}.sources[{j}].path", f"no such data file {str(data)!r}")
        for name in ("feed_latency", "order_latency"):
            if not isinstance(getattr(venue, name), Latency):
                fail(f"{where}.{name}", "must be a meshrt Latency (see meshrt.micros/millis)")
        if not isinstance(venue.fees, FeeSchedule):
            fail(f"{where}.fees", "must be a meshrt FeeSchedule")
    if not scenario.deployments:
        fail("deployments", "at least one deployment is needed")
    labels: set[str] = set()
    for i, dep in enumerate(scenario.deployments):
        where = f"deployments[{i}]"
        if not isinstance(dep, Deployment):
            fail(where, f"must be a meshrt Deployment, got {type(dep).__name__}")
        if not isinstance(dep.label, str) or not dep.label:
            fail(f"{where}.label", "must be a non-empty string")
        if dep.label in labels:
            fail(f"{where}.label", f"duplicate label {dep.label!r}")
        labels.add(dep.label)
        venue = venues.get(dep.venue)
        if venue is None:
            fail(f"{where}.venue", f"no venue named {dep.venue!r} (have {sorted(venues)})")
            continue
        if not dep.symbols:
            fail(f"{where}.symbols", "at least one symbol is needed")
        for j, symbol in enumerate(dep.symbols):
            if symbol not in venue.symbols:
                fail(f"{where}.symbols[{j}]",
                     f"venue {venue.name!r} has no symbol {symbol!r} (has {list(venue.symbols)})")
        if not isinstance(dep.sandbox, SandboxLimits):
            fail(f"{where}.sandbox", "must be a meshrt SandboxLimits")
        if isinstance(dep.algo, (type, str)):
            try:
                check_algo(dep.algo, Path(scenario.base_dir), dep.sandbox)
            except AlgoLoadError as exc:
                fail(f"{where}.algo", str(exc))
        else:
            fail(f"{where}.algo", f"must be an Algo subclass or a reference, got {dep.algo!r}")
        if not isinstance(dep.risk, RiskLimits):
            fail(f"{where}.risk", "must be a meshrt RiskLimits")
        if not isinstance(dep.restart, RestartPolicy):
            fail(f"{where}.restart", "must be a meshrt RestartPolicy (see meshrt.on_failure)")
        _validate_schedule(dep, where, fail)
    if not isinstance(scenario.mesh, Mesh):
        fail("mesh", "must be a meshrt Mesh")
    for j, link in enumerate(scenario.mesh.links):
        if link.latency.base_ns <= 0:
            fail(f"mesh.links[{j}].latency", "a mesh link needs a positive base latency")
    for name in ("same_region", "cross_region"):
        if getattr(scenario.mesh, name).base_ns <= 0:
            fail(f"mesh.{name}", "a mesh link needs a positive base latency")
    for k, fault in enumerate(scenario.faults):
        field = f"faults[{k}]"
        if not isinstance(fault, FAULT_TYPES):
            fail(field, f"must be a meshrt fault (meshrt.faults), got {fault!r}")
        if isinstance(fault, KillInstance) and fault.label not in labels:
            fail(f"{field}.label", f"no deployment labelled {fault.label!r}")
        if isinstance(fault, (KillFeed, Partition)) and fault.venue not in venues:
            fail(f"{field}.venue", f"no venue named {fault.venue!r}")
        for name in ("sender", "receiver"):
            if hasattr(fault, name) and getattr(fault, name) not in labels:
                fail(f"{field}.{name}", f"no deployment labelled {getattr(fault, name)!r}")


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _validate_name(name: str, fail: Any) -> None:
    """The name is the default run folder's name (runs/NAME-TIME): one plain path part,
    so it can neither leave runs/ ("../x", "/abs") nor nest folders ("BTC/USD")."""
    if not _NAME.fullmatch(name):
        fail("name", f"must be letters, digits, '.', '_' or '-', starting with a letter or "
                     f"digit (it names the run folder), got {name!r}")


def _validate_schedule(dep: Deployment, where: str, fail: Any) -> None:
    state = "stopped"
    last = -1
    for k, step in enumerate(dep.schedule):
        field = f"{where}.schedule[{k}]"
        if not isinstance(step, LifecycleStep) or step.action not in LIFECYCLE_ACTIONS:
            fail(field, f"must be start(t), stop(t), pause(t) or resume(t), got {step!r}")
        if not isinstance(step.at_ns, int) or step.at_ns < 0:
            fail(field, f"time must be a non-negative integer of ns, got {step.at_ns!r}")
        if step.at_ns < last:
            fail(field, "steps must be in time order")
        if state not in _LEGAL_FROM[step.action]:
            fail(field, f"cannot {step.action} a deployment that is {state}")
        state = _RESULT[step.action]
        last = step.at_ns
