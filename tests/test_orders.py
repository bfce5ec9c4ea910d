"""Order state machine: every transition, duplicates/reordering, fail-closed violations."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from meshrt.contract import ActionKind, Liquidity, RejectReason, Side, TimeInForce
from meshrt.sequencer.order import TERMINAL, InvariantViolation, Order, OrderStatus
from meshrt.sequencer.orders import OrderStateMachine
from meshrt.venues.reports import (
    Accepted,
    Cancelled,
    CancelRejected,
    Filled,
    Rejected,
    Replaced,
    VenueReport,
)

S = OrderStatus
PX = 100_000_000_000


def make_order(
    oid: int = 1,
    size: int = 10,
    side: Side = Side.BUY,
    client_id: int | None = None,
    deployment: str = "mm-a",
    symbol: str = "BTC-USD",
) -> Order:
    return Order(
        order_id=oid,
        deployment=deployment,
        client_id=oid if client_id is None else client_id,
        venue="sim",
        symbol=symbol,
        side=side,
        kind=ActionKind.LIMIT,
        tif=TimeInForce.GTC,
        price=PX,
        size=size,
        created_ts=0,
    )


def submitted(size: int = 10, oid: int = 1) -> OrderStateMachine:
    sm = OrderStateMachine()
    sm.create(make_order(oid, size))
    sm.submit(oid, 1)
    return sm


def acc(oid: int = 1, ts: int = 2) -> Accepted:
    return Accepted(ts, oid)


def rej(oid: int = 1, ts: int = 2) -> Rejected:
    return Rejected(ts, oid, RejectReason.NO_LIQUIDITY)


def fill(qty: int, oid: int = 1, ts: int = 3, fee: int = 0, remaining: int = 0) -> Filled:
    return Filled(ts, oid, PX, qty, Liquidity.MAKER, fee, remaining)


def cxl(remaining: int, oid: int = 1, ts: int = 4) -> Cancelled:
    return Cancelled(ts, oid, remaining)


def cxlrej(oid: int = 1, ts: int = 4) -> CancelRejected:
    return CancelRejected(ts, oid, RejectReason.UNKNOWN_ORDER)


def repl(price: int, size: int, remaining: int, oid: int = 1, ts: int = 4) -> Replaced:
    return Replaced(ts, oid, price, size, remaining)


# -- local transitions ------------------------------------------------------------------


def test_create_and_submit() -> None:
    sm = OrderStateMachine()
    sm.create(make_order(1))
    assert sm.orders[1].status == S.CREATED
    assert sm.open_orders("mm-a") == 1 and sm.open_orders("other") == 0
    assert sm.find("mm-a", 1) is sm.orders[1]
    sm.submit(1, 5)
    assert sm.orders[1].status == S.SUBMITTED and sm.orders[1].last_ts == 5
    sm.check_invariants(1)


def test_create_refuses_duplicates_and_bad_orders() -> None:
    sm = OrderStateMachine()
    sm.create(make_order(1, client_id=7))
    with pytest.raises(InvariantViolation, match="order id already in use"):
        sm.create(make_order(1, client_id=8))
    with pytest.raises(InvariantViolation, match="client id"):
        sm.create(make_order(2, client_id=7))
    sm.create(make_order(3, client_id=7, deployment="mm-b"))  # client ids are per deployment
    with pytest.raises(InvariantViolation, match="size 0"):
        sm.create(make_order(4, size=0))
    assert set(sm.orders) == {1, 3}


def test_submit_twice_is_a_violation() -> None:
    sm = submitted()
    with pytest.raises(InvariantViolation, match="SUBMITTED --submit--> SUBMITTED"):
        sm.submit(1, 2)


def test_accept_then_partial_then_full_fill() -> None:
    sm = submitted()
    assert sm.apply_report(acc(), "a")
    assert sm.orders[1].status == S.ACCEPTED
    assert sm.apply_report(fill(4, fee=3), "f1")
    o = sm.orders[1]
    assert (o.status, o.filled, o.remaining, o.fees) == (S.PARTIALLY_FILLED, 4, 6, 3)
    assert sm.open_orders("mm-a") == 1
    assert sm.apply_report(fill(6, fee=5, ts=9), "f2")
    assert (o.status, o.filled, o.remaining, o.fees, o.terminal_cum) == (S.FILLED, 10, 0, 8, 10)
    assert o.last_ts == 9
    assert sm.open_orders("mm-a") == 0
    sm.check_invariants(1)


def test_fill_on_submitted_implies_acceptance_and_late_accept_is_noop() -> None:
    sm = submitted()
    assert sm.apply_report(fill(3), "f1")
    assert sm.orders[1].status == S.PARTIALLY_FILLED
    assert sm.apply_report(acc(), "a")  # new key: recorded, but changes nothing
    assert sm.orders[1].status == S.PARTIALLY_FILLED and sm.orders[1].filled == 3


def test_full_fill_on_submitted_goes_straight_to_filled() -> None:
    sm = submitted()
    sm.apply_report(fill(10), "f1")
    assert sm.orders[1].status == S.FILLED


def test_duplicate_key_is_a_noop() -> None:
    sm = submitted()
    sm.apply_report(acc(), "a")
    assert sm.apply_report(fill(4), "f1")
    assert not sm.apply_report(fill(4), "f1")
    assert sm.orders[1].filled == 4
    # the same fill size under a new key is a distinct fill
    assert sm.apply_report(fill(4), "f2")
    assert sm.orders[1].filled == 8


@pytest.mark.parametrize(
    "status_reports, expected",
    [
        ([], RejectReason.ILLEGAL_TRANSITION),  # SUBMITTED: not acknowledged yet
        ([acc()], None),  # ACCEPTED
        ([acc(), fill(3)], None),  # PARTIALLY_FILLED
        ([acc(), fill(10)], RejectReason.ILLEGAL_TRANSITION),  # FILLED
        ([rej()], RejectReason.ILLEGAL_TRANSITION),  # REJECTED
        ([acc(), cxl(10)], RejectReason.ILLEGAL_TRANSITION),  # CANCELLED
    ],
)
def test_request_cancel(status_reports: list[VenueReport], expected: RejectReason | None) -> None:
    sm = submitted()
    for i, r in enumerate(status_reports):
        sm.apply_report(r, i)
    before = sm.orders[1].status
    assert sm.request_cancel(1, 7) == expected
    if expected is None:
        assert sm.orders[1].status == S.CANCEL_PENDING and sm.orders[1].last_ts == 7
    else:
        assert sm.orders[1].status == before


def test_request_cancel_unknown_created_and_twice() -> None:
    sm = OrderStateMachine()
    assert sm.request_cancel(99, 1) == RejectReason.UNKNOWN_ORDER
    sm.create(make_order(1))
    assert sm.request_cancel(1, 1) == RejectReason.ILLEGAL_TRANSITION
    sm.submit(1, 1)
    sm.apply_report(acc(), "a")
    assert sm.request_cancel(1, 2) is None
    assert sm.request_cancel(1, 3) == RejectReason.ILLEGAL_TRANSITION
    assert sm.orders[1].status == S.CANCEL_PENDING


def test_cancel_pending_then_cancelled() -> None:
    sm = submitted()
    sm.apply_report(acc(), "a")
    sm.apply_report(fill(3), "f1")
    sm.request_cancel(1, 3)
    assert sm.apply_report(cxl(7), "c")
    o = sm.orders[1]
    assert (o.status, o.filled, o.terminal_cum) == (S.CANCELLED, 3, 3)
    assert sm.open_orders("mm-a") == 0
    sm.check_invariants(1)


def test_fill_racing_cancel_stays_pending_then_fills() -> None:
    sm = submitted()
    sm.apply_report(acc(), "a")
    sm.request_cancel(1, 3)
    sm.apply_report(fill(4), "f1")
    assert sm.orders[1].status == S.CANCEL_PENDING and sm.orders[1].filled == 4
    sm.check_invariants(1)
    sm.apply_report(fill(6), "f2")
    assert sm.orders[1].status == S.FILLED
    sm.apply_report(cxlrej(), "cr")  # too late to cancel: stays FILLED
    assert sm.orders[1].status == S.FILLED


@pytest.mark.parametrize("fills, expected", [(0, S.ACCEPTED), (4, S.PARTIALLY_FILLED)])
def test_cancel_rejected_returns_to_what_fills_say(fills: int, expected: OrderStatus) -> None:
    sm = submitted()
    sm.apply_report(acc(), "a")
    if fills:
        sm.apply_report(fill(fills), "f")
    sm.request_cancel(1, 3)
    assert sm.apply_report(cxlrej(), "cr")
    assert sm.orders[1].status == expected
    # a stale cancel reject after that changes nothing
    sm.apply_report(cxlrej(), "cr2")
    assert sm.orders[1].status == expected


def test_a_cancel_reject_answers_the_oldest_request_so_a_refused_replace_keeps_the_cancel() -> None:
    sm = submitted()
    sm.apply_report(acc(), "a")
    sm.replace_sent(1)
    assert sm.request_cancel(1, 3) is None
    assert sm.orders[1].requests == [ActionKind.REPLACE, ActionKind.CANCEL]
    sm.apply_report(cxlrej(), "replace refused")  # answers the replace
    assert sm.orders[1].status == S.CANCEL_PENDING
    assert sm.orders[1].requests == [ActionKind.CANCEL]
    sm.apply_report(cxl(10), "cancelled")
    assert (sm.orders[1].status, sm.orders[1].requests) == (S.CANCELLED, [])


def test_a_replace_answered_leaves_the_cancel_behind_it_outstanding() -> None:
    sm = submitted()
    sm.apply_report(acc(), "a")
    sm.replace_sent(1)
    sm.request_cancel(1, 3)
    sm.apply_report(repl(PX, 12, 12), "r")
    assert (sm.orders[1].status, sm.orders[1].requests) == (S.CANCEL_PENDING, [ActionKind.CANCEL])
    sm.apply_report(cxlrej(), "too late")  # answers the cancel now
    assert (sm.orders[1].status, sm.orders[1].requests) == (S.ACCEPTED, [])


def test_terminal_report_before_fills_then_late_fills_up_to_terminal_cum() -> None:
    sm = submitted()
    sm.apply_report(cxl(6), "c")  # venue: cancelled after 4 filled; fills not delivered yet
    o = sm.orders[1]
    assert (o.status, o.terminal_cum, o.filled, o.outstanding_fills) == (S.CANCELLED, 4, 0, 4)
    assert sm.open_orders("mm-a") == 0
    sm.apply_report(fill(3), "f1")
    sm.apply_report(acc(), "a")
    sm.apply_report(fill(1), "f2")
    assert (o.status, o.filled, o.outstanding_fills) == (S.CANCELLED, 4, 0)
    with pytest.raises(InvariantViolation) as err:
        sm.apply_report(fill(1), "f3")
    msg = str(err.value)
    assert "order 1" in msg and "mm-a" in msg and "client id 1" in msg
    assert "CANCELLED --fill-->" in msg and "terminal cum 4" in msg
    assert err.value.order_id == 1
    # fail closed: nothing changed and the key was not consumed
    assert o.filled == 4 and "f3" not in o.seen_keys
    with pytest.raises(InvariantViolation):
        sm.apply_report(fill(1), "f3")


def test_cancelled_with_nothing_remaining_means_filled() -> None:
    # a cancel that raced the last fill; however the two arrive, the order ends FILLED
    for order_of in ([cxl(0), fill(10)], [fill(10), cxl(0)]):
        sm = submitted()
        sm.apply_report(acc(), "a")
        for i, r in enumerate(order_of):
            sm.apply_report(r, i)
        assert sm.orders[1].status == S.FILLED and sm.orders[1].filled == 10
        sm.check_invariants(1)


@pytest.mark.parametrize("prefix", [[], [acc()]])
def test_rejected_from_submitted_or_accepted(prefix: list[VenueReport]) -> None:
    sm = submitted()
    for i, r in enumerate(prefix):
        sm.apply_report(r, i)
    assert sm.apply_report(rej(), "r")
    o = sm.orders[1]
    assert (o.status, o.terminal_cum) == (S.REJECTED, 0)
    assert sm.open_orders("mm-a") == 0
    sm.apply_report(acc(), "late-a")  # accepted overtaken by the reject
    assert o.status == S.REJECTED
    sm.check_invariants(1)


def test_reject_while_cancel_pending_without_fills_ends_rejected() -> None:
    sm = submitted()
    sm.apply_report(acc(), "a")
    sm.request_cancel(1, 3)
    assert sm.apply_report(rej(), "r")
    assert sm.orders[1].status == S.REJECTED
    sm.apply_report(cxlrej(), "cr")
    assert sm.orders[1].status == S.REJECTED


def test_fill_after_reject_is_a_violation() -> None:
    sm = submitted()
    sm.apply_report(rej(), "r")
    with pytest.raises(InvariantViolation) as err:
        sm.apply_report(fill(1), "f")
    assert "order 1" in str(err.value) and "REJECTED --fill--> REJECTED" in str(err.value)
    assert "fill after reject" in str(err.value)
    assert sm.orders[1].filled == 0


@pytest.mark.parametrize("cancel_first", [False, True])
def test_reject_after_fills_is_a_violation(cancel_first: bool) -> None:
    sm = submitted()
    sm.apply_report(acc(), "a")
    sm.apply_report(fill(2), "f")
    if cancel_first:
        sm.request_cancel(1, 3)
    before = sm.orders[1].status
    with pytest.raises(
        InvariantViolation, match=r"order 1 .*--rejected--> REJECTED: rejected after fills"
    ):
        sm.apply_report(rej(), "r")
    assert sm.orders[1].status == before


def test_overfill_is_a_violation() -> None:
    sm = submitted()
    sm.apply_report(acc(), "a")
    sm.apply_report(fill(7), "f1")
    with pytest.raises(
        InvariantViolation, match=r"order 1 .*PARTIALLY_FILLED --fill--> \?: overfill"
    ):
        sm.apply_report(fill(4), "f2")
    assert sm.orders[1].filled == 7 and sm.orders[1].status == S.PARTIALLY_FILLED
    sm.apply_report(fill(3), "f3")
    with pytest.raises(InvariantViolation, match="FILLED --fill-->"):
        sm.apply_report(fill(1), "f4")


def test_nonpositive_fill_is_a_violation() -> None:
    sm = submitted()
    with pytest.raises(InvariantViolation, match="must be positive"):
        sm.apply_report(fill(0), "f")


def test_conflicting_terminal_reports_are_violations() -> None:
    sm = submitted()
    sm.apply_report(rej(), "r")
    with pytest.raises(InvariantViolation, match="conflicting terminal"):
        sm.apply_report(cxl(10), "c")
    assert sm.apply_report(rej(), "r2")  # the same verdict again is harmless
    sm2 = submitted(oid=1)
    sm2.apply_report(cxl(10), "c")
    with pytest.raises(InvariantViolation, match="conflicting terminal"):
        sm2.apply_report(rej(), "r")
    assert sm2.apply_report(cxl(10), "c2")  # same final cum: no-op
    with pytest.raises(InvariantViolation, match="contradicts"):
        sm2.apply_report(cxl(8), "c3")
    assert sm2.orders[1].status == S.CANCELLED and sm2.orders[1].terminal_cum == 0


def test_cancelled_below_fills_seen_is_a_violation() -> None:
    sm = submitted()
    sm.apply_report(fill(5), "f")
    with pytest.raises(InvariantViolation, match="already filled 5 but venue reports final cum 3"):
        sm.apply_report(cxl(7), "c")


def test_filled_ignores_non_terminal_reports() -> None:
    sm = submitted()
    sm.apply_report(fill(10), "f")
    for i, r in enumerate([acc(), cxlrej(), repl(PX + 1, 20, 10)]):
        assert sm.apply_report(r, i)
        assert sm.orders[1].status == S.FILLED
    assert sm.orders[1].size == 10 and sm.orders[1].price == PX


def test_replace_updates_price_and_size() -> None:
    sm = submitted()
    sm.apply_report(acc(), "a")
    sm.apply_report(fill(3), "f")
    assert sm.apply_report(repl(PX + 5, 20, 17), "p")
    o = sm.orders[1]
    assert (o.price, o.size, o.filled, o.remaining, o.status) == (
        PX + 5,
        20,
        3,
        17,
        S.PARTIALLY_FILLED,
    )
    sm.check_invariants(1)


def test_replace_below_filled_is_a_violation_and_equal_means_filled() -> None:
    sm = submitted()
    sm.apply_report(acc(), "a")
    sm.apply_report(fill(6), "f")
    with pytest.raises(InvariantViolation, match="new size 5 is below filled 6"):
        sm.apply_report(repl(PX, 5, 1), "p")
    assert sm.orders[1].size == 10
    # venue shrank the order to 6 and filled it; the fills overtook the replace
    sm.apply_report(repl(PX, 6, 3), "p2")
    assert sm.orders[1].status == S.FILLED and sm.orders[1].terminal_cum == 6


def test_replace_on_submitted_implies_acceptance() -> None:
    sm = submitted()
    sm.apply_report(repl(PX + 1, 8, 8), "p")
    assert sm.orders[1].status == S.ACCEPTED and sm.orders[1].size == 8


def test_validate_replace() -> None:
    sm = submitted()
    assert sm.validate_replace(1, PX, 20) == RejectReason.ILLEGAL_TRANSITION  # not acked
    sm.apply_report(acc(), "a")
    sm.apply_report(fill(4), "f")
    assert sm.validate_replace(1, PX, 20) is None
    assert sm.validate_replace(1, PX, 4) == RejectReason.INVALID_SIZE
    assert sm.validate_replace(1, None, 20) == RejectReason.INVALID_PRICE
    assert sm.validate_replace(2, PX, 20) == RejectReason.UNKNOWN_ORDER
    assert sm.orders[1].size == 10  # validation changes nothing


def test_reports_before_submission_and_for_unknown_orders_are_violations() -> None:
    sm = OrderStateMachine()
    sm.create(make_order(1))
    for r in (acc(), fill(1), rej(), cxl(10), cxlrej(), repl(PX, 5, 5)):
        with pytest.raises(InvariantViolation, match="order 1"):
            sm.apply_report(r, "k")
        assert sm.orders[1].status == S.CREATED
    with pytest.raises(InvariantViolation, match=r"order 42.*no such order"):
        sm.apply_report(acc(oid=42), "k")


def test_open_orders_and_exposure() -> None:
    sm = OrderStateMachine()
    sm.create(make_order(1, 10, Side.BUY))
    sm.create(make_order(2, 5, Side.SELL))
    sm.create(make_order(3, 7, Side.BUY, symbol="ETH-USD"))
    sm.create(make_order(4, 9, Side.BUY, deployment="mm-b"))
    for oid in (1, 2, 3, 4):
        sm.submit(oid, 1)
    sm.apply_report(fill(4, oid=1), "f")
    assert sm.open_orders("mm-a") == 3
    assert sm.open_exposure("mm-a", "BTC-USD") == (6, 5)
    assert sm.open_exposure("mm-a", "ETH-USD") == (7, 0)
    sm.apply_report(rej(oid=2), "r")
    assert sm.open_orders("mm-a") == 2
    assert sm.open_exposure("mm-a", "BTC-USD") == (6, 0)
    assert [o.order_id for o in sm.live_orders("mm-a")] == [1, 3]


def test_check_invariants_detects_corruption() -> None:
    sm = submitted()
    sm.apply_report(acc(), "a")
    sm.check_invariants(1)
    sm.orders[1].filled = 3  # ACCEPTED with fills: impossible
    with pytest.raises(InvariantViolation, match="ACCEPTED with filled 3"):
        sm.check_invariants(1)
    sm.orders[1].status = S.FILLED  # terminal but still in the live index, no terminal cum
    with pytest.raises(InvariantViolation, match="terminal cum"):
        sm.check_invariants(1)


def lines_run(action: Callable[[], object]) -> int:
    """How many Python lines ``action`` executes: a cost that does not depend on the clock."""
    count = 0

    def trace(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        count += event == "line"
        return trace

    sys.settrace(trace)
    try:
        action()
    finally:
        sys.settrace(None)
    return count


def test_a_fill_report_costs_the_same_with_many_orders_open() -> None:
    # guards against O(open orders) work on the hot path; bench/order_reports.py has the time
    costs = []
    for n in (10, 1_000):
        sm = OrderStateMachine()
        for oid in range(n):
            sm.create(make_order(oid, size=10))
            sm.submit(oid, 0)
        partial = lines_run(lambda sm=sm, n=n: sm.apply_report(fill(1, oid=n // 2), "partial"))
        full = lines_run(lambda sm=sm, n=n: sm.apply_report(fill(9, oid=n // 2), "full"))
        assert sm.orders[n // 2].status == S.FILLED
        assert [o.filled for o in sm.orders.values()].count(0) == n - 1
        costs.append((partial, full))
    assert costs[0] == costs[1], costs


# -- property: duplicates and reordering ------------------------------------------------


@st.composite
def venue_histories(draw: st.DrawFn) -> tuple[int, list[VenueReport], OrderStatus, int]:
    """A physically possible venue history: (size, reports in venue order, final status, cum)."""
    size = draw(st.integers(1, 1000))
    outcome = draw(st.sampled_from(["reject", "accept_reject", "open", "full", "cancel"]))
    if outcome == "reject":
        return size, [rej(ts=2)], S.REJECTED, 0
    if outcome == "accept_reject":
        return size, [acc(ts=2), rej(ts=3)], S.REJECTED, 0
    history: list[VenueReport] = []
    if draw(st.booleans()):  # some venues never ack an order that fills at once (IOC)
        history.append(acc(ts=2))
    # cut points split the cumulative fill into partial fills
    cum = size if outcome == "full" else draw(st.integers(0, size - 1))
    cuts = sorted(draw(st.sets(st.integers(1, cum - 1), max_size=6))) if cum > 1 else []
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, cum], strict=True)] if cum else []
    ts = 3
    for q in sizes:
        cum_so_far = sum(r.size for r in history if type(r) is Filled) + q
        history.append(fill(q, ts=ts, fee=q % 7 - 3, remaining=size - cum_so_far))
        ts += 1
    if outcome == "cancel":
        history.append(cxl(size - cum, ts=ts))
        return size, history, S.CANCELLED, cum
    if outcome == "full":
        return size, history, S.FILLED, cum
    status = S.PARTIALLY_FILLED if cum else (S.ACCEPTED if history else S.SUBMITTED)
    return size, history, status, cum


def deliver(
    sm: OrderStateMachine,
    delivery: list[tuple[VenueReport, int]],
    size: int,
    cancel_answer_kind: type[VenueReport] | None = None,
) -> None:
    """Apply reports one by one, checking the per-step invariants.

    With ``cancel_answer_kind``, the order is CANCEL_PENDING and must stay so (or fill
    up) until the venue's answer to the cancel is applied.
    """
    o = sm.orders[1]
    terminal: OrderStatus | None = None
    answered = False
    for report, key in delivery:
        before = o.filled
        sm.apply_report(report, key)
        answered = answered or type(report) is cancel_answer_kind
        if cancel_answer_kind is not None and not answered:
            assert o.status in (S.CANCEL_PENDING, S.FILLED)
        assert o.filled >= before
        assert o.filled <= o.size == size
        if terminal is not None:
            assert o.status == terminal  # terminal is terminal (and keeps its verdict)
        elif o.status in TERMINAL:
            terminal = o.status
        sm.check_invariants(1)


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(venue_histories(), st.data())
def test_duplicated_reordered_delivery_converges(
    history_and_expectation: Any, data: st.DataObject
) -> None:
    size, history, final_status, cum = history_and_expectation
    keyed = [(r, k) for k, r in enumerate(history)]

    in_order = submitted(size)
    deliver(in_order, keyed, size)

    copies = data.draw(st.lists(st.integers(1, 3), min_size=len(keyed), max_size=len(keyed)))
    noisy = [item for item, n in zip(keyed, copies, strict=True) for _ in range(n)]
    noisy = data.draw(st.permutations(noisy))
    shuffled = submitted(size)
    deliver(shuffled, noisy, size)

    for sm in (in_order, shuffled):
        o = sm.orders[1]
        assert (o.status, o.filled) == (final_status, cum)
        assert o.fees == sum(r.fee for r in history if type(r) is Filled)
        assert sm.open_orders("mm-a") == (0 if final_status in TERMINAL else 1)
    assert in_order.orders[1].terminal_cum == shuffled.orders[1].terminal_cum


@st.composite
def cancel_races(draw: st.DrawFn) -> tuple[int, list[VenueReport], OrderStatus, int]:
    """After ACCEPTED and a local cancel request: fills racing the venue's answer."""
    size = draw(st.integers(2, 1000))
    answer = draw(st.sampled_from(["cancelled", "cancel_rejected"]))
    if answer == "cancelled":
        cum = draw(st.integers(0, size - 1))
    else:
        cum = draw(st.sampled_from([size, draw(st.integers(0, size - 1))]))
    cuts = sorted(draw(st.sets(st.integers(1, cum - 1), max_size=5))) if cum > 1 else []
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, cum], strict=True)] if cum else []
    reports = [fill(q, ts=10 + i) for i, q in enumerate(sizes)]
    if answer == "cancelled":
        reports.append(cxl(size - cum, ts=50))
        return size, reports, S.CANCELLED, cum
    reports.append(cxlrej(ts=50))
    final = S.FILLED if cum == size else (S.PARTIALLY_FILLED if cum else S.ACCEPTED)
    return size, reports, final, cum


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(cancel_races(), st.data())
def test_cancel_race_converges(race: Any, data: st.DataObject) -> None:
    size, reports, final_status, cum = race
    keyed = [(r, k) for k, r in enumerate(reports, start=1)]
    results = []
    for delivery in (
        keyed,
        data.draw(st.permutations(keyed + data.draw(st.lists(st.sampled_from(keyed))))),
    ):
        sm = submitted(size)
        sm.apply_report(acc(), 0)
        assert sm.request_cancel(1, 5) is None
        deliver(sm, delivery, size, cancel_answer_kind=type(reports[-1]))
        o = sm.orders[1]
        results.append((o.status, o.filled, o.terminal_cum))
    assert results[0] == results[1]
    assert results[0][:2] == (final_status, cum)


@pytest.mark.property
@settings(max_examples=200, deadline=None)
@given(venue_histories(), st.data())
def test_impossible_report_raises_naming_order_and_transition(
    history_and_expectation: Any, data: st.DataObject
) -> None:
    size, history, final_status, _cum = history_and_expectation
    sm = submitted(size)
    deliver(sm, data.draw(st.permutations([(r, k) for k, r in enumerate(history)])), size)
    o = sm.orders[1]
    before = (o.status, o.filled, o.size, o.terminal_cum, frozenset(o.seen_keys))
    if o.terminal_cum is not None:
        bad = fill(o.terminal_cum - o.filled + 1)  # more than the venue's final cum
    else:
        bad = fill(o.size - o.filled + 1)  # more than the order's size
    impossible = [bad]
    if o.filled > 0:
        impossible.append(rej())  # a reject after fills
    for report in impossible:
        with pytest.raises(InvariantViolation) as err:
            sm.apply_report(report, "impossible")
        msg = str(err.value)
        assert "order 1 " in msg and "'mm-a'" in msg
        assert f"{final_status.name} --" in msg  # the state it was in
        assert ("--fill-->" in msg) or ("--rejected-->" in msg)  # the report attempted
        assert (o.status, o.filled, o.size, o.terminal_cum, frozenset(o.seen_keys)) == before
