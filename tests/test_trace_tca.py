"""`meshrt trace` and `meshrt tca` against runs whose every number can be worked out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest

from meshrt import (
    Algo,
    Deployment,
    FeeSchedule,
    RecordedSpec,
    Scenario,
    Side,
    Venue,
    micros,
    seconds,
    size_to_int,
)
from meshrt.analysis import fmt
from meshrt.analysis.book import FeedBook, MidSeries
from meshrt.analysis.tca import TcaError, analyse, default_horizons
from meshrt.analysis.trace import OrderRef, TraceError, trace_order
from meshrt.cli.main import main
from meshrt.runtime.run import run
from meshrt.scenario.faults import KillInstance

from helpers import deployment, scenario
from scenarios.algos.market_maker import MarketMaker

P = 10_000_000  # one cent in price units (1e-9)

# One venue, one symbol. The touch is 100.01 / 100.02 (mid 100.015) when both algos decide
# at 200 us (their first book, sent at 0, arrives after the 200 us feed latency; the delta at
# 100 us is already committed). Orders arrive at 500 us. Later the mid goes to 100.02 at
# 0.8 s and to 100.05 at 5 s (three deltas at one instant); the feed ends at 20 s.
FEED = [
    {
        "ts": 0,
        "type": "snapshot",
        "bids": [["100.00", "5"]],
        "asks": [["100.02", "1"], ["100.03", "5"]],
    },
    {"ts": 100_000, "type": "delta", "side": "buy", "price": "100.01", "size": "1"},
    {"ts": 800_000_000, "type": "delta", "side": "sell", "price": "100.02", "size": "0"},
    {"ts": 5_000_000_000, "type": "delta", "side": "sell", "price": "100.06", "size": "2"},
    {"ts": 5_000_000_000, "type": "delta", "side": "sell", "price": "100.03", "size": "0"},
    {"ts": 5_000_000_000, "type": "delta", "side": "buy", "price": "100.04", "size": "2"},
    {"ts": 20_000_000_000, "type": "delta", "side": "buy", "price": "100.00", "size": "7"},
]


class MarketOnce(Algo):
    """Sends one market order (params side, size) on its first book."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        if not self.params.get("done"):
            self.params["done"] = True
            actions.market(self.params["side"], self.params["size"])

    def on_fill(self, fill, state, actions):  # type: ignore[no-untyped-def]
        pass

    def on_reject(self, reject, state, actions):  # type: ignore[no-untyped-def]
        pass


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """'taker' buys 2 (fills 1 @ 100.02, 1 @ 100.03); 'big' sells 10 (fills 1 @ 100.01,
    5 @ 100.00, the other 4 are cancelled: the book had no more)."""
    base = tmp_path_factory.mktemp("tiny")
    feed = base / "feed.jsonl"
    feed.write_bytes(b"\n".join(orjson.dumps(event) for event in FEED) + b"\n")
    venue = Venue(
        name="v1",
        sources=[RecordedSpec(symbol="XYZ", path=str(feed))],
        feed_latency=micros(200),
        order_latency=micros(300),
        fees=FeeSchedule(maker_ppm=-100, taker_ppm=400),
    )
    deployments = [
        Deployment(
            label="taker",
            venue="v1",
            symbols=["XYZ"],
            algo=MarketOnce,
            params={"side": Side.BUY, "size": size_to_int("2")},
        ),
        Deployment(
            label="big",
            venue="v1",
            symbols=["XYZ"],
            algo=MarketOnce,
            params={"side": Side.SELL, "size": size_to_int("10")},
        ),
    ]
    out = base / "run"
    result = run(Scenario(name="tiny", seed=1, venues=[venue], deployments=deployments), out)
    assert result.ok and result.summary["fills"] == 4
    return out


def log_records(run_dir: Path) -> list[list[Any]]:
    lines = (run_dir / "replay.jsonl").read_bytes().splitlines()
    return [orjson.loads(line) for line in lines[1:]]


# -- TCA, checked against a hand computation -----------------------------------------------


MS = 1_000_000
S = 1000 * MS
HORIZONS = (S, 10 * S, 60 * S)


def test_tca_of_one_market_buy_matches_the_hand_computation(tiny: Path) -> None:
    report = analyse(tiny, horizons_ns=HORIZONS)
    rows = {row.deployment: row for row in report.rows}
    taker = rows["taker"]
    assert (taker.venue, taker.orders, taker.rejected, taker.fills) == ("v1", 1, 0, 2)
    assert taker.ordered == taker.filled == size_to_int("2") and taker.fill_ratio == 1.0
    # decision mid 100.015: paid 100.02 (+0.5 ct) and 100.03 (+1.5 ct), size 1 each
    assert taker.slippage == pytest.approx(1.0 * P)
    assert taker.slippage_bps == pytest.approx((0.005 + 0.015) / 2 / 100.015 * 1e4)
    assert taker.slippage_fills == 2
    # 400 ppm of 100.02 and of 100.03
    assert taker.fees == 40_008_000 + 40_012_000
    one, ten, sixty = taker.markouts
    # mid 100.02 at 1.0005 s: 0 on the first unit, -1 ct on the second
    assert (one.fills, one.excluded) == (2, 0)
    assert one.price == pytest.approx(-0.5 * P)
    assert one.bps == pytest.approx((0 - 0.01 / 100.03) / 2 * 1e4)
    # mid 100.05 at 10.0005 s: +3 ct and +2 ct
    assert ten.price == pytest.approx(2.5 * P)
    assert ten.bps == pytest.approx((0.03 / 100.02 + 0.02 / 100.03) / 2 * 1e4)
    # the run ends at 20 s: nothing to say about 60 s
    assert (sixty.fills, sixty.excluded, sixty.price, sixty.bps) == (0, 2, None, None)
    assert 20_000_000_000 <= report.end_ns < 60_000_000_000


def test_tca_of_a_partly_filled_market_sell_and_the_venue_total(tiny: Path) -> None:
    rows = {row.deployment: row for row in analyse(tiny, horizons_ns=HORIZONS).rows}
    big = rows["big"]
    assert big.ordered == size_to_int("10") and big.filled == size_to_int("6")
    assert big.fill_ratio == pytest.approx(0.6)
    # a sell: decision mid 100.015 minus 100.01 (x1) and 100.00 (x5)
    assert big.slippage == pytest.approx((0.5 * 1 + 1.5 * 5) / 6 * P)
    assert big.fees == 40_004_000 + 200_000_000
    one, ten, _ = big.markouts
    assert one.price == pytest.approx((-1 * 1 + -2 * 5) / 6 * P)  # mid 100.02
    assert ten.price == pytest.approx((-4 * 1 + -5 * 5) / 6 * P)  # mid 100.05
    venue = rows[None]
    assert (venue.venue, venue.orders, venue.fills) == ("v1", 2, 4)
    assert venue.ordered == size_to_int("12") and venue.filled == size_to_int("8")
    assert venue.slippage == pytest.approx((0.5 + 1.5 + 0.5 + 1.5 * 5) / 8 * P)
    assert venue.fees == rows["taker"].fees + big.fees
    assert [row.deployment for row in analyse(tiny).rows] == ["big", "taker", None]


def test_a_markout_sees_the_book_after_everything_at_that_instant(tiny: Path) -> None:
    # fills at 500 us + 4.9995 s = 5 s exactly, where three deltas end at mid 100.05
    report = analyse(tiny, horizons_ns=(4_999_500_000,))
    taker = next(row for row in report.rows if row.deployment == "taker")
    assert taker.markouts[0].price == pytest.approx(2.5 * P)


def test_tca_symbol_filter(tiny: Path) -> None:
    assert analyse(tiny, symbol="XYZ").rows == analyse(tiny).rows
    with pytest.raises(TcaError, match="no symbol 'ABC' in this run"):
        analyse(tiny, symbol="ABC")


def test_tca_of_a_crashed_run_reads_up_to_the_torn_tail(tiny: Path, tmp_path: Path) -> None:
    data = (tiny / "replay.jsonl").read_bytes()
    data = data[: data.rindex(b"\n", 0, len(data) - 1) + 1]  # killed before run_end
    cut = data.rindex(b"\n", 0, len(data) - 1) + 8  # and 7 bytes into the last record
    (tmp_path / "replay.jsonl").write_bytes(data[:cut])
    report = analyse(tmp_path, horizons_ns=HORIZONS)
    assert any("torn final record" in note for note in report.notes)
    assert {row.deployment: row.fills for row in report.rows} == {"taker": 2, "big": 2, None: 4}
    taker = next(row for row in report.rows if row.deployment == "taker")
    assert taker.slippage == pytest.approx(1.0 * P)
    # no summary.json here: the run's end is the last whole record's time (5 s)
    assert report.end_ns == 5_000_000_000
    assert taker.markouts[1].fills == 0 and taker.markouts[0].fills == 2


# -- trace -----------------------------------------------------------------------------------


def test_trace_of_the_market_order_shows_each_step_and_its_cause(tiny: Path) -> None:
    records = log_records(tiny)
    created = next(r for r in records if r[6] == "order_created" and r[7][1] == "taker")
    order_id = created[7][0]
    trace = trace_order(tiny, str(order_id))
    assert (trace.order_id, trace.label, trace.client_id) == (order_id, "taker", created[7][2])
    assert (trace.status, trace.filled, trace.kind, trace.side) == (
        "FILLED",
        size_to_int("2"),
        2,
        Side.BUY,
    )
    steps = [step.step for step in trace.steps]
    assert steps == ["intent", "created", "submitted", "accepted", "fill", "fill"]
    intent, created_step, _, accepted, fill1, fill2 = trace.steps
    assert intent.seq == created[0] - 1 and created_step.seq == created[0]
    assert created_step.trigger_seq == intent.seq
    # the decision: the delta at 100 us (seq 3) was the last book event, touch 100.01/100.02
    delta = next(r for r in records if r[6] == "delta")
    assert intent.trigger_seq == delta[0] and intent.ts == 200_000
    assert intent.values["bid"] == 100_010_000_000 and intent.values["ask"] == 100_020_000_000
    assert accepted.trigger_seq == created[0] and accepted.ts == 500_000
    assert [f.values["price"] for f in (fill1, fill2)] == [100_020_000_000, 100_030_000_000]
    assert [f.values["remaining"] for f in (fill1, fill2)] == [size_to_int("1"), 0]
    assert fill1.trigger_seq == fill2.trigger_seq == accepted.seq  # taker fills on arrival
    fill_keys = [r[8] for r in records if r[6] == "fill" and r[7][0] == order_id]
    assert [fill1.key, fill2.key] == fill_keys
    times = [step.ts for step in trace.steps]
    assert times == sorted(times) and [s.seq for s in trace.steps] == sorted(
        s.seq for s in trace.steps
    )


def test_trace_by_label_and_client_id_and_the_unfilled_remainder(tiny: Path) -> None:
    trace = trace_order(tiny, "big:1")
    assert trace.label == "big" and trace.status == "CANCELLED"
    assert [s.step for s in trace.steps] == [
        "intent",
        "created",
        "submitted",
        "accepted",
        "fill",
        "fill",
        "cancelled",
    ]
    cancelled = trace.steps[-1]
    assert "unfilled remainder" in cancelled.trigger
    assert cancelled.trigger_seq == trace.steps[3].seq
    assert trace_order(tiny, str(trace.order_id)) == trace


@pytest.fixture(scope="module")
def mm_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mm")
    assert run(scenario(deployment(MarketMaker, label="mm"), updates=6_000), out).ok
    return out


def test_trace_of_a_resting_order_from_a_real_run(mm_run: Path) -> None:
    records = log_records(mm_run)
    fill = next(r for r in records if r[6] == "fill" and r[7][3] == 1)  # a maker fill
    order_id = fill[7][0]
    created = next(r for r in records if r[6] == "order_created" and r[7][0] == order_id)
    trace = trace_order(mm_run, f"mm:{created[7][2]}")
    assert trace.order_id == order_id
    steps = [s.step for s in trace.steps]
    assert steps[:4] == ["intent", "created", "submitted", "accepted"]
    assert "fill" in steps
    first_fill = next(s for s in trace.steps if s.step == "fill")
    assert (first_fill.seq, first_fill.key) == (fill[0], fill[8])
    # a maker fill is caused by the feed record just before it, at the same instant
    cause = next(r for r in records if r[0] == first_fill.trigger_seq)
    assert cause[6] in ("trade", "delta") and cause[1] == fill[1] and cause[0] < fill[0]
    own = [
        r[0]
        for r in records
        if r[6] in ("accepted", "fill", "replaced", "cancelled", "cancel_rejected", "rejected")
        and r[7][0] == order_id
    ]
    assert own == [s.seq for s in trace.steps if s.key is not None]


class RestReplaceCancel(Algo):
    """Rests a buy at 99.00, moves it to 99.50 on the third book, cancels it twice on the
    fourth (the second cancel is refused: the order is already CANCEL_PENDING)."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        self.params["books"] = books = self.params.get("books", 0) + 1
        if books == 1:
            self.params["id"] = actions.limit(Side.BUY, 99 * 100 * P, size_to_int("1"))
        elif books == 3:
            actions.replace(self.params["id"], 9_950 * P, size_to_int("1"))
        elif books == 4:
            actions.cancel(self.params["id"])
            actions.cancel(self.params["id"])

    def on_fill(self, fill, state, actions):  # type: ignore[no-untyped-def]
        pass

    def on_reject(self, reject, state, actions):  # type: ignore[no-untyped-def]
        pass


def test_trace_links_replace_and_cancel_to_the_requests_that_caused_them(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(b"\n".join(orjson.dumps(event) for event in FEED) + b"\n")
    venue = Venue(
        name="v1",
        sources=[RecordedSpec(symbol="XYZ", path=str(feed))],
        feed_latency=micros(200),
        order_latency=micros(300),
    )
    dep = Deployment(label="rest", venue="v1", symbols=["XYZ"], algo=RestReplaceCancel)
    assert run(Scenario(name="rest", seed=1, venues=[venue], deployments=[dep]), tmp_path).ok
    trace = trace_order(tmp_path, "rest:1")
    assert [s.step for s in trace.steps] == [
        "intent",
        "created",
        "submitted",
        "accepted",
        "replace_request",
        "replaced",
        "cancel_request",
        "cancel_request",
        "cancel_refused",
        "cancelled",
    ]
    by_step = {s.step: s for s in trace.steps}
    assert by_step["replaced"].trigger_seq == by_step["replace_request"].seq
    assert by_step["replaced"].ts == by_step["replace_request"].ts + 300_000
    assert trace.final_price == 9_950 * P and trace.price == 9_900 * P
    first, second = [s for s in trace.steps if s.step == "cancel_request"]
    assert by_step["cancelled"].trigger_seq == first.seq
    assert by_step["cancel_refused"].trigger_seq == second.seq
    assert "ILLEGAL_TRANSITION" in by_step["cancel_refused"].detail
    assert trace.status == "CANCELLED" and trace.filled == 0
    records = log_records(tmp_path)
    intents = [r for r in records if r[6] == "intent" and r[7][0] == 3]
    assert [first.seq, second.seq] == [r[0] for r in intents]


def test_trace_attributes_the_cancel_after_a_crash_to_the_crash(tmp_path: Path) -> None:
    sc = attrs.evolve(
        scenario(deployment(MarketMaker, label="mm"), updates=3_000),
        faults=(KillInstance("mm", seconds(0.01)),),
    )
    assert run(sc, tmp_path).ok
    records = log_records(tmp_path)
    crash = next(r for r in records if r[6] == "crash")
    after = [r for r in records if r[6] == "cancelled" and r[0] > crash[0]]
    assert after, "the crash left resting orders for the sequencer to cancel"
    trace = trace_order(tmp_path, str(after[0][7][0]))
    steps = {s.step: s for s in trace.steps}
    assert steps["crash"].seq == crash[0]
    sent = next(r for r in records if r[6] == "cancel_sent" and r[7][0] == after[0][7][0])
    assert sent[7][2] == "crash" and steps["cancel_sent"].seq == sent[0]
    assert steps["crash"].seq < steps["cancel_sent"].seq < steps["cancelled"].seq
    assert steps["cancelled"].seq == after[0][0]
    assert steps["cancelled"].trigger_seq == crash[0]
    assert trace.status == "CANCELLED"


def test_an_unknown_order_is_a_clear_error(tiny: Path) -> None:
    with pytest.raises(TraceError, match=r"no order 99 in .*replay.jsonl"):
        trace_order(tiny, "99")
    with pytest.raises(TraceError, match="no order taker:7"):
        trace_order(tiny, "taker:7")
    with pytest.raises(TraceError, match="bad order reference 'taker:x'"):
        OrderRef.parse("taker:x")


# -- book rebuild --------------------------------------------------------------------------


@pytest.mark.unit
def test_feed_book_tracks_the_touch_through_removals() -> None:
    book = FeedBook()
    book.snapshot([[100, 1], [99, 2], [98, 0]], [[101, 1], [103, 1]])
    assert (book.best_bid, book.best_ask, book.mid2()) == (100, 101, 201)
    book.delta(Side.BUY, 100, 0)
    book.delta(Side.SELL, 101, 0)
    assert (book.best_bid, book.best_ask) == (99, 103)
    book.delta(Side.SELL, 102, 5)
    book.delta(Side.BUY, 99, 0)
    assert (book.best_bid, book.best_ask, book.mid2()) == (None, 102, None)


@pytest.mark.unit
def test_mid_series_keeps_the_last_value_of_an_instant() -> None:
    series = MidSeries()
    for ts, mid2 in [(0, 200), (5, 202), (5, 204), (9, None), (12, 200)]:
        series.record(ts, mid2)
    assert [series.at(t) for t in (-1, 0, 4, 5, 8, 9, 11, 12, 99)] == [
        None,
        200,
        200,
        204,
        204,
        None,
        None,
        200,
        200,
    ]


# -- the CLI -------------------------------------------------------------------------------


def test_cli_trace_prints_the_steps_and_exits_0(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["trace", str(tiny), "taker:1"]) == 0
    out = capsys.readouterr().out
    assert "order 1 (taker:1) on v1 XYZ: MARKET BUY 2.00" in out
    assert "0.000500000" in out and "1.00 @ 100.02 TAKER" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trace", "{run}", "taker:9"], "meshrt trace: no order taker:9"),
        (["trace", "{run}", "nine"], "meshrt trace: bad order reference 'nine'"),
        (["trace", "{missing}", "1"], "meshrt trace: no replay log at {missing}/replay.jsonl"),
        (["tca", "{missing}"], "meshrt tca: no replay log at {missing}/replay.jsonl"),
        (["tca", "{run}", "--symbol", "ABC"], "meshrt tca: no symbol 'ABC'"),
    ],
)
def test_cli_bad_input_exits_2_with_a_message(
    tiny: Path, tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    names = {"run": str(tiny), "missing": str(tmp_path / "nope")}
    assert main([arg.format(**names) for arg in args]) == 2
    assert message.format(**names) in capsys.readouterr().err


def test_cli_refuses_a_corrupt_log_naming_file_and_line(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (tiny / "replay.jsonl").read_bytes().splitlines(keepends=True)
    k = next(k for k, line in enumerate(lines) if b'"delta"' in line)
    record = orjson.loads(lines[k])
    lines[k] = orjson.dumps([*record[:7], [1, "100.01", 5], record[8]]) + b"\n"
    (tmp_path / "replay.jsonl").write_bytes(b"".join(lines))
    for command in (["tca", str(tmp_path)], ["trace", str(tmp_path), "1"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert f"bad replay log: {tmp_path}/replay.jsonl:{k + 1}: seq {record[0]}: " in err
        assert "delta field 'price' has the wrong type: '100.01'" in err


def test_cli_tca_json(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tca", str(tiny), "--json", "--horizons", "1s,10s,1min"]) == 0
    data = orjson.loads(capsys.readouterr().out)
    assert data["horizons_ns"] == list(HORIZONS)
    taker = next(row for row in data["rows"] if row["deployment"] == "taker")
    assert taker["fees"] == 80_020_000 and taker["markouts"][2]["price"] is None


def test_cli_tca_table_names_its_horizons_given_or_chosen_from_the_run(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tca", str(tiny), "--horizons", "100ms,10"]) == 0
    out = capsys.readouterr().out
    assert "run end 20.000200000 s, markouts at 100ms, 10s" in out
    header = next(line for line in out.splitlines() if line.startswith("venue"))
    assert "mo 100ms bps" in header and header.rstrip().endswith("mo 10s bps")
    taker = next(line for line in out.splitlines() if "taker" in line)
    assert taker.split()[:4] == ["v1", "taker", "1", "0"] and "+0.025000" in taker  # mo 10s
    assert main(["tca", str(tiny)]) == 0  # a 20 s run: the longest within 5 s is 1 s
    assert "markouts at 10ms, 100ms, 1s" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("run_ns", "horizons"),
    [
        (50 * MS, (MS, 10 * MS, 100 * MS)),  # shorter than 400 ms: the ladder's first three
        (4 * S, (10 * MS, 100 * MS, S)),  # exactly 4 x 1 s
        (20 * S, (10 * MS, 100 * MS, S)),
        (40 * S, (100 * MS, S, 10 * S)),
        (7200 * S, (10 * S, 60 * S, 600 * S)),
        (4 * 3600 * S, (60 * S, 600 * S, 3600 * S)),
        (10**6 * S, (60 * S, 600 * S, 3600 * S)),  # the ladder ends at an hour
    ],
)
def test_default_horizons_end_within_a_quarter_of_the_run(
    run_ns: int, horizons: tuple[int, ...]
) -> None:
    assert default_horizons(run_ns) == horizons


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("100ms", 100 * MS),
        ("1.5s", 1500 * MS),
        ("10", 10 * S),
        ("2min", 120 * S),
        ("250us", 250_000),
    ],
)
def test_durations_read_and_write_back(text: str, ns: int) -> None:
    assert fmt.parse_duration(text) == ns
    assert fmt.parse_duration(fmt.duration(ns)) == ns


@pytest.mark.parametrize("bad", ["1x", "-1s", "1e3", "0.5ns", "0", ""])
def test_cli_tca_refuses_a_bad_horizon(
    tiny: Path, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["tca", str(tiny), "--horizons", bad])
    assert exited.value.code == 2
    assert "meshrt tca: error: argument --horizons:" in capsys.readouterr().err
