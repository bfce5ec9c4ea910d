"""The intent desk's records built in C (meshrt/log/_intents.pyx) are the bytes of their
Python builders (meshrt/log/records.py), whatever an algo gives."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from meshrt.contract import ActionKind, Side, TimeInForce
from meshrt.log import _intents, records

EDGE_INTS = [0, 1, -1, 9, 10, 99, 100, 10**8 - 1, 10**8, 2**31, 2**63 - 1, -(2**63), 2**63]
EDGE_INTS += [2**64 - 1, 2**64, -(2**63) - 1, 2**70]
INTS = st.one_of(st.sampled_from(EDGE_INTS), st.integers(), st.integers(-(2**64), 2**64))
TEXT = st.one_of(
    st.sampled_from(["", "BTC-USD", 'a"b', "a\\b", "é", "\x7f", "\n", "mm-1", "\u2028"]),
    st.text(max_size=8),
)


class Name(str):
    """A str subclass: orjson writes it as a string, records.loggable as its repr."""


ALGO_VALUES = st.one_of(
    INTS,
    TEXT,
    st.sampled_from([*ActionKind, *Side, *TimeInForce]),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.builds(Name, TEXT),
    st.builds(object),
    st.lists(st.integers(), max_size=2),
)
STRINGS = st.one_of(TEXT, st.builds(Name, TEXT))


def outcome(build: Any, *args: Any) -> bytes | str:
    """What a builder makes of its arguments: the line, or the error it raises."""
    try:
        line: bytes = build(*args)
    except Exception as exc:  # noqa: BLE001 - the two builders must fail alike too
        return f"{type(exc).__name__}: {exc}"
    return line


@pytest.mark.property
@settings(max_examples=400, deadline=None)
@given(
    st.lists(ALGO_VALUES, min_size=8, max_size=8),
    st.one_of(STRINGS, ALGO_VALUES),
    st.tuples(st.integers(0, 2**63 - 1), st.integers(0, 2**63 - 1)),
)
def test_intent_and_reject_records_are_the_python_builders_bytes(
    values: list[Any], symbol: Any, times: tuple[int, int]
) -> None:
    seq, ts = times
    action = tuple(values)
    assert _intents.intent(seq, ts, "algo:mm", "v", symbol, action) == records.intent(
        seq, ts, "algo:mm", "v", symbol, action[:7]
    )
    detail = f"price {records.shown(values[1])}"
    assert _intents.intent_rejected(
        seq, ts, "v", "mm", values[0], "INVALID_PRICE", detail
    ) == records.intent_rejected(seq, ts, "v", "mm", values[0], "INVALID_PRICE", detail)


@pytest.mark.property
@settings(max_examples=400, deadline=None)
@given(
    st.tuples(INTS, INTS, INTS, INTS),
    st.one_of(st.none(), INTS),
    st.tuples(STRINGS, STRINGS, STRINGS, STRINGS),
)
def test_order_records_are_the_python_builders_bytes(
    ints: tuple[int, int, int, int], price: int | None, texts: tuple[str, str, str, str]
) -> None:
    seq, ts, order_id, size = ints
    venue, symbol, label, cause = texts
    args = (seq, ts, venue, symbol, order_id, label)
    for name, rest in [
        ("order_created", (size,)),
        ("replace_sent", (price, size)),
        ("cancel_sent", (cause, "ACCEPTED", "CANCEL_PENDING")),
    ]:
        compiled = outcome(getattr(_intents, name), *args, *rest)
        assert compiled == outcome(getattr(records, name), *args, *rest), name


def test_a_line_longer_than_the_stack_buffer_is_whole() -> None:
    detail = "x" * 5000
    line = _intents.intent_rejected(1, 2, "v", "mm", 3, "RISK_MAX_POSITION", detail)
    assert line == records.intent_rejected(1, 2, "v", "mm", 3, "RISK_MAX_POSITION", detail)
