"""The Python SDK and the contract: capabilities, Actions, the algo's views, fixed point."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from meshrt import contract
from meshrt.contract import (
    MAX_ACTIONS,
    ActionKind,
    Side,
    TimeInForce,
    notional,
    price_to_int,
    size_to_int,
)
from meshrt.loaders.python import AlgoLoadError, PythonSlot, resolve_algo_class
from meshrt.sdk import (
    OPTIONAL_CALLBACKS,
    ActionLimitExceeded,
    Actions,
    Algo,
    AlgoState,
    Book,
    Features,
    OpenOrder,
    missing_required,
)

from helpers import Quiet

Minimal = Quiet  # the three required callbacks and nothing else


class WithLifecycle(Minimal):
    def on_start(self, state, actions):  # type: ignore[no-untyped-def]
        pass

    def on_heartbeat(self, state, actions):  # type: ignore[no-untyped-def]
        pass


class Inheriting(WithLifecycle):
    """Overrides nothing optional itself: inherits on_start and on_heartbeat."""

    def on_shutdown(self, state):  # type: ignore[no-untyped-def]
        pass


# -- capabilities and required callbacks ------------------------------------------------------


def test_capabilities_are_the_optional_callbacks_a_class_overrides() -> None:
    assert Algo.capabilities == frozenset()
    assert Minimal.capabilities == frozenset()
    assert WithLifecycle.capabilities == frozenset({"on_start", "on_heartbeat"})


def test_inherited_overrides_count_as_capabilities() -> None:
    assert Inheriting.capabilities == frozenset({"on_start", "on_heartbeat", "on_shutdown"})

    class Grandchild(Inheriting):
        pass

    assert Grandchild.capabilities == Inheriting.capabilities


def test_every_optional_callback_is_detected() -> None:
    namespace = {name: (lambda self, *args: None) for name in OPTIONAL_CALLBACKS}
    Everything = type("Everything", (Minimal,), namespace)
    assert Everything.capabilities == frozenset(OPTIONAL_CALLBACKS)
    assert len(OPTIONAL_CALLBACKS) == 10


def test_the_slot_binds_only_declared_optional_callbacks() -> None:
    slot = PythonSlot(WithLifecycle, host=None, params={})
    assert slot.optional("on_start") is not None
    assert slot.optional("on_stop") is None
    assert slot.capabilities == WithLifecycle.capabilities


def test_missing_required_callbacks_are_reported_by_name() -> None:
    class OnlyBook(Algo):
        def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
            pass

    assert missing_required(OnlyBook) == ["on_fill", "on_reject"]
    assert missing_required(Algo) == ["on_book", "on_fill", "on_reject"]
    assert missing_required(Inheriting) == []  # inherited implementations count
    with pytest.raises(
        AlgoLoadError,
        match=r"OnlyBook does not implement required "
        r"callback\(s\): on_fill, on_reject",
    ):
        resolve_algo_class(OnlyBook)


def test_a_callback_that_cannot_take_the_sdk_arguments_is_refused_at_load() -> None:
    """Found by preflight(), not as a TypeError at the first call."""

    class ShortBook(Quiet):
        def on_book(self, book):  # type: ignore[no-untyped-def,override]
            pass

    class StartTakesTooMuch(Quiet):
        def on_start(self, state, actions, extra):  # type: ignore[no-untyped-def,override]
            pass

    class NotCallable(Quiet):
        on_fill = None  # type: ignore[assignment]

    class Flexible(Quiet):
        def on_book(self, *args):  # type: ignore[no-untyped-def,override]
            pass

    with pytest.raises(
        AlgoLoadError,
        match=r"algo .*ShortBook.on_book cannot be called as "
        r"on_book\(self, book, state, features, actions\)",
    ):
        resolve_algo_class(ShortBook)
    with pytest.raises(AlgoLoadError, match=r"StartTakesTooMuch.on_start cannot be called"):
        resolve_algo_class(StartTakesTooMuch)
    with pytest.raises(AlgoLoadError, match=r"NotCallable.on_fill is NoneType, not a method"):
        resolve_algo_class(NotCallable)
    assert resolve_algo_class(Flexible) is Flexible


def test_a_class_that_is_not_an_algo_is_refused() -> None:
    with pytest.raises(AlgoLoadError, match=r"not a subclass of meshrt\.Algo"):
        resolve_algo_class(int)  # type: ignore[arg-type]


# -- Actions --------------------------------------------------------------------------------


def fresh(next_order_id: int = 1, symbol: str = "XYZ") -> tuple[AlgoState, Actions]:
    state = AlgoState(symbol)
    state.next_order_id = next_order_id
    return state, Actions(state, symbol)


def test_new_order_ids_come_from_next_order_id_in_call_order() -> None:
    state, actions = fresh(next_order_id=7)
    first = actions.limit(Side.BUY, 100, 5)
    second = actions.market(Side.SELL, 3)
    third = actions.limit(Side.SELL, 101, 5, TimeInForce.POST_ONLY, symbol="ABC")
    assert (first, second, third) == (7, 8, 9)
    assert state.next_order_id == 10
    assert actions._buffer == [
        (ActionKind.LIMIT, Side.BUY, TimeInForce.GTC, 7, 0, 100, 5, "XYZ"),
        (ActionKind.MARKET, Side.SELL, TimeInForce.IOC, 8, 0, None, 3, "XYZ"),
        (ActionKind.LIMIT, Side.SELL, TimeInForce.POST_ONLY, 9, 0, 101, 5, "ABC"),
    ]
    assert len(actions) == 3


def test_cancel_replace_and_cancel_all_allocate_no_id() -> None:
    state, actions = fresh(next_order_id=4)
    assert actions.cancel(2) == 2
    assert actions.replace(3, 105, 9) == 3
    assert actions.cancel_all() is None
    assert state.next_order_id == 4
    assert actions._buffer == [
        (ActionKind.CANCEL, 0, 0, 2, 2, None, 0, ""),
        (ActionKind.REPLACE, 0, 0, 3, 3, 105, 9, ""),
        (ActionKind.CANCEL_ALL, 0, 0, 0, 0, None, 0, ""),
    ]


def test_new_orders_enter_the_open_order_view_unacknowledged() -> None:
    state, actions = fresh()
    limit_id = actions.limit(Side.BUY, 100, 5)
    market_id = actions.market(Side.SELL, 3)
    assert state.open_orders == {
        limit_id: OpenOrder(limit_id, "XYZ", Side.BUY, 100, 5, 0, accepted=False, pending=False),
        market_id: OpenOrder(
            market_id, "XYZ", Side.SELL, None, 3, 0, accepted=False, pending=False
        ),
    }


def test_cancel_and_replace_mark_the_order_pending_and_change_nothing_else() -> None:
    state, actions = fresh()
    a = actions.limit(Side.BUY, 100, 5)
    b = actions.limit(Side.SELL, 110, 5)
    before_b = state.open_orders[b]
    actions.cancel(a)
    actions.replace(b, 111, 6)
    assert state.open_orders[a].pending is True
    assert state.open_orders[b] == before_b._replace(pending=True)  # price/size unchanged
    actions.cancel(999)  # unknown: no entry is invented
    assert 999 not in state.open_orders


def test_cancel_all_marks_every_open_order_or_only_one_symbols() -> None:
    state, actions = fresh()
    x = actions.limit(Side.BUY, 100, 5)
    y = actions.limit(Side.BUY, 100, 5, symbol="ABC")
    actions.cancel_all("ABC")
    assert (state.open_orders[x].pending, state.open_orders[y].pending) == (False, True)
    assert actions._buffer[-1] == (ActionKind.CANCEL_ALL, 0, 0, 0, 0, None, 0, "ABC")
    actions.cancel_all()
    assert all(order.pending for order in state.open_orders.values())


def test_the_seventeenth_action_raises_is_counted_and_allocates_nothing() -> None:
    state, actions = fresh()
    for k in range(MAX_ACTIONS):
        actions.limit(Side.BUY, 100 - k, 1)
    assert MAX_ACTIONS == 16 and len(actions) == 16
    snapshot = dict(state.open_orders)
    with pytest.raises(ActionLimitExceeded, match="at most 16 actions per callback"):
        actions.limit(Side.BUY, 50, 1)
    assert actions.refused == 1
    assert state.next_order_id == 17, "the refused order got no id"
    assert state.open_orders == snapshot
    assert len(actions) == 16
    with pytest.raises(ActionLimitExceeded):
        actions.market(Side.SELL, 1)
    with pytest.raises(ActionLimitExceeded):
        actions.cancel(1)
    with pytest.raises(ActionLimitExceeded):
        actions.cancel_all()
    assert actions.refused == 4
    assert state.next_order_id == 17
    assert not state.open_orders[1].pending, "a refused cancel marks nothing"


# -- Book, Features, AlgoState ----------------------------------------------------------------


def make_book(bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> Book:
    return Book(
        ts=5,
        symbol="XYZ",
        venue="v1",
        bid_prices=tuple(p for p, _ in bids),
        bid_sizes=tuple(s for _, s in bids),
        ask_prices=tuple(p for p, _ in asks),
        ask_sizes=tuple(s for _, s in asks),
    )


def test_book_best_prices_and_empty_sides() -> None:
    book = make_book([(100, 3), (99, 1)], [(102, 1)])
    assert (book.best_bid, book.best_ask) == (100, 102)
    empty = make_book([], [])
    assert (empty.best_bid, empty.best_ask) == (None, None)


def test_features_computed_from_the_top_of_book() -> None:
    features = Features(make_book([(100, 3), (99, 7)], [(103, 1)]), volatility=11, trade_flow=-4)
    assert features.mid == 101  # (100 + 103) // 2
    assert features.spread == 3
    assert features.microprice == (100 * 1 + 103 * 3) // 4 == 102
    assert features.imbalance == (3 - 1) * 1_000_000_000 // 4 == 500_000_000
    assert (features.volatility, features.trade_flow) == (11, -4)


def test_imbalance_is_floored_and_bounded() -> None:
    features = Features(make_book([(100, 1)], [(101, 2)]), 0, 0)
    assert features.imbalance == -333_333_334  # floor of -1e9 / 3
    only_bids = Features(make_book([(100, 5)], [(101, 0)]), 0, 0)
    assert only_bids.imbalance == 1_000_000_000


@pytest.mark.parametrize("bids, asks", [([], [(101, 1)]), ([(100, 1)], []), ([], [])])
def test_a_book_with_an_empty_side_gives_zero_features(bids: Any, asks: Any) -> None:
    features = Features(make_book(bids, asks), volatility=9, trade_flow=2)
    assert (features.mid, features.microprice, features.spread, features.imbalance) == (0, 0, 0, 0)
    assert features.volatility == 9  # venue-kept features are passed through


def test_zero_top_sizes_give_mid_microprice_and_zero_imbalance() -> None:
    features = Features(make_book([(100, 0)], [(104, 0)]), 0, 0)
    assert features.microprice == features.mid == 102
    assert features.imbalance == 0


def test_algo_state_views_come_from_its_own_ledger_and_last_book() -> None:
    state = AlgoState("XYZ")
    unit = size_to_int(1)
    state.ledger.apply_fill("XYZ", Side.BUY, price_to_int(100), 2 * unit, 7)
    assert state.position() == state.position("XYZ") == 2 * unit
    assert state.position("ABC") == 0
    assert state.cash == -(notional(price_to_int(100), 2 * unit) + 7)
    assert state.fees == 7
    assert state.unrealized_pnl == 0, "no book received yet"
    state.books["XYZ"] = make_book([(price_to_int(101), 1)], [(price_to_int(103), 1)])
    assert (
        state.unrealized_pnl
        == notional(price_to_int(102), 2 * unit) - notional(price_to_int(100), 2 * unit)
        == price_to_int(4)
    )


# -- the contract ---------------------------------------------------------------------------


def test_struct_sizes() -> None:
    assert contract.BOOK_HEADER.size == 16
    assert contract.BOOK_LEVELS.size == 640
    assert contract.BOOK.size == 656
    assert contract.ACTION.size == 40
    assert contract.FILL.size == 56
    assert contract.REJECT.size == 24
    assert contract.ALGO_STATE.size == 64
    assert contract.FEATURES.size == 48
    assert contract.NBBO_HEADER.size == 48
    assert contract.NBBO_VENUE.size == 40
    assert contract.NBBO_SIZE == 368
    assert contract.BOOK.format == contract.BOOK_HEADER.format + contract.BOOK_LEVELS.format[1:]


@pytest.mark.parametrize(
    "name",
    ["BOOK", "ACTION", "FILL", "REJECT", "ALGO_STATE", "FEATURES", "NBBO_HEADER", "NBBO_VENUE"],
)
def test_every_field_is_naturally_aligned_so_c_sees_the_same_offsets(name: str) -> None:
    layout: struct.Struct = getattr(contract, name)
    codes = layout.format[1:]
    assert layout.format[0] == "<"
    for i, code in enumerate(codes):
        offset = struct.calcsize("<" + codes[:i])
        size = struct.calcsize("<" + code)
        assert offset % size == 0, f"{name} field {i} ({code}) at offset {offset}"
    assert layout.size % 8 == 0


def test_book_levels_sit_where_the_docs_say() -> None:
    bids = [(1000 + i, 10 + i) for i in range(20)]
    asks = [(2000 + i, 20 + i) for i in range(20)]
    flat = [x for level in bids + asks for x in level]
    raw = contract.BOOK.pack(123, 4, 5, 20, 20, *flat)
    assert struct.unpack_from("<qHHHH", raw, 0) == (123, 4, 5, 20, 20)
    for i in range(20):
        assert struct.unpack_from("<qq", raw, 16 + 16 * i) == bids[i]
        assert struct.unpack_from("<qq", raw, 336 + 16 * i) == asks[i]


def test_limits_and_abi_version() -> None:
    assert (contract.MAX_ACTIONS, contract.MAX_MESSAGES, contract.MAX_PAYLOAD) == (16, 16, 256)
    assert (contract.BOOK_DEPTH, contract.MAX_NBBO_VENUES) == (20, 8)
    assert contract.ABI_VERSION == 1
    assert (contract.PRICE_SCALE, contract.SIZE_SCALE) == (10**9, 10**8)


def test_price_and_size_conversion_round_to_nearest() -> None:
    assert price_to_int("100.01") == 100_010_000_000
    assert price_to_int(100.25) == 100_250_000_000
    assert price_to_int("0.0000000004") == 0
    assert price_to_int("0.0000000006") == 1
    assert price_to_int(-1.5) == -1_500_000_000
    assert size_to_int("0.123456789") == 12_345_679
    assert size_to_int("0.123456784") == 12_345_678
    assert size_to_int("1") == 100_000_000


def test_notional_is_in_price_units_and_truncates_toward_zero() -> None:
    assert notional(price_to_int("100"), size_to_int("2.5")) == price_to_int("250")
    assert notional(3, 1) == 0  # 3e-8 price units: truncated
    assert notional(1, 150_000_000) == 1
    assert notional(1, -150_000_000) == -1  # toward zero, not floor (-2)
    assert notional(-1, 150_000_000) == -1
