"""Pre-trade risk gate: each limit at, below and beyond its bound; the rate window; the
reference price (``mid``)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings, strategies as st

from meshrt.contract import PRICE_SCALE, SIZE_SCALE, RejectReason, Side, mid_price, notional
from meshrt.scenario.limits import RiskLimits
from meshrt.sdk import Book
from meshrt.sequencer.risk import RATE_WINDOW_NS, RiskGate, mid

R = RejectReason
B, S = Side.BUY, Side.SELL
PX = 100 * PRICE_SCALE
SEC = RATE_WINDOW_NS


def new(gate: RiskGate, **kw: Any) -> RejectReason | None:
    args: dict[str, Any] = {
        "ts": 0,
        "side": B,
        "price": PX,
        "size": SIZE_SCALE,
        "position": 0,
        "open_buy": 0,
        "open_sell": 0,
        "open_orders": 0,
        "reference_price": None,
    }
    args.update(kw)
    return gate.check_new(**args)


def replace(gate: RiskGate, **kw: Any) -> RejectReason | None:
    args: dict[str, Any] = {
        "ts": 0,
        "side": B,
        "price": PX,
        "size": SIZE_SCALE,
        "old_size": SIZE_SCALE,
        "filled": 0,
        "position": 0,
        "open_buy": SIZE_SCALE,
        "open_sell": 0,
        "reference_price": None,
    }
    args.update(kw)
    return gate.check_replace(**args)


def test_no_limits_allows_everything() -> None:
    gate = RiskGate(RiskLimits())
    assert new(gate, size=10**15, position=10**15, open_orders=10**6, price=None) is None
    for t in range(100):
        gate.record_order(t)
    assert new(gate, ts=100) is None


def test_limits_validate_and_are_frozen() -> None:
    with pytest.raises(ValueError):
        RiskLimits(max_order_size=-1)
    with pytest.raises(TypeError):
        RiskLimits(max_position=1.5)  # type: ignore[arg-type]
    limits = RiskLimits(max_open_orders=0)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        limits.max_open_orders = 3  # type: ignore[misc]


def test_max_order_size() -> None:
    gate = RiskGate(RiskLimits(max_order_size=5))
    assert new(gate, size=5) is None
    assert new(gate, size=6) == R.RISK_MAX_ORDER_SIZE


@pytest.mark.parametrize(
    "side, position, open_buy, open_sell, size, expected",
    [
        (B, 0, 0, 0, 10, None),
        (B, 0, 0, 0, 11, R.RISK_MAX_POSITION),
        (B, 4, 3, 0, 3, None),  # 4 + 3 open + 3 = 10
        (B, 4, 3, 0, 4, R.RISK_MAX_POSITION),  # open buys count as filled
        (B, 4, 0, 100, 6, None),  # open sells do not offset a buy's worst case
        (S, 0, 0, 0, 10, None),
        (S, -4, 0, 3, 4, R.RISK_MAX_POSITION),  # |-4 - 3 - 4| = 11
        (S, 8, 0, 0, 18, None),  # 8 -> -10: at the limit on the other side
        (S, 8, 0, 0, 19, R.RISK_MAX_POSITION),
        (B, -30, 0, 0, 25, None),  # over the limit but reducing: allowed
        (B, -30, 0, 0, 61, R.RISK_MAX_POSITION),  # -30 -> 31 grows the worst case
        (S, 30, 0, 0, 1, None),
        (B, 30, 0, 0, 1, R.RISK_MAX_POSITION),
    ],
)
def test_max_position_worst_case(
    side: Side,
    position: int,
    open_buy: int,
    open_sell: int,
    size: int,
    expected: RejectReason | None,
) -> None:
    gate = RiskGate(RiskLimits(max_position=10))
    assert (
        new(gate, side=side, position=position, open_buy=open_buy, open_sell=open_sell, size=size)
        == expected
    )


def test_max_notional_limit_order() -> None:
    limit = notional(PX, 2 * SIZE_SCALE)
    gate = RiskGate(RiskLimits(max_notional=limit))
    assert new(gate, size=2 * SIZE_SCALE) is None
    assert new(gate, size=2 * SIZE_SCALE + 1) == R.RISK_MAX_NOTIONAL
    assert new(gate, size=2 * SIZE_SCALE, price=PX + 1) == R.RISK_MAX_NOTIONAL
    # the order's own price counts, not the reference
    assert new(gate, size=2 * SIZE_SCALE, reference_price=10 * PX) is None


def test_max_notional_market_order_uses_reference_and_fails_closed_without_one() -> None:
    gate = RiskGate(RiskLimits(max_notional=notional(PX, SIZE_SCALE)))
    assert new(gate, price=None, reference_price=PX) is None
    assert new(gate, price=None, reference_price=PX + 1) == R.RISK_MAX_NOTIONAL
    assert new(gate, price=None, reference_price=None) == R.RISK_MAX_NOTIONAL
    # without a notional limit a missing price is no risk concern
    assert new(RiskGate(RiskLimits(max_order_size=10**9)), price=None, reference_price=None) is None


def test_max_open_orders() -> None:
    gate = RiskGate(RiskLimits(max_open_orders=3))
    assert new(gate, open_orders=2) is None
    assert new(gate, open_orders=3) == R.RISK_MAX_OPEN_ORDERS
    assert new(RiskGate(RiskLimits(max_open_orders=0))) == R.RISK_MAX_OPEN_ORDERS


def test_order_rate_window_slides() -> None:
    gate = RiskGate(RiskLimits(max_orders_per_second=3))
    t0 = 5 * SEC
    for t in (t0, t0 + SEC // 10, t0 + SEC // 5):
        assert new(gate, ts=t) is None
        gate.record_order(t)
    assert new(gate, ts=t0 + SEC // 2) == R.RISK_ORDER_RATE
    assert new(gate, ts=t0 + SEC - 1) == R.RISK_ORDER_RATE  # first order still inside
    assert new(gate, ts=t0 + SEC) is None  # it leaves exactly one second later
    assert gate.orders_in_window(t0 + SEC) == 2
    gate.record_order(t0 + SEC)
    # window now holds t0 + 0.1 s, t0 + 0.2 s, t0 + 1 s
    assert new(gate, ts=t0 + SEC + SEC // 10 - 1) == R.RISK_ORDER_RATE
    assert new(gate, ts=t0 + SEC + SEC // 10) is None
    assert gate.orders_in_window(t0 + 3 * SEC) == 0


def test_a_gate_without_a_rate_limit_keeps_no_window() -> None:
    gate = RiskGate(RiskLimits(max_order_size=SIZE_SCALE))
    for t in range(5):
        gate.record_order(t)
    assert gate.orders_in_window(4) == 0 and gate.__reduce__() == RiskGate(gate.limits).__reduce__()


def test_checks_do_not_consume_the_rate_budget() -> None:
    gate = RiskGate(RiskLimits(max_orders_per_second=1))
    for _ in range(10):
        assert new(gate, ts=1) is None
    gate.record_order(1)
    assert new(gate, ts=2) == R.RISK_ORDER_RATE


def test_first_breached_limit_wins_in_documented_order() -> None:
    limits = RiskLimits(
        max_order_size=1, max_position=1, max_notional=1, max_open_orders=1, max_orders_per_second=1
    )
    gate = RiskGate(limits)
    gate.record_order(0)
    breach_all: dict[str, Any] = {"size": 10**9, "open_orders": 5, "ts": 1}
    assert new(gate, **breach_all) == R.RISK_MAX_ORDER_SIZE
    gate = RiskGate(attrs.evolve(limits, max_order_size=None))
    gate.record_order(0)
    assert new(gate, **breach_all) == R.RISK_MAX_POSITION
    gate = RiskGate(attrs.evolve(limits, max_order_size=None, max_position=None))
    gate.record_order(0)
    assert new(gate, **breach_all) == R.RISK_MAX_NOTIONAL
    gate = RiskGate(attrs.evolve(limits, max_order_size=None, max_position=None, max_notional=None))
    gate.record_order(0)
    assert new(gate, **breach_all) == R.RISK_MAX_OPEN_ORDERS
    gate = RiskGate(RiskLimits(max_orders_per_second=1))
    gate.record_order(0)
    assert new(gate, **breach_all) == R.RISK_ORDER_RATE


def test_replace_limits() -> None:
    gate = RiskGate(RiskLimits(max_order_size=10, max_position=10, max_notional=notional(PX, 10)))
    # a buy order of 6 (2 filled) working, position 2: worst case 2 + 4 = 6
    base: dict[str, Any] = {"old_size": 6, "filled": 2, "position": 2, "open_buy": 4}
    assert replace(gate, size=10, **base) is None  # worst case 2 + 8 = 10
    assert replace(gate, size=11, **base) == R.RISK_MAX_ORDER_SIZE
    gate2 = RiskGate(RiskLimits(max_position=9))
    assert replace(gate2, size=10, **base) == R.RISK_MAX_POSITION
    assert replace(gate2, size=9, **base) is None
    assert replace(gate, size=10, price=2 * PX, **base) == R.RISK_MAX_NOTIONAL
    # a sell replace shrinking the worst case is allowed even over the limit
    assert (
        replace(gate2, side=S, size=5, old_size=30, filled=0, position=0, open_buy=0, open_sell=30)
        is None
    )
    assert (
        replace(gate2, side=S, size=31, old_size=30, filled=0, position=0, open_buy=0, open_sell=30)
        == R.RISK_MAX_POSITION
    )


def test_replace_counts_toward_rate_but_not_open_orders() -> None:
    gate = RiskGate(RiskLimits(max_open_orders=1, max_orders_per_second=2))
    assert replace(gate, ts=0) is None  # one live order already: a replace adds none
    gate.record_order(0)
    assert replace(gate, ts=1) is None
    gate.record_order(1)
    assert replace(gate, ts=2) == R.RISK_ORDER_RATE
    assert replace(gate, ts=SEC + 1) is None


@pytest.mark.property
@settings(max_examples=200, deadline=None)
@given(
    times=st.lists(st.integers(-(2**64), 2**64), max_size=80).map(sorted),
    probes=st.lists(st.integers(-(2**64), 2**64), max_size=10),
)
def test_the_rate_window_is_the_last_second_of_sent_orders(
    times: list[int], probes: list[int]
) -> None:
    """orders_in_window(t) counts the orders sent in (t - 1 s, t], whatever the times (in
    C for int64s, Python ints beyond), however many have left the window."""
    gate = RiskGate(RiskLimits(max_orders_per_second=10**6))
    for t in times:
        gate.record_order(t)
    for t in sorted(probes + times[-1:]):
        expected = sum(1 for sent in times if t - SEC < sent <= t)
        if not times or t >= times[-1]:
            assert gate.orders_in_window(t) == expected


def book(bids: tuple[int, ...], asks: tuple[int, ...]) -> Book:
    return Book(0, "X", "v", bids, (1,) * len(bids), asks, (1,) * len(asks))


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(
    bids=st.lists(st.integers(-(2**64), 2**64), max_size=2),
    asks=st.lists(st.integers(-(2**64), 2**64), max_size=2),
)
def test_mid_is_the_contracts_mid_price(bids: list[int], asks: list[int]) -> None:
    """The compiled reference price against contract.mid_price, int64 extremes and beyond
    included; None without both sides."""
    expected = mid_price(bids[0], asks[0]) if bids and asks else None
    assert mid(book(tuple(bids), tuple(asks))) == expected
    assert mid(book(tuple(bids), tuple(asks))._replace(bid_prices=list(bids))) == expected


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63), 2**63, 0])
def test_mid_at_the_int64_edges(value: int) -> None:
    assert mid(book((value,), (value,))) == value
    assert mid(book((value,), (value - 1,))) == mid_price(value, value - 1)
    assert mid(None) is None
    assert mid(book((), (value,))) is None
