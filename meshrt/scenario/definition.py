"""Scenario files: a Python file that builds one ``Scenario`` value.

A scenario declares venues (name, region, one data source per symbol, latencies,
fees), deployments (label, venue, symbols, algo, risk, params, lifecycle schedule) and
the run (length, seed). ``load_scenario`` runs the file and checks the value, so a
mistake is reported as ``FILE: FIELD: what is wrong`` rather than a traceback.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import attrs

from meshrt.scenario.faults import FAULT_TYPES, Fault, KillFeed, KillInstance, Partition
from meshrt.scenario.latency import Latency, micros
from meshrt.scenario.limits import MailboxConfig, RiskLimits, SandboxLimits
from meshrt.scenario.mesh import Mesh
from meshrt.scenario.restart import RestartPolicy
from meshrt.sdk import Algo
from meshrt.validators import (
    Rule,
    ScenarioValueError,
    as_dict,
    as_tuple,
    finite,
    instance_of,
    int64,
    name_rule,
    non_negative_ns,
    one_of,
    optional,
    params_rule,
    positive_ns,
    require,
    text,
    tuple_of,
)
from meshrt.venues.fees import FeeSchedule
from meshrt.venues.live.capture import CaptureError, Format, sniff
from meshrt.venues.live.playback import snapshots_missing
from meshrt.venues.specs import CaptureSpec, LiveSpec, RecordedSpec, SyntheticSpec

NS_PER_SECOND = 1_000_000_000
LIFECYCLE_ACTIONS = ("start", "stop", "pause", "resume")
# legal lifecycle transitions: action -> states it may be applied in
_LEGAL_FROM = {
    "start": {"stopped"},
    "stop": {"running", "paused"},
    "pause": {"running"},
    "resume": {"paused"},
}
_RESULT = {"start": "running", "stop": "stopped", "pause": "paused", "resume": "running"}


def seconds(value: float) -> int:
    """Scenario time in ns from seconds."""
    require("seconds(value)", finite, value)
    return round(value * NS_PER_SECOND)


class ScenarioError(Exception):
    """A malformed scenario; ``str()`` names the file, the field and the problem."""

    def __init__(self, path: str, field: str, problem: str) -> None:
        self.path, self.field, self.problem = path, field, problem
        where = f"{path}: {field}: " if field else f"{path}: "
        super().__init__(where + problem)


@attrs.frozen(slots=True)
class LifecycleStep:
    at_ns: int = attrs.field(validator=non_negative_ns)
    action: str = attrs.field(validator=one_of(*LIFECYCLE_ACTIONS))


def start(at_ns: int = 0) -> LifecycleStep:
    return LifecycleStep(at_ns, "start")


def stop(at_ns: int) -> LifecycleStep:
    return LifecycleStep(at_ns, "stop")


def pause(at_ns: int) -> LifecycleStep:
    return LifecycleStep(at_ns, "pause")


def resume(at_ns: int) -> LifecycleStep:
    return LifecycleStep(at_ns, "resume")


Source = SyntheticSpec | RecordedSpec | LiveSpec | CaptureSpec
LIVE_SOURCES = (LiveSpec, CaptureSpec)  # a venue fed by Received items (docs/live.md)


def _feed_kind(source: Source) -> type:
    """What feeds a venue: a live session, a capture, or a simulated source."""
    return type(source) if isinstance(source, LIVE_SOURCES) else SyntheticSpec


_LATENCY = instance_of(Latency, "a meshrt Latency (see meshrt.micros/millis)")


@attrs.frozen(slots=True)
class Venue:
    """A venue edge: one data source per symbol (simulated, or all live: LiveSpec for
    paper mode, CaptureSpec for a capture played back), latencies and fees."""

    name: str = attrs.field(validator=name_rule)
    sources: tuple[Source, ...] = attrs.field(
        converter=as_tuple,
        validator=tuple_of(
            instance_of(
                (SyntheticSpec, RecordedSpec, LiveSpec, CaptureSpec),
                "a SyntheticSpec, RecordedSpec, LiveSpec or CaptureSpec",
            ),
            "SyntheticSpec, RecordedSpec, LiveSpec or CaptureSpec values",
        ),
    )
    region: str = attrs.field(default="default", validator=text)
    feed_latency: Latency = attrs.field(default=micros(500), validator=_LATENCY)
    order_latency: Latency = attrs.field(default=micros(500), validator=_LATENCY)
    fees: FeeSchedule = attrs.field(
        factory=FeeSchedule, validator=instance_of(FeeSchedule, "a meshrt FeeSchedule")
    )

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(source.symbol for source in self.sources)


@attrs.frozen(slots=True)
class Deployment:
    """One algo instance at one venue edge, addressed by its label."""

    label: str = attrs.field(validator=name_rule)
    venue: str = attrs.field(validator=text)
    symbols: tuple[str, ...] = attrs.field(
        converter=as_tuple, validator=tuple_of(text, "symbol names")
    )
    algo: type[Algo] | str = attrs.field(
        validator=Rule(
            lambda v: isinstance(v, type) or (isinstance(v, str) and v != ""),
            "an Algo subclass, 'file.py:Class', 'module:Class' or a .wasm/.so path",
        )
    )
    risk: RiskLimits = attrs.field(
        factory=RiskLimits, validator=instance_of(RiskLimits, "a meshrt RiskLimits")
    )
    params: Mapping[str, Any] = attrs.field(factory=dict, converter=as_dict, validator=params_rule)
    schedule: tuple[LifecycleStep, ...] = attrs.field(
        default=(start(0),),
        converter=as_tuple,
        validator=tuple_of(
            instance_of(LifecycleStep, "start(t), stop(t), pause(t) or resume(t)"),
            "lifecycle steps",
        ),
    )
    mailbox: MailboxConfig = attrs.field(
        factory=MailboxConfig,
        validator=instance_of(MailboxConfig, "a meshrt MailboxConfig (meshrt.scenario.limits)"),
    )
    restart: RestartPolicy = attrs.field(
        factory=RestartPolicy,
        validator=instance_of(
            RestartPolicy, "a meshrt RestartPolicy (see meshrt.never/on_failure)"
        ),
    )
    # WASM algos only: fuel per callback, memory cap
    sandbox: SandboxLimits = attrs.field(
        factory=SandboxLimits, validator=instance_of(SandboxLimits, "a meshrt SandboxLimits")
    )


@attrs.frozen(slots=True)
class Scenario:
    """The whole topology and run: what ``meshrt run FILE`` executes."""

    name: str = attrs.field(validator=name_rule)  # it names the run folder runs/NAME-TIME
    venues: tuple[Venue, ...] = attrs.field(
        converter=as_tuple, validator=tuple_of(instance_of(Venue, "a meshrt Venue"), "Venue values")
    )
    deployments: tuple[Deployment, ...] = attrs.field(
        converter=as_tuple,
        validator=tuple_of(instance_of(Deployment, "a meshrt Deployment"), "Deployment values"),
    )
    duration_ns: int | None = attrs.field(default=None, validator=optional(positive_ns))
    seed: int = attrs.field(default=0, validator=int64)
    mesh: Mesh = attrs.field(factory=Mesh, validator=instance_of(Mesh, "a meshrt Mesh"))
    faults: tuple[Fault, ...] = attrs.field(
        default=(),
        converter=as_tuple,
        validator=tuple_of(
            instance_of(FAULT_TYPES, "a meshrt fault (meshrt.scenario.faults)"), "faults"
        ),
    )
    base_dir: str = attrs.field(default=".", validator=text)
    # the file it was loaded from (set by load_scenario)
    source_path: str | None = attrs.field(default=None, validator=optional(text))


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
        raise ScenarioError(
            shown,
            f"line {line}" if line else "",
            f"the file calls sys.exit({exc.code!r}); a scenario file must "
            "define a scenario, not exit",
        ) from None
    except Exception as exc:  # noqa: BLE001 - report any error in user code without a traceback
        line = _line_in(path, exc)
        problem = (
            str(exc) if isinstance(exc, ScenarioValueError) else (f"{type(exc).__name__}: {exc}")
        )
        raise ScenarioError(shown, f"line {line}" if line else "", problem) from None
    found = [value for value in namespace.values() if isinstance(value, Scenario)]
    candidate = namespace.get("scenario", found[0] if len(found) == 1 else None)
    if not isinstance(candidate, Scenario):
        raise ScenarioError(
            shown,
            "scenario",
            "the file must define a variable 'scenario' holding a meshrt Scenario"
            + (f" (found {type(candidate).__name__})" if candidate is not None else ""),
        )
    scenario = attrs.evolve(
        candidate, base_dir=str(path.parent.resolve()), source_path=str(path.resolve())
    )
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
    """Check a scenario value; the first problem raises ScenarioError naming its field.

    First every value's own field rules (meshrt.validators) run again, since a value
    built in code may have bypassed them; then what spans values: unique names, the
    venues, symbols, labels and files that fields refer to, schedules. Whether each algo
    loads is the runtime's check (meshrt/runtime/preflight.py), made before every run.
    """

    def fail(field: str, problem: str) -> NoReturn:
        raise ScenarioError(path, field, problem)

    if not isinstance(scenario, Scenario):
        fail("", f"not a meshrt Scenario: {type(scenario).__name__}")
    _validate_values(scenario, "", fail)
    _validate_references(scenario, fail)


def _validate_values(value: Any, where: str, fail: Any) -> None:
    """Run the attrs validators of ``value`` and of every scenario value inside it."""
    for attribute in attrs.fields(type(value)):
        item = getattr(value, attribute.name)
        field = f"{where}.{attribute.name}" if where else attribute.name
        if attribute.validator is not None:
            try:
                attribute.validator(value, attribute, item)
            except (TypeError, ValueError) as exc:
                fail(field, str(exc))
        if attrs.has(type(item)):
            _validate_values(item, field, fail)
        elif type(item) is tuple:
            for i, member in enumerate(item):
                if attrs.has(type(member)):
                    _validate_values(member, f"{field}[{i}]", fail)


def _capture_unplayable(exchange: str, files: dict[str, Path]) -> str | None:
    """Why a capture (and its REST log) cannot be played back, or None."""
    try:
        capture = sniff(files["path"])
        rest = files.get("rest_log")
        if rest is not None and sniff(rest).format is not Format.CRYPTOFEED_REST:
            return f"rest_log {str(rest)!r} is not a cryptofeed REST log"
    except CaptureError as e:
        return str(e)
    why = snapshots_missing(exchange, capture, () if rest is None else (rest,))
    return None if why is None else f"{why}: give it as rest_log"


def _validate_references(scenario: Scenario, fail: Any) -> None:
    if not scenario.venues:
        fail("venues", "at least one venue is needed")
    venues: dict[str, Venue] = {}
    for i, venue in enumerate(scenario.venues):
        where = f"venues[{i}]"
        if venue.name in venues:
            fail(f"{where}.name", f"duplicate venue name {venue.name!r}")
        venues[venue.name] = venue
        if not venue.sources:
            fail(f"{where}.sources", "at least one data source is needed")
        symbols = set()
        for j, source in enumerate(venue.sources):
            if source.symbol in symbols:
                fail(f"{where}.sources[{j}].symbol", f"duplicate symbol {source.symbol!r}")
            symbols.add(source.symbol)
            if _feed_kind(source) != _feed_kind(venue.sources[0]):
                fail(
                    f"{where}.sources[{j}]",
                    "a venue's sources are all LiveSpec, all CaptureSpec, or all simulated",
                )
            if isinstance(source, (RecordedSpec, CaptureSpec)):
                files = {"path": source.path}
                if isinstance(source, CaptureSpec) and source.rest_log is not None:
                    files["rest_log"] = source.rest_log
                found = {}
                for name, named in files.items():
                    data = Path(named)
                    if not data.is_absolute():
                        data = Path(scenario.base_dir) / data
                    if data.is_file():
                        found[name] = data
                    else:
                        fail(f"{where}.sources[{j}].{name}", f"no such data file {str(data)!r}")
                if isinstance(source, CaptureSpec) and len(found) == len(files):
                    why = _capture_unplayable(source.exchange, found)
                    if why is not None:
                        fail(f"{where}.sources[{j}]", why)
    if not scenario.deployments:
        fail("deployments", "at least one deployment is needed")
    labels: set[str] = set()
    for i, dep in enumerate(scenario.deployments):
        where = f"deployments[{i}]"
        if dep.label in labels:
            fail(f"{where}.label", f"duplicate label {dep.label!r}")
        labels.add(dep.label)
        if dep.venue not in venues:
            fail(f"{where}.venue", f"no venue named {dep.venue!r} (have {sorted(venues)})")
        dep_venue = venues[dep.venue]
        if not dep.symbols:
            fail(f"{where}.symbols", "at least one symbol is needed")
        for j, symbol in enumerate(dep.symbols):
            if symbol not in dep_venue.symbols:
                fail(
                    f"{where}.symbols[{j}]",
                    f"venue {dep_venue.name!r} has no symbol "
                    f"{symbol!r} (has {list(dep_venue.symbols)})",
                )
        _validate_schedule(dep, where, fail)
    for k, fault in enumerate(scenario.faults):
        field = f"faults[{k}]"
        if isinstance(fault, KillInstance) and fault.label not in labels:
            fail(f"{field}.label", f"no deployment labelled {fault.label!r}")
        if isinstance(fault, (KillFeed, Partition)) and fault.venue not in venues:
            fail(f"{field}.venue", f"no venue named {fault.venue!r}")
        for name in ("sender", "receiver"):
            if hasattr(fault, name) and getattr(fault, name) not in labels:
                fail(f"{field}.{name}", f"no deployment labelled {getattr(fault, name)!r}")


def _validate_schedule(dep: Deployment, where: str, fail: Any) -> None:
    state = "stopped"
    last = -1
    for k, step in enumerate(dep.schedule):
        field = f"{where}.schedule[{k}]"
        if step.at_ns < last:
            fail(field, "steps must be in time order")
        if state not in _LEGAL_FROM[step.action]:
            fail(field, f"cannot {step.action} a deployment that is {state}")
        state = _RESULT[step.action]
        last = step.at_ns
