"""The displayed L2 book (C, meshrt/venues/_book.c) against a plain Python model."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshrt.actors import protocol
from meshrt.contract import Side
from meshrt import events
from meshrt.venues import _book
from meshrt.venues._book import L2Book

BUY, SELL = int(Side.BUY), int(Side.SELL)


def test_the_c_constants_are_the_python_ones() -> None:
    assert (_book.BUY, _book.SELL) == (BUY, SELL)
    assert (_book.FEED_SNAPSHOT, _book.FEED_DELTA, _book.FEED_TRADE) == (
        events.FEED_SNAPSHOT, events.FEED_DELTA, events.FEED_TRADE)
    assert (_book.OUT_BOOK, _book.OUT_TRADE, _book.OUT_REPORT) == (
        protocol.OUT_BOOK, protocol.OUT_TRADE, protocol.OUT_REPORT)


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
    with pytest.raises(OverflowError, match="price .* int64"):
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
    assert all(now is then for now, then in zip(book.top(), before))
