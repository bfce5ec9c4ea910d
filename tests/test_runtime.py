"""The runtime end to end: lifecycle, risk, SDK limits, crash isolation."""

from __future__ import annotations

import pickle
import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings, strategies as st

from meshrt import ActionKind, Algo, RejectReason, RiskLimits, Side, TimeInForce, seconds
from meshrt.actors._commit import FeedCommit, feed_fragments
from meshrt.actors.protocol import BookDelivery, Delivery
from meshrt.contract import MAX_ACTIONS
from meshrt.runtime.run import run
from meshrt.scenario.definition import pause, resume, start, stop
from meshrt.scenario.latency import Latency, LatencyStream
from meshrt.venues.events import FEED_DELTA, FEED_TRADE
from meshrt.venues.outputs import BookUpdate, OrderReport, TradePrint, VenueOutput
from meshrt.venues.reports import Accepted

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
    """On its first book, runs its ``act(book, state, actions)`` once (see ``one_shot``:
    params are JSON values, so the callable is a class attribute)."""

    act: Any = None

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        super().on_book(book, state, features, actions)
        if not self.params.get("done"):
            self.params["done"] = True
            self.act(book, state, actions)


def one_shot(act: Any, base: type[OneShot] = OneShot) -> type[OneShot]:
    return type(base.__name__, (base,), {"act": staticmethod(act)})


def names(log: list[Any]) -> list[str]:
    return [entry[0] for entry in log if entry[0] != "book"]


def test_lifecycle_callbacks_fire_in_order_and_gate_market_data() -> None:
    log: list[Any] = []
    dep = deployment(
        Recorder,
        params={"log": log},
        schedule=[
            start(seconds(0.005)),
            pause(seconds(0.02)),
            resume(seconds(0.03)),
            stop(seconds(0.04)),
        ],
    )
    run(scenario(dep))
    assert names(log) == ["start", "pause", "resume", "stop", "shutdown"]
    times = {name: t for name, t, _ in log if name != "book"}
    assert times["start"] == seconds(0.005) and times["stop"] == seconds(0.04)
    books = [t for name, t, _ in log if name == "book"]
    assert books, "a running deployment receives books"
    assert all(
        seconds(0.005) <= t < seconds(0.02) or seconds(0.03) <= t < seconds(0.04) for t in books
    ), "no market data while stopped or paused"


def test_stop_does_not_cancel_resting_orders() -> None:
    log: list[Any] = []

    def act(book, state, actions):  # type: ignore[no-untyped-def]
        actions.limit(Side.BUY, book.bid_prices[-1], UNIT)  # deep in the book: rests

    dep = deployment(
        one_shot(act, OneShot), params={"log": log}, schedule=[start(0), stop(seconds(0.01))]
    )
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
        (RiskLimits(max_notional=10 * 10**9), ("market", UNIT), RejectReason.RISK_MAX_NOTIONAL),
        (RiskLimits(max_position=UNIT), ("market", 2 * UNIT), RejectReason.RISK_MAX_POSITION),
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

    result = run(scenario(deployment(one_shot(act, OneShot), params={"log": log}, risk=limits)))
    rejects = [detail for name, _, detail in log if name == "reject"]
    assert [r.reason for r in rejects] == [reason]
    assert rejects[0].order_id == 1
    summary = result.summary["deployments"][0]
    assert summary["orders"] == 0 and summary["rejects"] == {reason.name: 1}


class Replacer(Recorder):
    """Rests a buy of one unit deep in the book, then, once it is accepted, asks to
    replace it with ``params["to"]`` (size in units, price in ticks below the bid)."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        super().on_book(book, state, features, actions)
        units, ticks = self.params["to"]
        if not self.params.get("sent"):
            self.params["sent"] = True
            actions.limit(Side.BUY, book.bid_prices[-1], UNIT)
        elif not self.params.get("replaced") and any(
            o.accepted for o in state.open_orders.values()
        ):
            self.params["replaced"] = True
            actions.replace(1, book.bid_prices[0] - ticks * TICK, units * UNIT)
            self.params["log"].append(("replace", state.now, None))


@pytest.mark.parametrize(
    ("limits", "to", "reason"),
    [
        (RiskLimits(max_position=2 * UNIT), (3, 5), RejectReason.RISK_MAX_POSITION),
        (RiskLimits(max_notional=10**12), (10**4, 5), RejectReason.RISK_MAX_NOTIONAL),
        (RiskLimits(max_order_size=UNIT), (2, 5), RejectReason.RISK_MAX_ORDER_SIZE),
        (RiskLimits(max_position=2 * UNIT, max_open_orders=1), (2, 5), None),
    ],
)
def test_a_risk_breach_refuses_a_replace_with_its_reason(
    limits: RiskLimits, to: tuple[int, int], reason: RejectReason | None
) -> None:
    log: list[Any] = []
    run(scenario(deployment(Replacer, params={"log": log, "to": list(to)}, risk=limits)))
    rejects = [detail.reason for name, _, detail in log if name == "reject"]
    assert "replace" in names(log) and rejects == ([] if reason is None else [reason])


def test_the_seventeenth_action_is_refused_counted_and_the_instance_goes_on() -> None:
    log: list[Any] = []

    def act(book, state, actions):  # type: ignore[no-untyped-def]
        for k in range(MAX_ACTIONS + 1):
            actions.limit(Side.BUY, book.bid_prices[-1] - k * TICK, UNIT)

    result = run(scenario(deployment(one_shot(act, OneShot), params={"log": log})))
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

    run(scenario(deployment(one_shot(act, OneShot), params={"log": log})))
    rejects = [detail for name, _, detail in log if name == "reject"]
    assert [r.reason for r in rejects] == [RejectReason.POST_ONLY_WOULD_CROSS]


HUGE = 10**30


@pytest.mark.parametrize(
    "act, reason",
    [
        (lambda b, s, a: a.limit(Side.BUY, HUGE, UNIT), RejectReason.INVALID_PRICE),
        (lambda b, s, a: a.limit(Side.BUY, 2**63, UNIT), RejectReason.INVALID_PRICE),
        (lambda b, s, a: a.limit(Side.BUY, -HUGE, UNIT), RejectReason.INVALID_PRICE),
        (lambda b, s, a: a.limit(Side.BUY, 10**5000, UNIT), RejectReason.INVALID_PRICE),
        (lambda b, s, a: a.limit(Side.BUY, b.bid_prices[-1], HUGE), RejectReason.INVALID_SIZE),
        (lambda b, s, a: a.limit(Side.BUY, b.bid_prices[-1], 2**63), RejectReason.INVALID_SIZE),
        (lambda b, s, a: a.limit(Side.BUY, b.bid_prices[-1], 0), RejectReason.INVALID_SIZE),
        (lambda b, s, a: a.limit(Side.BUY, b.bid_prices[-1], True), RejectReason.INVALID_SIZE),
        (lambda b, s, a: a.market(Side.SELL, -HUGE), RejectReason.INVALID_SIZE),
        (lambda b, s, a: a.limit(HUGE, b.bid_prices[-1], UNIT), RejectReason.INVALID_ACTION),
        (lambda b, s, a: a.limit("BUY", b.bid_prices[-1], UNIT), RejectReason.INVALID_ACTION),
        (
            lambda b, s, a: a.limit(Side.BUY, b.bid_prices[-1], UNIT, HUGE),
            RejectReason.INVALID_ACTION,
        ),
        (
            lambda b, s, a: (
                setattr(s, "next_order_id", 2**64),
                a.limit(Side.BUY, b.bid_prices[-1], UNIT),
            ),
            RejectReason.INVALID_ACTION,
        ),
        (
            lambda b, s, a: (
                setattr(s, "next_order_id", -1),
                a.limit(Side.BUY, b.bid_prices[-1], UNIT),
            ),
            RejectReason.INVALID_ACTION,
        ),
        (lambda b, s, a: a.cancel(HUGE), RejectReason.INVALID_ACTION),
        # the largest id the contract holds is an id: refused only for naming no order
        (lambda b, s, a: a.cancel(2**64 - 1), RejectReason.UNKNOWN_ORDER),
        (lambda b, s, a: a.cancel("1"), RejectReason.INVALID_ACTION),
        (lambda b, s, a: a.cancel([1]), RejectReason.INVALID_ACTION),  # unhashable
        (lambda b, s, a: a.replace({}, b.bid_prices[-1], UNIT), RejectReason.INVALID_ACTION),
        (lambda b, s, a: a.replace(-HUGE, b.bid_prices[-1], UNIT), RejectReason.INVALID_ACTION),
    ],
)
def test_an_intent_field_outside_the_contracts_range_is_rejected_and_the_run_goes_on(
    act: Any, reason: RejectReason, tmp_path: Path
) -> None:
    log: list[Any] = []
    result = run(scenario(deployment(one_shot(act), params={"log": log}), updates=500), tmp_path)
    assert result.ok
    rejects = [detail for name, _, detail in log if name == "reject"]
    assert [r.reason for r in rejects] == [reason]
    assert result.summary["deployments"][0]["rejects"] == {reason.name: 1}
    assert result.summary["orders"] == 0
    assert (tmp_path / "summary.json").exists()


class ReplaceOnceAccepted(Recorder):
    """Rests a deep buy, then replaces it with ``to(book)`` once it is accepted (``to`` is
    a class attribute: params are JSON values)."""

    to: Any = None

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        seen = self.params["seen"]
        oid = seen.get("oid")
        if oid is None:
            seen["oid"] = actions.limit(Side.BUY, book.bid_prices[-1] - 10 * TICK, UNIT)
        elif not seen.get("sent") and state.open_orders[oid].accepted:
            seen["sent"] = True
            actions.replace(oid, *self.to(book))


@pytest.mark.parametrize(
    "to, reason",
    [
        (lambda b: (HUGE, UNIT), RejectReason.INVALID_PRICE),
        (lambda b: (2**63, UNIT), RejectReason.INVALID_PRICE),
        (lambda b: (b.bid_prices[-1], HUGE), RejectReason.INVALID_SIZE),
        (lambda b: (b.bid_prices[-1], -HUGE), RejectReason.INVALID_SIZE),
        (lambda b: (b.bid_prices[-1], 1.5), RejectReason.INVALID_ACTION),
    ],
)
def test_a_replace_outside_the_contracts_range_is_rejected(
    to: Any, reason: RejectReason, tmp_path: Path
) -> None:
    log: list[Any] = []
    replacer = type("ReplaceOnceAccepted", (ReplaceOnceAccepted,), {"to": staticmethod(to)})
    result = run(
        scenario(deployment(replacer, params={"log": log, "seen": {}}), updates=500), tmp_path
    )
    assert result.ok
    assert [d.reason for name, _, d in log if name == "reject"] == [reason]
    assert result.summary["reconciliation"]["mismatches"] == []


class ReplaceThenCancel(Recorder):
    """Rests a deep post-only buy; once it is accepted, replaces it through the ask (the
    venue refuses that) and cancels it in the same callback. Logs what on_reject sees."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        seen = self.params["seen"]  # params are copied per instance: hand back through it
        oid = seen.get("oid")
        if oid is None:
            seen["oid"] = actions.limit(
                Side.BUY, book.bid_prices[-1] - 10 * TICK, UNIT, TimeInForce.POST_ONLY
            )
        elif not seen.get("sent") and state.open_orders[oid].accepted:
            seen["sent"] = True
            actions.replace(oid, book.ask_prices[0] + 100 * TICK, UNIT)
            actions.cancel(oid)
        elif seen.get("sent") and oid not in state.open_orders:
            seen.setdefault("gone_at", state.now)

    def on_reject(self, reject, state, actions):  # type: ignore[no-untyped-def]
        order = state.open_orders.get(reject.order_id)
        self.params["log"].append(
            ("reject", reject.action, reject.reason, None if order is None else order.pending)
        )


def test_a_refused_replace_answers_the_replace_and_leaves_the_pending_cancel(
    tmp_path: Path,
) -> None:
    log: list[Any] = []
    seen: dict[str, Any] = {}
    result = run(
        scenario(deployment(ReplaceThenCancel, params={"log": log, "seen": seen})), tmp_path
    )
    assert [entry for entry in log if entry[0] == "reject"] == [
        ("reject", ActionKind.REPLACE, RejectReason.POST_ONLY_WOULD_CROSS, True)
    ]
    assert "gone_at" in seen, "the cancel completed and the order left the algo's view"
    records = [
        r
        for r in map(orjson.loads, (tmp_path / "replay.jsonl").read_bytes().splitlines())
        if isinstance(r, list)
    ]
    statuses = [(r[6], r[7][-2:]) for r in records if r[6] in ("cancel_rejected", "cancelled")]
    assert statuses == [
        ("cancel_rejected", ["CANCEL_PENDING", "CANCEL_PENDING"]),
        ("cancelled", ["CANCEL_PENDING", "CANCELLED"]),
    ]
    assert result.summary["reconciliation"]["mismatches"] == []


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

    result = run(scenario(deployment(one_shot(act, Checker), params={"log": log})))
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


def test_seq_ids_are_contiguous_across_every_record_kind(tmp_path: Path) -> None:
    result = run(scenario(deployment(MarketMaker), updates=4_000), tmp_path)
    lines = (tmp_path / "replay.jsonl").read_bytes().splitlines()[1:]
    seqs = [orjson.loads(line)[0] for line in lines]
    assert seqs == list(range(1, len(seqs) + 1))
    assert result.summary["events"] == len(seqs)
    assert result.summary["fills"] > 0  # reports were among them


class Chatty(Algo):
    """One message per book and no actions: each callback has its own message budget."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        self.host.send("nobody", b"x")

    def on_fill(self, fill, state, actions):  # type: ignore[no-untyped-def]
        pass

    def on_reject(self, reject, state, actions):  # type: ignore[no-untyped-def]
        pass


def test_the_message_budget_is_per_callback() -> None:
    result = run(scenario(deployment(Chatty), updates=500))
    dep = result.summary["deployments"][0]
    assert dep["messages_refused"] == 0
    assert dep["messages_sent"] == dep["book_callbacks"] > 400


def test_a_stopping_algo_can_cancel_its_orders_in_on_stop() -> None:
    dep = deployment(MarketMaker, schedule=[start(0), stop(seconds(0.03))])
    result = run(scenario(dep, updates=4_000))
    summary = result.summary["deployments"][0]
    assert summary["orders"] > 0 and summary["open_orders"] == 0
    assert "NOT_RUNNING" not in summary["rejects"]


class PlaceThenCrash(Crasher):
    """Places an order deep in the book on its first book, crashes on the next one."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        if state.open_orders:
            raise RuntimeError("after placing")
        actions.limit(Side.BUY, book.bid_prices[-1], UNIT)


def test_a_crash_cancels_orders_that_were_still_on_their_way() -> None:
    result = run(scenario(deployment(PlaceThenCrash), updates=2_000))
    dep = result.summary["deployments"][0]
    assert dep["crashed"] == "RuntimeError: after placing"
    assert dep["orders"] == 1 and dep["open_orders"] == 0
    assert result.summary["reconciliation"]["mismatches"] == []


def test_an_instance_whose_fail_mailbox_overflows_crashes_alone() -> None:
    from meshrt.scenario.limits import MailboxConfig, Overflow

    tiny = deployment(MarketMaker, label="tiny", mailbox=MailboxConfig(4, Overflow.FAIL))
    result = run(scenario(tiny, deployment(MarketMaker, label="ok"), updates=3_000))
    by_label = {d["label"]: d for d in result.summary["deployments"]}
    assert by_label["tiny"]["crashed"].startswith("MailboxFull: mailbox 'algo:tiny' is full")
    assert by_label["ok"]["crashed"] is None and by_label["ok"]["fills"] > 0
    assert result.ok


@pytest.mark.parametrize("policy", ["BLOCK", "DROP_NEWEST", "DROP_OLDEST", "CONFLATE", "FAIL"])
def test_a_full_mailbox_does_the_same_stepped_and_as_a_task(tmp_path: Path, policy: str) -> None:
    """A 4-item mailbox overflows: stepped (an instance behind a full BLOCK mailbox runs
    what is queued first) and as a Trio task (the sender waits) must give the same log,
    summary and losses."""
    from meshrt.runtime.run import RunOptions
    from meshrt.scenario.limits import MailboxConfig, Overflow

    tiny = deployment(MarketMaker, label="tiny", mailbox=MailboxConfig(4, Overflow[policy]))
    sc = scenario(tiny, deployment(MarketMaker, label="ok"), updates=3_000)
    written = []
    for tasks in (False, True):
        out = tmp_path / f"tasks-{tasks}"
        result = run(sc, out, options=RunOptions(actors_as_tasks=tasks))
        # as tasks the queue also carries window markers: only losses must agree
        losses = [
            (item["mailbox"]["dropped"], item["mailbox"]["conflated"])
            for item in result.metrics["instances"]
        ]
        files = [(out / name).read_bytes() for name in ("replay.jsonl", "summary.json")]
        written.append((files, losses))
        assert result.metrics["instances"][0]["mailbox"]["high_water"] >= 4
    assert written[0] == written[1]
    (dropped, conflated), _ = written[0][1]
    assert (dropped + conflated > 0) == (policy in ("DROP_NEWEST", "DROP_OLDEST", "CONFLATE"))


def test_a_bad_data_line_mid_run_is_bad_input_with_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    data = tmp_path / "bad.jsonl"
    data.write_text(
        '{"ts": 1, "type": "snapshot", "bids": [["99", "1"]], "asks": [["101", "1"]]}\n'
        '{"ts": 2, "type": "delta", "side": "buy", "price": "99", "size": "2"}\n'
        '{"ts": 3, "type": "bogus"}\n'
    )
    file = tmp_path / "bad_scenario.py"
    file.write_text(
        "from meshrt import *\nfrom scenarios.algos.market_maker import MarketMaker\n"
        "scenario = Scenario(name='bad', venues=[Venue(name='v', sources=[RecordedSpec("
        "symbol='X', path='bad.jsonl')])], deployments=[Deployment(label='mm', venue='v', "
        "symbols=['X'], algo=MarketMaker, params={'size': 1, 'tick': 1, 'max_inventory': 5})])\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "meshrt.cli.main", "run", str(file), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": ""},
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"{data}:3: type: unknown type 'bogus'" in done.stderr


class Slotted:
    __slots__ = ("inbound",)

    def __init__(self) -> None:
        self.inbound: list[Delivery] = []


class Plain:  # not slotted: the feed commit falls back to getattr
    def __init__(self) -> None:
        self.inbound: list[Delivery] = []


@pytest.mark.unit
def test_the_compiled_feed_commit_delivers_in_fifo_order_and_stops_at_each_report() -> None:
    """meshrt/actors/_commit.pyx: LatencyStream.deliver_at's times, one shared delivery per
    book, quotes for consolidated symbols only, and a stop at every OrderReport."""
    draws = iter([0.9, 0.0, 0.5, 0.999999, 0.25] * 400)  # 0.0 and 0.5 are clamped (FIFO)
    reference = iter([0.9, 0.0, 0.5, 0.999999, 0.25] * 400)
    stream, ours = (LatencyStream(Latency(100, 999), "unused") for _ in "ab")
    stream.draw = lambda: next(reference)
    ours.draw = lambda: next(draws)
    a, b, c = Slotted(), Plain(), Slotted()
    quotes: list[tuple[int, int, Any]] = []
    last_book: list[Any] = [None, None]
    events: list[VenueOutput] = []
    for ts in range(0, 4000, 2):
        feed = (ts, FEED_DELTA, 1, 100 + ts, 5)
        events.append(BookUpdate(ts, ts % 4 // 2, feed, ("book", ts), ("features", ts)))
        if ts % 100 == 0:
            events.append(TradePrint(ts, 0, (ts, FEED_TRADE, 2, 100, 1)))
            events.append(BookUpdate(ts, 0, feed, None, None))  # the feed is down
        if ts % 500 == 0:
            events.append(OrderReport(ts, 1, Accepted(ts, 7, 0, 5, 1)))
    commit = FeedCommit(
        feed_fragments("venue:v", "v", ["X", "Y"]),
        last_book,
        [False, True],
        [[a, b], [c]],
        lambda *args: quotes.append(args),
        ours,
    )
    seq, index, stops = 41, 0, []
    while True:
        index, seq = commit.commit(events, index, len(events), seq, None)
        if index == len(events):
            break
        stops.append(index)
        index += 1
    assert stops == [k for k, event in enumerate(events) if type(event) is OrderReport]
    assert seq == 41 + len(events) - len(stops)
    shown = [event for event in events if type(event) is BookUpdate and event.book is not None]
    times = [stream.deliver_at(event.ts) for event in shown]
    assert times[1] == times[0] and times == sorted(times) and len(set(times)) > 100
    assert ours.last == times[-1]
    assert [item.ts for item in a.inbound + c.inbound] == [
        t for t, event in zip(times, shown, strict=True) if event.symbol == 0
    ] + [t for t, event in zip(times, shown, strict=True) if event.symbol == 1]
    assert all(x is y for x, y in zip(a.inbound, b.inbound, strict=True))
    assert all(
        type(item) is BookDelivery
        and (item.book, item.features) == (("book", item.book[1]), ("features", item.book[1]))
        for item in a.inbound + c.inbound
    )
    assert quotes == [(1, event.ts, event.book) for event in shown if event.symbol == 1]
    assert last_book == [shown[-2].book, shown[-1].book]


@pytest.mark.unit
def delivery_times(stream: LatencyStream, sent: list[int]) -> tuple[list[int], int]:
    """The delivery times the feed commit gives books sent at ``sent`` on ``stream`` (no
    log, one subscriber), and the stream's last delivery time after them."""
    dep = Slotted()
    events: list[VenueOutput] = [BookUpdate(ts, 0, (ts,), ts, None) for ts in sent]
    commit = FeedCommit(
        feed_fragments("venue:v", "v", ["X"]), [None], [False], [[dep]], print, stream
    )
    commit.commit(events, 0, len(events), 0, None)
    return [item.ts for item in dep.inbound], stream.last


def test_the_compiled_feed_commit_draws_the_latency_stream_exactly() -> None:
    """int(draw() * span) truncated like Python, on the stream's own random source."""
    ours, theirs = (LatencyStream(Latency(1_000_000, 10**12 - 1), "7:v:feed") for _ in "ab")
    sent = list(range(1_700_000_000_000_000_000, 1_700_000_000_000_000_000 + 3 * 10**12, 10**9))
    times, last = delivery_times(ours, sent)
    assert times == [theirs.deliver_at(ts) for ts in sent]
    assert last == theirs.last


@pytest.mark.property
@settings(max_examples=200, deadline=None)
@given(
    base=st.integers(0, 10**12),
    jitter=st.integers(0, 10**12),
    seed=st.text(max_size=8),
    times=st.lists(st.integers(0, 2**62), min_size=1, max_size=50),
)
def test_the_compiled_feed_latency_is_latency_streams_rule(
    base: int, jitter: int, seed: str, times: list[int]
) -> None:
    """The feed commit's delivery times against LatencyStream.deliver_at, the rule's Python
    home, on random latencies, seeds and send times (not sorted: the FIFO clamp too)."""
    ours, theirs = (LatencyStream(Latency(base, jitter), seed) for _ in "ab")
    delivered, last = delivery_times(ours, times)
    assert delivered == [theirs.deliver_at(ts) for ts in times]
    assert last == theirs.last


@pytest.mark.property
@settings(max_examples=200, deadline=None)
@given(
    base=st.integers(0, 10**12),
    jitter=st.integers(0, 10**12),
    seed=st.text(max_size=8),
    sent=st.lists(st.tuples(st.integers(0, 2**62), st.integers(0, 10**12)), max_size=50),
)
def test_a_latency_stream_delivers_in_fifo_order_after_its_seeded_jitter(
    base: int, jitter: int, seed: str, sent: list[tuple[int, int]]
) -> None:
    """The compiled LatencyStream against its rule in Python ints: ts + base + extra +
    int(random() * (jitter + 1)) from random.Random(seed), never before the previous
    delivery (sends not sorted: the FIFO clamp too)."""
    stream = LatencyStream(Latency(base, jitter), seed)
    draw, last = random.Random(seed).random, 0
    for ts, extra in sent:
        at = ts + base + extra + (int(draw() * (jitter + 1)) if jitter else 0)
        last = max(at, last)
        assert stream.deliver_at(ts, extra) == last
    assert stream.last == last
    assert (stream.base, stream.span) == (base, jitter + 1 if jitter else 0)


def test_a_latency_stream_pickles_mid_stream() -> None:
    """A checkpoint holds the stream as it is: its last delivery and its random source."""
    stream = LatencyStream(Latency(1_000, 5_000), "7:v:orders")
    for ts in range(0, 100_000, 7_000):
        stream.deliver_at(ts)
    copy = pickle.loads(pickle.dumps(stream))
    assert copy.last == stream.last
    assert [copy.deliver_at(ts) for ts in range(10)] == [stream.deliver_at(ts) for ts in range(10)]


RECORDED_SCENARIO = """
from meshrt import *
from scenarios.algos.market_maker import MarketMaker
scenario = Scenario(name="recorded", seed=1, duration_ns=seconds(0.05), venues=[Venue(
    name="v", sources=[RecordedSpec(symbol="X", path={path!r}, {timing})])],
    deployments=[Deployment(label="mm", venue="v", symbols=["X"], algo=MarketMaker,
        params={{"size": 10**8, "tick": 25 * 10**7, "max_inventory": 4 * 10**8}})])
"""


def test_a_recording_started_at_zero_runs_and_replays_as_one_shifted_by_hand(
    tmp_path: Path,
) -> None:
    """start_at_zero gives the very log of time_offset_ns=-first_ts, and replays."""
    from meshrt.runtime.replay import verify
    from meshrt.runtime.run import RunOptions
    from meshrt.scenario.definition import load_scenario

    data = Path(__file__).resolve().parent.parent / "scenarios" / "data" / "sample.jsonl"
    logs = {}
    for name, timing in (
        ("auto", "start_at_zero=True"),
        ("by_hand", "time_offset_ns=-1_700_000_000_000_000_000"),
    ):
        file = tmp_path / f"{name}.py"
        file.write_text(RECORDED_SCENARIO.format(path=str(data), timing=timing))
        out = tmp_path / name
        result = run(load_scenario(file), out, options=RunOptions(checkpoint_every=20))
        assert result.ok and result.summary["deployments"][0]["book_callbacks"] > 20
        assert list(out.glob("checkpoints/*")), "checkpoints were written"
        assert verify(out).ok
        logs[name] = (out / "replay.jsonl").read_bytes()
    assert logs["auto"] == logs["by_hand"]


def test_deltas_without_a_snapshot_build_the_book_from_empty(tmp_path: Path) -> None:
    data = tmp_path / "deltas.jsonl"
    data.write_text(
        '{"ts": 10, "type": "delta", "side": "buy", "price": "99", "size": "1"}\n'
        '{"ts": 20, "type": "delta", "side": "sell", "price": "101", "size": "2"}\n'
        '{"ts": 30, "type": "delta", "side": "buy", "price": "99.5", "size": "3"}\n'
    )
    books: list[tuple[Any, ...]] = []

    class Watcher(Algo):
        def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
            books.append((book.bid_prices[:1], book.ask_prices[:1]))

        def on_fill(self, fill, state, actions):  # type: ignore[no-untyped-def]
            pass

        def on_reject(self, reject, state, actions):  # type: ignore[no-untyped-def]
            pass

    from meshrt import Deployment, RecordedSpec, Scenario, Venue

    result = run(
        Scenario(
            name="deltas",
            seed=1,
            duration_ns=seconds(0.01),
            venues=[Venue(name="v", sources=[RecordedSpec(symbol="X", path=str(data))])],
            deployments=[Deployment(label="w", venue="v", symbols=["X"], algo=Watcher)],
        )
    )
    assert result.ok
    assert books[-1] == ((99_500_000_000,), (101_000_000_000,))


class Counting(MarketMaker):
    def report(self) -> dict[str, Any] | None:
        return {"books": self.params["size"] and 1, "note": "ok", "nested": {"a": [1, 2.5]}}


class BadReport(MarketMaker):
    def report(self) -> dict[str, Any] | None:
        return {"when": (1, 2)}  # a tuple comes back from JSON as a list


class RaisingReport(MarketMaker):
    def report(self) -> dict[str, Any] | None:
        raise RuntimeError("no counters today")


def test_an_algo_hands_back_its_own_figures_through_report(tmp_path: Path) -> None:
    result = run(
        scenario(
            deployment(Counting, label="counting"),
            deployment(MarketMaker, label="silent"),
            deployment(BadReport, label="tuple"),
            deployment(RaisingReport, label="raising"),
            updates=2_000,
        ),
        tmp_path,
    )
    assert result.ok
    assert result.reports == {
        "counting": {"books": 1, "note": "ok", "nested": {"a": [1, 2.5]}},
        "silent": None,
        "tuple": None,
        "raising": None,
    }
    on_disk = {
        d["label"]: d for d in orjson.loads((tmp_path / "summary.json").read_bytes())["deployments"]
    }
    assert on_disk["counting"]["report"] == result.reports["counting"]
    assert on_disk["counting"]["report_error"] is None
    assert on_disk["tuple"]["report_error"] == (
        "TypeError: report() does not survive JSON unchanged (a tuple, NaN or infinity?)"
    )
    assert on_disk["raising"]["report_error"] == "RuntimeError: no counters today"
    assert all(d["fills"] > 0 for d in on_disk.values()), "a bad report loses nothing else"
