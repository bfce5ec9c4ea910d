"""The instance's compiled book-delivery loop and its callback-duration histogram."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from meshrt.actors._deliver import LatencyHistogram, deliver_books
from meshrt.actors.protocol import BookDelivery, FillDelivery, LifecycleDelivery
from meshrt.contract import Side, TimeInForce
from meshrt.sdk import Actions, AlgoState, Book, Features


@pytest.mark.property
@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 2**62), min_size=1, max_size=300),
    st.sampled_from([0.0, 0.01, 0.5, 0.9, 0.99, 1.0]),
)
def test_percentiles_are_within_1_in_256_of_the_sorted_list(
    values: list[int], fraction: float
) -> None:
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
    assert (clone.count, clone.max, clone.percentile(fraction)) == (
        histogram.count,
        histogram.max,
        got,
    )


def test_an_empty_histogram_and_a_bad_fraction() -> None:
    histogram = LatencyHistogram()
    assert (histogram.count, histogram.max, histogram.percentile(0.5)) == (0, 0, 0)
    with pytest.raises(ValueError, match="not in"):
        histogram.percentile(1.5)
    with pytest.raises(TypeError):
        LatencyHistogram(1)  # type: ignore[call-arg]


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


def book(ts: int, symbol: str = "XYZ") -> BookDelivery:
    b = Book(ts, symbol, "v1", (100,), (1,), (101,), (1,))
    return BookDelivery(ts, b, Features(b, 0, 0))


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

    other = LifecycleDelivery(4, "stop")
    items = [book(1), book(2, "ABC"), book(3), other, book(5)]
    assert deliver_books(items, 0, state, actions, inst, on_book, inst.flush, latencies) == (
        3,
        3,
        None,
    )
    assert seen == [(1, 1), (2, 2), (3, 3)]
    assert state.now == 3 and set(state.books) == {"XYZ", "ABC"}
    assert [ts for ts, _ in inst.flushed] == [2] and len(inst.flushed[0][1]) == 1
    assert latencies.count == 3
    assert deliver_books(items, 3, state, actions, inst, on_book, inst.flush, latencies)[:2] == (
        3,
        0,
    )  # the caller handles the lifecycle item
    assert deliver_books(items, 4, state, actions, inst, on_book, inst.flush, latencies)[:2] == (
        5,
        1,
    )


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
    k, callbacks, error = deliver_books(
        items, 0, state, actions, inst, on_book, inst.flush, latencies
    )
    assert (k, callbacks, type(error), str(error)) == (2, 2, ZeroDivisionError, "boom")
    assert error.__traceback__ is not None  # the crash report shows where the algo failed
    assert latencies.count == 2


def test_a_base_exception_is_the_algos_failure_and_returned() -> None:
    """A real Ctrl-C never raises here (meshrt/runtime/interrupts.py): a KeyboardInterrupt or
    SystemExit out of on_book is algo code."""
    state, actions, inst, latencies = setup()

    def on_book(*_: Any) -> None:
        raise KeyboardInterrupt("algo code")

    k, callbacks, error = deliver_books(
        [book(1), book(2)], 0, state, actions, inst, on_book, inst.flush, latencies
    )
    assert (k, callbacks) == (1, 1)
    assert isinstance(error, KeyboardInterrupt) and str(error) == "algo code"


def test_a_negative_start_is_refused() -> None:
    state, actions, inst, latencies = setup()
    with pytest.raises(ValueError, match="start index -1 is negative"):
        deliver_books([book(1)], -1, state, actions, inst, print, inst.flush, latencies)


def test_only_a_book_delivery_is_a_book() -> None:
    """By type: a tuple of the same fields is another item."""
    state, actions, inst, latencies = setup()
    second = book(2)
    items: list[Any] = [book(1), (second.ts, second.book, second.features), book(3)]
    assert deliver_books(
        items, 0, state, actions, inst, lambda *_: None, inst.flush, latencies
    ) == (1, 1, None)


class Raised(Exception):
    pass


def reference_run(
    items: list[Any],
    start: int,
    state: AlgoState,
    actions: Actions,
    inst: Instance,
    on_book: Any,
) -> tuple[int, int, BaseException | None]:
    """deliver_books' rule, in Python: what the compiled loop must do."""
    k, callbacks = start, 0
    while k < len(items) and type(items[k]) is BookDelivery:
        ts, b, features = items[k].ts, items[k].book, items[k].features
        state.now = ts
        state.books[b.symbol] = b
        callbacks += 1
        k += 1
        try:
            on_book(b, state, features, actions)
        except BaseException as exc:  # noqa: BLE001 - the rule under test
            return k, callbacks, exc
        if actions._buffer or inst.messages_this_callback:
            inst.flush(ts)
    return k, callbacks, None


# per item: a book that does nothing, orders, sends a message or raises; or another kind
ITEM = st.sampled_from(["quiet", "order", "message", "raise", "other"])


@pytest.mark.property
@settings(max_examples=200, deadline=None)
@given(st.lists(ITEM, max_size=40), st.integers(0, 45))
def test_random_runs_match_the_python_rule(plan: list[str], start: int) -> None:
    items = [
        FillDelivery(ts, None) if what == "other" else book(ts, "ABC" if ts % 3 else "XYZ")
        for ts, what in enumerate(plan, 1)
    ]
    outcomes = []
    for deliver in (deliver_books, None):
        state, actions, inst, latencies = setup()
        seen: list[tuple[int, int, int]] = []

        def on_book(b: Book, s: AlgoState, f: Features, a: Actions) -> None:
            seen.append((b.ts, s.now, len(s.books)))  # noqa: B023 - runs in this iteration
            what = plan[b.ts - 1]
            if what == "order":
                a.limit(Side.BUY, 100, 1, TimeInForce.GTC)
            elif what == "message":
                inst.messages_this_callback += 1  # noqa: B023 - runs in this iteration
            elif what == "raise":
                raise Raised(b.ts)

        if deliver is None:
            k, callbacks, error = reference_run(items, start, state, actions, inst, on_book)
        else:
            k, callbacks, error = deliver(
                items, start, state, actions, inst, on_book, inst.flush, latencies
            )
            assert latencies.count == callbacks
        outcomes.append(
            (k, callbacks, repr(error), seen, inst.flushed, state.now, dict(state.books))
        )
    assert outcomes[0] == outcomes[1]
