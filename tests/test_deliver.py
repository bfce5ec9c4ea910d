"""The instance's C book-delivery loop and its callback-duration histogram."""

from __future__ import annotations

import pickle
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshrt.actors import protocol
from meshrt.actors._deliver import D_BOOK, LatencyHistogram, deliver_books
from meshrt.contract import Side, TimeInForce
from meshrt.sdk import Actions, AlgoState, Book, Features


def test_d_book_is_the_protocol_value() -> None:
    assert D_BOOK == protocol.D_BOOK


@pytest.mark.property
@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**62), min_size=1, max_size=300),
       st.sampled_from([0.0, 0.01, 0.5, 0.9, 0.99, 1.0]))
def test_percentiles_are_within_1_in_256_of_the_sorted_list(values: list[int],
                                                            fraction: float) -> None:
    histogram = LatencyHistogram()
    for value in values:
        histogram.record(value)
    ordered = sorted(values)
    exact = ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
    got = histogram.percentile(fraction)
    assert abs(got - exact) <= exact / 256
    if exact < 256:
        assert got == exact
    assert (histogram.count, histogram.max) == (len(values), max(values))
    clone = pickle.loads(pickle.dumps(histogram))
    assert (clone.count, clone.max, clone.percentile(fraction)) == (histogram.count,
                                                                    histogram.max, got)


def test_an_empty_histogram_and_a_bad_fraction() -> None:
    histogram = LatencyHistogram()
    assert (histogram.count, histogram.max, histogram.percentile(0.5)) == (0, 0, 0)
    with pytest.raises(ValueError, match="not in"):
        histogram.percentile(1.5)


class Instance:
    """What deliver_books reads of an AlgoInstance, and a flush that records its calls."""

    def __init__(self, actions: Actions) -> None:
        self.messages_this_callback = 0
        self.actions = actions
        self.flushed: list[tuple[int, list[Any]]] = []

    def flush(self, ts: int) -> None:
        self.flushed.append((ts, list(self.actions._buffer)))
        self.actions._buffer.clear()
        self.messages_this_callback = 0


def book(ts: int, symbol: str = "XYZ") -> tuple[Any, ...]:
    b = Book(ts, symbol, "v1", (100,), (1,), (101,), (1,))
    return (ts, D_BOOK, b, Features(b, 0, 0))


def setup() -> tuple[AlgoState, Actions, Instance, LatencyHistogram]:
    state = AlgoState("XYZ")
    actions = Actions(state, "XYZ")
    return state, actions, Instance(actions), LatencyHistogram()


def test_a_run_of_books_is_delivered_and_stops_at_the_first_other_item() -> None:
    state, actions, inst, latencies = setup()
    seen: list[tuple[int, int]] = []

    def on_book(b: Book, s: AlgoState, f: Features, a: Actions) -> None:
        seen.append((b.ts, s.now))
        if b.ts == 2:
            a.limit(Side.BUY, 100, 1, TimeInForce.GTC)

    other = (4, protocol.D_LIFECYCLE, "stop")
    items = [book(1), book(2, "ABC"), book(3), other, book(5)]
    assert deliver_books(items, 0, state, actions, inst, on_book, inst.flush, latencies) == (
        3, 3, None)
    assert seen == [(1, 1), (2, 2), (3, 3)]
    assert state.now == 3 and set(state.books) == {"XYZ", "ABC"}
    assert [ts for ts, _ in inst.flushed] == [2] and len(inst.flushed[0][1]) == 1
    assert latencies.count == 3
    assert deliver_books(items, 3, state, actions, inst, on_book, inst.flush, latencies)[:2] == (
        3, 0)  # the caller handles the lifecycle item
    assert deliver_books(items, 4, state, actions, inst, on_book, inst.flush, latencies)[:2] == (
        5, 1)


def test_a_message_alone_also_flushes() -> None:
    state, actions, inst, latencies = setup()

    def on_book(*_: Any) -> None:
        inst.messages_this_callback += 1

    deliver_books([book(7)], 0, state, actions, inst, on_book, inst.flush, latencies)
    assert inst.flushed == [(7, [])] and inst.messages_this_callback == 0


def test_a_raising_callback_ends_the_run_and_its_exception_is_returned() -> None:
    state, actions, inst, latencies = setup()

    def on_book(b: Book, *_: Any) -> None:
        if b.ts == 2:
            raise ZeroDivisionError("boom")

    items = [book(1), book(2), book(3)]
    k, callbacks, error = deliver_books(items, 0, state, actions, inst, on_book, inst.flush,
                                       latencies)
    assert (k, callbacks, type(error), str(error)) == (2, 2, ZeroDivisionError, "boom")
    assert error.__traceback__ is not None  # the crash report shows where the algo failed
    assert latencies.count == 2


def test_a_base_exception_is_the_algos_failure_and_returned() -> None:
    """A real Ctrl-C never raises here (meshrt/interrupts.py): a KeyboardInterrupt or
    SystemExit out of on_book is algo code."""
    state, actions, inst, latencies = setup()

    def on_book(*_: Any) -> None:
        raise KeyboardInterrupt("algo code")

    k, callbacks, error = deliver_books([book(1), book(2)], 0, state, actions, inst, on_book,
                                        inst.flush, latencies)
    assert (k, callbacks) == (1, 1)
    assert isinstance(error, KeyboardInterrupt) and str(error) == "algo code"


def test_random_runs_match_a_python_loop() -> None:
    rng = random.Random(3)
    items = [book(ts) if rng.random() < 0.8 else (ts, protocol.D_FILL, None)
             for ts in range(1, 400)]
    state, actions, inst, latencies = setup()
    calls: list[int] = []
    k = 0
    while k < len(items):
        k, _, error = deliver_books(items, k, state, actions, inst,
                                    lambda b, *_: calls.append(b.ts), inst.flush, latencies)
        assert error is None
        if k < len(items) and items[k][1] != D_BOOK:
            k += 1
    assert calls == [item[0] for item in items if item[1] == D_BOOK]
