"""Ledger: average-cost accounting, exact integer identities, drawdown."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from meshrt.contract import PRICE_SCALE, SIZE_SCALE, Side, notional
from meshrt.ledger import Ledger

B, S = Side.BUY, Side.SELL


def P(x: float) -> int:
    return round(x * PRICE_SCALE)


def Q(x: float) -> int:
    return round(x * SIZE_SCALE)


def assert_identities(led: Ledger) -> None:
    """The documented identities, exactly."""
    snap = led.snapshot()
    value = sum(notional(h["position"], h["mark"]) for h in snap["positions"].values())
    assert led.realized_pnl + led.unrealized_pnl == (led.cash - led.initial_cash + led.fees) + value
    assert led.equity == led.cash + value
    assert led.equity == led.initial_cash + led.realized_pnl + led.unrealized_pnl - led.fees
    assert led.unrealized_pnl == sum(h["unrealized_pnl"] for h in snap["positions"].values())
    assert led.realized_pnl == sum(h["realized_pnl"] for h in snap["positions"].values())


def test_buy_then_sell_with_fees() -> None:
    led = Ledger()
    led.apply_fill("BTC", B, P(100), Q(2), fee=P(0.001))
    assert led.position("BTC") == Q(2)
    assert led.cash == -P(200) - P(0.001)
    assert led.cost_basis("BTC") == P(200)
    assert led.unrealized_pnl == 0  # valued at the fill price until marked
    assert led.equity == -P(0.001)
    led.apply_fill("BTC", S, P(110), Q(1), fee=P(0.001))
    assert led.position("BTC") == Q(1)
    assert led.realized_pnl == P(10)
    assert led.cost_basis("BTC") == P(100)
    assert led.cash == -P(200) + P(110) - P(0.002)
    assert led.fees == P(0.002)
    led.mark("BTC", P(120))
    assert led.unrealized_pnl == P(20)
    assert led.equity == led.cash + P(120)
    assert (led.fills, led.volume) == (2, P(310))
    assert_identities(led)


def test_average_cost_across_adds() -> None:
    led = Ledger()
    led.apply_fill("X", B, P(100), Q(1), 0)
    led.apply_fill("X", B, P(103), Q(2), 0)
    assert led.cost_basis("X") == P(306)  # average 102
    led.apply_fill("X", S, P(104), Q(1), 0)
    assert led.realized_pnl == P(2)
    assert led.cost_basis("X") == P(204)
    assert_identities(led)


def test_integer_remainder_goes_to_realized_and_nothing_is_lost() -> None:
    led = Ledger()
    led.apply_fill("X", B, 4, Q(1), 0)  # notional 4
    led.apply_fill("X", B, 3, Q(2), 0)  # notional 6: cost 10 over 3 units
    realized, costs = [], []
    for _ in range(3):
        led.apply_fill("X", S, 4, Q(1), 0)
        realized.append(led.realized_pnl)
        costs.append(led.cost_basis("X"))
        assert_identities(led)
    assert costs == [7, 4, 0]  # 10 - 10//3, 7 - 7//2, all of it
    assert realized == [1, 2, 2]  # exactly proceeds 12 - cost 10 once flat
    assert led.cash == 2


def test_short_and_cover_with_negative_cost_basis() -> None:
    led = Ledger()
    led.apply_fill("X", S, 4, Q(1), 0)
    led.apply_fill("X", S, 3, Q(2), 0)
    assert led.position("X") == -Q(3) and led.cost_basis("X") == -10
    for _ in range(3):
        led.apply_fill("X", B, 4, Q(1), 0)
        assert_identities(led)
    assert led.cost_basis("X") == 0 and led.position("X") == 0
    assert led.realized_pnl == 10 - 12


def test_short_profit() -> None:
    led = Ledger()
    led.apply_fill("X", S, P(100), Q(2), 0)
    led.mark("X", P(95))
    assert led.unrealized_pnl == P(10)
    led.apply_fill("X", B, P(90), Q(2), 0)
    assert (led.realized_pnl, led.unrealized_pnl, led.position("X"), led.cash) == (
        P(20),
        0,
        0,
        P(20),
    )


def test_flip_closes_then_opens() -> None:
    led = Ledger()
    led.apply_fill("X", B, P(100), Q(1), 0)
    led.apply_fill("X", S, P(110), Q(3), 0)
    assert led.position("X") == -Q(2)
    assert led.realized_pnl == P(10)
    assert led.cost_basis("X") == -P(220)
    assert led.cash == P(230)
    led.mark("X", P(105))
    assert led.unrealized_pnl == P(10)
    assert_identities(led)


def test_flip_splits_truncated_notional_exactly() -> None:
    led = Ledger()
    led.apply_fill("X", B, 3, 1, 0)  # notional(3, 1) == 0
    led.apply_fill("X", S, 7, 3 * SIZE_SCALE // 2 + 1, 0)  # closes 1 unit, opens the rest
    assert_identities(led)
    trade_cash = led.cash
    assert led.realized_pnl - led.cost_basis("X") == trade_cash


def test_rebates_increase_cash_and_equity() -> None:
    led = Ledger()
    led.apply_fill("X", B, P(100), Q(1), fee=-P(0.01))
    assert led.fees == -P(0.01)
    assert led.cash == -P(100) + P(0.01)
    assert led.equity == P(0.01)
    led.apply_fill("X", S, P(100), Q(1), fee=-P(0.01))
    assert led.equity == led.cash == P(0.02)
    assert led.realized_pnl == 0
    assert_identities(led)


def test_unmarked_symbol_is_valued_at_last_fill_until_marked() -> None:
    led = Ledger()
    assert led.mark_price("X") is None
    led.apply_fill("X", B, P(100), Q(1), 0)
    led.apply_fill("X", B, P(110), Q(1), 0)
    assert led.mark_price("X") == P(110)
    assert led.unrealized_pnl == P(10)
    led.mark("X", P(105))
    led.apply_fill("X", B, P(120), Q(1), 0)  # an explicit mark is not overridden by fills
    assert led.mark_price("X") == P(105)
    assert led.unrealized_pnl == P(315) - P(330)
    assert_identities(led)


def test_drawdown_and_high_water_mark() -> None:
    led = Ledger(initial_cash=P(1000))
    led.apply_fill("X", B, P(100), Q(1), 0)
    assert (led.high_water_mark, led.max_drawdown) == (P(1000), 0)
    led.mark("X", P(110))
    assert led.high_water_mark == P(1010)
    led.mark("X", P(95))
    assert led.max_drawdown == P(15)
    led.mark("X", P(120))
    led.mark("X", P(110))
    assert (led.high_water_mark, led.max_drawdown) == (P(1020), P(15))
    led.mark("X", P(90))
    assert led.max_drawdown == P(30)
    led.apply_fill("X", S, P(90), Q(1), fee=P(5))  # a fee lowers equity too
    assert led.max_drawdown == P(35)
    assert led.equity == P(1000) - P(10) - P(5)


def test_multiple_symbols_and_snapshot() -> None:
    led = Ledger()
    led.apply_fill("ZEC", B, P(10), Q(1), 1)
    led.apply_fill("ADA", S, P(2), Q(5), 2)
    led.mark("ETH", P(3000))  # marked but never traded
    snap = led.snapshot()
    assert list(snap["positions"]) == ["ADA", "ETH", "ZEC"]
    assert snap["positions"]["ADA"]["position"] == -Q(5)
    assert snap["positions"]["ETH"] == {
        "position": 0,
        "cost_basis": 0,
        "mark": P(3000),
        "realized_pnl": 0,
        "unrealized_pnl": 0,
    }
    assert list(snap)[:3] == ["initial_cash", "cash", "fees"]
    assert json.loads(json.dumps(snap)) == snap
    assert snap == led.snapshot()  # reading changes nothing

    def leaves(x: Any) -> list[Any]:
        return [v for w in x.values() for v in leaves(w)] if isinstance(x, dict) else [x]

    assert all(type(v) is int for v in leaves(snap))
    assert_identities(led)


@pytest.mark.parametrize(
    "args",
    [
        ("X", B, P(1), 0, 0),
        ("X", B, 0, Q(1), 0),
        ("X", 3, P(1), Q(1), 0),
    ],
)
def test_invalid_fills_raise_and_change_nothing(args: tuple[Any, ...]) -> None:
    led = Ledger()
    with pytest.raises(ValueError):
        led.apply_fill(*args)
    assert led.snapshot()["cash"] == 0 and led.fills == 0 and led.position("X") == 0
    with pytest.raises(ValueError):
        led.mark("X", 0)


ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("fill"),
            st.sampled_from(["A", "B", "C"]),
            st.sampled_from([B, S]),
            st.one_of(st.integers(1, 50), st.integers(1, 10**12)),  # tiny prices truncate
            st.one_of(st.integers(1, 7), st.integers(1, 10**10)),
            st.integers(-(10**6), 10**6),
        ),
        st.tuples(st.just("mark"), st.sampled_from(["A", "B", "C"]), st.integers(1, 10**12)),
    ),
    max_size=60,
)


@pytest.mark.property
@settings(max_examples=400, deadline=None)
@given(ops, st.integers(-(10**15), 10**15))
def test_identities_hold_exactly_over_random_fills_and_marks(
    program: list[Any], initial: int
) -> None:
    led = Ledger(initial_cash=initial)
    pos: dict[str, int] = {}
    trade_cash: dict[str, int] = {}
    mark: dict[str, int] = {}
    marked: set[str] = set()
    rat_cost: dict[str, Fraction] = {}  # exact average cost, for comparison
    rat_realized = Fraction(0)
    reductions = 0
    cash, fees, volume = initial, 0, 0
    high, max_dd = initial, 0
    for op in program:
        if op[0] == "fill":
            _, sym, side, price, size, fee = op
            led.apply_fill(sym, side, price, size, fee)
            sign = 1 if side == B else -1
            value = notional(price, size)
            cash -= sign * value + fee
            fees += fee
            volume += value
            trade_cash[sym] = trade_cash.get(sym, 0) - sign * value
            p, c = pos.get(sym, 0), rat_cost.get(sym, Fraction(0))
            if p == 0 or (p > 0) == (sign > 0):
                c += sign * value
            else:
                reductions += 1
                closed = min(size, abs(p))
                close_value = value if closed == size else notional(price, closed)
                removed = c * closed / abs(p)
                rat_realized += -sign * close_value - removed
                c -= removed
                if closed < size:
                    c += sign * (value - close_value)
            pos[sym] = p + sign * size
            rat_cost[sym] = c
            if sym not in marked:
                mark[sym] = price
        else:
            _, sym, price = op
            led.mark(sym, price)
            mark[sym] = price
            marked.add(sym)
            pos.setdefault(sym, 0)
        value_now = sum(notional(pos[s], mark[s]) for s in pos)
        equity = cash + value_now
        high = max(high, equity)
        max_dd = max(max_dd, high - equity)

        assert_identities(led)
        assert led.cash == cash and led.fees == fees and led.volume == volume
        assert led.equity == equity
        assert (led.high_water_mark, led.max_drawdown) == (high, max_dd)
        assert led.max_drawdown >= 0
        snap = led.snapshot()["positions"]
        for s in pos:
            assert led.position(s) == pos[s]
            assert snap[s]["mark"] == mark[s]
            cost = led.cost_basis(s)
            assert snap[s]["realized_pnl"] - cost == trade_cash.get(s, 0)  # per symbol, exact
            if pos[s] == 0:
                assert cost == 0
            elif pos[s] > 0:
                assert cost >= 0
            else:
                assert cost <= 0
        # average cost: the integer books stay within 1 unit per reduction of exact rationals
        assert abs(led.realized_pnl - rat_realized) <= reductions
    assert led.fills == sum(1 for op in program if op[0] == "fill")
