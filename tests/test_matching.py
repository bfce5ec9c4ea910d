"""Tests for the single-symbol matching engine (meshrt.venues._matching)."""

from __future__ import annotations

import pickle
from collections.abc import Sequence

import pytest
from hypothesis import given, settings, strategies as st

from meshrt.contract import (
    BOOK_DEPTH,
    PRICE_SCALE,
    SIZE_SCALE,
    ActionKind,
    RejectReason,
    notional,
)
from meshrt.venues._matching import MatchingEngine
from meshrt.venues.fees import FeeSchedule
from meshrt.venues.reports import (
    Accepted,
    Cancelled,
    CancelRejected,
    Filled,
    Rejected,
    Replaced,
    VenueReport,
)
from meshrt.venues.resting import RestingOrder

BUY, SELL = 1, 2
GTC, IOC, POST_ONLY = 0, 1, 2
MAKER, TAKER = 1, 2
T = 7  # a timestamp; every report must carry the ts of the call that produced it


def engine(
    bids: Sequence[tuple[int, int]] = ((100, 10), (99, 10)),
    asks: Sequence[tuple[int, int]] = ((101, 5), (102, 5), (103, 5)),
    fees: FeeSchedule = FeeSchedule(),
    depth: int = BOOK_DEPTH,
) -> MatchingEngine:
    e = MatchingEngine(fees, depth)
    e.apply_snapshot(0, bids, asks)
    return e


class Reports(list[VenueReport]):
    """Reports equal by type as well as by value (Rejected and Cancelled, both
    NamedTuples of six ints, would compare equal as tuples)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, list) and [(type(r), r) for r in self] == [
            (type(r), r) for r in other
        ]

    __hash__ = None  # type: ignore[assignment]


def drain(e: MatchingEngine) -> Reports:
    out = Reports(e.reports)
    e.reports.clear()
    return out


# the reports as the order report contract has them: cum, leaves, the order's exec_seq


def fill(
    oid: int, price: int, size: int, liq: int, leaves: int, cum: int, seq: int, fee: int = 0
) -> Filled:
    return Filled(T, oid, price, size, liq, fee, leaves, cum, seq)


def accepted(oid: int, size: int) -> Accepted:
    return Accepted(T, oid, 0, size, 1)


def rejected(oid: int, reason: int) -> Rejected:
    return Rejected(T, oid, reason, 0, 0, 1)


def cancelled(oid: int, remaining: int, cum: int, seq: int) -> Cancelled:
    return Cancelled(T, oid, remaining, cum, 0, seq)


def refused(
    oid: int, reason: int, request: int, cum: int = 0, leaves: int = 0, seq: int = 0
) -> CancelRejected:
    """A refused cancel or replace: the order's state as of its last report (0, 0, 0 for
    an order the engine no longer holds)."""
    return CancelRejected(T, oid, reason, request, cum, leaves, seq)


def replaced(oid: int, price: int, size: int, leaves: int, cum: int, seq: int) -> Replaced:
    return Replaced(T, oid, price, size, leaves, cum, seq)


CANCEL, REPLACE = int(ActionKind.CANCEL), int(ActionKind.REPLACE)
UNKNOWN = RejectReason.UNKNOWN_ORDER


# -- taker matching ---------------------------------------------------------------------


def test_crossing_limit_takes_several_levels_then_rests() -> None:
    e = engine()
    e.submit(T, 1, BUY, 102, 12, GTC)
    assert drain(e) == [
        accepted(1, 12),
        fill(1, 101, 5, TAKER, 7, 5, 2),
        fill(1, 102, 5, TAKER, 2, 10, 3),
    ]
    assert e.best_ask() == (103, 5)  # consumed levels are gone from the engine's copy
    assert e.resting() == [RestingOrder(1, BUY, 102, 2, 0)]  # no displayed bid at 102
    assert e.best_bid() == (100, 10)  # resting algo orders are not displayed


def test_market_order_walks_levels_and_cancels_remainder() -> None:
    e = engine()
    e.submit(T, 1, BUY, None, 18, GTC)
    assert drain(e) == [
        accepted(1, 18),
        fill(1, 101, 5, TAKER, 13, 5, 2),
        fill(1, 102, 5, TAKER, 8, 10, 3),
        fill(1, 103, 5, TAKER, 3, 15, 4),
        cancelled(1, 3, 15, 5),
    ]
    assert e.best_ask() is None
    assert e.resting() == []


def test_market_order_on_empty_side_is_rejected_without_accept() -> None:
    e = engine(asks=[])
    e.submit(T, 1, BUY, None, 5, GTC)
    assert drain(e) == [rejected(1, RejectReason.NO_LIQUIDITY)]
    e.submit(T, 2, SELL, None, 5, IOC)  # bids exist: fills
    assert drain(e) == [accepted(2, 5), fill(2, 100, 5, TAKER, 0, 5, 2)]


def test_ioc_partial_fill_cancels_remainder() -> None:
    e = engine()
    e.submit(T, 1, BUY, 101, 8, IOC)
    assert drain(e) == [
        accepted(1, 8),
        fill(1, 101, 5, TAKER, 3, 5, 2),
        cancelled(1, 3, 5, 3),
    ]
    e.submit(T, 2, BUY, 100, 8, IOC)  # crosses nothing
    assert drain(e) == [accepted(2, 8), cancelled(2, 8, 0, 2)]
    assert e.resting() == []


def test_post_only_that_would_cross_is_rejected() -> None:
    e = engine()
    e.submit(T, 1, BUY, 101, 5, POST_ONLY)
    assert drain(e) == [rejected(1, RejectReason.POST_ONLY_WOULD_CROSS)]
    assert e.best_ask() == (101, 5)  # nothing consumed
    e.submit(T, 2, SELL, 100, 5, POST_ONLY)
    assert drain(e) == [rejected(2, RejectReason.POST_ONLY_WOULD_CROSS)]
    e.submit(T, 3, BUY, 100, 5, POST_ONLY)
    assert drain(e) == [accepted(3, 5)]
    assert e.resting() == [RestingOrder(3, BUY, 100, 5, 10)]


@pytest.mark.parametrize(
    ("price", "size", "tif", "reason"),
    [
        (100, 0, GTC, RejectReason.INVALID_SIZE),
        (100, -3, GTC, RejectReason.INVALID_SIZE),
        (0, 5, GTC, RejectReason.INVALID_PRICE),
        (-1, 5, IOC, RejectReason.INVALID_PRICE),
        (None, 5, POST_ONLY, RejectReason.INVALID_ACTION),
        (100, 5, 9, RejectReason.INVALID_ACTION),
    ],
)
def test_invalid_orders_are_rejected(price: int | None, size: int, tif: int, reason: int) -> None:
    e = engine()
    e.submit(T, 1, BUY, price, size, tif)
    assert drain(e) == [rejected(1, reason)]
    assert e.resting() == []


def test_duplicate_live_order_id_is_rejected_but_a_finished_id_may_be_reused() -> None:
    e = engine()
    e.submit(T, 1, BUY, 98, 5, GTC)
    e.submit(T, 1, SELL, 110, 5, GTC)
    assert Reports(drain(e)[-1:]) == [rejected(1, RejectReason.DUPLICATE_ORDER_ID)]
    assert [o.side for o in e.resting()] == [BUY]
    e.cancel(T, 1)
    e.submit(T, 1, SELL, 110, 5, GTC)
    assert drain(e) == [cancelled(1, 5, 0, 2), accepted(1, 5)]


# -- resting orders: priority and queue -------------------------------------------------


def test_time_priority_between_algo_orders_at_one_price() -> None:
    e = engine(bids=[(99, 10)])
    e.submit(T, 1, BUY, 100, 10, GTC)
    e.submit(T, 2, BUY, 100, 10, GTC)
    e.submit(T, 3, BUY, 98, 10, GTC)
    drain(e)
    e.apply_trade(T, SELL, 100, 15)
    assert drain(e) == [fill(1, 100, 10, MAKER, 0, 10, 2), fill(2, 100, 5, MAKER, 5, 5, 2)]
    e.apply_trade(T, SELL, 100, 15)  # 10 left over after #2 must not reach the 98 bid
    assert drain(e) == [fill(2, 100, 5, MAKER, 0, 10, 3)]
    assert e.resting() == [RestingOrder(3, BUY, 98, 10, 0)]


def test_better_price_fills_first_and_trade_through_ignores_queue() -> None:
    e = engine(asks=[(106, 5)])  # displayed bid 100 x 10
    e.submit(T, 1, BUY, 100, 10, GTC)  # queue ahead 10
    e.submit(T, 2, BUY, 100, 10, GTC)  # later: same price, behind order 1
    e.submit(T, 3, SELL, 105, 4, GTC)  # other side: a sell print never reaches it
    e.submit(T, 4, BUY, 101, 3, GTC)  # later but better price
    drain(e)
    e.apply_trade(T, SELL, 99, 8)  # trades through 101 and 100: no queue applies
    assert drain(e) == [fill(4, 101, 3, MAKER, 0, 3, 2), fill(1, 100, 5, MAKER, 5, 5, 2)]
    assert [(o.order_id, o.remaining) for o in e.resting()] == [(1, 5), (2, 10), (3, 4)]


def test_print_smaller_than_queue_ahead_does_not_fill_a_later_one_does() -> None:
    e = engine()  # displayed bid 100 x 10
    e.submit(T, 1, BUY, 100, 5, GTC)
    drain(e)
    assert e.resting()[0].queue_ahead == 10
    e.apply_trade(T, SELL, 100, 6)
    assert drain(e) == []
    assert e.resting()[0].queue_ahead == 4
    e.apply_trade(T, BUY, 100, 50)  # buy aggressor: cannot hit a resting buy
    e.apply_trade(T, SELL, 101, 50)  # print above our bid: not through it
    assert drain(e) == []
    e.apply_trade(T, SELL, 100, 6)
    assert drain(e) == [fill(1, 100, 2, MAKER, 3, 2, 2)]
    assert e.resting()[0].queue_ahead == 0


def test_one_print_consumes_the_shared_queue_once() -> None:
    e = engine()  # displayed bid 100 x 10
    e.submit(T, 1, BUY, 100, 3, GTC)
    e.submit(T, 2, BUY, 100, 3, GTC)
    drain(e)
    assert [o.queue_ahead for o in e.resting()] == [10, 10]
    e.apply_trade(T, SELL, 100, 14)  # 10 to the displayed queue, 3 to #1, 1 to #2
    assert drain(e) == [fill(1, 100, 3, MAKER, 0, 3, 2), fill(2, 100, 1, MAKER, 2, 1, 2)]
    assert e.resting() == [RestingOrder(2, BUY, 100, 2, 0)]


def test_queue_ahead_clamps_to_displayed_size_and_ignores_growth() -> None:
    e = engine()
    e.submit(T, 1, BUY, 100, 5, GTC)
    drain(e)
    e.apply_delta(T, BUY, 100, 30)  # growth joins behind us
    assert e.resting()[0].queue_ahead == 10
    e.apply_delta(T, BUY, 100, 4)  # cancels ahead of us: clamp
    assert e.resting()[0].queue_ahead == 4
    e.apply_delta(T, BUY, 100, 6)
    assert e.resting()[0].queue_ahead == 4
    e.apply_delta(T, BUY, 100, 0)  # level removed
    assert e.resting()[0].queue_ahead == 0
    e.apply_delta(T, BUY, 100, 9)
    assert e.resting()[0].queue_ahead == 0
    assert drain(e) == []


def test_snapshot_clamps_queue_ahead() -> None:
    e = engine()
    e.submit(T, 1, BUY, 100, 5, GTC)
    e.submit(T, 2, BUY, 99, 5, GTC)
    drain(e)
    e.apply_snapshot(T, [(100, 3), (98, 1)], [(104, 1)])
    assert [o.queue_ahead for o in e.resting()] == [3, 0]
    assert drain(e) == []


def test_book_moving_through_resting_order_fills_it_as_maker() -> None:
    e = engine()
    e.submit(T, 1, BUY, 100, 10, GTC)
    drain(e)
    e.apply_delta(T, SELL, 100, 4)  # ask drops onto our bid
    assert drain(e) == [fill(1, 100, 4, MAKER, 6, 4, 2)]
    assert e.best_ask() == (101, 5)  # the 4 we took is consumed
    e.apply_delta(T, SELL, 99, 20)  # ask through our price: fill at our own price
    assert drain(e) == [fill(1, 100, 6, MAKER, 0, 10, 3)]
    assert e.best_ask() == (99, 14)
    assert e.resting() == []


def test_bid_moving_up_through_resting_sell_fills_it_as_maker() -> None:
    e = engine()
    e.submit(T, 1, SELL, 102, 10, GTC)
    drain(e)
    e.apply_delta(T, BUY, 101, 3)  # below our ask: nothing
    assert drain(e) == []
    e.apply_delta(T, BUY, 103, 4)
    assert drain(e) == [fill(1, 102, 4, MAKER, 6, 4, 2)]
    assert e.best_bid() == (101, 3)


def test_book_moving_through_fills_in_price_time_priority() -> None:
    e = engine(bids=[(100, 10)], asks=[(106, 5)])
    e.submit(T, 1, SELL, 104, 3, GTC)
    e.submit(T, 2, SELL, 103, 3, GTC)
    e.submit(T, 3, SELL, 103, 3, GTC)
    drain(e)
    e.apply_snapshot(T, [(105, 7), (103, 5)], [(106, 5)])
    assert drain(e) == [
        fill(2, 103, 3, MAKER, 0, 3, 2),  # best price first, each at its own price
        fill(3, 103, 3, MAKER, 0, 3, 2),
        fill(1, 104, 1, MAKER, 2, 1, 2),  # only 1 left displayed at or above 104
    ]
    assert e.top()[:2] == ((103,), (5,))  # 105 consumed; 103 left since #1 cannot reach it
    assert e.resting() == [RestingOrder(1, SELL, 104, 2, 0)]


def test_partial_fills_then_done_order_cannot_be_cancelled() -> None:
    e = engine()
    e.submit(T, 1, SELL, 104, 10, GTC)
    drain(e)
    e.apply_trade(T, BUY, 105, 4)
    e.apply_trade(T, BUY, 106, 4)
    e.apply_trade(T, BUY, 105, 4)
    assert drain(e) == [
        fill(1, 104, 4, MAKER, 6, 4, 2),
        fill(1, 104, 4, MAKER, 2, 8, 3),
        fill(1, 104, 2, MAKER, 0, 10, 4),
    ]
    e.apply_trade(T, BUY, 105, 4)
    e.cancel(T, 1)
    assert drain(e) == [refused(1, UNKNOWN, CANCEL)]


# -- cancel and replace -----------------------------------------------------------------


def test_cancel_live_and_unknown() -> None:
    e = engine()
    e.submit(T, 1, BUY, 100, 5, GTC)
    drain(e)
    e.cancel(T, 1)
    e.cancel(T, 1)
    e.cancel(T, 42)
    assert drain(e) == [
        cancelled(1, 5, 0, 2),
        refused(1, UNKNOWN, CANCEL),
        refused(42, UNKNOWN, CANCEL),
    ]
    e.apply_trade(T, SELL, 90, 100)
    assert drain(e) == []


def test_replace_same_price_smaller_size_keeps_queue() -> None:
    e = engine()
    e.submit(T, 1, BUY, 100, 5, GTC)
    e.submit(T, 2, BUY, 100, 5, GTC)
    e.apply_trade(T, SELL, 100, 7)  # queue 10 -> 3 for both
    drain(e)
    e.replace(T, 1, 100, 4)
    assert drain(e) == [replaced(1, 100, 4, 4, 0, 2)]
    assert [(o.order_id, o.remaining, o.queue_ahead) for o in e.resting()] == [(1, 4, 3), (2, 5, 3)]


def test_replace_size_up_or_new_price_goes_to_back() -> None:
    e = engine()
    e.submit(T, 1, BUY, 100, 5, GTC)
    e.submit(T, 2, BUY, 100, 5, GTC)
    e.apply_trade(T, SELL, 100, 7)
    drain(e)
    e.replace(T, 1, 100, 6)  # size up: back of the queue, queue ahead = displayed 10
    assert drain(e) == [replaced(1, 100, 6, 6, 0, 2)]
    assert [(o.order_id, o.queue_ahead) for o in e.resting()] == [(2, 3), (1, 10)]
    e.replace(T, 2, 99, 5)  # new price: queue ahead = displayed at 99
    assert drain(e) == [replaced(2, 99, 5, 5, 0, 2)]
    assert [(o.order_id, o.price, o.queue_ahead) for o in e.resting()] == [
        (1, 100, 10),
        (2, 99, 10),
    ]


def test_replace_counts_filled_size_and_validates() -> None:
    e = engine()
    e.submit(T, 1, BUY, 100, 10, GTC)
    e.apply_trade(T, SELL, 99, 4)  # filled 4, remaining 6
    drain(e)
    e.replace(T, 1, 100, 4)
    e.replace(T, 1, 0, 8)
    e.replace(T, 1, 100, 8)
    assert drain(e) == [  # a refusal carries the order's state as of its last report
        refused(1, RejectReason.INVALID_SIZE, REPLACE, 4, 6, 2),
        refused(1, RejectReason.INVALID_PRICE, REPLACE, 4, 6, 2),
        replaced(1, 100, 8, 4, 4, 3),
    ]
    assert e.resting()[0].remaining == 4


def test_replace_of_done_or_unknown_order_is_rejected() -> None:
    e = engine()
    e.submit(T, 1, BUY, 101, 5, GTC)  # fills completely as taker
    drain(e)
    e.replace(T, 1, 100, 10)
    e.replace(T, 99, 100, 10)
    assert drain(e) == [refused(1, UNKNOWN, REPLACE), refused(99, UNKNOWN, REPLACE)]


def test_replace_to_crossing_price_matches_then_rests() -> None:
    e = engine()
    e.submit(T, 1, BUY, 100, 12, GTC)
    drain(e)
    e.replace(T, 1, 102, 12)
    assert drain(e) == [
        replaced(1, 102, 12, 12, 0, 2),
        fill(1, 101, 5, TAKER, 7, 5, 3),
        fill(1, 102, 5, TAKER, 2, 10, 4),
    ]
    assert e.resting() == [RestingOrder(1, BUY, 102, 2, 0)]


def test_replace_post_only_that_would_cross_is_refused_unchanged() -> None:
    e = engine()
    e.submit(T, 1, BUY, 100, 5, POST_ONLY)
    drain(e)
    before = e.resting()
    e.replace(T, 1, 101, 5)
    assert drain(e) == [refused(1, RejectReason.POST_ONLY_WOULD_CROSS, REPLACE, 0, 5, 1)]
    assert e.resting() == before
    assert e.best_ask() == (101, 5)


# -- fees ---------------------------------------------------------------------------------


def test_fees_taker_charge_and_maker_rebate() -> None:
    px, sz = 100 * PRICE_SCALE, 2 * SIZE_SCALE
    fees = FeeSchedule(maker_ppm=-100, taker_ppm=500)
    e = engine(bids=[(px - PRICE_SCALE, sz)], asks=[(px, sz)], fees=fees)
    e.submit(T, 1, BUY, px, sz, IOC)
    taker_fee = 500 * notional(px, sz) // 1_000_000
    assert taker_fee == 100_000_000  # 0.05% of 200 quote = 0.1 quote
    assert drain(e) == [accepted(1, sz), fill(1, px, sz, TAKER, 0, sz, 2, fee=taker_fee)]
    e.submit(T, 2, SELL, px, sz, GTC)
    e.apply_trade(T, BUY, px + 1, sz)
    assert Reports(drain(e)[-1:]) == [fill(2, px, sz, MAKER, 0, sz, 2, fee=-20_000_000)]


def test_fee_rounding_is_floor() -> None:
    fees = FeeSchedule(maker_ppm=-1, taker_ppm=1)
    assert fees.fee(TAKER, 1_000, 99_999_999_000) == 0  # 999 * 1e-6 floors to 0
    assert fees.fee(MAKER, 1_000, 99_999_999_000) == -1  # a rebate floors away from zero
    assert fees.fee(TAKER, 10**12, 10**8) == 10**6


# -- no lasting market impact -------------------------------------------------------------


def test_consumed_liquidity_reappears_after_next_update_of_that_level() -> None:
    e = engine(depth=2)
    e.submit(T, 1, BUY, 101, 3, IOC)
    assert e.best_ask() == (101, 2)
    e.apply_delta(T, SELL, 102, 7)  # another level: 101 stays consumed
    assert e.top()[2:] == ((101, 102), (2, 7))
    e.apply_delta(T, SELL, 101, 5)  # the feed rewrites the level
    assert e.best_ask() == (101, 5)
    e.submit(T, 2, BUY, 101, 5, IOC)
    assert e.best_ask() == (102, 7)  # consumed to 0: gone
    e.apply_snapshot(T, [(100, 1)], [(101, 5)])
    assert e.best_ask() == (101, 5)


def test_top_is_best_first_immutable_and_tracks_changes() -> None:
    e = engine()
    view = e.top()
    assert view == ((100, 99), (10, 10), (101, 102, 103), (5, 5, 5))
    assert all(isinstance(part, tuple) for part in view)
    e.apply_delta(T, BUY, 99, 0)
    e.apply_delta(T, SELL, 100, 1)
    e.apply_delta(T, BUY, 98, 2)
    assert view == ((100, 99), (10, 10), (101, 102, 103), (5, 5, 5))  # old snapshot intact
    assert e.top() == ((100, 98), (10, 2), (100, 101, 102, 103), (1, 5, 5, 5))


def test_top_holds_the_view_depth_and_refreshes_only_a_side_that_changed_inside_it() -> None:
    e = engine(depth=2)
    assert e.top() == ((100, 99), (10, 10), (101, 102), (5, 5))
    bids = e.top()[:2]
    e.apply_delta(T, SELL, 103, 9)  # outside the view: nothing to rebuild
    e.apply_delta(T, SELL, 100, 1)
    e.apply_delta(T, BUY, 98, 2)  # outside the bid view too
    view = e.top()
    assert view == ((100, 99), (10, 10), (100, 101), (1, 5))
    assert view[0] is bids[0] and view[1] is bids[1]  # the unchanged side's tuples are reused
    e.apply_delta(T, BUY, 99, 0)
    assert e.top() == ((100, 98), (10, 2), (100, 101), (1, 5))
    e.submit(T, 1, SELL, 100, 3, IOC)  # consumption also refreshes the view
    e.submit(T, 2, BUY, 101, 3, IOC)
    assert e.top() == ((100, 98), (7, 2), (101, 102), (3, 5))


# -- properties ---------------------------------------------------------------------------

prices = st.integers(95, 105)
sides = st.sampled_from([BUY, SELL])
levels = st.lists(st.tuples(prices, st.integers(0, 20)), max_size=6)
order_ids = st.integers(1, 4)  # few ids: cancels/replaces mostly hit live orders, ids get reused
# invalid values are drawn rarely, so most orders are valid and get to trade
order_prices = st.sampled_from([*range(95, 106), None, 0])
order_sizes = st.sampled_from([*range(1, 26), 0, -1])
submit = st.tuples(
    st.just("submit"),
    order_ids,
    sides,
    order_prices,
    order_sizes,
    st.sampled_from([GTC, GTC, IOC, POST_ONLY]),
)
feed = st.one_of(
    st.tuples(st.just("snapshot"), levels, levels),
    st.tuples(st.just("delta"), sides, prices, st.integers(0, 20)),
    st.tuples(st.just("delta"), sides, prices, st.integers(0, 20)),
    st.tuples(st.just("trade"), sides, prices, st.integers(1, 20)),
)
ops = st.one_of(
    feed,
    feed,
    submit,
    submit,
    st.tuples(st.just("cancel"), order_ids),
    st.tuples(st.just("replace"), order_ids, prices, order_sizes),
)


METHODS = {"snapshot": "apply_snapshot", "delta": "apply_delta", "trade": "apply_trade"}


def check_book(e: MatchingEngine) -> None:
    """Displayed book sorted best first with positive sizes; no resting order left crossed."""
    (bid_px, bid_sz), (ask_px, ask_sz) = e.book.levels(BUY), e.book.levels(SELL)
    assert bid_px == sorted(set(bid_px), reverse=True)
    assert ask_px == sorted(set(ask_px))
    assert all(s > 0 for s in bid_sz + ask_sz)
    for o in e.resting():
        assert o.queue_ahead >= 0 and o.remaining > 0
        if o.side == BUY:
            assert not ask_px or ask_px[0] > o.price
        else:
            assert not bid_px or bid_px[0] < o.price


def run(op_list: list[tuple]) -> tuple[MatchingEngine, list[list[tuple]]]:
    """Apply ops with a distinct ts each, checking the book; return each op's reports."""
    e = MatchingEngine(FeeSchedule(maker_ppm=-10, taker_ppm=30))
    out = []
    for ts, (kind, *args) in enumerate(op_list):
        getattr(e, METHODS.get(kind, kind))(ts, *args)
        out.append(drain(e))
        check_book(e)
    return e, out


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(st.lists(ops, min_size=5, max_size=80))
def test_random_sequences_keep_order_invariants(op_list: list[tuple]) -> None:
    e, per_op = run(op_list)
    live: dict[int, list[int]] = {}  # order id -> [total size, filled, exec_seq]
    for ts, ((kind, *args), reports) in enumerate(zip(op_list, per_op, strict=True)):
        for report in reports:
            assert report.ts == ts
            oid = report.order_id
            if type(report) is Rejected:
                assert oid == args[0] and len(reports) == 1
                assert report[3:] == (0, 0, 1)
                continue
            if type(report) is CancelRejected:  # the order's state as of its last report
                assert oid == args[0] and len(reports) == 1
                assert report.request == (CANCEL if kind == "cancel" else REPLACE)
                if oid in live:
                    size, filled, seq = live[oid]
                    assert report[4:] == (filled, size - filled, seq)
                else:
                    assert report[4:] == (0, 0, 0)
                continue
            if type(report) is Accepted:
                assert kind == "submit" and oid == args[0] and oid not in live
                assert report[2:] == (0, args[3], 1)
                live[oid] = [args[3], 0, 1]
                continue
            assert oid in live, f"report for an order that is not live: {report}"
            size, filled, seq = live[oid]
            assert report.exec_seq == seq + 1  # one more per report that changes the order
            live[oid][2] += 1
            if type(report) is Filled:
                assert 0 < report.size <= size - filled
                assert report.leaves == size - filled - report.size
                assert report.cum == filled + report.size
                assert report.fee == FeeSchedule(-10, 30).fee(
                    report.liquidity, report.price, report.size
                )
                live[oid][1] += report.size
                if report.leaves == 0:
                    del live[oid]
            elif type(report) is Cancelled:
                assert report.remaining == size - filled > 0
                assert (report.cum, report.leaves) == (filled, 0)
                del live[oid]
            elif type(report) is Replaced:
                assert kind == "replace" and report.size > filled
                assert (report.leaves, report.cum) == (report.size - filled, filled)
                live[oid][0] = report.size
    resting = e.resting()
    assert sorted(o.order_id for o in resting) == sorted(live)
    for o in resting:
        assert o.remaining == live[o.order_id][0] - live[o.order_id][1]
    assert run(op_list)[1] == per_op  # deterministic


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 2**63 - 1),
    st.integers(1, 2**63 - 1),
    st.integers(-1_000_000, 1_000_000),
    st.integers(-1_000_000, 1_000_000),
)
def test_the_compiled_fee_is_the_fee_rule(price: int, size: int, maker: int, taker: int) -> None:
    """The engine charges the fee in 128-bit C (and past int64 by the Python rule): the
    same as FeeSchedule.fee for any int64 price and size, as taker and as maker."""
    fees = FeeSchedule(maker_ppm=maker, taker_ppm=taker)
    e = engine(bids=(), asks=((price, size),), fees=fees)
    e.submit(T, 1, BUY, None, size, GTC)
    assert drain(e)[1] == Filled(T, 1, price, size, TAKER, fees.fee(TAKER, price, size), 0, size, 2)
    e = engine(bids=(), asks=(), fees=fees)
    e.submit(T, 2, SELL, price, size, GTC)
    e.apply_trade(T, BUY, price, size)
    assert drain(e)[1] == Filled(T, 2, price, size, MAKER, fees.fee(MAKER, price, size), 0, size, 2)


def test_an_order_past_int64_is_refused_as_the_sequencer_would() -> None:
    e = engine()
    e.submit(T, 1, BUY, 100, 2**63, GTC)
    e.submit(T, 2, BUY, 2**63, 1, GTC)
    e.submit(T, 3, BUY, 99, 1, GTC)
    e.replace(T, 3, 99, 2**63)
    e.replace(T, 3, 2**63, 2)
    size, price = int(RejectReason.INVALID_SIZE), int(RejectReason.INVALID_PRICE)
    replace = int(ActionKind.REPLACE)
    assert drain(e) == [
        Rejected(T, 1, size, 0, 0, 1),
        Rejected(T, 2, price, 0, 0, 1),
        Accepted(T, 3, 0, 1, 1),
        CancelRejected(T, 3, size, replace, 0, 1, 1),
        CancelRejected(T, 3, price, replace, 0, 1, 1),
    ]


def test_a_pickled_engine_keeps_its_book_joined_to_its_resting_orders() -> None:
    """Checkpoints pickle the engine: the copy's book still reads the copy's resting
    orders (a level change at a resting price shrinks its queue) and reports the same."""
    e = engine(fees=FeeSchedule(maker_ppm=-10, taker_ppm=30))
    e.submit(T, 1, BUY, 100, 3, GTC)
    e.submit(T, 2, SELL, 104, 2, POST_ONLY)
    drain(e)
    copy = pickle.loads(pickle.dumps(e, protocol=pickle.HIGHEST_PROTOCOL))
    assert (
        copy.resting()
        == e.resting()
        == [
            RestingOrder(1, BUY, 100, 3, 10),
            RestingOrder(2, SELL, 104, 2, 0),
        ]
    )
    for x in (e, copy):
        x.apply_delta(T, BUY, 100, 4)  # the queue ahead of order 1 shrinks to 4
        x.apply_delta(T, BUY, 105, 1)  # through order 2: 1 of its 2 fills
        x.apply_trade(T, SELL, 100, 5)  # 4 to the queue, 1 to order 1
    reports = drain(e)
    assert drain(copy) == reports and [type(r) for r in reports] == [Filled, Filled]
    assert (
        copy.resting()
        == e.resting()
        == [
            RestingOrder(1, BUY, 100, 2, 0),
            RestingOrder(2, SELL, 104, 1, 0),
        ]
    )
