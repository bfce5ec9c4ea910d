"""The replay log reader: reads what the runtime writes, refuses anything else, precisely."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import given, settings, strategies as st

from meshrt import Algo, Side, seconds
from meshrt.actors._commit import FeedCommit, feed_fragments
from meshrt.log import records
from meshrt.log.errors import LogCorrupt, LogError, LogTorn, LogVersionError
from meshrt.log.reader import Record, ReplayReader, log_path
from meshrt.log.schema import FEED_BY_KIND, LIVE_NOTES, REPORT_BY_TYPE, TYPES
from meshrt.log.writer import FORMAT, VERSION
from meshrt.runtime.run import run
from meshrt.scenario.faults import (
    DropRate,
    KillCoordinator,
    KillFeed,
    KillInstance,
    LatencySpike,
    Partition,
    RestartCoordinator,
)
from meshrt.scenario.latency import Latency, LatencyStream
from meshrt.scenario.restart import on_failure
from meshrt.sequencer.order import OrderStatus
from meshrt.sequencer.reports import report_record
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FEED_TRADE
from meshrt.venues.outputs import BookUpdate, TradePrint, VenueOutput
from meshrt.venues.reports import VenueReport

from helpers import UNIT, deployment, scenario
from scenarios.algos.market_maker import MarketMaker


@pytest.fixture(scope="module")
def real_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A market maker's run folder: feed records, intents, orders and every report kind."""
    out = tmp_path_factory.mktemp("run")
    result = run(scenario(deployment(MarketMaker, label="mm"), updates=3_000), out)
    assert result.ok and result.summary["fills"] > 0
    return out


def lines_of(run_dir: Path) -> list[bytes]:
    return (run_dir / "replay.jsonl").read_bytes().splitlines(keepends=True)


def write(tmp_path: Path, lines: list[bytes]) -> Path:
    path = tmp_path / "replay.jsonl"
    path.write_bytes(b"".join(lines))
    return path


def read_all(path: Path) -> tuple[ReplayReader, list[Record]]:
    reader = ReplayReader(path)
    return reader, list(reader)


def test_reads_a_real_run_strictly(real_log: Path) -> None:
    reader, records = read_all(real_log)
    summary = orjson.loads((real_log / "summary.json").read_bytes())
    assert reader.header.format == FORMAT and reader.header.version == VERSION
    assert reader.header.scenario == "test" and reader.header.seed == 5
    assert [d["label"] for d in reader.header.deployments] == ["mm"]
    assert len(records) == len(lines_of(real_log)) - 1
    assert reader.last_seq == records[-1].seq == summary["events"]
    assert reader.end_offset == (real_log / "replay.jsonl").stat().st_size
    assert not reader.missing_newline
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    types = {r.type for r in records}
    assert {"snapshot", "delta", "trade", "intent", "order_created", "accepted", "fill"} <= types
    assert types <= set(TYPES)
    fill = next(r for r in records if r.type == "fill")
    assert fill.source == "venue:v1" and fill.instrument == "XYZ"
    assert isinstance(fill.key, str) and fill.key.startswith("v1:")


class Chatty(Algo):
    """Uses every host call once, then crashes on its tenth book."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        self.params["books"] = books = self.params.get("books", 0) + 1
        if books == 1:
            self.host.subscribe("NOPE")
            self.host.unsubscribe("XYZ")
            self.host.subscribe("XYZ")
            self.host.set_param("level", 3)
            self.host.log("hello")
            self.host.send("nobody", b"\x01\x02")
            actions.limit(Side.BUY, book.bid_prices[-1], UNIT)
            actions.cancel(99)
        elif books == 10:
            raise RuntimeError("tenth book")

    def on_fill(self, fill, state, actions):  # type: ignore[no-untyped-def]
        pass

    def on_reject(self, reject, state, actions):  # type: ignore[no-untyped-def]
        pass


def test_every_record_type_the_runtime_writes_reads_strictly(tmp_path: Path) -> None:
    faults = (
        KillInstance("mm", seconds(0.01)),
        KillInstance("mm", seconds(0.02)),
        KillFeed("v1", seconds(0.03), seconds(0.005)),
        KillCoordinator(seconds(0.035)),
        RestartCoordinator(seconds(0.04)),
        Partition("v1", seconds(0.042), seconds(0.002)),
        DropRate("chatty", "mm", 0.5, seconds(0.045), seconds(0.002)),
        LatencySpike("chatty", "mm", 1_000, seconds(0.046), seconds(0.002)),
    )
    mm = deployment(
        MarketMaker, label="mm", restart=on_failure(max_restarts=1, delay_ns=seconds(0.001))
    )
    chatty = deployment(Chatty, label="chatty", params={})
    sc = attrs.evolve(scenario(mm, chatty, updates=3_000), faults=faults)
    assert run(sc, tmp_path).summary["status"] == "ok"
    reader, records = read_all(tmp_path)
    written = {r.type for r in records}
    live = {"live_clock", "live_window", *(record.name for record in LIVE_NOTES)}
    assert written == set(TYPES) - live, (set(TYPES) - live) ^ written  # live: test_paper.py
    assert reader.last_seq == len(records)


def test_a_run_folder_or_the_file_itself_can_be_named(real_log: Path) -> None:
    assert log_path(real_log) == real_log / "replay.jsonl"
    assert log_path(real_log / "replay.jsonl") == real_log / "replay.jsonl"
    assert ReplayReader(real_log / "replay.jsonl").header.scenario == "test"


def header_with(**changes: object) -> bytes:
    header = {
        "format": FORMAT,
        "version": VERSION,
        "scenario": "s",
        "seed": 1,
        "venues": [],
        "deployments": [],
    }
    header.update(changes)
    return orjson.dumps(header) + b"\n"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        (header_with(version="1"), "unsupported replay log version '1'"),
        (header_with(format="other-log"), "format 'other-log'"),
        (b'[1, 0, 0, "venue:v1", "v1", "X", "delta", [1, 1, 1], 1]\n', "no header"),
    ],
)
def test_another_format_or_version_is_refused_naming_file_and_version(
    tmp_path: Path, header: bytes, fragment: str
) -> None:
    path = write(tmp_path, [header])
    with pytest.raises(LogVersionError) as info:
        ReplayReader(path)
    assert str(info.value).startswith(f"{path}:1: ")
    assert fragment in str(info.value)
    assert info.value.line == 1


@pytest.mark.unit
def test_a_header_missing_a_field_is_corrupt(tmp_path: Path) -> None:
    path = write(tmp_path, [header_with(seed="five")])
    with pytest.raises(LogCorrupt, match=r"replay.jsonl:1: header field 'seed' must be int"):
        ReplayReader(path)


def _replace_field(index: int, value: object) -> Callable[[list[object]], list[object]]:
    def change(record: list[object]) -> list[object]:
        record = list(record)
        record[index] = value
        return record

    return change


def _payload(change: Callable[[list[object]], None]) -> Callable[[list[object]], list[object]]:
    def apply(record: list[object]) -> list[object]:
        payload = list(record[7])  # type: ignore[call-overload]
        change(payload)
        return [*record[:7], payload, record[8]]

    return apply


# each damage is applied to one record in the middle of a real log (a delta unless noted)
DAMAGE = {
    "bad JSON": (None, "not JSON"),
    "envelope arity": (lambda r: r[:8], "a record is a JSON array of 9 fields"),
    "payload arity": (_payload(lambda p: p.append(7)), "delta payload must be a list of 3"),
    "payload field type": (
        _payload(lambda p: p.__setitem__(1, "100.5")),
        "delta field 'price' has the wrong type: '100.5'",
    ),
    "envelope field type": (_replace_field(1, "12"), "event_ts has the wrong type: '12'"),
    "key type": (_replace_field(8, "k"), "delta key has the wrong type"),
    "unknown type": (_replace_field(6, "teleport"), "unknown record type 'teleport'"),
    "bad side": (_payload(lambda p: p.__setitem__(0, 3)), "delta side must be 1 (buy) or 2"),
    "seq repeats": ("repeat", "seq does not increase"),
    "seq goes back": ("back", "seq does not increase"),
    "seq skips": ("skip", "seq skips 2 id(s): records are missing"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_corrupt_middle_record_is_refused_naming_file_line_seq_and_problem(
    real_log: Path, tmp_path: Path, damage: str
) -> None:
    lines = lines_of(real_log)
    line_no = next(k for k, line in enumerate(lines, 1) if k > 50 and b'"delta"' in line)
    record = orjson.loads(lines[line_no - 1])
    previous_seq = orjson.loads(lines[line_no - 2])[0]
    change, fragment = DAMAGE[damage]
    expected_seq: int | None = record[0]
    if change is None:
        lines[line_no - 1] = lines[line_no - 1][:-10] + b"\n"
        expected_seq = None
    elif change == "repeat":
        lines[line_no - 1] = orjson.dumps([previous_seq, *record[1:]]) + b"\n"
        expected_seq = previous_seq
    elif change == "back":
        lines[line_no - 1] = orjson.dumps([previous_seq - 5, *record[1:]]) + b"\n"
        expected_seq = previous_seq - 5
    elif change == "skip":
        lines[line_no - 1] = orjson.dumps([previous_seq + 3, *record[1:]]) + b"\n"
        expected_seq = previous_seq + 3
    else:
        lines[line_no - 1] = orjson.dumps(change(record)) + b"\n"
        if damage == "envelope arity":
            expected_seq = None
    path = write(tmp_path, lines)
    reader = ReplayReader(path)
    seen: list[Record] = []
    with pytest.raises(LogCorrupt) as info:
        for rec in reader:
            seen.append(rec)
    error = info.value
    assert not isinstance(error, LogTorn)
    assert error.path == path and error.line == line_no and error.seq == expected_seq
    where = f"seq {expected_seq}" if expected_seq is not None else f"after seq {previous_seq}"
    assert str(error).startswith(f"{path}:{line_no}: {where}: ")
    assert fragment in str(error)
    assert len(seen) == line_no - 2, "every record before the damage was delivered"


def test_a_corrupt_last_record_with_its_newline_is_corruption_not_a_torn_tail(
    real_log: Path, tmp_path: Path
) -> None:
    lines = lines_of(real_log)
    lines[-1] = lines[-1][:20] + b"\n"
    path = write(tmp_path, lines)
    with pytest.raises(LogCorrupt, match=rf":{len(lines)}: after seq \d+: not JSON"):
        list(ReplayReader(path))


def test_a_torn_final_record_is_reported_distinctly_with_where_to_truncate(
    real_log: Path, tmp_path: Path
) -> None:
    lines = lines_of(real_log)
    whole = b"".join(lines[:-1])
    last_whole_seq = orjson.loads(lines[-2])[0]
    path = write(tmp_path, [whole, lines[-1][:17]])  # died 17 bytes into the last record
    reader = ReplayReader(path)
    seen: list[Record] = []
    with pytest.raises(LogTorn) as info:
        for rec in reader:
            seen.append(rec)
    error = info.value
    assert not isinstance(error, LogCorrupt)
    assert error.line == len(lines) and error.offset == len(whole)
    assert error.last_seq == last_whole_seq == seen[-1].seq
    assert str(error).startswith(f"{path}:{len(lines)}: after seq {last_whole_seq}: torn final")
    assert len(seen) == len(lines) - 2
    # what resume does: truncate to the offset, and the log reads cleanly again
    with open(path, "r+b") as file:
        file.truncate(error.offset)
    reader, records = read_all(path)
    assert reader.last_seq == last_whole_seq and len(records) == len(lines) - 2


def test_a_whole_last_record_without_its_newline_is_read_and_flagged(
    real_log: Path, tmp_path: Path
) -> None:
    lines = lines_of(real_log)
    path = write(tmp_path, [*lines[:-1], lines[-1].rstrip(b"\n")])
    reader, records = read_all(path)
    assert len(records) == len(lines) - 1
    assert reader.missing_newline
    assert reader.end_offset == path.stat().st_size


@pytest.mark.unit
@pytest.mark.parametrize(
    ("content", "what"), [(b"", "empty log"), (b'{"format": "meshrt-re', "torn header")]
)
def test_a_log_torn_before_its_header_was_written(
    tmp_path: Path, content: bytes, what: str
) -> None:
    path = write(tmp_path, [content])
    with pytest.raises(LogTorn, match=rf"replay.jsonl:1: {what}") as info:
        ReplayReader(path)
    assert info.value.offset == 0 and info.value.last_seq == 0


@pytest.mark.unit
def test_a_missing_log_is_an_error_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(LogError, match=rf"{tmp_path}/replay.jsonl:0: cannot open"):
        ReplayReader(tmp_path)


def test_unknown_record_types_pass_only_when_allowed_and_are_counted(
    real_log: Path, tmp_path: Path
) -> None:
    lines = lines_of(real_log)
    record = orjson.loads(lines[40])
    lines[40] = (
        orjson.dumps(
            [record[0], record[1], record[2], "control", "v1", None, "teleport", ["v1", 5], None]
        )
        + b"\n"
    )
    path = write(tmp_path, lines)
    with pytest.raises(LogCorrupt, match="unknown record type 'teleport'"):
        list(ReplayReader(path))
    reader = ReplayReader(path, allow_unknown_types=True)
    records = list(reader)
    assert len(records) == len(lines) - 1
    assert reader.unknown_types == {"teleport": 1}
    # the envelope of an unknown type is still checked
    lines[40] = (
        orjson.dumps(
            [record[0], "late", record[2], "control", "v1", None, "teleport", ["v1", 5], None]
        )
        + b"\n"
    )
    path = write(tmp_path, lines)
    with pytest.raises(LogCorrupt, match="event_ts has the wrong type"):
        list(ReplayReader(path, allow_unknown_types=True))


# -- feed records are formatted compiled (meshrt/actors/_commit.pyx): orjson's bytes exactly --

EDGE_INTS = [
    0,
    1,
    -1,
    9,
    10,
    99,
    100,
    9_999,
    10**8 - 1,
    10**8,
    -(10**8),
    10**8 + 1,
    2**30,
    2**31,
    10**16,
    2**60 - 1,
    2**60,
    -(2**60),
    2**62,
    2**63 - 1,
    -(2**63),
    -(2**63) + 1,
    2**64 - 1,
    1_700_000_000_000_000_000,
]


def feed_commit(fragments: list[tuple[bytes, ...]]) -> FeedCommit:
    """A feed commit that only logs: no book shown, no subscriber."""
    n = len(fragments)
    stream = LatencyStream(Latency(0, 0), "unused")
    return FeedCommit(fragments, [None] * n, [False] * n, [[] for _ in fragments], print, stream)


def commit_lines(events: list[VenueOutput], fragments: list[tuple[bytes, ...]]) -> list[bytes]:
    """The feed commit's log lines for venue events with no book and no subscriber."""
    lines: list[bytes] = []
    index, seq = feed_commit(fragments).commit(events, 0, len(events), 0, lines)
    assert (index, seq) == (len(events), len(events))
    return lines


def test_feed_records_formatted_compiled_are_the_bytes_orjson_writes() -> None:
    names = ('venue:a"b\\c', "ü\u2028v", ("X/Y", "é\n\x01"))
    fragments = feed_fragments(*names)
    rng = random.Random(7)
    ints = (
        EDGE_INTS
        + [rng.randrange(-(2**63), 2**63) for _ in range(2_000)]
        + [rng.randrange(10 ** rng.randrange(1, 20)) for _ in range(2_000)]
    )
    events: list[VenueOutput] = []
    expected: list[bytes] = []
    for n, value in enumerate(ints):
        ts = value if -(2**63) <= value < 2**63 else 2**63 - 1
        symbol = n % 2
        other = ints[-n]
        feeds = [
            (True, (ts, FEED_DELTA, Side.BUY if n % 3 else Side.SELL, value, other)),
            (False, (ts, FEED_TRADE, Side.SELL, other, value)),
            (True, (ts, FEED_SNAPSHOT, ((value, other), (n, -n)), ((other, 1),))),
        ]
        if n < 3:  # an empty book, and payloads orjson itself must format
            feeds += [
                (True, (ts, FEED_SNAPSHOT, (), ())),
                (True, (ts, FEED_DELTA, 1, 1.5, True)),
                (False, (ts, FEED_TRADE, None, "x", [value, {"a": 2**64 - 1}])),
            ]
        for is_book, feed in feeds:
            events.append(
                BookUpdate(ts, symbol, feed, None, None)
                if is_book
                else TradePrint(ts, symbol, feed)
            )
            seq = len(events)
            kind_name = FEED_BY_KIND[feed[1]].name if is_book else "trade"
            expected.append(
                orjson.dumps(
                    [seq, ts, ts, names[0], names[1], names[2][symbol], kind_name, feed[2:], seq]
                )
            )
    assert commit_lines(events, fragments) == expected


INT64 = st.integers(-(2**63), 2**63 - 1)
NAMES = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)  # orjson: no surrogates
# what a feed payload can hold: ints orjson writes (int64 formatted compiled, uint64 by
# orjson), None, and nested tuples/lists of them; now and then a value only orjson writes
FEED_VALUES = st.recursive(
    st.one_of(
        INT64,
        st.integers(2**63, 2**64 - 1),
        st.sampled_from([0, -1, 2**63 - 1, -(2**63)]),
        st.none(),
        st.sampled_from([Side.BUY, Side.SELL]),
        st.booleans(),
        st.floats(),
        NAMES,
    ),
    lambda inner: st.lists(inner, max_size=4) | st.lists(inner, max_size=4).map(tuple),
    max_leaves=24,
)


@pytest.mark.property
@settings(max_examples=400, deadline=None)
@given(
    seq=st.integers(1, 2**63 - 1),
    ts=INT64,
    names=st.tuples(NAMES, NAMES, NAMES),
    kind=st.sampled_from([(True, FEED_SNAPSHOT), (True, FEED_DELTA), (False, FEED_TRADE)]),
    payload=st.lists(FEED_VALUES, max_size=6),
)
def test_a_feed_record_is_the_bytes_orjson_writes_of_its_record_list(
    seq: int, ts: int, names: tuple[str, str, str], kind: tuple[bool, int], payload: list[Any]
) -> None:
    """The compiled builder of feed records against the JSON definition, orjson.dumps of
    the record list, on random records."""
    is_book, feed_kind = kind
    feed = (ts, feed_kind, *payload)
    event = BookUpdate(ts, 0, feed, None, None) if is_book else TradePrint(ts, 0, feed)
    lines: list[bytes] = []
    source, venue, symbol = names
    fragments = feed_fragments(source, venue, [symbol])
    assert feed_commit(fragments).commit([event], 0, 1, seq - 1, lines) == (1, seq)
    kind_name = FEED_BY_KIND[feed_kind].name if is_book else "trade"
    assert lines == [orjson.dumps([seq, ts, ts, *names, kind_name, payload, seq])]


REPORT_INTS = st.one_of(
    INT64,
    st.integers(2**63, 2**64 - 1),  # orjson writes a uint64: records.report's line
    st.sampled_from([0, -1, 2**63 - 1, -(2**63)]),
)


@pytest.mark.property
@settings(max_examples=400, deadline=None)
@given(
    seq=st.integers(1, 2**63 - 1),
    n=st.integers(1, 2**63 - 1),
    names=st.tuples(NAMES, NAMES, NAMES),
    kind=st.sampled_from(list(REPORT_BY_TYPE)),
    values=st.lists(REPORT_INTS, min_size=9, max_size=9),
    statuses=st.tuples(st.sampled_from(OrderStatus), st.sampled_from(OrderStatus)),
)
def test_a_report_record_formatted_compiled_is_the_bytes_records_report_writes(
    seq: int,
    n: int,
    names: tuple[str, str, str],
    kind: type[VenueReport],
    values: list[int],
    statuses: tuple[OrderStatus, OrderStatus],
) -> None:
    """Report ingress's compiled record builder against records.report (orjson.dumps of
    the record list), on random reports, names and states."""
    report = kind(*values[: len(kind._fields)])
    source, venue, symbol = names
    before, after = statuses
    assert report_record(seq, source, venue, symbol, report, before, after, n) == records.report(
        seq, source, venue, symbol, report, before.name, after.name, f"{venue}:{n}"
    )


@pytest.mark.unit
@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 10**30])
def test_a_feed_value_orjson_refuses_is_refused_alike(value: int) -> None:
    feed = (5, FEED_DELTA, 1, 100, value)
    with pytest.raises(orjson.JSONEncodeError) as ours:
        commit_lines([TradePrint(5, 0, feed)], feed_fragments("venue:v", "v", ("X", "Y")))
    with pytest.raises(orjson.JSONEncodeError) as theirs:
        orjson.dumps([feed[2:]])
    assert str(ours.value) == str(theirs.value)
