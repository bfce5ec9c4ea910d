"""Market-data sources: determinism, book invariants, windowing, exact parsing, errors."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import attrs
import orjson
import pytest
from hypothesis import given, settings, strategies as st

from meshrt.contract import Side
from meshrt.venues._synthetic import SyntheticSource
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FEED_TRADE
from meshrt.venues.recorded import RecordedSource, SourceError
from meshrt.venues.rng import Xoshiro256
from meshrt.venues.sources import Source, open_source
from meshrt.venues.specs import RecordedSpec, SyntheticSpec

DATA = Path(__file__).resolve().parent.parent / "scenarios" / "data"
FOREVER = 2**63

SPEC = SyntheticSpec(
    symbol="BTC-USD",
    seed=7,
    start_price=100_000_000_000,
    tick=10_000_000,
    levels=20,
    level_size=(50_000_000, 800_000_000),
    interval_ns=20_000,
    updates=3_001,
    trade_every=10,
    move_probability=0.3,
)


def drain(source: Source) -> list[tuple]:
    """Everything left; a recorded source raises a bad line on the call after its events."""
    events = source.batch(FOREVER)
    while not source.exhausted:
        events += source.batch(FOREVER)
    return events


def count_kinds(events: list[tuple]) -> tuple[int, int]:
    """(book updates, trade prints); a snapshot is one book update."""
    trades = sum(1 for e in events if e[1] == FEED_TRADE)
    return len(events) - trades, trades


def replay(events: list[tuple], levels: int) -> None:
    """Apply the stream to a dict book and check every invariant the generator promises."""
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    prev_ts: int | None = None
    for n, event in enumerate(events):
        ts, kind = event[0], event[1]
        assert type(ts) is int
        if prev_ts is not None:
            assert ts >= prev_ts
            if ts != prev_ts:  # a step ended: the book is whole again
                assert len(bids) == len(asks) == levels
        prev_ts = ts
        if kind == FEED_SNAPSHOT:
            assert n == 0
            bids = dict(event[2])
            asks = dict(event[3])
            assert [p for p, _ in event[2]] == sorted(bids, reverse=True)
            assert [p for p, _ in event[3]] == sorted(asks)
        elif kind == FEED_DELTA:
            _, _, side, price, size = event
            book = bids if side is Side.BUY else asks
            assert size >= 0
            if size:
                book[price] = size
            else:
                assert price in book, "removing a level that is not there"
                del book[price]
        else:
            _, _, aggressor, price, qty = event
            book, book_side = (asks, Side.SELL) if aggressor is Side.BUY else (bids, Side.BUY)
            touch = min(book) if aggressor is Side.BUY else max(book)
            assert price == touch
            assert 1 <= qty <= book[price]
            follow = events[n + 1]
            assert follow[:4] == (ts, FEED_DELTA, book_side, price)
            assert follow[4] == book[price] - qty
        assert all(type(p) is int and p > 0 for p in (*bids, *asks))
        assert not bids or not asks or max(bids) < min(asks), f"crossed at {n}: {event}"
        assert levels - 1 <= len(bids) <= levels and levels - 1 <= len(asks) <= levels
    assert len(bids) == len(asks) == levels


# -- synthetic -----------------------------------------------------------------------


def test_same_seed_gives_identical_events() -> None:
    assert drain(SyntheticSource(SPEC)) == drain(SyntheticSource(SPEC))


def test_different_seed_gives_different_events() -> None:
    a = drain(SyntheticSource(SPEC))
    b = drain(SyntheticSource(attrs.evolve(SPEC, seed=8)))
    assert a != b
    assert a[0][2] != b[0][2]  # even the snapshot sizes differ


def test_snapshot_first_around_start_price() -> None:
    events = drain(SyntheticSource(SPEC, start_ns=5_000))
    ts, kind, bids, asks = events[0]
    assert (ts, kind) == (5_000, FEED_SNAPSHOT)
    assert len(bids) == len(asks) == SPEC.levels
    assert bids[0][0] == SPEC.start_price and asks[0][0] == SPEC.start_price + SPEC.tick
    assert [p for p, _ in bids] == [SPEC.start_price - i * SPEC.tick for i in range(20)]
    assert all(SPEC.level_size[0] <= s <= SPEC.level_size[1] for _, s in bids + asks)
    assert all(e[0] > 5_000 for e in events[1:])


EXACT_COUNT_CASES = [
    (3_001, 10, 0.3), (2_000, 4, 0.5), (1_000, 7, 0.0),
    (1_000, 10, 1.0), (500, 0, 0.3), (1, 10, 0.3),
]  # fmt: skip


@pytest.mark.parametrize(("updates", "trade_every", "move_probability"), EXACT_COUNT_CASES)
def test_exact_counts(updates: int, trade_every: int, move_probability: float) -> None:
    spec = attrs.evolve(
        SPEC, updates=updates, trade_every=trade_every, move_probability=move_probability
    )
    book, trades = count_kinds(drain(SyntheticSource(spec)))
    assert book == updates
    assert trades == ((updates - 1) // trade_every if trade_every else 0)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"levels": 1},
        {"levels": 3, "move_probability": 1.0},
        {"move_probability": 0.0},
        {"level_size": (1, 4), "trade_every": 4},  # tiny levels: trades often sweep
        {"start_price": 300_000_000, "levels": 5, "move_probability": 0.9},  # near zero
    ],
)
def test_book_never_crosses_and_keeps_its_depth(changes: dict) -> None:
    spec = attrs.evolve(SPEC, **changes)
    replay(drain(SyntheticSource(spec)), spec.levels)


def test_sweeps_happen_and_move_the_mid() -> None:
    spec = attrs.evolve(SPEC, level_size=(1, 4), trade_every=4, move_probability=0.0)
    events = drain(SyntheticSource(spec))
    sweeps = [
        n for n, e in enumerate(events[:-1])
        if e[1] == FEED_TRADE and events[n + 1][4] == 0
    ]  # fmt: skip
    assert sweeps
    for n in sweeps:  # the print is followed by the whole four-delta move
        assert [e[0] for e in events[n + 1 : n + 5]] == [events[n][0]] * 4
        assert all(e[1] == FEED_DELTA for e in events[n + 1 : n + 5])
    replay(events, spec.levels)


@pytest.mark.parametrize(("updates", "trades"), [(12, 0), (15, 1)])
def test_a_due_sweep_without_room_is_skipped(updates: int, trades: int) -> None:
    # Every level holds one unit, so each print must sweep; a sweep needs 5 updates left.
    spec = attrs.evolve(SPEC, level_size=(1, 1), updates=updates, move_probability=0.0)
    assert count_kinds(drain(SyntheticSource(spec))) == (updates, trades)


def test_timestamps_increase_between_steps_and_average_the_interval() -> None:
    spec = attrs.evolve(SPEC, updates=20_001)
    events = drain(SyntheticSource(spec))
    steps = sorted({e[0] for e in events})
    assert [e[0] for e in events] == sorted(e[0] for e in events)
    assert len(steps) < len(events)  # moves and trades share a timestamp
    per_update = (events[-1][0] - events[0][0]) / (spec.updates - 1)
    assert 0.9 * spec.interval_ns < per_update < 1.1 * spec.interval_ns


def test_batch_boundaries() -> None:
    source = SyntheticSource(SPEC)
    everything = drain(SyntheticSource(SPEC))
    first_delta = everything[1][0]
    assert source.peek_time() == 0
    assert source.batch(0) == []
    assert source.batch(1) == [everything[0]]  # ts < until: the snapshot at 0 only
    assert source.peek_time() == first_delta
    assert source.batch(first_delta) == []  # an event exactly at until waits
    got = source.batch(first_delta + 1)
    assert got and all(e[0] == first_delta for e in got)
    rest = source.batch(FOREVER)
    assert [everything[0], *got, *rest] == everything
    assert source.exhausted and source.peek_time() is None and source.batch(FOREVER) == []


def test_batch_stops_before_an_event_at_until_mid_stream() -> None:
    everything = drain(SyntheticSource(SPEC))
    until = everything[len(everything) // 2][0]
    source = SyntheticSource(SPEC)
    first = source.batch(until)
    assert first == [e for e in everything if e[0] < until]
    assert source.peek_time() == until
    assert first + source.batch(FOREVER) == everything


@pytest.mark.property
@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=200_000), max_size=40))
def test_any_windowing_gives_the_same_stream(steps: list[int]) -> None:
    spec = attrs.evolve(SPEC, updates=400, trade_every=5)
    whole = drain(SyntheticSource(spec))
    source = SyntheticSource(spec)
    pieces: list[tuple] = []
    until = 0
    for step in steps:
        lower, until = until, until + step
        batch = source.batch(until)
        assert all(lower <= e[0] < until for e in batch)
        pieces += batch
        assert source.peek_time() is None or source.peek_time() >= until
    assert pieces + source.batch(FOREVER) == whole


# Streams pinned from the reference rules (meshrt/venues/synthetic.py, SyntheticWalk, on
# meshrt/venues/rng.py's xoshiro256**), computed once when the generator became
# xoshiro256**: a change to the rules or the generator shows here, in the compiled source
# and its Python reference alike (tests/test_synthetic_mirror.py keeps the two equal).
D, T, B, S = FEED_DELTA, FEED_TRADE, Side.BUY, Side.SELL
TINY = attrs.evolve(SPEC, levels=3, level_size=(1, 3), trade_every=3, updates=30)
TINY_EVENTS = [
    (0, FEED_SNAPSHOT, ((100000000000, 3), (99990000000, 1), (99980000000, 3)),
     ((100010000000, 3), (100020000000, 3), (100030000000, 3))),
    (11215, D, B, 100000000000, 0),
    (11215, D, B, 99970000000, 1),
    (11215, D, S, 100030000000, 0),
    (11215, D, S, 100000000000, 2),
    (109763, T, B, 100000000000, 2),
    (109763, D, S, 100000000000, 0),
    (109763, D, S, 100030000000, 2),
    (109763, D, B, 99970000000, 0),
    (109763, D, B, 100000000000, 2),
    (170295, T, S, 100000000000, 1),
    (170295, D, B, 100000000000, 1),
    (182969, D, S, 100010000000, 0),
    (182969, D, S, 100040000000, 3),
    (182969, D, B, 99980000000, 0),
    (182969, D, B, 100010000000, 1),
    (282937, T, S, 100010000000, 1),
    (282937, D, B, 100010000000, 0),
    (282937, D, B, 99980000000, 2),
    (282937, D, S, 100040000000, 0),
    (282937, D, S, 100010000000, 1),
    (361313, T, S, 100000000000, 1),
    (361313, D, B, 100000000000, 0),
    (361313, D, B, 99970000000, 3),
    (361313, D, S, 100030000000, 0),
    (361313, D, S, 100000000000, 3),
    (474793, T, S, 99990000000, 1),
    (474793, D, B, 99990000000, 0),
    (474793, D, B, 99960000000, 3),
    (474793, D, S, 100020000000, 0),
    (474793, D, S, 99990000000, 3),
    (593453, T, B, 99990000000, 1),
    (593453, D, S, 99990000000, 2),
    (614636, T, S, 99980000000, 1),
    (614636, D, B, 99980000000, 1),
    (625610, D, S, 100000000000, 3),
    (651068, D, S, 100000000000, 2),
]  # fmt: skip
# sizes near 2**60: 64-bit draws and 128-bit products
HUGE = attrs.evolve(SPEC, seed=-3, levels=2, level_size=(1, 10**18), updates=12, trade_every=4,
                    move_probability=0.5)  # fmt: skip
HUGE_EVENTS = [
    (0, FEED_SNAPSHOT, ((100000000000, 512615919425743268), (99990000000, 722251559872813763)),
     ((100010000000, 255699070867279584), (100020000000, 144337383374954406))),
    (26401, D, S, 100010000000, 0),
    (26401, D, S, 100030000000, 434796682474753271),
    (26401, D, B, 99990000000, 0),
    (26401, D, B, 100010000000, 249681065268175896),
    (111753, T, B, 100020000000, 99660819037139765),
    (111753, D, S, 100020000000, 44676564337814641),
    (139417, D, S, 100020000000, 96594320886439279),
    (150148, D, S, 100030000000, 67770059303726625),
    (173543, T, S, 100010000000, 178211028130895361),
    (173543, D, B, 100010000000, 71470037137280535),
    (203172, D, S, 100020000000, 272754262209758488),
    (224374, D, B, 100000000000, 766612715741100557),
    (252311, D, S, 100020000000, 467164330616039359),
]  # fmt: skip
# SPEC's 3,301 events, sides as ints
SPEC_DIGEST = "74d840c938d2280c509ff7d46e4ed76043ef8b85f6dfa911b1f414ebf4471e84"


def test_streams_match_the_pinned_reference_streams() -> None:
    for spec, expected in ((TINY, TINY_EVENTS), (HUGE, HUGE_EVENTS)):
        events = drain(SyntheticSource(spec))
        assert events == expected
        assert {tuple(map(type, e)) for e in events[1:]} == {(int, int, Side, int, int)}
        assert all(type(x) is int for side in events[0][2:] for level in side for x in level)
    events = drain(SyntheticSource(SPEC))
    ints = [e if e[1] == FEED_SNAPSHOT else (*e[:2], int(e[2]), *e[3:]) for e in events]
    assert (len(events), hashlib.sha256(repr(ints).encode()).hexdigest()) == (3301, SPEC_DIGEST)


def test_generator_state_is_xoshiro256_seeded_by_splitmix64() -> None:
    # a new source has drawn 2 * levels sizes, one output each unless Lemire rejects
    rng = Xoshiro256.seeded(SPEC.seed)
    low, high = SPEC.level_size
    for _ in range(2 * SPEC.levels):
        rng.below(high - low + 1)
    _, (spec,), state = SyntheticSource(SPEC).__reduce__()
    assert spec is SPEC
    assert state[6] == rng.state


@pytest.mark.property
@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([SPEC, TINY, HUGE, attrs.evolve(SPEC, level_size=(1, 2), levels=5,
                                                    updates=700, trade_every=1)]),
    st.lists(st.tuples(st.integers(min_value=0, max_value=100_000), st.booleans()),
             max_size=40),
)  # fmt: skip
def test_pickling_mid_stream_continues_identically(
    spec: SyntheticSpec, steps: list[tuple[int, bool]]
) -> None:
    whole = drain(SyntheticSource(spec, start_ns=7))
    source = pickle.loads(pickle.dumps(SyntheticSource(spec, start_ns=7)))  # before the snapshot
    pieces: list[tuple] = []
    until = 0
    for step, resume in steps:
        until += step
        pieces += source.batch(until)
        if resume:  # what a checkpoint and ``meshrt run --resume`` do
            peek, exhausted = source.peek_time(), source.exhausted
            source = pickle.loads(pickle.dumps(source))
            assert (source.peek_time(), source.exhausted) == (peek, exhausted)
            assert source.symbol == spec.symbol and source.spec == spec
    assert pieces + drain(source) == whole
    assert pickle.loads(pickle.dumps(source)).batch(FOREVER) == []


@pytest.mark.parametrize("level_size", [(1, 1), (1, 2)])
@pytest.mark.parametrize("updates", range(1, 13))
def test_exhausted_after_exactly_updates_book_updates(
    level_size: tuple[int, int], updates: int
) -> None:
    # single-unit touches: due trades that cannot sweep are skipped near the end
    spec = attrs.evolve(SPEC, levels=5, level_size=level_size, updates=updates, trade_every=1,
                        move_probability=0.5)  # fmt: skip
    source = SyntheticSource(spec)
    book = 0
    while not source.exhausted:
        assert source.peek_time() is not None
        book += count_kinds(source.batch(source.peek_time() + 1))[0]
        assert book <= updates
    assert book == updates and source.peek_time() is None


def test_values_beyond_64_bits_are_refused() -> None:
    with pytest.raises(ValueError, match=r"SyntheticSpec\.start_price must be a positive"):
        attrs.evolve(SPEC, start_price=10**20)
    forced = attrs.evolve(SPEC)
    object.__setattr__(forced, "start_price", 10**20)  # the compiled source checks too
    with pytest.raises(OverflowError, match="start_price"):
        SyntheticSource(forced)
    with pytest.raises(OverflowError, match="deepest ask"):
        SyntheticSource(attrs.evolve(SPEC, start_price=2**63 - 10**8))
    # a walk that would quote above 2**63 - 1 stops with an error instead of wrapping
    near_top = attrs.evolve(SPEC, seed=0, start_price=2**63 - 21 * SPEC.tick - 5,
                            move_probability=1.0)  # fmt: skip
    with pytest.raises(OverflowError, match="price"):
        drain(SyntheticSource(near_top))
    with pytest.raises(OverflowError, match="clock"):
        drain(SyntheticSource(attrs.evolve(SPEC, interval_ns=2**62)))


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"start_price": 100.5}, TypeError),
        ({"tick": 0}, ValueError),
        ({"level_size": (10, 5)}, ValueError),
        ({"level_size": (0, 5)}, ValueError),
        ({"level_size": (1, 2, 3)}, ValueError),
        ({"updates": 0}, ValueError),
        ({"move_probability": 1.5}, ValueError),
        ({"start_price": 100_000_000, "tick": 10_000_000}, ValueError),  # 20 levels below 0.1
    ],
)
def test_spec_refuses_bad_values(changes: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        attrs.evolve(SPEC, **changes)


# -- recorded ------------------------------------------------------------------------


def test_sample_jsonl_and_csv_give_identical_events() -> None:
    from_json = drain(RecordedSource(RecordedSpec("DEMO", str(DATA / "sample.jsonl"))))
    from_csv = drain(RecordedSource(RecordedSpec("DEMO", str(DATA / "sample.csv"))))
    assert from_json == from_csv
    assert len(from_json) == 31
    ts, kind, bids, asks = from_json[0]
    assert (ts, kind) == (1_700_000_000_000_000_000, FEED_SNAPSHOT)
    assert bids[0] == (100_000_000_000, 150_000_000)  # "100.00", "1.5"
    assert asks[-1] == (101_250_000_000, 775_000_000)
    assert from_json[-1][3:] == (99_750_000_000, 200_000_001)  # "2.00000001": exact
    trades = [e for e in from_json if e[1] == FEED_TRADE]
    assert trades[1][2:] == (Side.SELL, 100_000_000_000, 120_000_000)  # JSON numbers


def test_sample_replays_to_a_sane_book() -> None:
    events = drain(open_source(RecordedSpec("DEMO", str(DATA / "sample.csv"))))
    bids, asks = dict(events[0][2]), dict(events[0][3])
    for e in events[1:]:
        if e[1] == FEED_DELTA:
            book = bids if e[2] is Side.BUY else asks
            book[e[3]] = e[4]
            if not e[4]:
                del book[e[3]]
        assert max(bids) < min(asks)


def test_time_offset_and_windows() -> None:
    spec = RecordedSpec("DEMO", str(DATA / "sample.jsonl"), -1_700_000_000_000_000_000)
    whole = drain(RecordedSource(spec))
    assert whole[0][0] == 0 and whole[1][0] == 699_047
    source = RecordedSource(spec)
    assert source.peek_time() == 0 and not source.exhausted
    assert source.batch(699_047) == [whole[0]]
    assert source.peek_time() == 699_047
    assert source.batch(699_047) == []
    assert source.batch(FOREVER) == whole[1:]
    assert source.exhausted and source.peek_time() is None


@pytest.mark.parametrize("name", ["sample.jsonl", "sample.csv"])
def test_start_at_zero_shifts_by_the_first_timestamp(name: str) -> None:
    """The same events as an offset of minus the first ts, found without reading the file
    by hand; an offset then adds to it; a restored source continues identically."""
    by_hand = drain(
        RecordedSource(RecordedSpec("DEMO", str(DATA / name), -1_700_000_000_000_000_000))
    )
    spec = RecordedSpec("DEMO", str(DATA / name), start_at_zero=True)
    assert drain(RecordedSource(spec)) == by_hand and by_hand[0][0] == 0
    later = drain(RecordedSource(attrs.evolve(spec, time_offset_ns=5_000)))
    assert [e[0] for e in later] == [e[0] + 5_000 for e in by_hand]
    source = RecordedSource(spec)
    source.batch(by_hand[3][0])
    restored = pickle.loads(pickle.dumps(source))
    assert drain(restored) == by_hand[3:]


@pytest.mark.parametrize("value", [1, "yes", None])
def test_start_at_zero_must_be_a_bool(value: object) -> None:
    with pytest.raises(TypeError, match="start_at_zero"):
        RecordedSpec("DEMO", str(DATA / "sample.jsonl"), start_at_zero=value)  # type: ignore[arg-type]


def write(tmp_path: Path, name: str, lines: list[str]) -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def human(value: int, places: int) -> str:
    digits = str(value).rjust(places + 1, "0")
    return f"{digits[:-places]}.{digits[-places:]}"


def test_synthetic_run_round_trips_through_both_formats(tmp_path: Path) -> None:
    events = drain(SyntheticSource(attrs.evolve(SPEC, updates=400, level_size=(1, 10**12))))
    names = {Side.BUY: "buy", Side.SELL: "sell"}
    kinds = {FEED_DELTA: "delta", FEED_TRADE: "trade"}
    json_lines, csv_lines = [], ["ts,type,side,price,size"]
    for e in events:
        if e[1] == FEED_SNAPSHOT:
            bids, asks = ([[human(p, 9), human(q, 8)] for p, q in lv] for lv in e[2:])
            json_lines.append(orjson.dumps({"ts": e[0], "type": "snapshot", "bids": bids,
                                            "asks": asks}).decode())  # fmt: skip
            csv_lines += [f"{e[0]},snapshot,buy,{p},{q}" for p, q in bids]
            csv_lines += [f"{e[0]},snapshot,sell,{p},{q}" for p, q in asks]
        else:
            row = (e[0], kinds[e[1]], names[e[2]], human(e[3], 9), human(e[4], 8))
            json_lines.append(orjson.dumps(dict(zip(("ts", "type", "side", "price", "size"),
                                                    row, strict=True))).decode())  # fmt: skip
            csv_lines.append(",".join(map(str, row)))
    for name, lines in (("run.jsonl", json_lines), ("run.csv", csv_lines)):
        assert drain(open_source(RecordedSpec("X", write(tmp_path, name, lines)))) == events


def test_csv_snapshot_runs_split_by_timestamp(tmp_path: Path) -> None:
    path = write(tmp_path, "two.csv", [
        "ts,type,side,price,size",
        "10,snapshot,sell,2,1", "10,snapshot,buy,1,1",
        "20,snapshot,buy,1.5,2", "20,snapshot,sell,3,4",
        "20,delta,buy,1.5,0",
    ])  # fmt: skip
    events = drain(open_source(RecordedSpec("X", path)))
    assert events == [
        (10, FEED_SNAPSHOT, ((1_000_000_000, 100_000_000),), ((2_000_000_000, 100_000_000),)),
        (20, FEED_SNAPSHOT, ((1_500_000_000, 200_000_000),), ((3_000_000_000, 400_000_000),)),
        (20, FEED_DELTA, Side.BUY, 1_500_000_000, 0),
    ]


@pytest.mark.parametrize(
    ("value", "price"),
    [
        ('"100.123456789"', 100_123_456_789),
        ('"1e-9"', 1),
        ('"7.5000000000000"', 7_500_000_000),  # extra zeros are not rounding
        ("0.1", 100_000_000),  # a JSON number, read exactly as written
        ("12345678.123456789", 12_345_678_123_456_789),  # more digits than a double holds
        ("42", 42_000_000_000),
    ],
)
def test_json_prices_convert_exactly(tmp_path: Path, value: str, price: int) -> None:
    path = write(tmp_path, "p.jsonl", [delta(type='"trade"', price=value, size="1")])
    assert drain(open_source(RecordedSpec("X", path))) == [
        (300, FEED_TRADE, Side.BUY, price, 100_000_000)
    ]


GOOD_JSON = [
    '{"ts": 100, "type": "snapshot", "bids": [["99", "1"]], "asks": [["101", "1"]]}',
    '{"ts": 200, "type": "delta", "side": "buy", "price": "99", "size": "2"}',
]
GOOD_CSV = ["ts,type,side,price,size", "100,snapshot,buy,99,1", "100,snapshot,sell,101,1"]


def delta(**changes: str | None) -> str:
    """A delta line with some fields replaced by raw JSON text, or removed (``None``)."""
    fields = {"ts": "300", "type": '"delta"', "side": '"buy"', "price": '"1"', "size": '"1"'}
    fields.update(changes)
    return "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items() if v is not None) + "}"


def snapshot(bids: str, asks: str | None = "[]") -> str:
    tail = "" if asks is None else f', "asks": {asks}'
    return f'{{"ts": 300, "type": "snapshot", "bids": {bids}{tail}}}'


JSON_CASES = [
    ('{"ts": 300, "type": "delta", ', "json", "invalid JSON"),
    ("[300, 1]", "json", "expected an object"),
    (delta(ts=None), "ts", "missing"),
    (delta(ts="3.5e2"), "ts", "integer"),
    (delta(type=None), "type", "missing"),
    (delta(type='"quote"'), "type", "unknown type"),
    (delta(side='"bid"'), "side", "'buy' or 'sell'"),
    (delta(price=None), "price", "missing"),
    (delta(size=None), "size", "missing"),
    (delta(size='"-1"'), "size", ">= 0"),
    (delta(type='"trade"', size='"0"'), "size", "positive"),
    (delta(price='"0"'), "price", "positive"),
    (delta(price='"-2"'), "price", "positive"),
    (delta(price='"1O"'), "price", "not a decimal"),
    (delta(price="true"), "price", "expected a number"),
    (delta(price='"1.0000000001"'), "price", "decimal places"),
    (delta(size="0.000000001"), "size", "decimal places"),
    (delta(ts="150"), "ts", "back in time"),
    (snapshot('[["100", "1"]]', '[["100", "1"]]'), "asks", "crossed"),  # locked is crossed
    (snapshot('[["99"]]'), "bids[0]", "[price, size]"),
    (snapshot('[["99", "1"], ["99", "2"]]'), "bids[1].price", "duplicate"),
    (snapshot("[]", '[["99", "0"]]'), "asks[0].size", "positive"),
    (snapshot("[]", None), "asks", "missing"),
]
CSV_CASES = [
    ("300,delta,buy,99", "row", "expected 5 fields"),
    ("3e2,delta,buy,99,1", "ts", "integer"),
    ("300,quote,buy,99,1", "type", "unknown type"),
    ("300,delta,BID,99,1", "side", "'buy' or 'sell'"),
    ("300,delta,buy,99,-1", "size", ">= 0"),
    ("300,trade,buy,99,0", "size", "positive"),
    ("300,delta,buy,0,1", "price", "positive"),
    ("300,delta,buy,,1", "price", "not a decimal"),
    ("300,delta,buy,99.0000000001,1", "price", "decimal places"),
    ("50,delta,buy,99,1", "ts", "back in time"),
    ("100,snapshot,buy,99,3", "price", "duplicate"),
    ("100,snapshot,buy,101,3", "price", "crossed"),  # locked counts as crossed
]


@pytest.mark.parametrize(("line", "field", "reason"), JSON_CASES)
def test_malformed_jsonl_names_file_line_and_field(
    tmp_path: Path, line: str, field: str, reason: str
) -> None:
    path = write(tmp_path, "bad.jsonl", [*GOOD_JSON, "", line, *GOOD_JSON[1:]])
    with pytest.raises(SourceError) as info:
        drain(open_source(RecordedSpec("X", path)))
    assert (info.value.path, info.value.line, info.value.field) == (path, 4, field)
    assert f"{path}:4: {field}: " in str(info.value)
    assert reason in str(info.value)


@pytest.mark.parametrize(("line", "field", "reason"), CSV_CASES)
def test_malformed_csv_names_file_line_and_field(
    tmp_path: Path, line: str, field: str, reason: str
) -> None:
    path = write(tmp_path, "bad.csv", [*GOOD_CSV, line, "300,delta,buy,99,1"])
    with pytest.raises(SourceError) as info:
        drain(open_source(RecordedSpec("X", path)))
    expected_line = 2 if reason == "crossed" else 4  # a snapshot is reported where it starts
    assert (info.value.path, info.value.line, info.value.field) == (path, expected_line, field)
    assert f"{path}:{expected_line}: {field}: " in str(info.value)
    assert reason in str(info.value)


def test_csv_header_and_crossed_final_snapshot(tmp_path: Path) -> None:
    path = write(tmp_path, "h.csv", ["time,type,side,price,size", "1,delta,buy,1,1"])
    with pytest.raises(SourceError, match=r"h\.csv:1: header: expected"):
        open_source(RecordedSpec("X", path))
    path = write(tmp_path, "x.csv", [*GOOD_CSV, "200,snapshot,buy,5,1", "200,snapshot,sell,4,1"])
    source = open_source(RecordedSpec("X", path))
    with pytest.raises(SourceError, match=r"x\.csv:4: price: crossed"):
        drain(source)


def test_good_events_before_a_bad_line_are_delivered_first(tmp_path: Path) -> None:
    path = write(tmp_path, "late.jsonl", [*GOOD_JSON, '{"ts": 300, "type": "nope"}'])
    source = open_source(RecordedSpec("X", path))
    assert [e[0] for e in source.batch(FOREVER)] == [100, 200]
    assert not source.exhausted
    with pytest.raises(SourceError, match=r"late\.jsonl:3: type: unknown type"):
        source.peek_time()
    with pytest.raises(SourceError):
        source.batch(FOREVER)


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"nothere\.csv: path: cannot open"):
        open_source(RecordedSpec("X", str(tmp_path / "nothere.csv")))
    with pytest.raises(ValueError, match="unknown data format"):
        RecordedSpec("X", str(tmp_path / "data.parquet"))


def test_source_error_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(SourceError("f.csv", 3, "price", "bad")))
    assert (str(error), error.line, error.field) == ("f.csv:3: price: bad", 3, "price")


def test_open_source_dispatch() -> None:
    assert isinstance(open_source(SPEC), SyntheticSource)
    recorded = open_source(RecordedSpec("DEMO", str(DATA / "sample.csv")))
    assert isinstance(recorded, RecordedSource) and recorded.symbol == "DEMO"
    assert isinstance(recorded, Source) and isinstance(open_source(SPEC), Source)
    with pytest.raises(TypeError):
        open_source("sample.csv")  # type: ignore[arg-type]
