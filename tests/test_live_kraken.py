"""The Kraken feed adapter (meshrt/venues/live/kraken.py) on real and documented frames.

Fixtures in tests/data/venues/kraken (ATTRIBUTION.md): the real v1 capture, replayed whole,
must verify every checksum and end on expected.json's books; Kraken's v2 documentation
examples verify with precision formatting only where the doc re-serialized the numbers.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, strategies as st

from meshrt.contract import Side
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FEED_TRADE
from meshrt.venues.live._kraken_book import raw_digits
from meshrt.venues.live._kraken_scan import book_message, plain_value
from meshrt.venues.live.capture import cryptofeed_frames, epoch_ns
from meshrt.venues.live.kraken import KrakenFeed
from meshrt.venues.live.kraken_values import SYMBOLS, Instrument
from meshrt.venues.live.refdata import kraken_reference
from meshrt.venues.live.verdicts import Feed, FrameError, Resync, Why
from meshrt.venues.recorded_fields import Bad, price, size
from tests.kraken_v2 import v2_frames, v2_name

DATA = Path(__file__).parent / "data" / "venues" / "kraken"
V1 = "kraken_v1_book1000_cryptofeed_KRAKEN.ws.50.0.log"
GUIDE = "kraken_v2_book_docs_checksum_guide_btcusd_snapshot.json"
MATIC = "kraken_v2_book_docs_reference_matic_examples.jsonl"
EXPECTED = json.loads((DATA / "expected.json").read_text())["files"]


@cache
def v1_text() -> str:
    return gzip.decompress((DATA / f"{V1}.gz").read_bytes()).decode()


def v1_frames() -> list[tuple[int, str]]:
    return list(cryptofeed_frames(v1_text().splitlines()))


def fixed(level: dict[str, str]) -> tuple[int, int]:
    return int(Decimal(level["price"]) * 10**9), int(Decimal(level["qty"]) * 10**8)


def replay(feed: KrakenFeed, frames: list[tuple[int, str]]) -> list[Any]:
    return [out for ts, text in frames for out in feed.on_frame(text, ts)]


def events(outs: list[Any]) -> list[tuple[str, Any]]:
    """The feed events of ``outs`` as (symbol, event), in order."""
    return [(out.symbol, event) for out in outs if isinstance(out, Feed) for event in out.events]


def v1_feed() -> KrakenFeed:
    return KrakenFeed(list(EXPECTED[V1]["pairs"]), depth=1000)


def instrument_frame(pair: str, price_dp: int, qty_dp: int) -> str:
    entry = {
        "symbol": pair,
        "status": "online",
        "price_precision": price_dp,
        "qty_precision": qty_dp,
        "price_increment": f"{Decimal(1).scaleb(-price_dp)}",
        "qty_increment": f"{Decimal(1).scaleb(-qty_dp)}",
        "qty_min": "0.0001",
        "cost_min": "0.5",
    }
    return json.dumps({"channel": "instrument", "type": "snapshot", "data": {"pairs": [entry]}})


def crc(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> int:
    """The published rule, written out separately from the adapter's."""
    text = "".join(
        (p.replace(".", "").lstrip("0") + q.replace(".", "").lstrip("0"))
        for p, q in asks[:10] + bids[:10]
    )
    return zlib.crc32(text.encode())


def v2_book(kind: str, pair: str, bids: list[Any], asks: list[Any], checksum: int) -> str:
    """A v2 frame with number text as given (json.dumps would turn it into strings)."""
    side = lambda levels: ",".join(f'{{"price":{p},"qty":{q}}}' for p, q in levels)  # noqa: E731
    return (
        f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"{pair}",'
        f'"bids":[{side(bids)}],"asks":[{side(asks)}],"checksum":{checksum}}}]}}'
    )


# -- the real v1 capture ---------------------------------------------------------------


def test_v1_copy_is_the_shared_capture() -> None:
    figures = EXPECTED[V1]
    data = v1_text().encode()
    assert len(data) == figures["bytes"]
    assert hashlib.sha256(data).hexdigest() == figures["sha256"]


def test_v1_capture_verifies_every_checksum_and_ends_on_the_expected_books() -> None:
    figures = EXPECTED[V1]
    feed = v1_feed()
    outs = replay(feed, v1_frames())
    assert [out for out in outs if not isinstance(out, Feed)] == []
    counts = feed.counts()
    assert counts.snapshots == figures["snapshots"] == 10
    assert counts.updates == figures["updates"] == 4269
    assert counts.checksum_ok == figures["checksum_matches_raw_wire_text"] == 4269
    assert counts.checksum_bad == counts.resyncs == counts.malformed == 0
    assert counts.level_changes == figures["level_changes_in_updates"]
    assert counts.deletes == figures["qty_zero_deletes"]
    assert counts.heartbeats == figures["heartbeats"]
    assert counts.republished == figures["republish_entries"]
    assert counts.crossed == 0
    for pair, expected in figures["pairs"].items():
        assert counts.pairs[pair].updates == expected["updates"]
        assert counts.pairs[pair].checksum_ok == expected["checksum_matches"]
        book = feed.book(pair)
        assert book is not None
        assert book.top() == (fixed(expected["final_best_bid"]), fixed(expected["final_best_ask"]))
        assert book.level_counts() == (expected["final_bid_levels"], expected["final_ask_levels"])


def test_the_capture_as_v2_frames_verifies_and_delivers_the_same_events() -> None:
    """The v1 capture as v2 frames (tests/kraken_v2.py: numbers as JSON numbers, same
    text, same checksums; snapshots with their computed checksum) gives the same feed."""
    figures = EXPECTED[V1]
    v1 = replay(v1_feed(), v1_frames())
    feed = KrakenFeed([v2_name(pair) for pair in figures["pairs"]], depth=1000)
    v2 = replay(feed, list(v2_frames(v1_frames())))
    assert [out for out in v2 if not isinstance(out, Feed)] == []
    assert events(v2) == events(v1)
    counts = feed.counts()
    assert counts.checksum_ok == figures["updates"] + figures["snapshots"]
    assert counts.checksum_bad == counts.resyncs == 0
    for pair, expected in figures["pairs"].items():
        book = feed.book(v2_name(pair))
        assert book is not None
        assert book.top() == (fixed(expected["final_best_bid"]), fixed(expected["final_best_ask"]))


def test_a_float_in_a_v1_frame_is_read_again_exactly() -> None:
    """v1 levels are strings, read by orjson; a JSON number there would be a float: the
    frame is read again with the numbers' text, never through a float."""
    feed = KrakenFeed(["XBT/USD"], depth=10)
    snapshot = '[1,{"as":[["101.5","1.0","1"]],"bs":[["100.1","2.0","1"]]},"book-10","XBT/USD"]'
    (out,) = feed.on_frame(snapshot, 1)
    assert isinstance(out, Feed)
    checksum = zlib.crc32(("1015" + "10" + "1001" + "25").encode())  # asks, then bids
    update = f'[1,{{"b":[[100.1,2.5,"2"]],"c":"{checksum}"}},"book-10","XBT/USD"]'
    (out,) = feed.on_frame(update, 2)
    assert isinstance(out, Feed), out
    assert out.events == ((2, FEED_DELTA, Side.BUY, 100_100_000_000, 250_000_000),)
    assert feed.counts().checksum_ok == 1


def test_v1_events_rebuild_the_adapters_book() -> None:
    """What leaves the adapter (snapshot, deltas) rebuilds its book exactly, per symbol."""
    feed = v1_feed()
    books: dict[str, tuple[dict[int, int], dict[int, int]]] = {}
    for symbol, event in events(replay(feed, v1_frames())):
        if event[1] == FEED_SNAPSHOT:
            books[symbol] = (dict(event[2]), dict(event[3]))
        else:
            assert event[1] == FEED_DELTA
            _, _, side, price, size = event
            levels = books[symbol][0 if side == Side.BUY else 1]
            if size:
                levels[price] = size
            else:
                del levels[price]
    for pair in EXPECTED[V1]["pairs"]:
        book = feed.book(pair)
        assert book is not None
        bids, asks = books[SYMBOLS[pair]]
        _, _, want_bids, want_asks = book.snapshot(0)
        assert sorted(bids.items(), reverse=True) == list(want_bids)
        assert sorted(asks.items()) == list(want_asks)


def test_an_ask_past_the_contracts_range_is_verified_but_not_delivered() -> None:
    """XBT/CHF holds an ask at 9999999997 CHF: more than an int64 of 1e-9 units."""
    feed = v1_feed()
    snapshots = {
        symbol: event
        for symbol, event in events(replay(feed, v1_frames()))
        if event[1] == FEED_SNAPSHOT
    }
    book = feed.book("XBT/CHF")
    assert book is not None and book.asks.best_first()[-1][0] == 9_999_999_997 * 10**9
    assert all(price < 2**63 for price, _ in snapshots["BTC-CHF"][3])
    delivered = book.snapshot(0)[3]
    assert len(delivered) == len(book.asks) - 1
    assert delivered[-1][0] < 2**63


def test_a_changed_price_resyncs_that_pair_only_until_its_next_snapshot() -> None:
    frames = v1_frames()
    target = next(
        i for i, (_, text) in enumerate(frames) if text.endswith('"XMR/USD"]') and '"c"' in text
    )
    ts, text = frames[target]
    payload = json.loads(text)
    level = (payload[1].get("a") or payload[1]["b"])[0]
    corrupted = text.replace(f'"{level[0]}"', f'"{Decimal(level[0]) + Decimal("0.01"):f}"', 1)
    assert corrupted != text
    feed = v1_feed()
    assert not any(isinstance(out, Resync) for out in replay(feed, frames[:target]))
    outs = feed.on_frame(corrupted, ts)
    assert len(outs) == 1 and isinstance(outs[0], Resync)
    assert (outs[0].exchange_symbol, outs[0].symbol, outs[0].why) == (
        "XMR/USD",
        "XMR-USD",
        Why.CHECKSUM,
    )
    assert feed.book("XMR/USD") is None
    after = replay(feed, frames[target + 1 :])
    assert not any(isinstance(out, Feed) and out.symbol == "XMR-USD" for out in after)
    counts = feed.counts()
    assert counts.checksum_bad == counts.resyncs == 1
    assert counts.pairs["XMR/USD"].updates == 1  # the corrupted one was the first
    assert counts.dropped == EXPECTED[V1]["pairs"]["XMR/USD"]["updates"] - 1
    assert counts.checksum_ok == 4269 - 1 - counts.dropped
    for pair, expected in EXPECTED[V1]["pairs"].items():
        if pair != "XMR/USD":
            assert counts.pairs[pair].checksum_ok == expected["checksum_matches"]
    snapshot = next(text for _, text in frames if text.endswith('"XMR/USD"]') and '"as"' in text)
    (out,) = feed.on_frame(snapshot, ts)
    assert isinstance(out, Feed) and out.symbol == "XMR-USD" and out.events[0][1] == FEED_SNAPSHOT


# -- Kraken's v2 documentation examples ------------------------------------------------


def test_v2_checksum_guide_snapshot_verifies_from_the_wire_text_and_with_precision() -> None:
    figures = EXPECTED[GUIDE]
    text = (DATA / GUIDE).read_text().strip()
    for frames in ([text], [instrument_frame("BTC/USD", 1, 8), text]):
        feed = KrakenFeed(["BTC/USD"])
        outs = [out for frame in frames for out in feed.on_frame(frame, 7)]
        ((symbol, event),) = events(outs)
        assert symbol == "BTC-USD" and event[:2] == (7, FEED_SNAPSHOT)
        best = figures["symbols"]["BTC/USD"]
        assert (event[2][0], event[3][0]) == (
            fixed(best["final_best_bid"]),
            fixed(best["final_best_ask"]),
        )
        book = feed.book("BTC/USD")
        assert book is not None
        assert book.asks.top_digits() + book.bids.top_digits() == figures["checksum_input_string"]
        assert book.checksum() == figures["checksum"] == 3310070434
        assert feed.counts().checksum_ok == 1


def test_v2_matic_pair_verifies_only_with_precision_formatting() -> None:
    figures = EXPECTED[MATIC]
    lines = (DATA / MATIC).read_text().splitlines()
    feed = KrakenFeed(["MATIC/USD"])
    outs = replay(feed, [(1, line) for line in lines])
    assert [type(out) for out in outs] == [Resync]  # 0.566 is not the wire's 0.5660
    assert outs[0].why is Why.CHECKSUM
    assert feed.counts().dropped == 1

    feed = KrakenFeed(["MATIC/USD"])
    outs = replay(feed, [(1, instrument_frame("MATIC/USD", 4, 8))] + [(2, x) for x in lines])
    assert feed.counts().checksum_ok == figures["checksums_present"] == 2
    assert outs[-1] == Feed("MATIC-USD", ((2, FEED_DELTA, Side.BUY, 565_700_000, 109_839_475_580),))
    book = feed.book("MATIC/USD")
    assert book is not None
    best = figures["symbols"]["MATIC/USD"]
    assert book.top() == (fixed(best["final_best_bid"]), fixed(best["final_best_ask"]))
    assert book.checksum() == best["final_top10_checksum"]
    assert feed.instruments["MATIC/USD"] == Instrument(
        "MATIC/USD", 100_000, 1, 10_000, 4, 8, 500_000_000, "online"
    )


def test_precision_learned_after_the_snapshot_reformats_the_book() -> None:
    lines = (DATA / MATIC).read_text().splitlines()
    asks = [("0.5668", "1.5")]
    bids = [("0.5666", "2.25")]
    feed = KrakenFeed(["MATIC/USD"])
    assert feed.on_frame(v2_book("snapshot", "MATIC/USD", bids, asks, crc(asks, bids)), 1)
    (reference,) = feed.on_frame(instrument_frame("MATIC/USD", 4, 8), 2)
    assert reference == kraken_reference(feed.instruments["MATIC/USD"], "MATIC-USD")
    assert feed.on_frame(lines[-1], 3) != []  # formatted digits now: 0.5657 -> 5657


# -- the book rules on hand-made v2 frames ----------------------------------------------


def test_updates_to_one_level_apply_in_order_and_the_book_is_cut_to_its_depth() -> None:
    asks = [(f"{100 + i}.0", "1.0") for i in range(10)]
    bids = [(f"{99 - i}.0", "1.0") for i in range(10)]
    feed = KrakenFeed(["BTC/USD"])
    feed.on_frame(v2_book("snapshot", "BTC/USD", bids, asks, crc(asks, bids)), 1)
    # 99.5 set twice, then a new best ask at 99.9 pushes 109.0 out of depth 10
    upd_bids = [("99.5", "3.0"), ("99.5", "4.0")]
    upd_asks = [("99.9", "2.0")]
    new_asks = [("99.9", "2.0"), *asks[:9]]
    new_bids = [("99.5", "4.0"), *bids[:9]]
    frame = v2_book("update", "BTC/USD", upd_bids, upd_asks, crc(new_asks, new_bids))
    outs = feed.on_frame(frame, 2)
    p = 10**9
    assert outs == [
        Feed(
            "BTC-USD",
            (
                (2, FEED_DELTA, Side.BUY, 99_500_000_000, 3 * 10**8),
                (2, FEED_DELTA, Side.BUY, 99_500_000_000, 4 * 10**8),
                (2, FEED_DELTA, Side.SELL, 99_900_000_000, 2 * 10**8),
                (2, FEED_DELTA, Side.BUY, 90 * p, 0),
                (2, FEED_DELTA, Side.SELL, 109 * p, 0),
            ),
        )
    ]
    assert feed.counts().truncated == 2 and feed.counts().checksum_ok == 2


def _two_pairs(grace: int) -> tuple[KrakenFeed, dict[str, Any]]:
    """BTC/USD (bid 99, ask 100) and ETH/USD up, and the frames that cross and uncross
    BTC/USD (a bid at 100.5, then the ask at 100 gone)."""
    feed = KrakenFeed(["BTC/USD", "ETH/USD"], crossed_grace_ns=grace)
    bids, asks = [("99.0", "1.0")], [("100.0", "1.0"), ("101.0", "1.0")]
    eth_bids, eth_asks = [("9.0", "1.0")], [("10.0", "1.0")]
    crossed_bids = [("100.5", "1.0"), *bids]
    again_bids = [("100.5", "2.0"), *bids]
    for pair, b, a in (("BTC/USD", bids, asks), ("ETH/USD", eth_bids, eth_asks)):
        assert isinstance(feed.on_frame(v2_book("snapshot", pair, b, a, crc(a, b)), 0)[0], Feed)
    frames = {
        "cross": v2_book("update", "BTC/USD", [("100.5", "1.0")], [], crc(asks, crossed_bids)),
        "again": v2_book("update", "BTC/USD", [("100.5", "2.0")], [], crc(asks, again_bids)),
        "uncross": v2_book("update", "BTC/USD", [], [("100.0", "0.0")], crc(asks[1:], again_bids)),
        "eth": v2_book(
            "update", "ETH/USD", [("9.5", "1.0")], [], crc(eth_asks, [("9.5", "1.0"), *eth_bids])
        ),
        "snapshot": v2_book("snapshot", "BTC/USD", bids, asks, crc(asks, bids)),
        "trade": json.dumps(
            {
                "channel": "trade",
                "type": "update",
                "data": [{"symbol": "BTC/USD", "side": "buy", "price": "100.0", "qty": "0.5"}],
            }
        ),
    }
    return feed, frames


def test_a_book_crossed_briefly_is_held_then_delivered_whole_without_a_resync() -> None:
    feed, frames = _two_pairs(1_000)
    assert feed.on_frame(frames["cross"], 10) == []  # applied and verified, held back
    assert feed.on_frame(frames["again"], 500) == []
    (trade,) = feed.on_frame(frames["trade"], 600)  # prints still go out
    assert isinstance(trade, Feed) and trade.events[0][1] == FEED_TRADE
    (eth,) = feed.on_frame(frames["eth"], 700)  # the other pair goes on
    assert isinstance(eth, Feed) and eth.symbol == "ETH-USD"
    (out,) = feed.on_frame(frames["uncross"], 1_010)  # within the grace: the whole book
    p, q = 10**9, 10**8
    assert out == Feed(
        "BTC-USD",
        ((1_010, FEED_SNAPSHOT, ((100_500_000_000, 2 * q), (99 * p, q)), ((101 * p, q),)),),
    )
    counts = feed.counts()
    assert (counts.crossed, counts.resyncs, counts.checksum_ok) == (1, 0, 6)  # all verified


def test_a_book_crossed_past_the_grace_resyncs_that_pair_alone() -> None:
    feed, frames = _two_pairs(1_000)
    assert feed.on_frame(frames["cross"], 10) == []
    assert feed.on_frame(frames["again"], 1_010) == []  # exactly the grace: still held
    resync, eth = feed.on_frame(frames["eth"], 1_011)  # any frame past it resyncs the pair
    assert isinstance(resync, Resync) and (resync.symbol, resync.why) == ("BTC-USD", Why.CROSSED)
    assert "past the 1000 ns grace" in resync.detail
    assert isinstance(eth, Feed) and eth.symbol == "ETH-USD"
    assert feed.on_frame(frames["uncross"], 1_012) == []  # down: dropped until a snapshot
    (out,) = feed.on_frame(frames["snapshot"], 1_013)
    assert isinstance(out, Feed) and out.events[0][1] == FEED_SNAPSHOT
    counts = feed.counts()
    assert (counts.crossed, counts.resyncs, counts.dropped) == (1, 1, 1)
    assert counts.pairs["ETH/USD"].resyncs == 0


def test_a_crossed_snapshot_is_held_and_a_zero_grace_resyncs_at_the_next_frame() -> None:
    asks = bids = [("100.0", "1.0")]
    snapshot = v2_book("snapshot", "BTC/USD", bids, asks, crc(asks, bids))
    feed = KrakenFeed(["BTC/USD"], crossed_grace_ns=0)
    assert feed.on_frame(snapshot, 1) == []  # locked is crossed: nothing delivered
    update = v2_book("update", "BTC/USD", [], [], crc(asks, bids))
    assert feed.on_frame(update, 1) == []  # the same receive instant: still tolerated
    (out,) = feed.on_frame(update, 2)
    assert isinstance(out, Resync) and out.why is Why.CROSSED and feed.counts().crossed == 1


@pytest.mark.parametrize(
    ("level", "reason"),
    [
        (("100.0", "0.000000001"), "more than 8 decimal places"),
        (("100.0000000001", "1.0"), "more than 9 decimal places"),
        (("99999999999.0", "1.0"), "does not fit 64-bit fixed point"),
    ],
)
def test_a_value_the_contract_cannot_hold_is_refused_and_resyncs(
    level: tuple[str, str], reason: str
) -> None:
    asks = [("101.0", "1.0")]
    bids = [("99.0", "1.0")]
    feed = KrakenFeed(["BTC/USD", "ETH/USD"])
    feed.on_frame(v2_book("snapshot", "BTC/USD", bids, asks, crc(asks, bids)), 1)
    feed.on_frame(v2_book("snapshot", "ETH/USD", bids, asks, crc(asks, bids)), 1)
    (out,) = feed.on_frame(v2_book("update", "BTC/USD", [level], [], 0), 2)
    assert isinstance(out, Resync) and out.why is Why.REFUSED and reason in out.detail
    assert feed.counts().refused == 1 and feed.book("BTC/USD") is None
    assert feed.book("ETH/USD") is not None  # a resync is per pair


def test_malformed_frames_are_reported_in_one_line_and_counted_never_raised() -> None:
    asks = [("101.0", "1.0")]
    bids = [("99.0", "1.0")]
    feed = KrakenFeed(["BTC/USD"])
    feed.on_frame(v2_book("snapshot", "BTC/USD", bids, asks, crc(asks, bids)), 1)
    (bad_json,) = feed.on_frame('{"channel":"book",', 2)
    assert isinstance(bad_json, FrameError) and bad_json.field == "json"
    assert "\n" not in str(bad_json) and str(bad_json).startswith("kraken frame 2: json: ")
    no_checksum = (
        '{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[]}]}'
    )
    error, resync = feed.on_frame(no_checksum, 3)
    assert isinstance(error, FrameError) and error.field == "checksum"
    assert isinstance(resync, Resync) and resync.why is Why.MALFORMED
    (no_data,) = feed.on_frame('{"channel":"book","type":"update"}', 4)
    assert isinstance(no_data, FrameError) and no_data.field == "data"
    (resync,) = feed.on_frame(v2_book("snapshot", "BTC/USD", [("[1]", "1.0")], [], 0), 5)
    assert isinstance(resync, Resync) and resync.why is Why.MALFORMED
    assert feed.counts().malformed == 4


def test_trades_new_prints_only_v2_and_v1() -> None:
    feed = KrakenFeed(["MATIC/USD", "XBT/USD"])
    trade = (
        '{"channel":"trade","type":"%s","data":[{"symbol":"MATIC/USD","side":"sell",'
        '"price":0.5147,"qty":6423.46326,"ord_type":"limit","trade_id":4665846,'
        '"timestamp":"2023-09-25T07:48:36.925533Z"}]}'
    )
    assert feed.on_frame(trade % "snapshot", 1) == []
    assert feed.on_frame(trade % "update", 2) == [
        Feed("MATIC-USD", ((2, FEED_TRADE, Side.SELL, 514_700_000, 642_346_326_000),))
    ]
    v1 = '[0,[["5541.20000","0.15850568","1534614057.321597","b","l",""]],"trade","XBT/USD"]'
    assert feed.on_frame(v1, 3) == [
        Feed("BTC-USD", ((3, FEED_TRADE, Side.BUY, 5_541_200_000_000, 15_850_568),))
    ]
    assert feed.counts().trades == 2 and feed.counts().trade_snapshots_skipped == 1


def test_configuration_is_checked_up_front() -> None:
    with pytest.raises(ValueError, match="depth"):
        KrakenFeed(["BTC/USD"], depth=20)
    with pytest.raises(ValueError, match="DOGE/JPY"):
        KrakenFeed(["DOGE/JPY"])
    assert KrakenFeed(["DOGE/JPY"], symbols={"DOGE/JPY": "DOGE-JPY"}).depth == 10


def test_capture_times_are_exact_nanoseconds() -> None:
    assert epoch_ns("1618678132.8258188") == 1_618_678_132_825_818_800
    assert epoch_ns("1618678134") == 1_618_678_134_000_000_000
    first = v1_frames()[0]
    assert first[0] == 1_618_678_132_825_818_800 and first[1].startswith('{"connectionID"')


_PRICE = st.builds(
    lambda whole, frac: f"{whole}.{frac}" if frac else str(whole),
    st.integers(1, 10**6),
    st.text("0123456789", max_size=9),
)
_QTY = st.one_of(
    st.just("0"),
    st.just("0.00000000"),
    st.builds(
        lambda whole, frac: f"{whole}.{frac}" if frac else str(whole),
        st.integers(0, 10**5),
        st.text("0123456789", max_size=8),
    ),
)
_LEVELS = st.lists(st.tuples(_PRICE, _QTY), max_size=6)


def _v2_frame(kind: str, pair: str, bids: Any, asks: Any, checksum: int, sep: str) -> str:
    def levels(side: Any) -> str:
        return ",".join(f'{{"price":{p},"qty":{q}}}' for p, q in side)

    return (
        f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"{pair}","bids":[{levels(bids)}],'
        f'"asks":[{levels(asks)}],"checksum":{sep}{checksum},"timestamp":"2023-10-06T17:35:55Z"}}]}}'
    )


@pytest.mark.property
@given(
    snapshot=st.tuples(_LEVELS, _LEVELS),
    updates=st.lists(st.tuples(_LEVELS, _LEVELS, st.integers(0, 2**32 - 1)), max_size=8),
)
def test_the_v2_book_scanner_reads_what_the_json_decoder_reads(snapshot: Any, updates: Any) -> None:
    """Kraken's compact v2 book frames are read by a scanner (kraken_wire.book_message);
    the same frames with one space added are read as JSON: every output is the same,
    whatever the number text (ints, trailing zeros, zero sizes) and checksum."""
    scanned = KrakenFeed(["BTC/USD"], depth=10)
    decoded = KrakenFeed(["BTC/USD"], depth=10)
    frames = [("snapshot", *snapshot, 0)] + [("update", *update) for update in updates]
    text_book: dict[str, dict[Decimal, tuple[str, str]]] = {"b": {}, "a": {}}
    for ts, (kind, bids, asks, drawn) in enumerate(frames, 1):
        # the published CRC of the book as its text says (or a drawn one, every other)
        if kind == "snapshot":
            text_book = {"b": {}, "a": {}}
        for side, levels in (("b", bids), ("a", asks)):
            for p, q in levels:
                if Decimal(q):
                    text_book[side][Decimal(p)] = (p, q)
                else:
                    text_book[side].pop(Decimal(p), None)
        top_asks = [text_book["a"][k] for k in sorted(text_book["a"])[:10]]
        top_bids = [text_book["b"][k] for k in sorted(text_book["b"], reverse=True)[:10]]
        digits = "".join(raw_digits(p) + raw_digits(q) for p, q in top_asks + top_bids)
        checksum = drawn if ts % 2 else zlib.crc32(digits.encode())
        compact = _v2_frame(kind, "BTC/USD", bids, asks, checksum, "")
        assert book_message(compact) is not None
        spaced = _v2_frame(kind, "BTC/USD", bids, asks, checksum, " ")
        assert book_message(spaced) is None
        assert scanned.on_frame(compact, ts) == decoded.on_frame(spaced, ts)
    assert scanned.counts() == decoded.counts()


def test_the_v2_book_scanner_takes_only_kraken_s_exact_shape() -> None:
    level = '{"price":1.5,"qty":2}'
    frame = _v2_frame("update", "X/Y", [("1.5", "2")], [], 7, "")
    assert book_message(frame) == ("X/Y", False, [("1.5", "2")], [], 7)
    for other in (
        frame.replace(level, '{"price":1.5,"qty":2,"extra":1}'),  # a level of another shape
        frame.replace(level, '{"qty":2,"price":1.5}'),  # keys in another order
        frame.replace(level, '{"price":01.5,"qty":2}'),  # not a JSON number
        frame.replace('"X/Y"', '"X\\/Y"'),  # an escape in the symbol
        frame.replace("}]}", '},{"symbol":"A/B","bids":[],"asks":[],"checksum":1}]}'),
    ):
        assert book_message(other) is None, other


_NUMBER_TEXT = st.one_of(
    st.text(alphabet="0123456789.", min_size=1, max_size=45),
    st.builds(
        lambda whole, frac, zeros: f"{whole}.{frac}{'0' * zeros}",
        st.integers(0, 10**20),
        st.text(alphabet="0123456789", min_size=1, max_size=12),
        st.integers(0, 30),
    ),
    st.sampled_from(["9223372036.854775807", "9223372036.854775808", "9999999997", "0", "0.0"]),
    st.text(max_size=12),
)


@pytest.mark.property
@given(text=_NUMBER_TEXT, is_price=st.booleans())
def test_the_compiled_reading_of_number_text_is_recorded_fields(text: str, is_price: bool) -> None:
    """Plain number text is read to fixed point and checksum digits in C
    (_kraken_scan.plain); what it reads equals recorded_fields' rule and raw_digits, and
    what that rule refuses (or reads another way) is left to Python."""
    read = plain_value(text, is_price)
    try:
        fixed = price(text) if is_price else size(text, "qty", zero_ok=True)
    except Bad:
        assert read is None
        return
    assert read is None or read == (fixed, raw_digits(text))


@pytest.mark.property
@given(
    snapshot=st.lists(st.tuples(st.integers(1, 400), st.integers(0, 3)), max_size=150),
    updates=st.lists(
        st.lists(st.tuples(st.booleans(), st.integers(1, 400), st.integers(0, 3)), max_size=5),
        max_size=60,
    ),
)
def test_a_deep_book_is_kept_as_the_wire_says(snapshot: Any, updates: Any) -> None:
    """Levels set and removed anywhere in a book deeper than the checksum's ten (the
    compiled side moves the shorter part of its array either way), cut to depth 25: every
    message verifies against the CRC of a plain model, and the book ends as the model."""
    feed = KrakenFeed(["BTC/USD"], depth=25)
    model: dict[str, dict[int, int]] = {"b": {}, "a": {}}

    def levels(side: list[tuple[int, int]]) -> str:
        return ",".join(f'{{"price":{p},"qty":{q}}}' for p, q in side)

    def frame(kind: str, bids: Any, asks: Any) -> str:
        for side, rows in (("b", bids), ("a", asks)):
            for p, q in rows:
                if q:
                    model[side][p] = q
                elif kind == "update":
                    model[side].pop(p, None)
        model["b"] = dict(sorted(model["b"].items(), reverse=True)[:25])
        model["a"] = dict(sorted(model["a"].items())[:25])
        top = list(model["a"].items())[:10] + list(model["b"].items())[:10]
        checksum = zlib.crc32("".join(f"{p}{q}" for p, q in top).encode())
        return (
            f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"BTC/USD",'
            f'"bids":[{levels(bids)}],"asks":[{levels(asks)}],"checksum":{checksum},'
            f'"timestamp":"2023-10-06T17:35:55Z"}}]}}'
        )

    # bids below 200, asks from 200: never crossed
    bids = [(p % 199 + 1, q) for p, q in snapshot[::2]]
    asks = [(p % 199 + 200, q) for p, q in snapshot[1::2]]
    feed.on_frame(frame("snapshot", bids, asks), 1)
    for ts, update in enumerate(updates, 2):
        bids = [(p % 199 + 1, q) for bid, p, q in update if bid]
        asks = [(p % 199 + 200, q) for bid, p, q in update if not bid]
        assert not [
            o for o in feed.on_frame(frame("update", bids, asks), ts) if type(o) is not Feed
        ]
    book = feed.book("BTC/USD")
    assert book is not None and feed.counts().checksum_ok == 1 + len(updates)
    scale = 10**9, 10**8
    assert book.bids.best_first() == tuple(
        (p * scale[0], q * scale[1]) for p, q in model["b"].items()
    )
    assert book.asks.best_first() == tuple(
        (p * scale[0], q * scale[1]) for p, q in model["a"].items()
    )
