"""One strategy, three loaders: the bundled market maker in Python, WASM and native C gives
the same orders, fills and PnL on the bundled scenario, down to the replay log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
import wasmtime

from meshrt.runtime.run import run
from meshrt.scenario.definition import load_scenario

from c_algos import ROOT, market_maker
from helpers import thinned

TRADING = (
    "order_created",
    "intent",
    "intent_rejected",
    "fill",
    "accepted",
    "replaced",
    "cancelled",
    "rejected",
)


def run_with(algo: Any, out: Path) -> tuple[dict[str, Any], list[Any]]:
    scenario = thinned(load_scenario(ROOT / "scenarios" / "market_maker.py"), 4)
    if algo is not None:
        scenario = attrs.evolve(
            scenario, deployments=[attrs.evolve(scenario.deployments[0], algo=str(algo))]
        )
    result = run(scenario, out)
    assert result.ok
    records = [orjson.loads(line) for line in (out / "replay.jsonl").read_bytes().splitlines()]
    return result.summary, records[1:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, Any], list[Any]]]:
    artifacts = market_maker()
    out = tmp_path_factory.mktemp("parity")
    return {
        "python": run_with(None, out / "python"),
        "wasm": run_with(artifacts["wasm"], out / "wasm"),
        "native": run_with(artifacts["native"], out / "native"),
    }


def test_the_market_maker_trades_the_same_in_all_three_loaders(runs: Any) -> None:
    python, _ = runs["python"]
    deployment = python["deployments"][0]
    assert deployment["orders"] > 500 and deployment["fills"] > 500  # a real workout
    for loader in ("wasm", "native"):
        summary, _ = runs[loader]
        assert summary["deployments"] == python["deployments"], loader
        assert summary["events"] == python["events"]


def test_orders_and_fills_in_the_replay_log_are_identical(runs: Any) -> None:
    _, python = runs["python"]
    trading = [r for r in python if r[6] in TRADING]
    assert {r[6] for r in trading} >= {"order_created", "intent", "fill"}
    for loader in ("wasm", "native"):
        _, records = runs[loader]
        assert [r for r in records if r[6] in TRADING] == trading, loader
        assert records == python, loader  # and every other record too


def test_the_wasm_hot_path_bypasses_wasmtime_py(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("wasmtime-py's slow path was used")

    monkeypatch.setattr(wasmtime.Func, "__call__", forbidden)
    monkeypatch.setattr(wasmtime.Memory, "write", forbidden)
    monkeypatch.setattr(wasmtime.Memory, "read", forbidden)
    scenario = load_scenario(ROOT / "scenarios" / "market_maker.py")
    source = attrs.evolve(scenario.venues[0].sources[0], updates=5_000)
    scenario = attrs.evolve(
        scenario,
        venues=[attrs.evolve(scenario.venues[0], sources=[source])],
        deployments=[attrs.evolve(scenario.deployments[0], algo=str(market_maker()["wasm"]))],
    )
    result = run(scenario)
    assert result.summary["deployments"][0]["crashed"] is None
    assert result.summary["deployments"][0]["orders"] > 0
