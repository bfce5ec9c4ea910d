"""Every field of every scenario value class refuses a wrong type, an out-of-range
value, NaN and infinity with the one-line scenario error, whether the value is built in
a scenario file (load_scenario) or forced past its constructor in code (validate).

The cases are generated from ``attrs.fields`` of each class reachable from ``Scenario``;
a class or field without a valid example below fails the test, so a new field cannot
go unchecked.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import attrs
import pytest

import meshrt
from meshrt.scenario.definition import (
    LifecycleStep,
    Scenario,
    ScenarioError,
    load_scenario,
    validate,
)
from meshrt.scenario.limits import MailboxConfig, Overflow

from helpers import Quiet, deployment, scenario as helper_scenario

HEADER = """\
from meshrt import *
from meshrt.scenario.limits import MailboxConfig, Overflow
from meshrt.scenario.definition import LifecycleStep
"""

# one valid value per field, as scenario-file source; nested values refer to each other
VALID: dict[str, dict[str, str]] = {
    "Latency": {"base_ns": "1000", "jitter_ns": "10"},
    "FeeSchedule": {"maker_ppm": "-50", "taker_ppm": "300"},
    "SyntheticSpec": {
        "symbol": "'XYZ'",
        "seed": "1",
        "start_price": "100 * 10**9",
        "tick": "10**7",
        "levels": "20",
        "level_size": "(10**7, 10**8)",
        "interval_ns": "10_000",
        "updates": "100",
        "trade_every": "10",
        "move_probability": "0.1",
    },
    "RecordedSpec": {
        "symbol": "'ABC'",
        "path": "'data.jsonl'",
        "time_offset_ns": "-5",
        "start_at_zero": "True",
    },
    "LiveSpec": {
        "symbol": "'BTC-USD'",
        "exchange": "'kraken'",
        "exchange_symbol": "'BTC/USD'",
        "url": "'ws://127.0.0.1:9'",
        "rest_url": "'http://127.0.0.1:9'",
        "depth": "10",
        "stale_after_ns": "10**9",
        "reconnect_min_ns": "10**8",
        "reconnect_max_ns": "10**9",
        "crossed_grace_ns": "0",
    },
    "CaptureSpec": {
        "symbol": "'BTC-USDT'",
        "exchange": "'binance'",
        "path": "'capture.log.gz'",
        "exchange_symbol": "'BTCUSDT'",
        "depth": "25",
        "time_offset_ns": "-5",
        "rest_log": "'rest.log.gz'",
    },
    "Venue": {
        "name": "'v1'",
        "sources": "[SyntheticSpec_, RecordedSpec_]",
        "region": "'eu'",
        "feed_latency": "Latency_",
        "order_latency": "Latency_",
        "fees": "FeeSchedule_",
    },
    "RiskLimits": {
        "max_order_size": "10",
        "max_position": "10",
        "max_notional": "10",
        "max_open_orders": "10",
        "max_orders_per_second": "10",
    },
    "LifecycleStep": {"at_ns": "0", "action": "'start'"},
    "MailboxConfig": {"capacity": "100", "overflow": "Overflow.CONFLATE"},
    "RestartPolicy": {
        "mode": "'on_failure'",
        "max_restarts": "2",
        "period_ns": "10**9",
        "delay_ns": "0",
        "on_crash_orders": "'leave'",
    },
    "SandboxLimits": {"fuel_per_callback": "1000", "memory_bytes": "2**20"},
    "Deployment": {
        "label": "'mm'",
        "venue": "'v1'",
        "symbols": "['XYZ']",
        "algo": "'algo.py:A'",
        "risk": "RiskLimits_",
        "params": "{'k': [1, 'a']}",
        "schedule": "[LifecycleStep_]",
        "mailbox": "MailboxConfig_",
        "restart": "RestartPolicy_",
        "sandbox": "SandboxLimits_",
    },
    "Link": {"a": "'eu'", "b": "'us'", "latency": "Latency_", "loss": "0.5"},
    "Mesh": {
        "coordinator_region": "'eu'",
        "same_region": "Latency_",
        "cross_region": "Latency_",
        "loss": "0",
        "links": "[Link_]",
    },
    "KillInstance": {"label": "'mm'", "at_ns": "1"},
    "KillFeed": {"venue": "'v1'", "at_ns": "1", "duration_ns": "5"},
    "KillCoordinator": {"at_ns": "1"},
    "RestartCoordinator": {"at_ns": "2"},
    "Partition": {"venue": "'v1'", "at_ns": "1", "duration_ns": "5"},
    "DropRate": {
        "sender": "'mm'",
        "receiver": "'mm'",
        "rate": "1",
        "at_ns": "1",
        "duration_ns": "5",
        "both_ways": "False",
    },
    "LatencySpike": {
        "sender": "'mm'",
        "receiver": "'mm'",
        "extra_ns": "5",
        "at_ns": "1",
        "duration_ns": "5",
        "both_ways": "True",
    },
    "Scenario": {
        "name": "'x'",
        "venues": "[Venue_, Venue(name='live', sources=[LiveSpec_]), "
        "Venue(name='capture', sources=[CaptureSpec_])]",
        "deployments": "[Deployment_]",
        "duration_ns": "10**9",
        "seed": "-3",
        "mesh": "Mesh_",
        "faults": "[KillInstance_, KillFeed_, KillCoordinator_, RestartCoordinator_, "
        "Partition_, DropRate_, LatencySpike_]",
        "base_dir": "'.'",
        "source_path": "None",
    },
}

ALWAYS_BAD = ("float('nan')", "float('inf')", "float('-inf')", "object()")
BAD_INT = ("'5'", "True", "1.5", "2**64", "-(2**64)")
BAD_BY_KIND: dict[str, tuple[str, ...]] = {
    "int": BAD_INT,
    "float": ("'0.5'", "True", "1.5", "-0.5", "None"),
    "str": ("5", "''", "b'x'"),
    "bool": ("1", "'yes'", "None"),
    "tuple": ("5", "'ab'", "[5]", "{'x'}"),
    "value": ("5", "'x'", "None"),
    "params": (
        "5",
        "[1]",
        "{1: 2}",
        "{'k': object()}",
        "{'k': 2**64}",
        "{'k': float('nan')}",
        "{'k': (1, {2: 3})}",
    ),
    "algo": ("5", "''"),
    "name": ("5", "''", "'cc'", "'venue:v1'", "'a/b'", "'.x'", "'x' * 65"),
}


def _kind(cls: type, field: attrs.Attribute[Any]) -> str:
    if (field.name in ("label",) and cls.__name__ == "Deployment") or (
        field.name == "name" and cls.__name__ == "Venue"
    ):
        return "name"
    if field.name == "params":
        return "params"
    if field.name == "algo":
        return "algo"
    args = [a for a in typing.get_args(field.type) if a is not type(None)] or [field.type]
    tp = args[0]
    origin = typing.get_origin(tp)
    if origin is tuple:
        return "tuple"
    if tp in (int, float, str, bool):
        return tp.__name__
    return "value"


def reachable() -> list[type]:
    """Every attrs class reachable from Scenario's field types."""
    seen: list[type] = []

    def visit(tp: Any) -> None:
        for arg in typing.get_args(tp):
            visit(arg)
        if isinstance(tp, type) and attrs.has(tp) and tp not in seen:
            seen.append(tp)
            attrs.resolve_types(tp, globalns=vars(__import__(tp.__module__, fromlist=["_"])))
            for field in attrs.fields(tp):
                visit(field.type)

    visit(Scenario)
    return seen


CLASSES = reachable()


def _call(name: str, kwargs: dict[str, str]) -> str:
    return f"{name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"


def _namespace() -> dict[str, Any]:
    """Every VALID example built, as ``NAME_`` (VALID is in dependency order)."""
    ns: dict[str, Any] = {
        "Overflow": Overflow,
        "MailboxConfig": MailboxConfig,
        "LifecycleStep": LifecycleStep,
        **vars(meshrt),
    }
    for name, kwargs in VALID.items():
        ns[name + "_"] = eval(_call(name, kwargs), ns)  # noqa: S307 - the test's own text
    return ns


def _cases(cls: type) -> list[tuple[str, str]]:
    """(field, bad value source) for every field of ``cls``."""
    return [
        (field.name, bad)
        for field in attrs.fields(cls)
        for bad in BAD_BY_KIND[_kind(cls, field)] + ALWAYS_BAD
    ]


def test_every_reachable_class_and_field_has_a_valid_example() -> None:
    assert {cls.__name__ for cls in CLASSES} == set(VALID)
    assert len(CLASSES) == len(VALID) == 23
    for cls in CLASSES:
        assert [f.name for f in attrs.fields(cls)] == list(VALID[cls.__name__]), cls
    _namespace()  # every example is valid


def _one_line_naming(message: str, cls: type, field: str) -> bool:
    return (
        "\n" not in message
        and f"{cls.__name__}.{field}" in message
        and ("Attribute(" not in message and " at 0x" not in message)
    )


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_bad_field_in_a_scenario_file_is_one_line_naming_class_and_field(
    tmp_path: Path, cls: type
) -> None:
    wrong = []
    path = tmp_path / "bad.py"
    for field, bad in _cases(cls):
        before = list(VALID)[: list(VALID).index(cls.__name__)]  # what the value is built of
        lines = [HEADER] + [f"{name}_ = {_call(name, VALID[name])}" for name in before]
        lines.append(f"value = {_call(cls.__name__, dict(VALID[cls.__name__], **{field: bad}))}")
        path.write_text("\n".join(lines) + "\n")
        try:
            load_scenario(path)
        except ScenarioError as exc:
            message = str(exc)
            if message.startswith(f"{path}: line ") and _one_line_naming(message, cls, field):
                continue
            wrong.append(f"{field}={bad}: {message}")
        else:
            wrong.append(f"{field}={bad}: accepted")
    assert not wrong, "\n".join(wrong)


def _find(value: Any, cls: type) -> Any:
    """The first instance of ``cls`` inside ``value`` (depth first)."""
    if type(value) is cls:
        return value
    items = (
        (getattr(value, f.name) for f in attrs.fields(type(value)))
        if attrs.has(type(value))
        else value
        if type(value) is tuple
        else ()
    )
    for item in items:
        found = _find(item, cls)
        if found is not None:
            return found
    return None


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_bad_field_forced_past_the_constructor_is_caught_by_validate(cls: type) -> None:
    ns = _namespace()
    scenario = ns["Scenario_"]
    target = _find(scenario, cls)
    assert target is not None
    wrong = []
    for field, bad in _cases(cls):
        before = getattr(target, field)
        object.__setattr__(target, field, eval(bad, ns))  # noqa: S307 - the test's own text
        try:
            validate(scenario)
        except ScenarioError as exc:
            if not _one_line_naming(str(exc), cls, field):
                wrong.append(f"{field}={bad}: {exc}")
        else:
            wrong.append(f"{field}={bad}: accepted")
        finally:
            object.__setattr__(target, field, before)
    assert not wrong, "\n".join(wrong)


def test_the_issue_examples_read_well(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    for body, expected in [
        (
            "FeeSchedule(maker_ppm='x')",
            (
                "line 2: FeeSchedule.maker_ppm must be an integer ppm of notional in "
                "[-1000000, 1000000], got 'x'"
            ),
        ),
        (
            "RiskLimits(max_position=1.5)",
            (
                "line 2: RiskLimits.max_position must be None or an integer >= 0 (within 64 bits), "
                "got 1.5"
            ),
        ),
        (
            "Deployment(label='mm', venue='v', symbols=['X'], algo='a.py:A', mailbox=5)",
            (
                "line 2: Deployment.mailbox must be a meshrt MailboxConfig "
                "(meshrt.scenario.limits), got 5"
            ),
        ),
        (
            "Deployment(label='mm', venue='v', symbols='BTC-USD', algo='a.py:A')",
            (
                "line 2: Deployment.symbols must be a list or tuple of symbol names, got the "
                "string 'BTC-USD'"
            ),
        ),
        (
            "Deployment(label='cc', venue='v', symbols=['X'], algo='a.py:A')",
            "line 2: Deployment.label 'cc' is reserved for the runtime (reserved: cc)",
        ),
    ]:
        path.write_text(f"from meshrt import *\nx = {body}\n")
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        assert str(info.value) == f"{path}: {expected}"


@pytest.mark.e2e
def test_a_bad_value_passed_to_run_leaves_no_run_folder(tmp_path: Path) -> None:
    from meshrt.runtime.run import run

    ns = _namespace()
    scenario = attrs.evolve(ns["Scenario_"], faults=[])
    dep = scenario.deployments[0]
    object.__setattr__(dep, "mailbox", 5)
    with pytest.raises(ScenarioError, match=r"deployments\[0\]\.mailbox: Deployment\.mailbox"):
        run(scenario, tmp_path / "out")
    assert not (tmp_path / "out").exists()


class _Setter(Quiet):
    """Sets the parameter ``value`` (a source text evaluated once) on its first book."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        if not self.params.get("done"):
            self.host.set_param("done", True)
            self.host.set_param("x", eval(self.params["value"]))  # noqa: S307 - test input


@pytest.mark.e2e
@pytest.mark.parametrize(
    "value", ["object()", "float('nan')", "2**64", "{1: 2}", "[b'x']", "{'a': [set()]}"]
)
def test_set_param_refuses_a_value_that_is_not_json_and_logs_no_repr(
    tmp_path: Path, value: str
) -> None:
    from meshrt.runtime.run import run

    logs = []
    for n in range(2):
        result = run(
            helper_scenario(deployment(_Setter, params={"value": value}), updates=200),
            tmp_path / str(n),
        )
        dep = result.summary["deployments"][0]
        assert dep["crashed"].startswith("ParamRefused: set_param('x') value"), dep["crashed"]
        assert "\n" not in dep["crashed"] and " at 0x" not in dep["crashed"]
        logs.append((tmp_path / str(n) / "replay.jsonl").read_bytes())
    assert logs[0] == logs[1] and b" at 0x" not in logs[0]


@pytest.mark.e2e
def test_set_param_with_a_json_value_is_logged_as_json(tmp_path: Path) -> None:
    from meshrt.runtime.run import run

    value = "{'a': [1, -2.5, None, True, 'z'], 'b': {}}"
    result = run(
        helper_scenario(deployment(_Setter, params={"value": value}), updates=200), tmp_path
    )
    assert result.summary["deployments"][0]["crashed"] is None
    assert (
        b'"set_param",["x",{"a":[1,-2.5,null,true,"z"],"b":{}}]'
        in (tmp_path / "replay.jsonl").read_bytes()
    )
