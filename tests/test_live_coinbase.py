"""The Coinbase adapters (meshrt/venues/live/coinbase.py) on the real Exchange capture and
on Advanced Trade frames built from the documented schema (tests/data/venues/coinbase)."""

from __future__ import annotations

import gzip
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from meshrt.contract import PRICE_SCALE, SIZE_SCALE
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FEED_TRADE
from meshrt.venues.live.capture import cryptofeed_frames
from meshrt.venues.live.coinbase import BUY, AdvancedTradeFeed, ExchangeFeed, subscribe_request
from meshrt.venues.live.verdicts import Feed, FrameError, Output, Resync, Why

DATA = Path(__file__).parent / "data" / "venues" / "coinbase"
NAME = "coinbase_exchange_level2_cryptofeed_COINBASE.ws.28.0.log"
EXPECTED = json.loads((DATA / "expected.json").read_text())["file"]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "venue_samples" / NAME
# the project's gzipped copy always; the shared original too where it is beside the project
CAPTURES = [DATA / f"{NAME}.gz"] + [SHARED] * SHARED.exists()
ADVANCED = json.loads((DATA / "advanced_trade_level2.json").read_text())
TS = 1_700_000_000_000_000_000


def fixed(text: str, scale: int) -> int:
    return int(Decimal(text) * scale)


class Books:
    """Books rebuilt from the adapter's feed events alone, as a venue would."""

    def __init__(self) -> None:
        self.sides: dict[str, tuple[dict[int, int], dict[int, int]]] = {}
        self.deltas: dict[str, int] = {}
        self.trades: list[tuple[Any, ...]] = []

    def apply(self, outputs: list[Output]) -> None:
        for out in outputs:
            if type(out) is not Feed:
                continue
            for event in out.events:
                if event[1] == FEED_SNAPSHOT:
                    self.sides[out.symbol] = (dict(event[2]), dict(event[3]))
                elif event[1] == FEED_DELTA:
                    side = self.sides[out.symbol][0 if event[2] == BUY else 1]
                    if event[4]:
                        side[event[3]] = event[4]
                    else:
                        side.pop(event[3], None)
                    self.deltas[out.symbol] = self.deltas.get(out.symbol, 0) + 1
                else:
                    assert event[1] == FEED_TRADE
                    self.trades.append(event)

    def top(self, symbol: str) -> tuple[tuple[int, int], tuple[int, int]]:
        bids, asks = self.sides[symbol]
        bid, ask = max(bids), min(asks)
        return (bid, bids[bid]), (ask, asks[ask])


def level(figure: dict[str, str]) -> tuple[int, int]:
    return fixed(figure["price"], PRICE_SCALE), fixed(figure["qty"], SIZE_SCALE)


def frames() -> list[tuple[int, str]]:
    return list(cryptofeed_frames(DATA / f"{NAME}.gz"))


def feed_all(adapter: ExchangeFeed | AdvancedTradeFeed, texts: list[str]) -> list[Output]:
    return [out for i, text in enumerate(texts) for out in adapter.on_frame(text, TS + i)]


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.parent.name)
def test_capture_final_tops_match_expected(path: Path) -> None:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == EXPECTED["sha256"]
    adapter, books = ExchangeFeed(), Books()
    for ts, text in cryptofeed_frames(path):
        outputs = adapter.on_frame(text, ts)
        assert all(type(out) is Feed for out in outputs), outputs
        books.apply(outputs)
    products = EXPECTED["products"]
    for product, figures in products.items():
        bid, ask = books.top(product)
        assert bid == level(figures["final_best_bid"]), product
        assert ask == level(figures["final_best_ask"]), product
        bids, asks = books.sides[product]
        assert (len(bids), len(asks)) == (figures["final_bid_levels"], figures["final_ask_levels"])
        assert books.deltas[product] == figures["changes_applied"]
    counts = EXPECTED["message_types"]
    c = adapter.counters()
    assert c.frames == sum(counts.values())
    assert c.snapshots == counts["snapshot"] == len(products)
    assert c.level_changes == sum(p["changes_applied"] for p in products.values())
    assert c.trades == counts["match"] == len(books.trades)
    assert c.ignored == counts["subscriptions"] + counts["ticker"] + counts["last_match"]
    assert (c.crossed, c.gaps, c.refused, c.malformed, c.resyncs, c.dropped) == (0,) * 6


def test_match_is_a_trade_with_the_taker_as_aggressor() -> None:
    adapter = ExchangeFeed()
    snapshot = {"type": "snapshot", "product_id": "BTC-USD", "bids": [["99", "1"]], "asks": []}
    match = {"type": "match", "product_id": "BTC-USD", "side": "sell", "price": "100.5"}
    outputs = feed_all(adapter, [json.dumps(snapshot), json.dumps(match | {"size": "0.25"})])
    assert outputs[1] == Feed("BTC-USD", ((TS + 1, FEED_TRADE, BUY, 100_500_000_000, 25_000_000),))


CROSSING_BID = ["buy", "0.9999", "1"]  # above every SKL-USD ask


def crossing_frame(text: str, changes: list[list[str]] | None = None) -> str:
    """A real l2update of SKL-USD with its changes replaced by ``changes`` (default: one
    bid that crosses the book)."""
    message = json.loads(text)
    message["changes"] = [CROSSING_BID] if changes is None else changes
    return json.dumps(message)


def test_crossed_past_the_grace_resyncs_and_emits_nothing_until_the_snapshot() -> None:
    captured = [text for _, text in frames()]
    first = next(i for i, t in enumerate(captured) if '"l2update","product_id":"SKL-USD"' in t)
    snapshot = next(t for t in captured if '"snapshot","product_id":"SKL-USD"' in t)
    rest = captured[first + 1 :]
    texts = [*captured[:first], crossing_frame(captured[first]), *rest, snapshot]
    adapter = ExchangeFeed(crossed_grace_ns=0)  # the next frame is past the grace
    outputs = feed_all(adapter, texts)
    resyncs = [out for out in outputs if type(out) is Resync]
    assert [(r.symbol, r.why) for r in resyncs] == [("SKL-USD", Why.CROSSED)]
    after = outputs[outputs.index(resyncs[0]) + 1 :]
    mine = [out for out in after if type(out) is Feed and out.symbol == "SKL-USD"]
    assert len(mine) == 1 and mine[0].events[0][1] == FEED_SNAPSHOT  # the fresh snapshot only
    skl = '"product_id":"SKL-USD"'
    c = adapter.counters()
    assert c.crossed == c.resyncs == 1
    assert c.dropped == sum(skl in t and ("l2update" in t or '"match"' in t) for t in rest)
    others = [out for out in after if type(out) is Feed and out.symbol != "SKL-USD"]
    assert len(others) == sum(skl not in t and ("l2update" in t or '"match"' in t) for t in rest)
    assert adapter.up("SKL-USD")


def test_a_book_crossed_briefly_is_held_then_delivered_whole_without_a_resync() -> None:
    captured = [text for _, text in frames()]
    skl = [i for i, t in enumerate(captured) if '"l2update","product_id":"SKL-USD"' in t]
    first, uncross = skl[0], skl[2]  # crossed over two real SKL-USD updates, then uncrossed
    texts = list(captured)
    texts[first] = crossing_frame(
        captured[first], [*json.loads(captured[first])["changes"], CROSSING_BID]
    )
    texts[uncross] = crossing_frame(
        captured[uncross], [*json.loads(captured[uncross])["changes"], ["buy", "0.9999", "0"]]
    )
    adapter, books = ExchangeFeed(), Books()
    outputs = feed_all(adapter, texts)
    books.apply(outputs)
    mine = [out for out in outputs if type(out) is Feed and out.symbol == "SKL-USD"]
    held = [out for out in mine if out.events[0][0] in (TS + skl[0], TS + skl[1])]
    assert held == []  # the crossed book's deltas are held back ...
    (whole,) = [out for out in mine if out.events[0][0] == TS + uncross]
    assert [e[1] for e in whole.events] == [FEED_SNAPSHOT]  # ... and it goes out whole
    c = adapter.counters()
    assert (c.crossed, c.resyncs, c.dropped) == (1, 0, 0)
    for product, figures in EXPECTED["products"].items():  # nothing of it was lost
        bid, ask = books.top(product)
        assert (bid, ask) == (level(figures["final_best_bid"]), level(figures["final_best_ask"]))
        bids, asks = books.sides[product]
        assert (len(bids), len(asks)) == (figures["final_bid_levels"], figures["final_ask_levels"])


def test_a_crossed_snapshot_is_held_until_the_grace_ends() -> None:
    adapter = ExchangeFeed(crossed_grace_ns=0)
    crossed = {
        "type": "snapshot",
        "product_id": "ETH-USD",
        "bids": [["10", "1"]],
        "asks": [["9", "1"]],
    }
    assert adapter.on_frame(json.dumps(crossed), TS) == []  # nothing delivered
    (out,) = adapter.on_frame(json.dumps({"type": "heartbeat"}), TS + 1)
    assert type(out) is Resync and out.why is Why.CROSSED and not adapter.up("ETH-USD")


def test_advanced_trade_holds_a_crossed_product_and_resyncs_it_alone() -> None:
    def message(seq: int, *events: tuple[str, str, str, str]) -> str:
        rows = [
            {
                "type": kind,
                "product_id": product,
                "updates": [{"side": side, "price_level": price, "new_quantity": "1"}],
            }
            for kind, product, side, price in events
        ]
        return json.dumps({"channel": "l2_data", "sequence_num": seq, "events": rows})

    adapter = AdvancedTradeFeed(crossed_grace_ns=10)
    up = message(0, ("snapshot", "BTC-USD", "offer", "101"), ("snapshot", "ETH-USD", "bid", "9"))
    assert len(adapter.on_frame(up, 0)) == 2
    crossed = message(1, ("update", "BTC-USD", "bid", "102"), ("update", "ETH-USD", "bid", "8"))
    (eth,) = adapter.on_frame(crossed, 5)
    assert type(eth) is Feed and eth.symbol == "ETH-USD"
    resync, eth = adapter.on_frame(message(2, ("update", "ETH-USD", "offer", "10")), 16)
    assert type(resync) is Resync and (resync.symbol, resync.why) == ("BTC-USD", Why.CROSSED)
    assert type(eth) is Feed and adapter.up("ETH-USD") and not adapter.up("BTC-USD")
    assert adapter.counters().crossed == adapter.counters().resyncs == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (["buy", "0.0000000001", "1"], "changes[1].price"),
        (["sell", "2", "0.000000001"], "changes[1].size"),
    ],
)
def test_a_value_the_contract_cannot_hold_is_refused_and_counted(
    change: list[str], field: str
) -> None:
    adapter = ExchangeFeed()
    book = {"type": "snapshot", "product_id": "BTC-USD", "bids": [["1", "1"]], "asks": [["3", "1"]]}
    other = book | {"product_id": "ETH-USD"}
    update = {"type": "l2update", "product_id": "BTC-USD", "changes": [["buy", "1.5", "2"], change]}
    outputs = feed_all(adapter, [json.dumps(book), json.dumps(other), json.dumps(update)])
    error, resync = outputs[2:]
    assert type(error) is FrameError and error.field == field and "decimal places" in error.reason
    assert str(error).startswith("coinbase frame 3: ") and "\n" not in str(error)
    assert resync == Resync("BTC-USD", "BTC-USD", Why.REFUSED, f"{field}: {error.reason}")
    c = adapter.counters()
    assert (c.refused, c.resyncs, c.level_changes) == (1, 1, 0)  # nothing of the frame applied
    assert not adapter.up("BTC-USD") and adapter.up("ETH-USD")  # a resync is per symbol


def test_malformed_frames_are_one_line_errors_counted_not_raised() -> None:
    adapter = ExchangeFeed()
    book = {"type": "snapshot", "product_id": "BTC-USD", "bids": [["1", "1"]], "asks": [["3", "1"]]}
    texts = [
        json.dumps(book),
        json.dumps({"type": "l2update", "product_id": "BTC-USD", "changes": [["buy", "1"]]}),
        json.dumps(book),
        json.dumps({"type": "l2update", "product_id": "DOGE-USD", "changes": []}),
        '{"type": "l2update", "product_id": "BTC-U',
    ]
    outputs = feed_all(adapter, texts)
    errors = [out for out in outputs if type(out) is FrameError]
    assert [(e.where, e.field) for e in errors] == [
        ("frame 2", "changes[0]"),
        ("frame 4", "product_id"),
        ("frame 5", "json"),
    ]
    assert all("\n" not in str(e) for e in errors)
    resyncs = [(out.symbol, out.why) for out in outputs if type(out) is Resync]
    # the unknown product downs nothing; an unparsable frame could have been anyone's
    assert resyncs == [("BTC-USD", Why.MALFORMED), ("BTC-USD", Why.MALFORMED)]
    assert adapter.counters().malformed == 3


def test_a_float_on_the_wire_is_read_exactly() -> None:
    adapter = ExchangeFeed()
    book = '{"type":"snapshot","product_id":"BTC-USD","bids":[[0.1,"1"]],"asks":[["0.3",0.7]]}'
    (out,) = adapter.on_frame(book, TS)
    assert out == Feed(
        "BTC-USD",
        ((TS, FEED_SNAPSHOT, ((100_000_000, SIZE_SCALE),), ((300_000_000, 70_000_000),)),),
    )


def test_subscribe_uses_level2_only_with_credentials() -> None:
    assert subscribe_request(["BTC-USD"], authenticated=False)["channels"] == [
        "level2_batch",
        "matches",
    ]
    assert subscribe_request(["BTC-USD"], authenticated=True)["channels"] == ["level2", "matches"]


def advanced_texts() -> list[str]:
    return [json.dumps(frame) for frame in ADVANCED["frames"]]


def test_advanced_trade_final_tops() -> None:
    adapter, books = AdvancedTradeFeed(), Books()
    outputs = feed_all(adapter, advanced_texts())
    assert all(type(out) is Feed for out in outputs)
    books.apply(outputs)
    for symbol, figures in ADVANCED["expected"]["final"].items():
        assert books.top(symbol) == (level(figures["best_bid"]), level(figures["best_ask"]))
        bids, asks = books.sides[symbol]
        assert (len(bids), len(asks)) == (figures["bid_levels"], figures["ask_levels"])
    c = adapter.counters()
    assert (c.frames, c.snapshots, c.level_changes, c.ignored) == (
        7,
        2,
        ADVANCED["expected"]["updates_applied"],
        2,
    )


def test_advanced_trade_sequence_gap_resyncs_every_symbol() -> None:
    texts = advanced_texts()
    lost = texts[:3] + texts[4:]  # sequence_num 3 never arrives
    snapshots = [
        json.dumps(f | {"sequence_num": 7 + i}) for i, f in enumerate(ADVANCED["frames"][1:3])
    ]
    adapter = AdvancedTradeFeed()
    outputs = feed_all(adapter, lost + snapshots)
    resyncs = [out for out in outputs if type(out) is Resync]
    assert [(r.symbol, r.why) for r in resyncs] == [("BTC-USD", Why.GAP), ("ETH-USD", Why.GAP)]
    after = outputs[outputs.index(resyncs[-1]) + 1 :]
    assert [out.events[0][1] for out in after] == [FEED_SNAPSHOT, FEED_SNAPSHOT]  # no stale deltas
    c = adapter.counters()
    assert (c.gaps, c.resyncs, c.dropped) == (1, 2, 3)
    assert adapter.up("BTC-USD") and adapter.up("ETH-USD")


def test_advanced_trade_refused_value_downs_only_its_symbol() -> None:
    frames = [dict(f) for f in ADVANCED["frames"][:3]]
    bad = {
        "side": "offer",
        "event_time": "2024-05-01T12:00:00Z",
        "price_level": "1e30",
        "new_quantity": "1",
    }
    good = bad | {"side": "bid", "price_level": "62000", "new_quantity": "5"}
    btc = {"type": "update", "product_id": "BTC-USD", "updates": [good]}
    eth = {"type": "update", "product_id": "ETH-USD", "updates": [bad]}
    frames.append(frames[1] | {"sequence_num": 3, "events": [eth, btc]})
    adapter = AdvancedTradeFeed()
    outputs = feed_all(adapter, [json.dumps(f) for f in frames])
    error, resync, applied = outputs[-3:]
    assert type(applied) is Feed and applied.symbol == "BTC-USD"  # the other event still applies
    assert type(error) is FrameError and error.field == "events[0].updates[0].price"
    assert type(resync) is Resync and (resync.symbol, resync.why) == ("ETH-USD", Why.REFUSED)
    assert adapter.up("BTC-USD") and not adapter.up("ETH-USD")
    assert adapter.counters().refused == 1
