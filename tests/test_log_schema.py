"""Every replay-log builder writes what meshrt/log/schema.py defines, and every defined
record type has a builder: the Python builders called one by one, the compiled feed
commit through a short run."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import orjson
import pytest
from hypothesis import given, settings, strategies as st

from meshrt.log import records, schema
from meshrt.log.reader import Record
from meshrt.log.validate import record_problem
from meshrt.runtime.run import run
from meshrt.sequencer.order import OrderStatus
from meshrt.venues.live.refdata import Reference
from meshrt.venues.live.verdicts import Connected, Disconnected, FrameError, Resync, Why
from meshrt.venues.reports import VenueReport

from helpers import deployment, scenario
from scenarios.algos.market_maker import MarketMaker

SAMPLE: dict[frozenset[type], Any] = {
    schema.INT: 7,
    schema.STR: "x",
    schema.BOOL: True,
    schema.LIST: [],
    schema.NUM: 0.5,
    schema.SCALAR: None,
    schema.ANY: {"a": [1]},
}


def sample_payload(record: schema.RecordType) -> list[Any]:
    """A payload of the record's field types."""
    return [SAMPLE[allowed] for _, allowed in record.fields]


# each Python builder of records.py, called with valid arguments: its lines
BUILDERS: dict[str, Callable[[], list[bytes]]] = {
    "control": lambda: [
        records.control(1, 5, "v", record.name, sample_payload(record))
        for record in schema.CONTROLS
    ],
    "crash": lambda: [records.crash(1, 5, "v", "mm", "boom")],
    "restart_scheduled": lambda: [records.restart_scheduled(1, 5, "v", "mm", 9)],
    "gave_up": lambda: [records.gave_up(1, 5, "v", "mm", "too many restarts")],
    "run_end": lambda: [records.run_end(1, 5)],
    "report": lambda: [
        records.report(1, "venue:v", "v", "X", report, "ACCEPTED", "FILLED", "v:1")
        for report in (cls(5, *(7 for _ in cls._fields[1:])) for cls in schema.REPORT_BY_TYPE)
    ],
    "set_param": lambda: [records.set_param(1, 5, "algo:mm", "v", "level", object())],
    "algo_log": lambda: [records.algo_log(1, 5, "algo:mm", "v", "hello")],
    "message": lambda: [records.message(1, 5, "algo:mm", "v", "mm", "nobody", b"\x01")],
    "subscription": lambda: [
        records.subscription(1, 5, "algo:mm", "v", "X", on, True) for on in (True, False)
    ],
    "intent": lambda: [records.intent(1, 5, "algo:mm", "v", "X", (1, 1, 0, 3, 0, 2**70, 1.5))],
    "order_created": lambda: [records.order_created(1, 5, "v", "X", 3, "mm", 4)],
    "replace_sent": lambda: [records.replace_sent(1, 5, "v", "X", 3, "mm", None, 8)],
    "cancel_sent": lambda: [
        records.cancel_sent(1, 5, "v", "X", 3, "mm", "crash", "ACCEPTED", "CANCEL_PENDING")
    ],
    "intent_rejected": lambda: [
        records.intent_rejected(1, 5, "v", "mm", object(), "RISK_MAX_SIZE", "size 9 > 8")
    ],
    "live_clock": lambda: [records.live_clock(1, 1_700_000_000_000_000_000)],
    "live_window": lambda: [records.live_window(1, 5, 9)],
    "live_note": lambda: [
        records.live_note(1, 5, "v", "X", Resync("X", "XBT/USD", Why.CHECKSUM, "crc 1 != 2")),
        records.live_note(1, 5, "v", None, Connected("kraken", 1)),
        records.live_note(1, 5, "v", None, Disconnected("kraken", "stale", 500)),
        records.live_note(1, 5, "v", None, FrameError("kraken", "frame 3", "json", "bad")),
        records.live_note(1, 5, "v", "X", Reference("kraken", "XBT/USD", "X", 10**8, 1, 10, None)),
        records.live_note(1, 5, "v", "X", Reference("binance", "XBTUSDT", "X", 1, 1, 1, 5)),
    ],
}
# not replay-log builders: value helpers, and the ingress stand-in's own stream
NOT_BUILDERS = {"loggable", "shown", "text", "ingress_transition"}


def types_of(lines: list[bytes]) -> set[str]:
    """The record types of these lines, each checked against the schema."""
    found = set()
    for line in lines:
        record = orjson.loads(line)
        assert record_problem(record) is None, (record_problem(record), line)
        found.add(record[6])
    return found


def test_every_python_builder_writes_its_schema_type() -> None:
    public = {
        name
        for name, value in vars(records).items()
        if inspect.isfunction(value) and value.__module__ == records.__name__
        if not name.startswith("_")
    }
    assert public - NOT_BUILDERS == set(BUILDERS), "a builder without a case here"
    written = set().union(*(types_of(build()) for build in BUILDERS.values()))
    assert written == set(schema.TYPES) - schema.FEED_TYPES


@pytest.mark.e2e
def test_the_compiled_feed_commit_writes_the_feed_types(tmp_path: Path) -> None:
    """A short run: every line validates, and the feed records (built only by
    meshrt/actors/_commit.pyx) cover the schema's feed types."""
    result = run(scenario(deployment(MarketMaker, label="mm"), updates=400), tmp_path)
    assert result.ok
    lines = (tmp_path / "replay.jsonl").read_bytes().splitlines()[1:]
    assert types_of(lines) >= schema.FEED_TYPES


@pytest.mark.unit
def test_the_definitions_agree_with_the_code_they_describe() -> None:
    assert Record._fields == schema.ENVELOPE
    assert set(schema.REPORT_BY_TYPE) == set(get_args(VenueReport))
    for cls, record in schema.REPORT_BY_TYPE.items():  # the payload: the fields after ts
        assert cls._fields[0] == "ts"
        logged = len(record.fields) - 2  # the fields after ts the record names
        assert [*cls._fields[1 : logged + 1], "before", "after"] == record.field_names
        # what it leaves out is the order report contract, which a replay re-derives
        assert set(cls._fields[logged + 1 :]) <= {"cum", "leaves", "exec_seq", "request"}
    assert {record.name for record in schema.FEED_BY_KIND.values()} == schema.FEED_TYPES
    assert {status.name for status in OrderStatus} == schema.ORDER_STATUSES
    line = records.ingress_transition(
        1, 2, 3, "fill", 4, "A", "B", 5, 6, 7, "applied", "v", "k", []
    )
    assert len(orjson.loads(line)) == len(schema.INGRESS_FIELDS)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda r: r[:8], "a record is a JSON array of 9 fields"),
        (lambda r: [*r[:6], "teleport", *r[7:]], "unknown record type 'teleport'"),
        (lambda r: [*r[:7], [*r[7], 1], r[8]], "crash payload must be a list of 2"),
        (lambda r: [*r[:7], ["mm", 5], r[8]], "crash field 'error' has the wrong type: 5"),
        (lambda r: [*r[:8], "k"], "crash key has the wrong type: 'k'"),
    ],
)
def test_a_line_off_its_definition_is_named(
    change: Callable[[list[Any]], list[Any]], problem: str
) -> None:
    record = orjson.loads(records.crash(1, 5, "v", "mm", "boom"))
    assert problem in str(record_problem(change(record)))


ALGO_VALUES = st.one_of(
    st.integers(),
    st.floats(),
    st.text(),
    st.none(),
    st.booleans(),
    st.builds(object),
    st.lists(st.integers(), max_size=3),
)


@pytest.mark.property
@settings(max_examples=200, deadline=None)
@given(st.tuples(ALGO_VALUES, ALGO_VALUES, ALGO_VALUES, ALGO_VALUES), ALGO_VALUES)
def test_whatever_an_algo_gives_its_intent_and_reject_records_validate(
    values: tuple[Any, Any, Any, Any], symbol: Any
) -> None:
    """An algo's values are logged as given or as their repr, never off the schema."""
    intent = records.intent(1, 5, "algo:mm", "v", symbol, (1, 2, 0, *values))
    rejected = records.intent_rejected(2, 5, "v", "mm", values[0], "BAD_PRICE", "why")
    assert types_of([intent, rejected]) == {"intent", "intent_rejected"}
