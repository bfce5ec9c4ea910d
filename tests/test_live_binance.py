"""Binance Spot adapter: the real captures bridge and end as expected.json says, and
every published rule (discard, bridge, gap, stale snapshot, ignored event) holds."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from binance_replay import (
    CRYPTOFEED_REST,
    CRYPTOFEED_WS,
    DATA,
    HFTBACKTEST,
    SHARED,
    capture_adapter,
    cryptofeed,
    fixed_price,
    fixed_size,
    hftbacktest,
    read,
    replay,
)

from meshrt.contract import Side
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FEED_TRADE
from meshrt.venues.live.binance import BinanceSpot, Phase, streams
from meshrt.venues.live.verdicts import Feed, FrameError, NeedSnapshot, Output, Resync, Why

EXPECTED = json.loads((DATA / "expected.json").read_text())["files"]
# the copies in tests/data always; the originals beside the project when present
FOLDERS = [pytest.param(DATA, ".gz", id="tests-data")] + (
    [pytest.param(SHARED, "", id="shared")] if (SHARED / HFTBACKTEST).exists() else []
)


def _load(folder: Path, suffix: str, name: str) -> str:
    text = read(folder / (name + suffix))
    assert hashlib.sha256(text.encode()).hexdigest() == EXPECTED[name]["sha256"]
    return text


def _check_symbols(adapter: BinanceSpot, out: list[Output], figures: dict[str, Any]) -> None:
    assert not [o for o in out if isinstance(o, (Resync, FrameError))]
    assert adapter.counters.malformed == 0
    for exchange, want in figures.items():
        book = adapter.books[exchange]
        c = book.counters
        assert book.phase is Phase.LIVE
        assert c.updates == want["depth_events"]
        assert c.discarded == want["events_discarded_u_le_lastUpdateId"]
        assert c.applied == want["events_applied"]
        assert list(book.bridge or ()) == want["first_applied_event_U_u"]
        assert c.gaps == want["gaps_after_bridge"] == 0
        assert c.level_changes == want["level_changes_applied"]
        assert c.crossed == 0 and c.resyncs == 0 and c.stale_snapshots == 0
        assert book.update_id == want["final_update_id"]
        assert (len(book.bids), len(book.asks)) == (
            want["final_bid_levels"],
            want["final_ask_levels"],
        )
        bid, ask = want["final_best_bid"], want["final_best_ask"]
        assert book.top() == (
            (fixed_price(bid["price"]), fixed_size(bid["qty"])),
            (fixed_price(ask["price"]), fixed_size(ask["qty"])),
        )
        _check_events(book.symbol, out, book.bids, book.asks)


def _check_events(
    symbol: str, out: list[Output], bids: dict[int, int], asks: dict[int, int]
) -> None:
    """The emitted events alone rebuild the adapter's book: one snapshot, then deltas."""
    events = [e for o in out if isinstance(o, Feed) and o.symbol == symbol for e in o.events]
    assert events[0][1] == FEED_SNAPSHOT
    assert FEED_SNAPSHOT not in [e[1] for e in events[1:]]
    sides = {Side.BUY: dict(events[0][2]), Side.SELL: dict(events[0][3])}
    for event in events[1:]:
        if event[1] == FEED_DELTA:
            _, _, side, price, size = event
            if size:
                sides[side][price] = size
            else:
                sides[side].pop(price, None)
    assert sides == {Side.BUY: bids, Side.SELL: asks}


@pytest.mark.parametrize(("folder", "suffix"), FOLDERS)
def test_cryptofeed_capture_bridges_four_symbols(folder: Path, suffix: str) -> None:
    figures = EXPECTED[CRYPTOFEED_WS]["symbols"]
    adapter = capture_adapter(list(figures))
    ws = _load(folder, suffix, CRYPTOFEED_WS)
    rest = _load(folder, suffix, CRYPTOFEED_REST)
    out = replay(adapter, cryptofeed(ws, rest))
    assert sorted(o.exchange_symbol for o in out if isinstance(o, NeedSnapshot)) == sorted(figures)
    _check_symbols(adapter, out, figures)
    assert adapter.counters.frames == 265  # 177 depth, 84 bookTicker, 2 aggTrade, 2 kline
    assert adapter.counters.ignored == 86
    assert sum(b.counters.trades for b in adapter.books.values()) == 2


@pytest.mark.parametrize(("folder", "suffix"), FOLDERS)
def test_hftbacktest_capture_bridges_inside_the_event(folder: Path, suffix: str) -> None:
    figures = EXPECTED[HFTBACKTEST]["symbols"]
    adapter = capture_adapter(list(figures))
    out = replay(adapter, hftbacktest(_load(folder, suffix, HFTBACKTEST)))
    _check_symbols(adapter, out, figures)
    book = adapter.books["BTCUSDT"]
    # 3072 trades, one of them before the book bridged
    assert (book.counters.trades, book.counters.dropped) == (3071, 1)


def test_a_dropped_frame_is_a_gap_for_that_symbol_only() -> None:
    figures = EXPECTED[CRYPTOFEED_WS]["symbols"]
    ws = read(DATA / (CRYPTOFEED_WS + ".gz")).splitlines()
    nkn = [i for i, line in enumerate(ws) if '"nknusdt@depth@100ms"' in line]
    dropped = nkn[100]
    del ws[dropped]
    adapter = capture_adapter(list(figures))
    out = replay(adapter, cryptofeed("\n".join(ws), read(DATA / (CRYPTOFEED_REST + ".gz"))))
    resyncs = [o for o in out if isinstance(o, Resync)]
    assert [(r.symbol, r.why) for r in resyncs] == [("NKN-USDT", Why.GAP)]
    after = out[out.index(resyncs[0]) :]
    assert NeedSnapshot("NKNUSDT") in after
    assert not [o for o in after if isinstance(o, Feed) and o.symbol == "NKN-USDT"]
    assert adapter.books["NKNUSDT"].phase is Phase.WAIT
    assert adapter.books["NKNUSDT"].counters.gaps == 1
    others = {k: v for k, v in figures.items() if k != "NKNUSDT"}
    _check_symbols(adapter, [o for o in out if o not in resyncs], others)


# --- the rules one by one, on small frames -------------------------------------------


def _depth(first: int, last: int, bids: Any = (), asks: Any = (), symbol: str = "BTCUSDT") -> str:
    data = {"e": "depthUpdate", "E": 1, "s": symbol, "U": first, "u": last}
    data |= {"b": [list(b) for b in bids], "a": [list(a) for a in asks]}
    return json.dumps({"stream": f"{symbol.lower()}@depth@100ms", "data": data})


def _snapshot(last_id: int, bids: Any = (("100.0", "1"),), asks: Any = (("101.0", "1"),)) -> str:
    return json.dumps(
        {"lastUpdateId": last_id, "bids": [list(b) for b in bids], "asks": [list(a) for a in asks]}
    )


def _trade(price: str = "100.5", maker: bool = True) -> str:
    data = {"e": "trade", "s": "BTCUSDT", "t": 1, "p": price, "q": "0.5", "m": maker}
    return json.dumps({"stream": "btcusdt@trade", "data": data})


def _live(last_id: int = 100) -> BinanceSpot:
    """An adapter whose BTCUSDT book bridged at ``last_id`` (event [last_id, last_id+1])."""
    adapter = BinanceSpot(["BTC-USDT"])
    assert adapter.on_frame(_depth(last_id - 1, last_id + 1, [("99.5", "2")]), 1) == [
        NeedSnapshot("BTCUSDT")
    ]
    (feed,) = adapter.snapshot("BTCUSDT", _snapshot(last_id), 2)
    assert isinstance(feed, Feed) and feed.events[0][1] == FEED_SNAPSHOT
    assert adapter.books["BTCUSDT"].update_id == last_id + 1
    return adapter


def _feeds(out: list[Output]) -> list[Feed]:
    return [o for o in out if isinstance(o, Feed)]


def test_snapshot_goes_out_with_the_buffered_events_applied() -> None:
    adapter = BinanceSpot(["BTC-USDT"])
    adapter.on_frame(_depth(90, 95, [("99.0", "3")]), 1)  # u <= lastUpdateId: discarded
    adapter.on_frame(_depth(96, 101, [("100.0", "0")], [("100.5", "4")]), 2)
    (feed,) = adapter.snapshot("BTCUSDT", _snapshot(98), 3)
    assert isinstance(feed, Feed)
    assert feed.events == ((3, FEED_SNAPSHOT, (), ((100_500_000_000, 400_000_000),
                                                   (101_000_000_000, 100_000_000))),)  # fmt: skip
    counters = adapter.books["BTCUSDT"].counters
    assert (counters.discarded, counters.applied) == (1, 1)
    (feed,) = adapter.on_frame(_depth(102, 102, [("100.25", "1.5")]), 4)
    assert feed == Feed("BTC-USDT", ((4, FEED_DELTA, Side.BUY, 100_250_000_000, 150_000_000),))


def test_a_gap_resyncs_and_nothing_goes_out_until_a_new_snapshot_bridges() -> None:
    adapter = _live(100)
    assert _feeds(adapter.on_frame(_depth(102, 103, [("100.0", "2")]), 3))
    out = adapter.on_frame(_depth(105, 106, [("100.0", "3")]), 4)  # 104 missing
    gap = Resync("BTC-USDT", "BTCUSDT", Why.GAP, "U 105 after 103")
    assert out == [gap, NeedSnapshot("BTCUSDT")]
    assert adapter.on_frame(_depth(107, 108, [("100.0", "4")]), 5) == []
    assert adapter.on_frame(_trade(), 6) == []
    assert adapter.books["BTCUSDT"].counters.dropped == 1
    (feed,) = adapter.snapshot("BTCUSDT", _snapshot(106, bids=[("100.0", "3")]), 7)
    assert isinstance(feed, Feed)
    assert feed.events[0][2] == ((100_000_000_000, 400_000_000),)
    book = adapter.books["BTCUSDT"]
    assert (book.update_id, book.counters.discarded, book.counters.resyncs) == (108, 1, 1)
    assert _feeds(adapter.on_frame(_trade(maker=False), 8)) == [
        Feed("BTC-USDT", ((8, FEED_TRADE, Side.BUY, 100_500_000_000, 50_000_000),))
    ]


def test_an_event_older_than_the_book_is_ignored() -> None:
    adapter = _live(100)
    assert adapter.on_frame(_depth(99, 100, [("100.0", "9")]), 3) == []
    book = adapter.books["BTCUSDT"]
    assert (book.counters.stale, book.bids[100_000_000_000]) == (1, 100_000_000)
    assert _feeds(adapter.on_frame(_depth(102, 102), 4)) == []  # chained, nothing changed
    assert book.update_id == 102


def test_a_snapshot_older_than_the_first_buffered_event_is_asked_again() -> None:
    adapter = BinanceSpot(["BTC-USDT"])
    assert adapter.on_frame(_depth(200, 205), 1) == [NeedSnapshot("BTCUSDT")]
    assert adapter.snapshot("BTCUSDT", _snapshot(150), 2) == [NeedSnapshot("BTCUSDT")]
    assert adapter.books["BTCUSDT"].counters.stale_snapshots == 1
    assert adapter.on_frame(_depth(206, 210), 3) == []  # still buffering, asked once
    (feed,) = adapter.snapshot("BTCUSDT", _snapshot(207), 4)
    assert isinstance(feed, Feed) and adapter.books["BTCUSDT"].update_id == 210


def test_a_snapshot_not_asked_for_is_ignored() -> None:
    adapter = _live(100)
    assert adapter.snapshot("BTCUSDT", _snapshot(500), 3) == []
    assert adapter.books["BTCUSDT"].update_id == 101


def test_a_snapshot_that_no_later_event_bridges_is_a_gap() -> None:
    adapter = BinanceSpot(["BTC-USDT"])
    adapter.on_frame(_depth(90, 95), 1)
    assert adapter.snapshot("BTCUSDT", _snapshot(95), 2) == []  # all discarded: bridging
    assert adapter.books["BTCUSDT"].phase is Phase.BRIDGING
    out = adapter.on_frame(_depth(98, 99), 3)
    assert [type(o) for o in out] == [Resync, NeedSnapshot]


def _two_live(grace: int) -> BinanceSpot:
    """BTCUSDT and ETHUSDT both bridged at 100: bids 100.0 x1 and 99.5 x2, ask 101.0 x1."""
    adapter = BinanceSpot(["BTC-USDT", "ETH-USDT"], crossed_grace_ns=grace)
    for symbol in ("BTCUSDT", "ETHUSDT"):
        first = adapter.on_frame(_depth(99, 101, [("99.5", "2")], symbol=symbol), 1)
        assert first == [NeedSnapshot(symbol)]
        (feed,) = adapter.snapshot(symbol, _snapshot(100), 2)
        assert isinstance(feed, Feed) and feed.events[0][1] == FEED_SNAPSHOT
    return adapter


CROSS = _depth(102, 102, [("101.5", "1")])  # a bid above the 101.0 ask
ETH = _depth(102, 102, [("100.25", "1")], symbol="ETHUSDT")


def test_a_book_crossed_briefly_is_held_then_delivered_whole_without_a_resync() -> None:
    adapter = _two_live(1_000)
    assert adapter.on_frame(CROSS, 10) == []  # applied, held back
    (eth,) = adapter.on_frame(ETH, 20)  # the other symbol goes on
    assert isinstance(eth, Feed) and eth.symbol == "ETH-USDT"
    (trade,) = adapter.on_frame(_trade(), 30)  # prints still go out
    assert isinstance(trade, Feed) and trade.events[0][1] == FEED_TRADE
    uncross = _depth(103, 103, asks=[("101.0", "0"), ("102.0", "3")])
    (out,) = adapter.on_frame(uncross, 1_010)  # within the grace: the whole book
    p, q = 10**9, 10**8
    bids = ((101_500_000_000, q), (100 * p, q), (99_500_000_000, 2 * q))
    assert out == Feed("BTC-USDT", ((1_010, FEED_SNAPSHOT, bids, ((102 * p, 3 * q),)),))
    c = adapter.books["BTCUSDT"].counters
    assert (c.crossed, c.resyncs, c.applied) == (1, 0, 3)


def test_a_book_crossed_past_the_grace_resyncs_that_symbol_alone() -> None:
    adapter = _two_live(1_000)
    assert adapter.on_frame(CROSS, 10) == []
    assert adapter.on_frame(_depth(103, 103, [("101.5", "2")]), 1_010) == []  # still held
    resync, eth = adapter.on_frame(ETH, 1_011)  # any frame past the grace resyncs it
    assert isinstance(resync, Resync) and (resync.symbol, resync.why) == ("BTC-USDT", Why.CROSSED)
    assert isinstance(eth, Feed) and eth.symbol == "ETH-USDT"
    # down: the procedure restarts (buffer, snapshot), nothing of BTCUSDT goes out
    assert adapter.on_frame(_depth(104, 104, [("99.0", "1")]), 1_012) == [NeedSnapshot("BTCUSDT")]
    assert adapter.on_frame(_trade(), 1_013) == []
    (feed,) = adapter.snapshot("BTCUSDT", _snapshot(103), 1_014)
    assert isinstance(feed, Feed) and feed.events[0][1] == FEED_SNAPSHOT
    btc, other = adapter.books["BTCUSDT"].counters, adapter.books["ETHUSDT"].counters
    assert (btc.crossed, btc.resyncs, btc.dropped) == (1, 1, 1)
    assert (other.crossed, other.resyncs) == (0, 0)


def test_a_bridge_that_crosses_is_held_and_a_zero_grace_resyncs_at_the_next_frame() -> None:
    adapter = BinanceSpot(["BTC-USDT"], crossed_grace_ns=0)
    assert adapter.on_frame(CROSS, 1) == [NeedSnapshot("BTCUSDT")]
    assert adapter.snapshot("BTCUSDT", _snapshot(101), 2) == []  # bridged, crossed: no book
    assert adapter.books["BTCUSDT"].phase is Phase.LIVE
    resync, ask = adapter.on_frame(_depth(103, 103), 3)  # the frame itself starts over
    assert isinstance(resync, Resync) and resync.why is Why.CROSSED
    assert ask == NeedSnapshot("BTCUSDT")


def test_a_value_the_contract_cannot_hold_is_refused_and_resyncs() -> None:
    adapter = _live(100)
    out = adapter.on_frame(_depth(102, 102, [("100.0000000001", "1")]), 3)
    assert [(type(o), getattr(o, "why", None)) for o in out] == [(Resync, Why.REFUSED)]
    assert "more than 9 decimal places" in out[0].detail  # type: ignore[union-attr]
    assert adapter.books["BTCUSDT"].counters.refused == 1
    assert adapter.on_frame(_depth(103, 103), 4) == [NeedSnapshot("BTCUSDT")]
    assert adapter.on_frame(_trade("1.0000000001"), 5) == []
    assert adapter.books["BTCUSDT"].counters.refused == 2


def test_a_malformed_frame_is_a_one_line_error_value() -> None:
    adapter = _live(100)
    out = adapter.on_frame(_depth(102, 102).replace('"u": 102', '"u": "x"'), 3)
    assert [type(o) for o in out] == [FrameError, Resync]
    assert str(out[0]) == "binance frame 2: u: expected an update id, got 'x'"
    (bad,) = adapter.on_frame('{"stream": "btcusdt@depth@100ms", "data": ', 4)
    assert isinstance(bad, FrameError) and bad.where == "frame 3" and bad.field == "json"
    assert "\n" not in str(bad)
    (bad,) = adapter.on_frame(_depth(1, 2, symbol="ETHUSDT"), 5)
    assert isinstance(bad, FrameError) and bad.field == "s"
    bad, resync = adapter.on_frame(_depth(1, 2, [("abc", "1")]), 6)
    assert isinstance(resync, Resync) and resync.why is Why.MALFORMED
    assert str(bad) == "binance frame 5: b: 'abc' is not a decimal number"
    assert adapter.counters.malformed == 4


def test_raw_streams_and_json_numbers_read_the_same() -> None:
    adapter = _live(100)
    raw = orjson.loads(_depth(102, 102, [("100.25", "1")]))["data"]
    assert _feeds(adapter.on_frame(json.dumps(raw), 3))
    data = {"e": "aggTrade", "s": "BTCUSDT", "p": 100.1, "q": 0.3, "m": True}
    assert adapter.on_frame(json.dumps(data), 4) == [
        Feed("BTC-USDT", ((4, FEED_TRADE, Side.SELL, 100_100_000_000, 30_000_000),))
    ]
    assert adapter.on_frame('{"result": null, "id": 1}', 5) == []
    assert adapter.counters.ignored == 1


def test_symbols_come_from_the_table() -> None:
    with pytest.raises(ValueError, match="BTC-USD"):
        BinanceSpot(["BTC-USD"])
    assert streams(["BTCUSDT"]) == ["btcusdt@depth@100ms", "btcusdt@trade"]
