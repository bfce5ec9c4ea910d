"""The rules the compiled dispatcher's packing (meshrt/loaders/_pack.pyx) applies in C for a
WASM or native algo, against their Python homes on random inputs: the book features
(``sdk.Features``: mid, microprice, spread, imbalance, via ``contract.mid_price``) and
the unrealized PnL of the state (``sdk.AlgoState.unrealized_pnl``, via
``contract.notional``). Read back from the I/O area the algo sees, after a no-op
native algo's on_book.

The other compiled copies have their own comparisons: the venue's feed features and mid
(meshrt/venues/_feed.pyx) in tests/test_book.py, the feed latency (meshrt/actors/
_commit.pyx) in tests/test_runtime.py. Fees are computed in Python only
(``FeeSchedule.fee``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from meshrt import AlgoState, Side
from meshrt.actors.instance import InstanceHost
from meshrt.contract import ALGO_STATE, FEATURES, INT64_MAX, IO_OFFSETS
from meshrt.loaders import load_slot
from meshrt.loaders.compiled import SlotContext
from meshrt.sdk import Actions, Book, Features

from c_algos import c_algo
from helpers import deployment

SYMBOLS = ("XYZ", "ABC", "DEF")


class _Instance:
    """What InstanceHost reads of an instance; a no-op algo calls nothing."""

    def __init__(self, state: AlgoState) -> None:
        self.state, self.params, self.outputs = state, {}, []
        self.messages_this_callback = self.messages_refused = 0


@pytest.fixture(scope="module")
def slot() -> Iterator[Any]:
    algo = c_algo("noop", "")
    host = InstanceHost(_Instance(AlgoState(SYMBOLS[0])))  # type: ignore[arg-type]
    loaded = load_slot(
        deployment(str(algo["native"])), None, host, {}, SlotContext(("v",), SYMBOLS)
    )
    yield loaded
    loaded.close()


def seen(slot: Any, book: Book, state: AlgoState, features: Features) -> tuple[Any, Any]:
    """The features and the state the compiled algo was handed for this book."""
    slot.on_book(book, state, features, Actions(state, SYMBOLS[0]))
    io = slot.dispatcher.io_view()
    names = ("mid", "microprice", "spread", "imbalance", "volatility", "trade_flow")
    packed = dict(zip(names, FEATURES.unpack_from(io, IO_OFFSETS["features"]), strict=True))
    return packed, ALGO_STATE.unpack_from(io, IO_OFFSETS["state"])


PRICES = st.one_of(st.integers(1, INT64_MAX), st.integers(1, 10**6))
SIZES = st.one_of(st.integers(0, INT64_MAX), st.integers(0, 10**6))
SIDE = st.lists(st.tuples(PRICES, SIZES), max_size=3)


def book_of(symbol: str, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> Book:
    return Book(
        1,
        symbol,
        "v",
        tuple(p for p, _ in bids),
        tuple(z for _, z in bids),
        tuple(p for p, _ in asks),
        tuple(z for _, z in asks),
    )


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(SIDE, SIDE, st.integers(0, INT64_MAX), st.integers(-INT64_MAX, INT64_MAX))
def test_the_compiled_features_are_the_python_rules(
    slot: Any,
    bids: list[tuple[int, int]],
    asks: list[tuple[int, int]],
    volatility: int,
    flow: int,
) -> None:
    """Any top of book, crossed or not, up to the int64 limit, zero sizes included."""
    book = book_of(SYMBOLS[0], bids, asks)
    features = Features(book, volatility, flow)
    packed, _ = seen(slot, book, AlgoState(SYMBOLS[0]), features)
    assert packed == {name: getattr(features, name) for name in packed}


# a fill's price and size kept where the notional of a position fits int64, as the
# contract's fixed point does for any real market (1e4 quote x 1e5 units)
FILLS = st.lists(
    st.tuples(
        st.sampled_from(SYMBOLS),
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(1, 10**13),
        st.integers(1, 10**13),
    ),
    max_size=6,
)
MARKS = st.lists(st.tuples(st.integers(1, 10**13), st.integers(1, 10**13)), max_size=1)


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(FILLS, st.tuples(MARKS, MARKS, MARKS))
def test_the_compiled_unrealized_pnl_is_the_python_rule(
    slot: Any,
    fills: list[tuple[str, Side, int, int]],
    marks: tuple[list[tuple[int, int]], ...],
) -> None:
    """Positions in up to three symbols, each marked at the mid of its last book (or
    none): the state's unrealized PnL as AlgoState computes it."""
    state = AlgoState(SYMBOLS[0])
    for symbol, side, price, size in fills:
        state.ledger.apply_fill(symbol, side, price, size, 0)
    for symbol, mark in zip(SYMBOLS, marks, strict=True):
        if mark:
            bid, ask = sorted(mark[0])
            state.books[symbol] = book_of(symbol, [(bid, 1)], [(ask, 1)])
    book = state.books.get(SYMBOLS[0], book_of(SYMBOLS[0], [], []))
    _, packed = seen(slot, book, state, Features(book, 0, 0))
    position, cash, realized, unrealized, fees = packed[1:6]
    assert (position, cash, realized, fees) == (
        state.position(),
        state.cash,
        state.realized_pnl,
        state.fees,
    )
    assert unrealized == state.unrealized_pnl
