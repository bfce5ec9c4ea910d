"""The displayed L2 book (Cython, meshrt/venues/_book.pyx) against plain Python models,
and the venue's compiled feed loop (meshrt/venues/_feed.pyx) against the Python rules it
applies."""

from __future__ import annotations

import itertools
import pickle
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from meshrt.contract import Side
from meshrt.sdk import Book, Features
from meshrt.venues import _book, events
from meshrt.venues._book import L2Book
from meshrt.venues._feed import VenueSymbol
from meshrt.venues._matching import MatchingEngine
from meshrt.venues.features import FeatureTracker
from meshrt.venues.outputs import BookUpdate, TradePrint

BUY, SELL = int(Side.BUY), int(Side.SELL)
INT64_MAX = 2**63 - 1


def test_no_resting_order_is_what_a_new_book_holds_and_the_engine_keeps() -> None:
    book = L2Book({}, {}, 20)
    assert (book.buy_max, book.sell_min) == (_book.NO_BUY, _book.NO_SELL) == (0, INT64_MAX)
    engine = MatchingEngine()
    engine.apply_snapshot(0, [(99, 1)], [(101, 1)])
    engine.submit(1, 1, BUY, 98, 1, 0)
    engine.submit(1, 2, SELL, 102, 1, 0)
    engine.cancel(2, 1)
    engine.cancel(2, 2)
    assert (engine.book.buy_max, engine.book.sell_min) == (_book.NO_BUY, _book.NO_SELL)


class Model:
    """What the book must show: a price -> size dict per side."""

    def __init__(self) -> None:
        self.levels: dict[int, dict[int, int]] = {BUY: {}, SELL: {}}

    def set(self, side: int, price: int, size: int) -> None:
        if size > 0:
            self.levels[side][price] = size
        else:
            self.levels[side].pop(price, None)

    def side(self, side: int) -> tuple[list[int], list[int]]:
        prices = sorted(self.levels[side], reverse=side == BUY)
        return prices, [self.levels[side][p] for p in prices]


prices = st.integers(1, 40)
sizes = st.integers(-2, 9)
sides = st.sampled_from([BUY, SELL])
ops = st.lists(
    st.one_of(
        st.tuples(st.just("set"), sides, prices, sizes),
        st.tuples(st.just("consume"), sides, st.integers(1, 12)),
    ),
    max_size=80,
)


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(ops, st.integers(0, 6))
def test_the_book_matches_a_dict_model_and_its_view_tracks_every_change(
    op_list: list[tuple], depth: int
) -> None:
    book, model = L2Book({}, {}, depth), Model()
    for op in op_list:
        if op[0] == "set":
            book.set(*op[1:])
            model.set(*op[1:])
        else:
            side, qty = op[1:]
            best = book.best(side)
            if best is None:
                with pytest.raises(ValueError, match="empty side"):
                    book.consume_best(side, qty)
                continue
            assert book.consume_best(side, qty) == best[1] - qty
            model.set(side, best[0], best[1] - qty)
        for side in (BUY, SELL):
            want = model.side(side)
            assert book.levels(side) == (want[0], want[1])
            assert book.best(side) == ((want[0][0], want[1][0]) if want[0] else None)
            for price in (1, 20, 40):
                assert book.size_at(side, price) == model.levels[side].get(price, 0)
        bp, bs, ap, asz = book.top()
        assert (list(bp), list(bs)) == tuple(part[:depth] for part in model.side(BUY))
        assert (list(ap), list(asz)) == tuple(part[:depth] for part in model.side(SELL))
    clone = pickle.loads(pickle.dumps(book))
    assert clone.levels(BUY) == book.levels(BUY) and clone.levels(SELL) == book.levels(SELL)
    assert clone.top() == book.top() and clone.depth == depth


def test_set_says_when_a_change_reaches_a_resting_order() -> None:
    buys: dict[int, list[object]] = {}
    sells: dict[int, list[object]] = {}
    book = L2Book(buys, sells, 20)
    assert not book.set(BUY, 100, 5)  # no resting order anywhere
    buys[99] = [object()]
    book.buy_max = 99
    assert book.set(BUY, 99, 3)  # the queue at a resting price
    assert not book.set(BUY, 98, 3)
    assert book.set(SELL, 99, 1)  # an ask through the best resting buy
    assert not book.set(SELL, 99, 0)  # a removal crosses nothing
    assert not book.set(SELL, 100, 4)


def test_bad_levels_are_refused_with_the_reason() -> None:
    book = L2Book({}, {}, 20)
    with pytest.raises(ValueError, match="neither BUY"):
        book.set(3, 100, 1)
    with pytest.raises(OverflowError, match=r"price .* int64"):
        book.set(BUY, 2**63, 1)
    with pytest.raises(ValueError, match="out of order"):
        book.load([100, 101], [1, 1], [], [])
    assert book.levels(BUY) == ([], [])  # the refused load left nothing half-made


def test_a_size_change_keeps_the_prices_tuple_and_a_new_level_replaces_both() -> None:
    book = L2Book({}, {}, 3)
    book.load([100, 99], [5, 5], [101], [5])
    bp, bs, ap, asz = book.top()
    book.set(BUY, 99, 7)  # a size inside the view
    nbp, nbs, nap, nasz = book.top()
    assert nbp is bp and nbs is not bs and nbs == (5, 7)
    assert nap is ap and nasz is asz  # the other side untouched
    book.set(BUY, 98, 1)  # a new level inside the view
    assert book.top()[0] is not bp and book.top()[0] == (100, 99, 98)
    before = book.top()
    book.set(BUY, 90, 1)  # below the view: nothing to rebuild
    book.set(BUY, 97, 0)  # removing a level that is not there changes nothing
    assert all(now is then for now, then in zip(book.top(), before, strict=True))


# -- the feed loop against the Python rules ---------------------------------------------

big_prices = st.one_of(st.integers(1, 40), st.integers(INT64_MAX - 40, INT64_MAX))
levels = st.lists(st.tuples(big_prices, st.integers(-1, 9)), max_size=6)
feed = st.lists(
    st.one_of(
        st.tuples(st.just(events.FEED_DELTA), sides, big_prices, st.integers(-1, 9)),
        st.tuples(
            st.just(events.FEED_TRADE),
            st.sampled_from([BUY, SELL, 0]),
            big_prices,
            st.integers(1, 10**12),
        ),
        st.tuples(st.just(events.FEED_SNAPSHOT), levels, levels),
    ),
    max_size=60,
)


def reference(feed_events: list[tuple[Any, ...]], depth: int) -> tuple[list[Any], FeatureTracker]:
    """What play() must emit, from the Python homes of each rule: the book as a dict
    model, mid from Features.mid (meshrt.contract.mid_price), volatility and trade flow
    from FeatureTracker."""
    model, tracker, out = Model(), FeatureTracker(), []
    for ev in feed_events:
        ts, kind = ev[0], ev[1]
        if kind == events.FEED_TRADE:
            tracker.on_trade(ev[2], ev[4])
            out.append(TradePrint(ts, 0, ev))
            continue
        if kind == events.FEED_DELTA:
            model.set(*ev[2:])
        else:
            for side, side_levels in ((BUY, ev[2]), (SELL, ev[3])):
                model.levels[side] = {p: z for p, z in side_levels if z > 0}
        (bp, bs), (ap, asz) = model.side(BUY), model.side(SELL)
        book = Book(
            ts,
            "X",
            "v",
            tuple(bp[:depth]),
            tuple(bs[:depth]),
            tuple(ap[:depth]),
            tuple(asz[:depth]),
        )
        touch = Book(ts, "X", "v", tuple(bp[:1]), tuple(bs[:1]), tuple(ap[:1]), tuple(asz[:1]))
        tracker.on_book(Features(touch, 0, 0).mid if bp and ap else None)  # even at depth 0
        out.append(
            BookUpdate(ts, 0, ev, book, Features(book, tracker.volatility, tracker.trade_flow))
        )
    return out, tracker


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(feed, st.integers(0, 4), st.lists(st.integers(0, 60), max_size=4))
def test_the_feed_loop_applies_the_python_rules(
    raw: list[tuple[Any, ...]], depth: int, cuts: list[int]
) -> None:
    feed_events = [(ts, *ev) for ts, ev in enumerate(raw)]
    lane, out = VenueSymbol(MatchingEngine(depth=depth), 0, "X", "v", Book, Features), []
    bounds = [0, *sorted(min(c, len(feed_events)) for c in cuts), len(feed_events)]
    for start, stop in itertools.pairwise(bounds):  # windows: state is kept between
        lane.play(feed_events, start, stop, out)
    want, want_tracker = reference(feed_events, depth)
    assert out == want
    assert [type(item) for item in out] == [type(item) for item in want]
    updates = [item for item in out if isinstance(item, BookUpdate)]
    assert [(type(item.book), type(item.features)) for item in updates] == [(Book, Features)] * len(
        updates
    )
    assert (lane.last_mid, lane.volatility, lane.trade_flow) == (
        want_tracker.last_mid,
        want_tracker.volatility,
        want_tracker.trade_flow,
    )


def test_the_feed_loop_refuses_a_trade_flow_past_int64() -> None:
    lane = VenueSymbol(MatchingEngine(), 0, "X", "v", Book, Features)
    lane.trade_flow = INT64_MAX
    with pytest.raises(OverflowError, match="v X: trade flow overflows int64"):
        lane.play([(1, events.FEED_TRADE, BUY, 5, 1)], 0, 1, [])
