"""The runtime end to end: lifecycle, risk, SDK limits, crash isolation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from meshrt import Algo, RejectReason, RiskLimits, Side, TimeInForce, seconds
from meshrt.contract import MAX_ACTIONS
from meshrt.runtime import run
from meshrt.scenario import pause, resume, start, stop

from helpers import TICK, UNIT, deployment, scenario
from scenarios.algos.market_maker import MarketMaker


class Recorder(Algo):
    """Records every callback into params['log'] as (name, scenario time, detail)."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        self.params["log"].append(("book", state.now, book.ts))

    def on_fill(self, fill, state, actions):  # type: ignore[no-untyped-def]
        self.params["log"].append(("fill", state.now, fill))

    def on_reject(self, reject, state, actions):  # type: ignore[no-untyped-def]
        self.params["log"].append(("reject", state.now, reject))

    def on_start(self, state, actions):  # type: ignore[no-untyped-def]
        self.params["log"].append(("start", state.now, None))

    def on_stop(self, state, actions):  # type: ignore[no-untyped-def]
        self.params["log"].append(("stop", state.now, None))

    def on_pause(self, state, actions):  # type: ignore[no-untyped-def]
        self.params["log"].append(("pause", state.now, None))

    def on_resume(self, state, actions):  # type: ignore[no-untyped-def]
        self.params["log"].append(("resume", state.now, None))

    def on_shutdown(self, state):  # type: ignore[no-untyped-def]
        self.params["log"].append(("shutdown", state.now, None))


class OneShot(Recorder):
    """On its first book, runs params['act'](book, actions) once."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        super().on_book(book, state, features, actions)
        if not self.params.get("done"):
            self.params["done"] = True
            self.params["act"](book, state, actions)


def names(log: list[Any]) -> list[str]:
    return [entry[0] for entry in log if entry[0] != "book"]


def test_lifecycle_callbacks_fire_in_order_and_gate_market_data() -> None:
    log: list[Any] = []
    dep = deployment(
        Recorder, params={"log": log},
        schedule=[start(seconds(0.005)), pause(seconds(0.02)), resume(seconds(0.03)),
                  stop(seconds(0.04))],
    )
    run(scenario(dep))
    assert names(log) == ["start", "pause", "resume", "stop", "shutdown"]
    times = {name: t for name, t, _ in log if name != "book"}
    assert times["start"] == seconds(0.005) and times["stop"] == seconds(0.04)
    books = [t for name, t, _ in log if name == "book"]
    assert books, "a running deployment receives books"
    assert all(seconds(0.005) <= t < seconds(0.02) or seconds(0.03) <= t < seconds(0.04)
               for t in books), "no market data while stopped or paused"


def test_stop_does_not_cancel_resting_orders() -> None:
    log: list[Any] = []

    def act(book, state, actions):  # type: ignore[no-untyped-def]
        actions.limit(Side.BUY, book.bid_prices[-1], UNIT)  # deep in the book: rests

    dep = deployment(OneShot, params={"log": log, "act": act},
                     schedule=[start(0), stop(seconds(0.01))])
    result = run(scenario(dep))
    summary = result.summary["deployments"][0]
    assert summary["state"] == "stopped"
    assert summary["orders"] == 1 and summary["open_orders"] == 1


@pytest.mark.parametrize(
    ("limits", "order", "reason"),
    [
        (RiskLimits(max_order_size=UNIT), ("limit", 2 * UNIT), RejectReason.RISK_MAX_ORDER_SIZE),
        (RiskLimits(max_position=UNIT), ("limit", 2 * UNIT), RejectReason.RISK_MAX_POSITION),
        (RiskLimits(max_notional=10 * 10**9), ("limit", UNIT), RejectReason.RISK_MAX_NOTIONAL),
        (RiskLimits(max_open_orders=0), ("limit", UNIT), RejectReason.RISK_MAX_OPEN_ORDERS),
        (RiskLimits(max_orders_per_second=0), ("limit", UNIT), RejectReason.RISK_ORDER_RATE),
        (RiskLimits(max_order_size=UNIT), ("market", 2 * UNIT), RejectReason.RISK_MAX_ORDER_SIZE),
    ],
)
def test_a_risk_breach_rejects_the_intent_with_its_reason(
    limits: RiskLimits, order: tuple[str, int], reason: RejectReason
) -> None:
    log: list[Any] = []

    def act(book, state, actions):  # type: ignore[no-untyped-def]
        if order[0] == "limit":
            actions.limit(Side.BUY, book.bid_prices[-1], order[1])
        else:
            actions.market(Side.BUY, order[1])

    result = run(scenario(deployment(OneShot, params={"log": log, "act": act}, risk=limits)))
    rejects = [detail for name, _, detail in log if name == "reject"]
    assert [r.reason for r in rejects] == [reason]
    assert rejects[0].order_id == 1
    summary = result.summary["deployments"][0]
    assert summary["orders"] == 0 and summary["rejects"] == {reason.name: 1}


def test_the_seventeenth_action_is_refused_counted_and_the_instance_goes_on() -> None:
    log: list[Any] = []

    def act(book, state, actions):  # type: ignore[no-untyped-def]
        for k in range(MAX_ACTIONS + 1):
            actions.limit(Side.BUY, book.bid_prices[-1] - k * TICK, UNIT)

    result = run(scenario(deployment(OneShot, params={"log": log, "act": act})))
    summary = result.summary["deployments"][0]
    assert summary["orders"] == MAX_ACTIONS
    assert summary["refused_actions"] == 1
    assert summary["crashed"] is None
    books = [entry for entry in log if entry[0] == "book"]
    assert len(books) > 100, "the instance kept receiving books after the refusal"


def test_post_only_that_would_cross_is_rejected_by_the_venue() -> None:
    log: list[Any] = []

    def act(book, state, actions):  # type: ignore[no-untyped-def]
        actions.limit(Side.BUY, book.ask_prices[0], UNIT, TimeInForce.POST_ONLY)

    run(scenario(deployment(OneShot, params={"log": log, "act": act})))
    rejects = [detail for name, _, detail in log if name == "reject"]
    assert [r.reason for r in rejects] == [RejectReason.POST_ONLY_WOULD_CROSS]


def test_a_marketable_order_fills_and_updates_the_algos_own_view() -> None:
    log: list[Any] = []
    seen: dict[str, Any] = {}

    def act(book, state, actions):  # type: ignore[no-untyped-def]
        actions.market(Side.BUY, UNIT)

    class Checker(OneShot):
        def on_fill(self, fill, state, actions):  # type: ignore[no-untyped-def]
            super().on_fill(fill, state, actions)
            seen["position"] = state.position()
            seen["open"] = dict(state.open_orders)

    result = run(scenario(deployment(Checker, params={"log": log, "act": act})))
    fills = [detail for name, _, detail in log if name == "fill"]
    assert sum(f.size for f in fills) == UNIT
    assert all(f.liquidity == 2 for f in fills)  # taker
    assert seen["position"] == UNIT and seen["open"] == {}
    summary = result.summary["deployments"][0]
    assert summary["position"] == {"XYZ": UNIT}
    assert summary["fees"] == sum(f.fee for f in fills) > 0


class Crasher(Algo):
    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        if state.now > self.params["crash_after"]:
            raise ZeroDivisionError("boom")

    def on_fill(self, fill, state, actions):  # type: ignore[no-untyped-def]
        pass

    def on_reject(self, reject, state, actions):  # type: ignore[no-untyped-def]
        pass


def test_a_crashing_instance_is_terminated_and_its_sibling_keeps_trading(tmp_path: Path) -> None:
    crash_at = seconds(0.02)
    mm = deployment(MarketMaker, label="mm")
    bad = deployment(Crasher, label="bad", params={"crash_after": crash_at})
    result = run(scenario(mm, bad, updates=6_000), tmp_path)
    by_label = {d["label"]: d for d in result.summary["deployments"]}
    assert by_label["bad"]["crashed"] == "ZeroDivisionError: boom"
    assert by_label["bad"]["state"] == "failed"
    assert by_label["bad"]["crashed_at_ns"] > crash_at
    assert by_label["mm"]["crashed"] is None
    assert result.ok
    crash_ns = by_label["bad"]["crashed_at_ns"]
    assert [t for t in fill_times(tmp_path, "mm") if t > crash_ns], (
        "the sibling kept getting fills after the crash"
    )


def fill_times(run_dir: Path, label: str) -> list[int]:
    """Times of the fills of one deployment's orders, read back from the replay log."""
    records = [orjson.loads(line) for line in (run_dir / "replay.jsonl").read_bytes().splitlines()]
    owner = {r[7][0]: r[7][1] for r in records[1:] if r[6] == "order_created"}
    return [r[1] for r in records[1:] if r[6] == "fill" and owner[r[7][0]] == label]


def test_an_algo_whose_constructor_raises_is_a_crash_not_a_failed_run() -> None:
    class Broken(Crasher):
        def __init__(self, host, params):  # type: ignore[no-untyped-def]
            raise RuntimeError("cannot start")

    result = run(scenario(deployment(Broken, label="broken"), deployment(MarketMaker)))
    by_label = {d["label"]: d for d in result.summary["deployments"]}
    assert by_label["broken"]["crashed"] == "RuntimeError: cannot start"
    assert by_label["algo"]["fills"] > 0
