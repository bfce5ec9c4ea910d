"""The compiled action buffer (meshrt/sdk/_actions.pyx) against the SDK contract
(docs/contract.md, "Actions" and "OpenOrder"): each call's intent tuple and its effect on
the algo's open-order view, the limit per callback, order ids the sequencer must refuse,
and the buffer's round trip through a checkpoint's pickle. tests/test_sdk.py covers the
order ids' sequence and what each call marks."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest

import meshrt
from meshrt.contract import MAX_ACTIONS, UINT64_MAX, ActionKind, Side, TimeInForce
from meshrt.sdk import ActionLimitExceeded, Actions, AlgoState, OpenOrder, _actions, with_pending


def fresh(next_order_id: int = 1) -> tuple[AlgoState, Actions]:
    state = AlgoState("XYZ")
    state.next_order_id = next_order_id
    return state, Actions(state, "XYZ")


def test_the_sdk_and_the_package_export_the_compiled_buffer() -> None:
    assert meshrt.Actions is Actions is _actions.Actions
    assert with_pending is _actions.with_pending


def test_each_call_buffers_its_intent_tuple_with_the_contracts_members() -> None:
    state, actions = fresh()
    assert actions.limit(Side.BUY, 100, 5) == 1
    assert actions.limit(Side.SELL, 101, 6, TimeInForce.POST_ONLY, symbol="") == 2
    assert actions.market(Side.SELL, 3, symbol="ABC") == 3
    assert actions.cancel(1) == 1
    assert actions.replace(2, 102, 7) == 2
    assert actions.cancel_all("ABC") is None
    expected = [
        (ActionKind.LIMIT, Side.BUY, TimeInForce.GTC, 1, 0, 100, 5, "XYZ"),
        (ActionKind.LIMIT, Side.SELL, TimeInForce.POST_ONLY, 2, 0, 101, 6, "XYZ"),
        (ActionKind.MARKET, Side.SELL, TimeInForce.IOC, 3, 0, None, 3, "ABC"),
        (ActionKind.CANCEL, 0, 0, 1, 1, None, 0, ""),
        (ActionKind.REPLACE, 0, 0, 2, 2, 102, 7, ""),
        (ActionKind.CANCEL_ALL, 0, 0, 0, 0, None, 0, "ABC"),
    ]
    assert actions._buffer == expected
    for got, want in zip(actions._buffer, expected, strict=True):
        assert type(got) is tuple
        assert [type(value) for value in got] == [type(value) for value in want]
        assert got[0] is want[0]  # the enum members themselves
    assert actions._buffer[0][2] is TimeInForce.GTC and actions._buffer[2][2] is TimeInForce.IOC
    assert len(actions) == 6 and state.next_order_id == 4


def test_new_orders_enter_the_view_as_open_orders_of_the_same_values() -> None:
    state, actions = fresh()
    limit_id = actions.limit(Side.SELL, 101, 7, TimeInForce.POST_ONLY, "ABC")
    market_id = actions.market(Side.BUY, 3)
    limit, market = state.open_orders[limit_id], state.open_orders[market_id]
    assert type(limit) is OpenOrder and type(market) is OpenOrder
    assert limit == OpenOrder(limit_id, "ABC", Side.SELL, 101, 7, 0, False, False)
    assert market == OpenOrder(market_id, "XYZ", Side.BUY, None, 3, 0, False, False)
    assert [type(value) for value in limit] == [int, str, Side, int, int, int, bool, bool]
    assert (limit.side, limit.accepted, limit.pending) == (Side.SELL, False, False)
    assert limit.side is Side.SELL and limit.accepted is False and limit.pending is False


def test_with_pending_is_replace_of_pending_on_an_open_order() -> None:
    order = OpenOrder(4, "XYZ", Side.BUY, 100, 5, 2, accepted=True)
    for pending in (True, False):
        marked = with_pending(order, pending)
        assert type(marked) is OpenOrder
        assert marked == order._replace(pending=pending) and marked.pending is pending
    with pytest.raises(TypeError, match="not an OpenOrder"):
        with_pending([4, "XYZ"], True)  # type: ignore[arg-type]


@pytest.mark.parametrize("target", [-1, UINT64_MAX + 1, True, 1.0, "1", [1], None])
def test_an_id_no_order_can_have_is_buffered_for_the_sequencer_and_marks_nothing(
    target: Any,
) -> None:
    """The sequencer refuses it (INVALID_ACTION); True and 1.0 would find order 1 in a
    dict, and [1] cannot be looked up at all."""
    state, actions = fresh()
    actions.limit(Side.BUY, 100, 5)
    before = dict(state.open_orders)
    assert actions.cancel(target) is target
    assert actions.replace(target, 100, 6) is target
    cancel, replace = actions._buffer[1:]
    assert cancel[0] is ActionKind.CANCEL and cancel[3] is target and cancel[4] is target
    assert replace[0] is ActionKind.REPLACE and replace[3] is target and replace[4] is target
    assert state.open_orders == before and state.open_orders[1].pending is False


def test_the_largest_u64_is_an_order_id() -> None:
    state, actions = fresh(next_order_id=UINT64_MAX)
    order_id = actions.limit(Side.BUY, 100, 5)
    assert order_id == UINT64_MAX and state.next_order_id == UINT64_MAX + 1
    actions.replace(order_id, 101, 5)
    assert state.open_orders[order_id].pending is True


def test_every_call_past_the_limit_is_refused_counted_and_changes_nothing() -> None:
    state, actions = fresh()
    for k in range(MAX_ACTIONS):
        actions.limit(Side.BUY, 100 - k, 1)
    buffer, view = list(actions._buffer), dict(state.open_orders)
    calls: list[Callable[[], object]] = [
        lambda: actions.limit(Side.BUY, 50, 1),
        lambda: actions.market(Side.SELL, 1),
        lambda: actions.cancel(1),
        lambda: actions.replace(1, 99, 2),
        lambda: actions.cancel_all(),
    ]
    for call in calls:
        with pytest.raises(ActionLimitExceeded) as refused:
            call()
        assert str(refused.value) == (
            "action 17 in one callback refused: at most 16 actions per callback"
        )
    assert actions.refused == len(calls)
    assert actions._buffer == buffer and state.open_orders == view
    assert state.next_order_id == MAX_ACTIONS + 1
    actions.refused += 3  # the compiled loaders add the refusals their algo counted
    assert actions.refused == len(calls) + 3


def test_a_pickled_buffer_comes_back_with_its_state() -> None:
    state, actions = fresh(next_order_id=5)
    actions.cancel(actions.limit(Side.BUY, 100, 5))
    actions.refused = 2
    state2, actions2 = pickle.loads(pickle.dumps((state, actions), pickle.HIGHEST_PROTOCOL))
    assert type(actions2) is Actions
    assert (actions2._buffer, actions2.refused, len(actions2)) == (actions._buffer, 2, 2)
    assert state2.open_orders == state.open_orders
    assert actions2.limit(Side.SELL, 110, 1) == 6  # on the restored state, not a copy
    assert (state2.next_order_id, 6 in state2.open_orders) == (7, True)
    assert (state.next_order_id, len(actions)) == (6, 2)
