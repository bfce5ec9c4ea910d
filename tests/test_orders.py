"""Order state machine: every transition, duplicates/reordering, fail-closed violations."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from meshrt.contract import ActionKind, Liquidity, RejectReason, Side, TimeInForce
from meshrt.sequencer.order import (
    TERMINAL,
    InvariantViolation,
    Order,
    OrderStatus,
    created_order,
)
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


class Venue:
    """One order's reports as its venue makes them, the order report contract filled in:
    ``cum`` and ``leaves`` after each, and the order's exec_seq (1, 2, ...)."""

    def __init__(self, size: int = 10, oid: int = 1) -> None:
        self.oid, self.size, self.cum, self.seq = oid, size, 0, 0

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def acc(self, ts: int = 2) -> Accepted:
        return Accepted(ts, self.oid, 0, self.size, self._next())

    def rej(self, ts: int = 2) -> Rejected:
        return Rejected(ts, self.oid, RejectReason.NO_LIQUIDITY, 0, 0, self._next())

    def fill(self, qty: int, ts: int = 3, fee: int = 0) -> Filled:
        self.cum += qty
        leaves = self.size - self.cum
        return Filled(ts, self.oid, PX, qty, Liquidity.MAKER, fee, leaves, self.cum, self._next())

    def cxl(self, ts: int = 4) -> Cancelled:
        return Cancelled(ts, self.oid, self.size - self.cum, self.cum, 0, self._next())

    def repl(self, price: int, size: int, ts: int = 4) -> Replaced:
        self.size = size
        return Replaced(ts, self.oid, price, size, size - self.cum, self.cum, self._next())

    def refused(self, request: ActionKind = ActionKind.CANCEL, ts: int = 4) -> CancelRejected:
        """The venue refuses a request for the order it still holds (as of its last report)."""
        leaves = self.size - self.cum
        reason = RejectReason.INVALID_SIZE
        return CancelRejected(ts, self.oid, reason, request, self.cum, leaves, self.seq)

    def unknown(self, request: ActionKind = ActionKind.CANCEL, ts: int = 4) -> CancelRejected:
        """The venue no longer holds the order: too late to cancel or replace."""
        return CancelRejected(ts, self.oid, RejectReason.UNKNOWN_ORDER, request, 0, 0, 0)


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


FIELDS = ["order_id", "deployment", "client_id", "venue", "symbol", "side", "kind", "tif"]
FIELDS += ["price", "size", "filled", "booked", "status", "created_ts", "last_ts", "fees"]
FIELDS += ["exec_seq", "replace_seq", "seen_keys", "requests"]


@pytest.mark.parametrize(
    ("kind", "price", "tif"),
    [(ActionKind.LIMIT, PX, TimeInForce.GTC), (ActionKind.MARKET, None, TimeInForce.IOC)],
)
def test_the_desk_s_factory_builds_the_order_the_keywords_build(
    kind: ActionKind, price: int | None, tif: TimeInForce
) -> None:
    client_id, ts = 2**64 - 1, 2**62
    built = created_order(7, "mm-a", client_id, "sim", "BTC", Side.SELL, kind, tif, price, 3, ts)
    keywords = Order(
        order_id=7,
        deployment="mm-a",
        client_id=client_id,
        venue="sim",
        symbol="BTC",
        side=Side.SELL,
        kind=kind,
        tif=tif,
        price=price,
        size=3,
        created_ts=ts,
    )
    assert [getattr(built, f) for f in FIELDS] == [getattr(keywords, f) for f in FIELDS]
    assert built.__reduce__() == keywords.__reduce__()  # every field, as a checkpoint holds it
    assert built.seen_keys is not keywords.seen_keys and built.requests is not keywords.requests
    assert type(built.fees) is int and built.status is S.CREATED and built.last_ts == ts


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
    sm, v = submitted(), Venue()
    assert sm.apply_report(v.acc(), "a")
    assert sm.orders[1].status == S.ACCEPTED
    assert sm.apply_report(v.fill(4, fee=3), "f1")
    o = sm.orders[1]
    assert (o.status, o.filled, o.booked, o.remaining, o.fees) == (S.PARTIALLY_FILLED, 4, 4, 6, 3)
    assert sm.open_orders("mm-a") == 1
    assert sm.apply_report(v.fill(6, fee=5, ts=9), "f2")
    assert (o.status, o.filled, o.remaining, o.fees, o.exec_seq) == (S.FILLED, 10, 0, 8, 3)
    assert o.last_ts == 9 and o.settled
    assert sm.open_orders("mm-a") == 0
    sm.check_invariants(1)


def test_fill_on_submitted_implies_acceptance_and_late_accept_is_noop() -> None:
    sm, v = submitted(), Venue()
    accepted = v.acc()
    assert sm.apply_report(v.fill(3), "f1")
    assert sm.orders[1].status == S.PARTIALLY_FILLED
    assert sm.apply_report(accepted, "a")  # new key: recorded, but changes nothing
    assert sm.orders[1].status == S.PARTIALLY_FILLED and sm.orders[1].filled == 3


def test_full_fill_on_submitted_goes_straight_to_filled() -> None:
    sm = submitted()
    sm.apply_report(Venue().fill(10), "f1")
    assert sm.orders[1].status == S.FILLED


def test_duplicate_key_is_a_noop_and_a_fill_counted_twice_is_an_overfill() -> None:
    sm, v = submitted(), Venue()
    sm.apply_report(v.acc(), "a")
    first = v.fill(4)
    assert sm.apply_report(first, "f1")
    assert not sm.apply_report(first, "f1")
    assert sm.orders[1].filled == 4
    # the same fill size under a new key is a distinct fill: its own exec_seq and cum
    assert sm.apply_report(v.fill(4), "f2")
    assert (sm.orders[1].filled, sm.orders[1].booked) == (8, 8)
    # the first fill again under another key books more than the venue's cum: overfill
    with pytest.raises(InvariantViolation, match="overfill: fills of 12 booked"):
        sm.apply_report(first, "f3")
    assert (sm.orders[1].filled, sm.orders[1].booked) == (8, 8)


def _reached(reports: str) -> tuple[OrderStateMachine, Venue]:
    """An order driven by the venue through ``reports`` (a: accepted, f: fill 3, F: fill
    the rest, r: rejected, c: cancelled), in order."""
    sm, v = submitted(), Venue()
    for i, step in enumerate(reports):
        report = {
            "a": v.acc,
            "r": v.rej,
            "c": v.cxl,
            "f": lambda: v.fill(3),
            "F": lambda: v.fill(v.size - v.cum),
        }[step]()
        sm.apply_report(report, i)
    return sm, v


@pytest.mark.parametrize(
    "reports, expected",
    [
        ("", RejectReason.ILLEGAL_TRANSITION),  # SUBMITTED: not acknowledged yet
        ("a", None),  # ACCEPTED
        ("af", None),  # PARTIALLY_FILLED
        ("aF", RejectReason.ILLEGAL_TRANSITION),  # FILLED
        ("r", RejectReason.ILLEGAL_TRANSITION),  # REJECTED
        ("ac", RejectReason.ILLEGAL_TRANSITION),  # CANCELLED
    ],
)
def test_request_cancel(reports: str, expected: RejectReason | None) -> None:
    sm, _ = _reached(reports)
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
    sm.apply_report(Venue().acc(), "a")
    assert sm.request_cancel(1, 2) is None
    assert sm.request_cancel(1, 3) == RejectReason.ILLEGAL_TRANSITION
    assert sm.orders[1].status == S.CANCEL_PENDING


def test_cancel_pending_then_cancelled() -> None:
    sm, v = _reached("af")
    sm.request_cancel(1, 3)
    assert sm.apply_report(v.cxl(), "c")
    o = sm.orders[1]
    assert (o.status, o.filled, o.requests, o.settled) == (S.CANCELLED, 3, [], True)
    assert sm.open_orders("mm-a") == 0
    sm.check_invariants(1)


def test_fill_racing_cancel_stays_pending_then_fills() -> None:
    sm, v = _reached("a")
    sm.request_cancel(1, 3)
    sm.apply_report(v.fill(4), "f1")
    assert sm.orders[1].status == S.CANCEL_PENDING and sm.orders[1].filled == 4
    sm.check_invariants(1)
    sm.apply_report(v.fill(6), "f2")
    assert sm.orders[1].status == S.FILLED and not sm.orders[1].settled  # the cancel is open
    sm.apply_report(v.unknown(), "cr")  # too late to cancel: stays FILLED
    assert sm.orders[1].status == S.FILLED and sm.orders[1].settled


@pytest.mark.parametrize("fills, expected", [(0, S.ACCEPTED), (4, S.PARTIALLY_FILLED)])
def test_cancel_rejected_returns_to_what_fills_say(fills: int, expected: OrderStatus) -> None:
    sm, v = _reached("a")
    if fills:
        sm.apply_report(v.fill(fills), "f")
    sm.request_cancel(1, 3)
    assert sm.apply_report(v.refused(), "cr")
    assert sm.orders[1].status == expected
    # a stale cancel reject after that changes nothing
    sm.apply_report(v.refused(), "cr2")
    assert sm.orders[1].status == expected


def test_a_cancel_reject_answers_the_request_it_names_so_a_refused_replace_keeps_the_cancel() -> (
    None
):
    sm, v = _reached("a")
    sm.replace_sent(1)
    assert sm.request_cancel(1, 3) is None
    assert sm.orders[1].requests == [ActionKind.REPLACE, ActionKind.CANCEL]
    sm.apply_report(v.refused(ActionKind.REPLACE), "replace refused")
    assert sm.orders[1].status == S.CANCEL_PENDING
    assert sm.orders[1].requests == [ActionKind.CANCEL]
    sm.apply_report(v.cxl(), "cancelled")
    assert (sm.orders[1].status, sm.orders[1].requests) == (S.CANCELLED, [])


def test_a_cancel_reject_overtaking_the_replace_answers_the_cancel() -> None:
    sm, v = _reached("a")
    sm.replace_sent(1)
    sm.request_cancel(1, 3)
    replaced, too_late = v.repl(PX, 12), v.refused(ActionKind.CANCEL)
    sm.apply_report(too_late, "too late")  # arrives first: it answers the cancel
    assert (sm.orders[1].status, sm.orders[1].requests) == (S.ACCEPTED, [ActionKind.REPLACE])
    sm.apply_report(replaced, "r")
    assert (sm.orders[1].status, sm.orders[1].requests, sm.orders[1].size) == (S.ACCEPTED, [], 12)


def test_terminal_report_before_fills_then_late_fills_up_to_the_final_cum() -> None:
    sm, v = submitted(), Venue()
    reports = [v.acc(), v.fill(3), v.fill(1), v.cxl()]  # venue: cancelled after 4 filled
    bad = Filled(4, 1, PX, 1, Liquidity.MAKER, 0, 5, 5, 3)  # a fill the venue never made
    sm.apply_report(reports[3], "c")
    o = sm.orders[1]
    assert (o.status, o.filled, o.booked, o.outstanding_fills) == (S.CANCELLED, 4, 0, 4)
    assert sm.open_orders("mm-a") == 0 and not o.settled
    sm.apply_report(reports[1], "f1")
    sm.apply_report(reports[0], "a")
    sm.apply_report(reports[2], "f2")
    assert (o.status, o.filled, o.booked, o.outstanding_fills, o.settled) == (
        S.CANCELLED,
        4,
        4,
        0,
        True,
    )
    with pytest.raises(InvariantViolation) as err:
        sm.apply_report(bad, "f3")
    msg = str(err.value)
    assert "order 1" in msg and "mm-a" in msg and "client id 1" in msg
    assert "CANCELLED --fill-->" in msg and "cum 5 at exec_seq 3 is above cum 4" in msg
    assert err.value.order_id == 1
    # fail closed: nothing changed and the key was not consumed
    assert o.booked == 4 and "f3" not in o.seen_keys
    with pytest.raises(InvariantViolation):
        sm.apply_report(bad, "f3")


def test_cancelled_with_nothing_remaining_means_filled() -> None:
    # a cancel that raced the last fill; however the two arrive, the order ends FILLED
    v = Venue()
    accepted, last = v.acc(), v.fill(10)
    done = Cancelled(4, 1, 0, 10, 0, 3)
    for order_of in ([done, last], [last, done]):
        sm = submitted()
        sm.apply_report(accepted, "a")
        for i, r in enumerate(order_of):
            sm.apply_report(r, i)
        assert sm.orders[1].status == S.FILLED and sm.orders[1].filled == 10
        sm.check_invariants(1)


@pytest.mark.parametrize("prefix", ["", "a"])
def test_rejected_from_submitted_or_accepted(prefix: str) -> None:
    sm, v = _reached(prefix)
    assert sm.apply_report(v.rej(), "r")
    o = sm.orders[1]
    assert (o.status, o.filled) == (S.REJECTED, 0)
    assert sm.open_orders("mm-a") == 0
    sm.apply_report(Venue().acc(), "late-a")  # accepted overtaken by the reject
    assert o.status == S.REJECTED
    sm.check_invariants(1)


def test_reject_while_cancel_pending_without_fills_ends_rejected() -> None:
    sm, v = _reached("a")
    sm.request_cancel(1, 3)
    assert sm.apply_report(v.rej(), "r")
    assert sm.orders[1].status == S.REJECTED
    sm.apply_report(v.unknown(), "cr")
    assert sm.orders[1].status == S.REJECTED and sm.orders[1].settled


def test_fill_after_reject_is_a_violation() -> None:
    sm, _ = _reached("r")
    with pytest.raises(InvariantViolation) as err:
        sm.apply_report(Venue().fill(1), "f")
    assert "order 1" in str(err.value) and "REJECTED --fill--> REJECTED" in str(err.value)
    assert "fill after reject" in str(err.value)
    assert sm.orders[1].filled == 0


@pytest.mark.parametrize("cancel_first", [False, True])
def test_reject_after_fills_is_a_violation(cancel_first: bool) -> None:
    sm, v = _reached("a")
    sm.apply_report(v.fill(2), "f")
    if cancel_first:
        sm.request_cancel(1, 3)
    before = sm.orders[1].status
    with pytest.raises(
        InvariantViolation, match=r"order 1 .*--rejected--> REJECTED: rejected after fills"
    ):
        sm.apply_report(v.rej(), "r")
    assert sm.orders[1].status == before


def test_overfill_is_a_violation() -> None:
    sm, v = _reached("a")
    sm.apply_report(v.fill(7), "f1")
    over = Filled(3, 1, PX, 4, Liquidity.MAKER, 0, 0, 11, 3)  # cum 11 of size 10
    with pytest.raises(
        InvariantViolation, match=r"order 1 .*PARTIALLY_FILLED --fill--> \?: overfill: size 11"
    ):
        sm.apply_report(over, "f2")
    assert sm.orders[1].filled == 7 and sm.orders[1].status == S.PARTIALLY_FILLED
    sm.apply_report(v.fill(3), "f3")
    more = Filled(3, 1, PX, 1, Liquidity.MAKER, 0, 0, 11, 4)  # a fill after the last
    with pytest.raises(InvariantViolation, match=r"FILLED --fill--> .*after the order ended"):
        sm.apply_report(more, "f4")


@pytest.mark.parametrize(
    "report, why",
    [
        (Filled(3, 1, PX, 0, Liquidity.MAKER, 0, 10, 0, 1), "fill size 0 must be positive"),
        (
            Filled(3, 1, PX, 5, Liquidity.MAKER, 0, 7, 3, 1),
            "fill size 5 must be positive and within cum 3",
        ),
        (Accepted(3, 1, 0, 10, 0), "exec_seq 0, cum 0, leaves 10 out of range"),
        (Cancelled(3, 1, 4, 6, 2, 1), "cancelled with leaves 2"),
        (Replaced(3, 1, PX, 12, 3, 0, 1), "new size 12 with cum 0 and leaves 3"),
        (CancelRejected(3, 1, 0, ActionKind.LIMIT, 0, 0, 0), "answers request kind 1"),
    ],
)
def test_a_report_that_contradicts_itself_is_a_violation(report: VenueReport, why: str) -> None:
    sm = submitted()
    with pytest.raises(InvariantViolation, match=why):
        sm.apply_report(report, "bad")
    assert sm.orders[1].status == S.SUBMITTED and not sm.orders[1].seen_keys


def test_conflicting_terminal_reports_are_violations() -> None:
    sm, _ = _reached("r")
    with pytest.raises(InvariantViolation, match="conflicting terminal"):
        sm.apply_report(Cancelled(4, 1, 10, 0, 0, 1), "c")
    assert sm.apply_report(Rejected(2, 1, RejectReason.NO_LIQUIDITY, 0, 0, 1), "r2")  # again
    sm2, _ = _reached("c")
    with pytest.raises(InvariantViolation, match="conflicting terminal"):
        sm2.apply_report(Rejected(2, 1, RejectReason.NO_LIQUIDITY, 0, 0, 1), "r")
    assert sm2.apply_report(Cancelled(4, 1, 10, 0, 0, 1), "c2")  # the same cancel: no-op
    with pytest.raises(InvariantViolation, match="after the order ended"):
        sm2.apply_report(Cancelled(4, 1, 8, 2, 0, 2), "c3")
    with pytest.raises(InvariantViolation, match="conflicting terminal"):
        sm2.apply_report(Filled(3, 1, PX, 10, Liquidity.MAKER, 0, 0, 10, 1), "f")
    assert (sm2.orders[1].status, sm2.orders[1].filled) == (S.CANCELLED, 0)


def test_cum_never_decreases_with_exec_seq() -> None:
    sm, v = _reached("a")
    sm.apply_report(v.fill(5), "f")
    with pytest.raises(InvariantViolation, match="cum 3 at exec_seq 3 is below cum 5"):
        sm.apply_report(Cancelled(4, 1, 7, 3, 0, 3), "c")


def test_filled_ignores_non_terminal_reports_but_an_older_replace_sets_the_price() -> None:
    sm, v = submitted(), Venue()
    sm.replace_sent(1)
    accepted, replaced = v.acc(), v.repl(PX + 1, 20)
    sm.apply_report(v.fill(20), "f")
    assert (sm.orders[1].status, sm.orders[1].size) == (S.FILLED, 20)
    for i, r in enumerate([accepted, Venue().unknown(), replaced]):
        assert sm.apply_report(r, i)
        assert sm.orders[1].status == S.FILLED
    assert (sm.orders[1].size, sm.orders[1].price, sm.orders[1].settled) == (20, PX + 1, True)


def test_replace_updates_price_and_size() -> None:
    sm, v = _reached("af")
    sm.replace_sent(1)
    assert sm.apply_report(v.repl(PX + 5, 20), "p")
    o = sm.orders[1]
    assert (o.price, o.size, o.filled, o.remaining, o.status, o.requests) == (
        PX + 5,
        20,
        3,
        17,
        S.PARTIALLY_FILLED,
        [],
    )
    sm.check_invariants(1)


def test_replace_on_submitted_implies_acceptance() -> None:
    sm, v = submitted(), Venue()
    sm.replace_sent(1)
    v.acc()
    sm.apply_report(v.repl(PX + 1, 8), "p")
    assert sm.orders[1].status == S.ACCEPTED and sm.orders[1].size == 8


def test_validate_replace() -> None:
    sm, v = submitted(), Venue()
    assert sm.validate_replace(1, PX, 20) == RejectReason.ILLEGAL_TRANSITION  # not acked
    sm.apply_report(v.acc(), "a")
    sm.apply_report(v.fill(4), "f")
    assert sm.validate_replace(1, PX, 20) is None
    assert sm.validate_replace(1, PX, 4) == RejectReason.INVALID_SIZE
    assert sm.validate_replace(1, None, 20) == RejectReason.INVALID_PRICE
    assert sm.validate_replace(2, PX, 20) == RejectReason.UNKNOWN_ORDER
    assert sm.orders[1].size == 10  # validation changes nothing


def test_reports_before_submission_and_for_unknown_orders_are_violations() -> None:
    sm = OrderStateMachine()
    sm.create(make_order(1))
    v = Venue()
    for r in (v.acc(), v.fill(1), v.rej(), v.cxl(), v.unknown(), v.repl(PX, 5)):
        with pytest.raises(InvariantViolation, match="order 1"):
            sm.apply_report(r, "k")
        assert sm.orders[1].status == S.CREATED
    with pytest.raises(InvariantViolation, match=r"order 42.*no such order"):
        sm.apply_report(Venue(oid=42).acc(), "k")


def test_open_orders_and_exposure() -> None:
    sm = OrderStateMachine()
    sm.create(make_order(1, 10, Side.BUY))
    sm.create(make_order(2, 5, Side.SELL))
    sm.create(make_order(3, 7, Side.BUY, symbol="ETH-USD"))
    sm.create(make_order(4, 9, Side.BUY, deployment="mm-b"))
    for oid in (1, 2, 3, 4):
        sm.submit(oid, 1)
    sm.apply_report(Venue(10, oid=1).fill(4), "f")
    assert sm.open_orders("mm-a") == 3
    assert sm.open_exposure("mm-a", "BTC-USD") == (6, 5)
    assert sm.open_exposure("mm-a", "ETH-USD") == (7, 0)
    sm.apply_report(Venue(5, oid=2).rej(), "r")
    assert sm.open_orders("mm-a") == 2
    assert sm.open_exposure("mm-a", "BTC-USD") == (6, 0)
    assert [o.order_id for o in sm.live_orders("mm-a")] == [1, 3]


def test_check_invariants_detects_corruption() -> None:
    sm, _ = _reached("a")
    sm.check_invariants(1)
    sm.orders[1].filled = 3  # ACCEPTED with fills: impossible
    with pytest.raises(InvariantViolation, match="ACCEPTED with filled 3"):
        sm.check_invariants(1)
    sm.orders[1].booked = 4  # more booked than the venue's cum
    with pytest.raises(InvariantViolation, match=r"booked 4 outside 0\.\.filled 3"):
        sm.check_invariants(1)
    sm.orders[1].booked = 3
    sm.orders[1].status = S.FILLED  # terminal but still in the live index, not fully filled
    with pytest.raises(InvariantViolation, match="FILLED with filled 3 != size 10"):
        sm.check_invariants(1)


def fills_cpu_s(open_orders: int, filled: int = 200, tries: int = 5) -> float:
    """CPU seconds to apply one partial and one full fill to each of ``filled`` orders
    among ``open_orders`` open ones (the best of ``tries``, each on orders of its own)."""
    sm = OrderStateMachine()
    for oid in range(open_orders):
        sm.create(make_order(oid, size=10))
        sm.submit(oid, 0)
    step = open_orders // (filled * tries)
    best = float("inf")
    for attempt in range(tries):
        reports = []
        for n in range(filled):
            v = Venue(oid=(attempt * filled + n) * step)
            reports.append((v.fill(1), v.fill(9)))
        start = time.process_time()
        for first, last in reports:
            sm.apply_report(first, "partial")
            sm.apply_report(last, "full")
        best = min(best, time.process_time() - start)
    assert [o.filled for o in sm.orders.values()].count(0) == open_orders - filled * tries
    return best


def test_a_fill_report_costs_the_same_with_many_orders_open() -> None:
    # a complexity guard, not a speed target (bench/order_reports.py has the time): the
    # state machine is compiled, so only the clock can tell O(1) from O(open orders); with
    # 100 times more orders open, work per report that grew with them would be tens of
    # times slower, far beyond this bound's allowance for a noisy machine
    few, many = fills_cpu_s(1_000), fills_cpu_s(100_000)
    assert many < 10 * few + 0.005, (few, many)


# -- property: duplicates and reordering ------------------------------------------------


@st.composite
def venue_histories(draw: st.DrawFn) -> tuple[int, list[VenueReport], OrderStatus, int]:
    """A physically possible venue history: (size, reports in venue order, final status, cum)."""
    size = draw(st.integers(1, 1000))
    v = Venue(size)
    outcome = draw(st.sampled_from(["reject", "accept_reject", "open", "full", "cancel"]))
    if outcome == "reject":
        return size, [v.rej(ts=2)], S.REJECTED, 0
    if outcome == "accept_reject":
        return size, [v.acc(ts=2), v.rej(ts=3)], S.REJECTED, 0
    history: list[VenueReport] = []
    if draw(st.booleans()):  # some venues never ack an order that fills at once (IOC)
        history.append(v.acc(ts=2))
    else:
        v.seq = 1  # the ack's exec_seq is taken all the same
    # cut points split the cumulative fill into partial fills
    cum = size if outcome == "full" else draw(st.integers(0, size - 1))
    cuts = sorted(draw(st.sets(st.integers(1, cum - 1), max_size=6))) if cum > 1 else []
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, cum], strict=True)] if cum else []
    for ts, q in enumerate(sizes, start=3):
        history.append(v.fill(q, ts=ts, fee=q % 7 - 3))
    if outcome == "cancel":
        history.append(v.cxl(ts=3 + len(sizes)))
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
        before = o.filled, o.booked
        sm.apply_report(report, key)
        answered = answered or type(report) is cancel_answer_kind
        if cancel_answer_kind is not None and not answered:
            assert o.status in (S.CANCEL_PENDING, S.FILLED)
        assert o.filled >= before[0] and o.booked >= before[1]
        assert o.booked <= o.filled <= o.size == size
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
        assert (o.status, o.filled, o.booked) == (final_status, cum, cum)
        assert o.fees == sum(r.fee for r in history if type(r) is Filled)
        assert sm.open_orders("mm-a") == (0 if final_status in TERMINAL else 1)
        assert o.settled == (final_status in TERMINAL)


@st.composite
def cancel_races(draw: st.DrawFn) -> tuple[int, list[VenueReport], OrderStatus, int]:
    """After ACCEPTED and a local cancel request: fills racing the venue's answer."""
    size = draw(st.integers(2, 1000))
    v = Venue(size)
    v.seq = 1  # the ack, applied before the cancel request
    answer = draw(st.sampled_from(["cancelled", "cancel_rejected"]))
    if answer == "cancelled":
        cum = draw(st.integers(0, size - 1))
    else:
        cum = draw(st.sampled_from([size, draw(st.integers(0, size - 1))]))
    cuts = sorted(draw(st.sets(st.integers(1, cum - 1), max_size=5))) if cum > 1 else []
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, cum], strict=True)] if cum else []
    reports: list[VenueReport] = [v.fill(q, ts=10 + i) for i, q in enumerate(sizes)]
    if answer == "cancelled":
        reports.append(v.cxl(ts=50))
        return size, reports, S.CANCELLED, cum
    reports.append(v.unknown(ts=50) if cum == size else v.refused(ts=50))
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
        sm.apply_report(Venue(size).acc(), 0)
        assert sm.request_cancel(1, 5) is None
        deliver(sm, delivery, size, cancel_answer_kind=type(reports[-1]))
        o = sm.orders[1]
        results.append((o.status, o.filled, o.booked, o.settled))
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
    before = (o.status, o.filled, o.booked, o.size, frozenset(o.seen_keys))
    qty = o.size - o.filled + 1  # more than the order has open
    # the venue's next execution fills it: an overfill (or a report after the end)
    impossible: list[VenueReport] = [
        Filled(9, 1, PX, qty, Liquidity.MAKER, 0, 0, o.filled + qty, o.exec_seq + 1)
    ]
    if o.filled > 0:
        impossible.append(Venue(size).rej())  # a reject after fills
    for report in impossible:
        with pytest.raises(InvariantViolation) as err:
            sm.apply_report(report, "impossible")
        msg = str(err.value)
        assert "order 1 " in msg and "'mm-a'" in msg
        assert f"{final_status.name} --" in msg  # the state it was in
        assert ("--fill-->" in msg) or ("--rejected-->" in msg)  # the report attempted
        assert (o.status, o.filled, o.booked, o.size, frozenset(o.seen_keys)) == before


def test_open_exposure_beyond_an_int64_is_exact() -> None:
    """The sums are taken in C while they fit an int64, in Python ints beyond."""
    sm = OrderStateMachine()
    big = 2**63 - 1
    for oid, side in ((1, Side.BUY), (2, Side.BUY), (3, Side.SELL)):
        sm.create(make_order(oid, big, side))
    assert sm.open_exposure("mm-a", "BTC-USD") == (2 * big, big)
    assert sm.open_exposure("mm-a", "ETH-USD") == (0, 0)
    assert sm.open_exposure("mm-b", "BTC-USD") == (0, 0)
