"""The pytest plugin for algo authors (meshrt.testing): it loads lazily, its harness drives
Python, WASM and native algos alike, its fixture runs a scenario, its assertions catch
what they claim to."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from meshrt import RejectReason, Side, TimeInForce, price_to_int, size_to_int
from meshrt.testing import (
    AlgoHarness,
    CancelAll,
    Limit,
    Replace,
    assert_deterministic_replay,
    assert_no_invariant_violation,
    assert_positions_within,
)

from c_algos import ROOT, c_algo, market_maker

SIZE = size_to_int("1")
TICK = price_to_int("0.01")
PARAMS = {"size": SIZE, "tick": TICK, "max_inventory": 2 * SIZE, "skew_ticks": 1}
BOOK = {"bids": [("99.99", "3"), ("99.98", "5")], "asks": [("100.01", "2")]}
BUNDLED = ROOT / "scenarios" / "market_maker.py"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled market maker's scenario on a fortieth of its feed."""
    text = BUNDLED.read_text().replace("updates=200_000", "updates=5_000")
    algo = ROOT / "scenarios" / "algos" / "market_maker.py"
    text = text.replace('"algos/market_maker.py:MarketMaker"', repr(f"{algo}:MarketMaker"))
    path = tmp_path_factory.mktemp("small") / "scenario.py"
    path.write_text(text)
    return path


def test_the_plugin_is_registered_and_imports_nothing_heavy() -> None:
    """It loads in every pytest run of the environment: no Trio, runtime, loaders or rich."""
    probe = (
        "import importlib.metadata, sys\n"
        "(entry,) = [e for e in importlib.metadata.entry_points(group='pytest11')"
        " if e.name == 'meshrt']\n"
        "entry.load()\n"
        "heavy = ('trio', 'rich', 'wasmtime', 'cffi', 'meshrt.runtime', 'meshrt.loaders',"
        " 'meshrt.actors', 'meshrt.testing.harness')\n"
        "print(entry.value, sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split(" ", 1) == ["meshrt.testing.plugin", "[]\n"]


def quotes_then_fill(harness: AlgoHarness) -> list[Any]:
    """The market maker's first quotes, its answer to a fill, and its stop."""
    first = harness.book(**BOOK)
    bid, ask = first.actions
    assert isinstance(bid, Limit) and isinstance(ask, Limit)
    for order in (bid, ask):
        harness.accept(order.order_id)
    filled = harness.fill(bid.order_id)  # all of it, at its price
    assert harness.state.position() == SIZE
    moved = harness.book(**BOOK)  # long one: both quotes lean a tick lower
    stopped = harness.lifecycle("stop")
    return [first, filled, moved, stopped, harness.state.position(), harness.crashed]


@pytest.mark.unit
def test_the_harness_feeds_a_python_algo_and_returns_typed_actions() -> None:
    with AlgoHarness.load(
        "scenarios/algos/market_maker.py:MarketMaker", PARAMS, base_dir=ROOT
    ) as h:
        first, filled, moved, stopped, position, crashed = quotes_then_fill(h)
    bid, ask = first.actions
    assert bid == Limit(1, Side.BUY, price_to_int("99.99"), SIZE, TimeInForce.POST_ONLY, "XYZ")
    assert ask == Limit(2, Side.SELL, price_to_int("100.01"), SIZE, TimeInForce.POST_ONLY, "XYZ")
    assert filled.actions == () and filled.crashed is None
    # order 1 is gone (filled); the bid comes back a tick lower, the ask moves a tick down
    assert moved.actions == (
        Limit(3, Side.BUY, price_to_int("99.98"), SIZE, TimeInForce.POST_ONLY, "XYZ"),
        Replace(2, price_to_int("100.00"), SIZE),
    )
    assert stopped.actions == (CancelAll(None),)
    assert (position, crashed) == (SIZE, None)


def test_the_harness_gives_the_same_answers_for_the_wasm_and_native_builds() -> None:
    with AlgoHarness.load(
        "scenarios/algos/market_maker.py:MarketMaker", PARAMS, base_dir=ROOT
    ) as h:
        python = quotes_then_fill(h)
    for target, path in market_maker().items():
        with AlgoHarness.load(path, PARAMS) as h:
            assert quotes_then_fill(h) == python, target


@pytest.mark.unit
def test_the_harness_delivers_rejects_messages_nbbo_and_heartbeats() -> None:
    from meshrt import Algo

    class Echo(Algo):
        """Says what it saw, through every host call a test reads back."""

        def on_book(self, book: Any, state: Any, features: Any, actions: Any) -> None:
            actions.limit(Side.BUY, book.bid_prices[0], SIZE)

        def on_fill(self, fill: Any, state: Any, actions: Any) -> None:
            pass

        def on_reject(self, reject: Any, state: Any, actions: Any) -> None:
            self.host.log(f"rejected {reject.order_id}: {RejectReason(reject.reason).name}")

        def on_message(self, message: Any, state: Any, actions: Any) -> None:
            self.host.send("peer", message.payload[::-1])

        def on_nbbo(self, nbbo: Any, state: Any, actions: Any) -> None:
            self.host.set_param("best", [nbbo.bid_venue, nbbo.bid_price, nbbo.ask_venue])

        def on_heartbeat(self, state: Any, actions: Any) -> None:
            actions.cancel_all()

    h = AlgoHarness.load(Echo)
    (order,) = h.book(bids=[("10", "1")], asks=[("11", "1")], ts=5).actions
    assert isinstance(order, Limit) and order.order_id == 1 and h.now == 5
    rejected = h.reject(1, RejectReason.RISK_MAX_POSITION)
    assert rejected.logs == ("rejected 1: RISK_MAX_POSITION",)
    assert 1 not in h.state.open_orders and h.now == 5 + 1_000_000
    (sent,) = h.message("maker", b"abc").messages
    assert (sent.label, sent.payload) == ("peer", b"cba")
    quotes = {"a": ("10", "1", "12", "1"), "b": ("10.5", "2", "11", "1")}
    (best,) = h.nbbo(quotes).params
    assert (best.name, best.value) == ("best", ["b", price_to_int("10.5"), "b"])
    assert h.heartbeat().actions == (CancelAll(None),)
    with pytest.raises(ValueError, match="best first"):
        h.book(bids=[("10", "1"), ("11", "1")])
    with pytest.raises(ValueError, match="no open order 9"):
        h.fill(9)


@pytest.mark.unit
def test_a_crash_in_the_harness_is_contained_as_in_a_run() -> None:
    """A C algo that terminates its instance: the crash is reported, later input ignored."""
    wasm = c_algo("stop_at_once", "return 1;")["wasm"]
    with AlgoHarness.load(wasm) as h:
        crashed = h.book(bids=[("10", "1")], asks=[("11", "1")])
        assert crashed.crashed is not None and h.crashed == crashed.crashed
        assert h.book(bids=[("10", "1")], asks=[("11", "1")]) == type(crashed)()


def test_the_fixture_runs_a_scenario_with_a_seed_and_settings(
    meshrt_run: Callable[..., Any], small: Path
) -> None:
    result = meshrt_run(small, seed=3, settings={"mm-1.skew_ticks": 2})
    assert result.ok and result.summary["seed"] == 3
    run_file = orjson.loads((result.run_dir / "run.json").read_bytes())
    assert run_file["overrides"] == {"mm-1.skew_ticks": 2, "seed": 3}
    assert_no_invariant_violation(result)
    assert_positions_within(result)  # the scenario's own risk.max_position
    assert_positions_within(result.run_dir, {"mm-1": 4 * SIZE})
    with pytest.raises(
        AssertionError, match=r"mm-1: position -?\d+ in BTC-USD is past the limit 1"
    ):
        assert_positions_within(result, 1)
    assert_deterministic_replay(result)


def test_the_assertions_fail_on_a_failed_run_and_a_diverging_log(
    tmp_path: Path, small: Path
) -> None:
    from meshrt.testing import run_scenario

    result = run_scenario(small, tmp_path / "run", settings={"mm-1.size": SIZE // 2})
    summary = orjson.loads((result.run_dir / "summary.json").read_bytes())
    summary.update(status="failed", failure="order 7: FILLED -> ACCEPTED")
    (tmp_path / "summary.json").write_bytes(orjson.dumps(summary))
    with pytest.raises(AssertionError, match="failed closed: order 7: FILLED -> ACCEPTED"):
        assert_no_invariant_violation(tmp_path)
    log = result.run_dir / "replay.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    k = next(k for k, line in enumerate(lines) if b'"intent"' in line)
    lines[k] = lines[k].replace(b'"intent"', b'"intent" ', 1)
    log.write_bytes(b"".join(lines))
    with pytest.raises(AssertionError, match=f"replay diverges at seq {k}"):
        assert_deterministic_replay(result)
