"""Binary recordings (.mrec): the converter, the compiled reader, and resuming a recorded
source at a byte offset (docs/data.md, "Binary recordings")."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import attrs
import orjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from meshrt.cli.main import main
from meshrt.contract import Side
from meshrt.venues._recording import BinarySource
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FEED_TRADE, FeedEvent
from meshrt.venues.recorded import RecordedSource, SourceError
from meshrt.venues.recording import EVENT, HEADER, MAGIC, SNAPSHOT, VERSION, convert
from meshrt.venues.sources import open_source
from meshrt.venues.specs import RecordedSpec

from killing import meshrt

HUGE = 2**63
FIXTURE = HealthCheck.function_scoped_fixture  # tmp_path: each example rewrites its files


def human(value: int, places: int) -> str:
    whole, frac = divmod(value, 10**places)
    return f"{whole}.{frac:0{places}d}"


def json_line(event: FeedEvent) -> bytes:
    if event[1] == FEED_SNAPSHOT:
        bids, asks = ([[human(p, 9), human(q, 8)] for p, q in side] for side in event[2:])
        return orjson.dumps({"ts": event[0], "type": "snapshot", "bids": bids, "asks": asks})
    kind = "delta" if event[1] == FEED_DELTA else "trade"
    side = "buy" if event[2] is Side.BUY else "sell"
    return orjson.dumps({"ts": event[0], "type": kind, "side": side,
                         "price": human(event[3], 9), "size": human(event[4], 8)})  # fmt: skip


def csv_rows(event: FeedEvent) -> list[str]:
    if event[1] == FEED_SNAPSHOT:
        return [f"{event[0]},snapshot,{side},{human(p, 9)},{human(q, 8)}"
                for side, levels in (("buy", event[2]), ("sell", event[3]))
                for p, q in levels]  # fmt: skip
    kind = "delta" if event[1] == FEED_DELTA else "trade"
    side = "buy" if event[2] is Side.BUY else "sell"
    return [f"{event[0]},{kind},{side},{human(event[3], 9)},{human(event[4], 8)}"]


def write_jsonl(path: Path, events: list[FeedEvent]) -> str:
    path.write_bytes(b"".join(json_line(e) + b"\n" for e in events))
    return str(path)


def write_csv(path: Path, events: list[FeedEvent]) -> str:
    rows = ["ts,type,side,price,size", *(row for e in events for row in csv_rows(e))]
    path.write_text("\n".join(rows) + "\n")
    return str(path)


@st.composite
def streams(draw: st.DrawFn) -> list[FeedEvent]:
    """Valid feed events in file time (CSV-safe: no two snapshots share a timestamp)."""
    ts = draw(st.integers(-(2**40), 2**62))
    events: list[FeedEvent] = []
    for _ in range(draw(st.integers(0, 30))):
        ts += draw(st.sampled_from([0, 0, 1, 999, 10**6]))
        kind = draw(st.sampled_from([FEED_DELTA, FEED_DELTA, FEED_TRADE, FEED_SNAPSHOT]))
        if kind == FEED_SNAPSHOT:
            if events and events[-1][0] == ts:
                ts += 1
            mid = draw(st.integers(10**7, 10**15))  # room for a bid (CSV has no empty book)
            prices = st.integers(1, 10**6)
            below = draw(st.sets(prices.filter(lambda d, m=mid: d < m), min_size=1, max_size=5))
            above = draw(st.sets(prices, max_size=5))
            size = st.integers(1, 10**12)
            bids = tuple((mid - d, draw(size)) for d in sorted(below))
            asks = tuple((mid + d, draw(size)) for d in sorted(above))
            events.append((ts, kind, bids, asks))
        else:
            side = draw(st.sampled_from([Side.BUY, Side.SELL]))
            low = 0 if kind == FEED_DELTA else 1
            size = draw(st.integers(low, 10**13))
            events.append((ts, kind, side, draw(st.integers(1, 10**16)), size))
    return events


def cut(source: object, bounds: list[int]) -> list[FeedEvent]:
    out: list[FeedEvent] = []
    for until in [*bounds, HUGE]:
        out += source.batch(until)  # type: ignore[attr-defined]
    assert source.exhausted  # type: ignore[attr-defined]
    return out


@pytest.mark.property
@settings(max_examples=30, deadline=None, suppress_health_check=[FIXTURE])
@given(
    events=streams(),
    offset=st.integers(-(2**40), 2**40),
    start_at_zero=st.booleans(),
    bounds=st.lists(st.integers(-(2**40), 2**62 + 2**31), max_size=6).map(sorted),
)
def test_json_to_binary_to_events_equals_json_to_events(
    tmp_path: Path, events: list[FeedEvent], offset: int, start_at_zero: bool, bounds: list[int]
) -> None:
    jsonl = write_jsonl(tmp_path / "a.jsonl", events)
    csv = write_csv(tmp_path / "a.csv", events)
    for text in (jsonl, csv):
        assert convert(text, tmp_path / "a.mrec") == len(events)
        spec = RecordedSpec("X", text, time_offset_ns=offset, start_at_zero=start_at_zero)
        binary = attrs.evolve(spec, path=str(tmp_path / "a.mrec"))
        expected = cut(RecordedSource(spec), bounds)
        assert cut(BinarySource(binary), bounds) == expected
        assert cut(open_source(binary), []) == expected
    assert cut(RecordedSource(RecordedSpec("X", jsonl)), []) == events


@pytest.mark.property
@settings(max_examples=25, deadline=None, suppress_health_check=[FIXTURE])
@given(events=streams(), data=st.data())
def test_a_source_restored_mid_stream_continues_identically(
    tmp_path: Path, events: list[FeedEvent], data: st.DataObject
) -> None:
    write_jsonl(tmp_path / "r.jsonl", events)
    write_csv(tmp_path / "r.csv", events)
    convert(tmp_path / "r.jsonl", tmp_path / "r.mrec")
    for name in ("r.jsonl", "r.csv", "r.mrec"):
        spec = RecordedSpec("X", str(tmp_path / name), start_at_zero=data.draw(st.booleans()))
        whole = cut(open_source(spec), [])
        source = open_source(spec)
        head = source.batch(data.draw(st.integers(whole[0][0] if whole else 0, HUGE)))
        middle = pickle.loads(pickle.dumps(source)).batch(data.draw(st.integers(0, HUGE)))
        restored = pickle.loads(pickle.dumps(source))
        assert head + cut(restored, []) == whole, name
        assert whole[: len(head) + len(middle)] == head + middle


BENCH_LIKE = [
    (10, FEED_SNAPSHOT, ((99_000_000_000, 10**8),), ((101_000_000_000, 10**8),)),
    (20, FEED_DELTA, Side.BUY, 99_000_000_000, 2 * 10**8),
    (30, FEED_TRADE, Side.SELL, 99_000_000_000, 10**8),
    (40, FEED_DELTA, Side.SELL, 101_000_000_000, 0),
    (50, FEED_DELTA, Side.BUY, 98_000_000_000, 10**8),
]


@pytest.mark.parametrize("name", ["s.jsonl", "s.csv", "s.mrec"])
def test_a_restored_source_seeks_instead_of_reading_the_file_again(
    tmp_path: Path, name: str
) -> None:
    write_jsonl(tmp_path / "s.jsonl", BENCH_LIKE)
    write_csv(tmp_path / "s.csv", BENCH_LIKE)
    convert(tmp_path / "s.jsonl", tmp_path / "s.mrec")
    path = tmp_path / name
    source = open_source(RecordedSpec("X", str(path)))
    assert source.batch(31) == BENCH_LIKE[:3]
    saved = pickle.dumps(source)
    # damage everything before the saved position but the header: a re-read would fail
    data = bytearray(path.read_bytes())
    keep = HEADER.size if name.endswith(".mrec") else 0
    damaged = len(data) // 2
    data[keep:damaged] = b"\xff" * (damaged - keep)
    path.write_bytes(bytes(data))
    assert cut(pickle.loads(saved), []) == BENCH_LIKE[3:]


# -- malformed recordings --------------------------------------------------------------


def recording(tmp_path: Path, body: bytes, records: int, head: bytes | None = None) -> str:
    path = tmp_path / "bad.mrec"
    path.write_bytes((head or HEADER.pack(MAGIC, VERSION, 0, records)) + body)
    return str(path)


def delta(ts: int = 5, kind: int = FEED_DELTA, side: int = 1, price: int = 10, size: int = 1,
          reserved: int = 0) -> bytes:  # fmt: skip
    return EVENT.pack(kind, side, 0, reserved, ts, price, size)


GOOD = delta(ts=1)
TRUNCATED = "record: truncated: the file ends inside it (the header promises 2 records)"
KIND = "kind: unknown record kind 7 (expected 0 snapshot, 1 delta, 2 trade)"
CROSSED = "price: crossed snapshot: best bid 6 >= best ask 6 (fixed point)"


def snap(bids: int, asks: int, *levels: int) -> bytes:
    return SNAPSHOT.pack(0, 0, 0, bids, 9, asks, 0) + struct.pack(f"<{len(levels)}q", *levels)


BAD_RECORDS = [
    (GOOD + delta(kind=7), 2, KIND),
    (GOOD + delta(side=3), 2, "side: 3 is neither 1 (buy) nor 2 (sell)"),
    (GOOD + delta(price=0), 2, "price: price must be positive, got 0"),
    (GOOD + delta(size=-1), 2, "size: size must be >= 0, got -1"),
    (GOOD + delta(kind=FEED_TRADE, size=0), 2, "size: size must be positive, got 0"),
    (GOOD + delta(ts=0), 2, "ts: 0 goes back in time (previous 1)"),
    (GOOD + delta(reserved=1), 2, "record: reserved bytes are not zero"),
    (GOOD + delta()[:20], 2, TRUNCATED),
    (GOOD, 2, TRUNCATED),
    (GOOD + delta(), 1, "record: 32 bytes follow the last of the header's 1 records"),
    (GOOD + snap(2, 0, 5, 1, 6, 1), 2, "price: bid level 1: 6 is not below 5"),
    (GOOD + snap(1, 1, 6, 1, 6, 1), 2, CROSSED),
    (GOOD + snap(1, 1_000, 5, 1), 2, TRUNCATED),
]  # fmt: skip


@pytest.mark.parametrize(("body", "records", "reason"), BAD_RECORDS)
def test_a_bad_record_names_file_record_offset_and_reason(
    tmp_path: Path, body: bytes, records: int, reason: str
) -> None:
    path = recording(tmp_path, body, records)
    source = BinarySource(RecordedSpec("X", path))
    assert source.batch(HUGE) == [(1, FEED_DELTA, Side.BUY, 10, 1)]
    with pytest.raises(SourceError) as bad:
        source.batch(HUGE)
    at = HEADER.size + EVENT.size
    assert str(bad.value) == f"{path}: record 2 at byte {at}: {reason}"
    assert (bad.value.line, bad.value.offset) == (2, at)
    assert pickle.loads(pickle.dumps(bad.value)).args == bad.value.args


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"MESHREC", "header: truncated: 7 bytes, a recording's header is 24"),
        (HEADER.pack(b"MESHREX\0", VERSION, 0, 0),
         "header: not a meshrt recording (magic b'MESHREX\\x00', expected b'MESHREC\\x00')"),
        (HEADER.pack(MAGIC, VERSION + 1, 0, 0), (f"header: recording version {VERSION + 1} is "
         f"not supported (this meshrt reads version {VERSION})")),
        (HEADER.pack(MAGIC, VERSION, 1, 0), "header: reserved bytes are not zero"),
    ],
)  # fmt: skip
def test_a_bad_header_fails_at_open(tmp_path: Path, head: bytes, reason: str) -> None:
    path = recording(tmp_path, b"", 0, head=head)
    with pytest.raises(SourceError) as bad:
        open_source(RecordedSpec("X", path))
    assert str(bad.value) == f"{path}: {reason}"


def test_a_shift_beyond_64_bits_is_refused(tmp_path: Path) -> None:
    path = recording(tmp_path, delta(ts=2**63 - 10), 1)
    with pytest.raises(SourceError, match="shifted by 100 ns does not fit 64 bits"):
        BinarySource(RecordedSpec("X", path, time_offset_ns=100))


def test_a_text_timestamp_beyond_64_bits_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"ts": 9223372036854775808, "type": "delta", "side": "buy", '
                    '"price": "1", "size": "1"}\n')  # fmt: skip
    with pytest.raises(SourceError, match=r"t.jsonl:1: ts: 9223372036854775808 does not fit"):
        open_source(RecordedSpec("X", str(path)))


# -- the converter and its command -----------------------------------------------------


def test_convert_refuses_bad_input_and_leaves_no_partial_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "in.jsonl"
    text.write_bytes(json_line(BENCH_LIKE[0]) + b"\n" + b'{"ts": 1}\n')
    target = tmp_path / "out.mrec"
    assert main(["convert", str(text), str(target)]) == 2
    assert capsys.readouterr().err == f"meshrt convert: bad input: {text}:2: type: missing\n"
    assert list(tmp_path.iterdir()) == [text]
    assert main(["convert", str(text), str(tmp_path / "out.bin")]) == 2
    assert "a recording's name ends in .mrec" in capsys.readouterr().err


@pytest.mark.e2e
def test_meshrt_convert_writes_a_recording(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", BENCH_LIKE)
    done = meshrt("convert", source, str(tmp_path / "out.mrec"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote 5 records to {tmp_path / 'out.mrec'}\n"
    assert cut(open_source(RecordedSpec("X", str(tmp_path / "out.mrec"))), []) == BENCH_LIKE


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["data.jsonl", "data.mrec"])
def test_a_killed_recorded_run_resumes_to_the_uninterrupted_log(tmp_path: Path, name: str) -> None:
    from bench.recorded_file import write
    from killing import killed_run
    from small_scenario import SMALL

    write(tmp_path / "data.jsonl", rows=30_000)
    convert(tmp_path / "data.jsonl", tmp_path / "data.mrec")
    spec = f'RecordedSpec(symbol="XYZ", path="{name}", start_at_zero=True)'
    scenario = tmp_path / "scenario.py"
    scenario.write_text(SMALL.replace("NAME", "'recorded'").replace("SOURCE", spec))
    whole, out = tmp_path / "whole", tmp_path / "killed"
    done = meshrt("run", str(scenario), "--out", str(whole), "--no-progress",
                  "--checkpoint-every", "8000")  # fmt: skip
    assert done.returncode == 0, done.stderr
    killed_run(scenario, out, 2)
    done = meshrt("run", "--resume", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert (out / "replay.jsonl").read_bytes() == (whole / "replay.jsonl").read_bytes()
