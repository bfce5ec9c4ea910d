"""The local exchange (meshrt/venuesim) on 127.0.0.1: each venue's captures replayed
through its websocket protocol to a plain trio-websocket client and the pure adapter end
on the books of tests/data/venues/*/expected.json; each fault happens as specified."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected, open_websocket_url

from meshrt.venues.live.binance import BinanceSpot, Phase
from meshrt.venues.live.coinbase import AdvancedTradeFeed, ExchangeFeed
from meshrt.venues.live.kraken import KrakenFeed
from meshrt.venues.live.refdata import Reference
from meshrt.venues.live.verdicts import Feed, FrameError, NeedSnapshot, Output, Resync, Why
from meshrt.venuesim.faults import Fault, Kind, parse_fault
from meshrt.venuesim.server import VenueSim, venue_sim

DATA = Path(__file__).parent / "data" / "venues"
KRAKEN = DATA / "kraken" / "kraken_v1_book1000_cryptofeed_KRAKEN.ws.50.0.log.gz"
BINANCE_WS = DATA / "binance" / "binance_spot_depth_cryptofeed_BINANCE.ws.1.0.log.gz"
BINANCE_REST = DATA / "binance" / "binance_spot_rest_depth_cryptofeed_BINANCE.http.0.0.log.gz"
HFT = DATA / "binance" / "binance_spot_hftbacktest_btcusdt_20240808_first17150lines.log.gz"
COINBASE = DATA / "coinbase" / "coinbase_exchange_level2_cryptofeed_COINBASE.ws.28.0.log.gz"
KRAKEN_FIGURES = json.loads((DATA / "kraken" / "expected.json").read_text())["files"][
    "kraken_v1_book1000_cryptofeed_KRAKEN.ws.50.0.log"
]
BINANCE_FIGURES = json.loads((DATA / "binance" / "expected.json").read_text())["files"]
COINBASE_FIGURES = json.loads((DATA / "coinbase" / "expected.json").read_text())["file"]
LIMIT_S = 20  # every exchange with the sim is bounded
DEPTH = "/api/v3/depth"


def fixed(level: dict[str, str]) -> tuple[int, int]:
    return int(Decimal(level["price"]) * 10**9), int(Decimal(level["qty"]) * 10**8)


async def replay(
    url: str,
    subscribes: list[dict[str, Any]],
    on_frame: Callable[[str, int], list[Output]],
) -> tuple[list[Output], int | None]:
    """Subscribe, feed every frame to ``on_frame`` until the sim closes; (outputs, close code)."""
    outputs: list[Output] = []
    with trio.fail_after(LIMIT_S):
        async with open_websocket_url(url) as ws:
            for message in subscribes:
                await ws.send_message(json.dumps(message))
            n = 0
            try:
                while True:
                    text = await ws.get_message()
                    n += 1
                    outputs.extend(on_frame(str(text), n))
            except ConnectionClosed as e:
                return outputs, e.reason.code
    raise AssertionError("unreachable")  # pragma: no cover


@pytest.fixture
async def kraken() -> AsyncIterator[VenueSim]:
    async with venue_sim([KRAKEN], close_at_end=True) as sim:
        yield sim


def kraken_subscribe(pairs: list[str]) -> dict[str, Any]:
    return {"event": "subscribe", "pair": pairs, "subscription": {"name": "book", "depth": 1000}}


def v2_name(pair: str) -> str:
    return pair.replace("XBT", "BTC")


async def test_kraken_v2_client_gets_the_v1_capture_as_v2_every_checksum_verified() -> None:
    figures = KRAKEN_FIGURES
    names = [v2_name(pair) for pair in figures["pairs"]]
    feed = KrakenFeed(names, depth=1000)
    instrument = {"method": "subscribe", "params": {"channel": "instrument"}}
    book = {"method": "subscribe", "params": {"channel": "book", "symbol": names, "depth": 1000}}
    async with venue_sim([KRAKEN], close_at_end=True) as sim:
        outputs, code = await replay(sim.url("kraken"), [instrument, book], feed.on_frame)
    assert code == 1000
    assert [o for o in outputs if not isinstance(o, (Feed, Reference))] == []
    assert {o.exchange_symbol for o in outputs if isinstance(o, Reference)} == set(names)
    counts = feed.counts()
    assert counts.snapshots == figures["snapshots"]
    # v2 snapshots carry a checksum too (v1's do not): the sim computes it
    assert counts.checksum_ok == figures["updates"] + figures["snapshots"]
    assert counts.checksum_bad == counts.resyncs == 0
    assert set(feed.instruments) == set(names)  # the sim's instrument channel, in precision use
    for pair, want in figures["pairs"].items():
        kept = feed.book(v2_name(pair))
        assert kept is not None
        assert kept.top() == (fixed(want["final_best_bid"]), fixed(want["final_best_ask"]))
        assert kept.level_counts() == (want["final_bid_levels"], want["final_ask_levels"])


async def test_kraken_v1_client_gets_the_capture_as_recorded() -> None:
    pairs = ["XBT/CHF", "ADA/XBT"]
    feed = KrakenFeed(pairs, depth=1000)
    sent: list[str] = []

    def on_frame(text: str, ts: int) -> list[Output]:
        sent.append(text)
        return feed.on_frame(text, ts)

    async with venue_sim([KRAKEN], close_at_end=True) as sim:
        outputs, _ = await replay(sim.url("kraken"), [kraken_subscribe(pairs)], on_frame)
    assert [o for o in outputs if not isinstance(o, Feed)] == []
    acks = [json.loads(text) for text in sent[:2]]
    assert [(a["pair"], a["status"], a["channelName"]) for a in acks] == [
        ("XBT/CHF", "subscribed", "book-1000"),
        ("ADA/XBT", "subscribed", "book-1000"),
    ]
    assert all(text.startswith("[") for text in sent[2:])  # v1 frames, as captured
    channels = {(frame[0], frame[-1]) for frame in map(json.loads, sent[2:])}
    assert channels == {(a["channelID"], a["pair"]) for a in acks}  # the acks name them
    for pair in pairs:
        want = KRAKEN_FIGURES["pairs"][pair]
        assert feed.counts().pairs[pair].checksum_ok == want["checksum_matches"]
        kept = feed.book(pair)
        assert kept is not None
        assert kept.top() == (fixed(want["final_best_bid"]), fixed(want["final_best_ask"]))


async def test_kraken_v2_subscribe_is_acked_and_a_wrong_depth_refused(kraken: VenueSim) -> None:
    with trio.fail_after(LIMIT_S):
        async with open_websocket_url(kraken.url("kraken")) as ws:
            params = {"channel": "book", "symbol": ["BTC/CHF", "ETH/CHF"], "depth": 10}
            await ws.send_message(json.dumps({"method": "subscribe", "params": params}))
            refusals = [json.loads(await ws.get_message()) for _ in range(2)]
    assert [r["success"] for r in refusals] == [False, False]
    assert "captured at 1000" in refusals[0]["error"]


async def test_binance_replays_and_bridges_with_the_servers_rest_snapshot() -> None:
    figures = BINANCE_FIGURES["binance_spot_depth_cryptofeed_BINANCE.ws.1.0.log"]["symbols"]
    adapter = BinanceSpot(["NKN-USDT", "BLZ-ETH", "LRC-BTC", "RUNE-EUR"])
    streams = "/".join(f"{s.lower()}@depth@100ms/{s.lower()}@aggTrade" for s in figures)
    async with (
        venue_sim([BINANCE_WS, BINANCE_REST], close_at_end=True) as sim,
        httpx.AsyncClient(base_url=sim.rest_url) as http,
    ):
        asked: list[str] = []

        def on_frame(text: str, ts: int) -> list[Output]:
            out = adapter.on_frame(text, ts)
            asked.extend(o.exchange_symbol for o in out if isinstance(o, NeedSnapshot))
            return out

        outputs: list[Output] = []
        with trio.fail_after(LIMIT_S):
            async with open_websocket_url(f"{sim.url('binance')}?streams={streams}") as ws:
                ts = 0
                try:
                    while True:
                        ts += 1
                        outputs += on_frame(str(await ws.get_message()), ts)
                        while asked:
                            symbol = asked.pop(0)
                            query = {"symbol": symbol, "limit": 1000}
                            reply = await http.get(DEPTH, params=query)
                            outputs += adapter.snapshot(symbol, reply.text, ts)
                except ConnectionClosed:
                    pass
            info = (await http.get("/api/v3/exchangeInfo", params={"symbol": "NKNUSDT"})).json()
    assert not [o for o in outputs if isinstance(o, (Resync, FrameError))]
    for symbol, want in figures.items():
        book = adapter.books[symbol]
        assert book.phase is Phase.LIVE
        assert book.counters.gaps == 0
        assert book.update_id == want["final_update_id"]
        assert (len(book.bids), len(book.asks)) == (
            want["final_bid_levels"],
            want["final_ask_levels"],
        )
        assert book.top() == (fixed(want["final_best_bid"]), fixed(want["final_best_ask"]))
    (entry,) = info["symbols"]
    assert (entry["baseAsset"], entry["quoteAsset"]) == ("NKN", "USDT")
    assert entry["filters"][0]["tickSize"] == "0.0001"


async def test_a_quiet_kraken_connection_gets_heartbeats() -> None:
    async with venue_sim([KRAKEN]) as sim, open_websocket_url(sim.url("kraken")) as ws:
        with trio.fail_after(LIMIT_S):
            await ws.send_message(json.dumps(kraken_subscribe(["XBT/CHF"])))
            frames = [await ws.get_message() for _ in range(1 + 290)]  # the ack, the tape
            assert json.loads(await ws.get_message()) == {"event": "heartbeat"}
    assert all(str(frame).startswith("[") for frame in frames[1:])


async def test_binance_requests_are_weighed_as_published() -> None:
    async with (
        venue_sim([HFT]) as sim,
        httpx.AsyncClient(base_url=sim.rest_url) as http,
    ):
        used = []
        for _ in range(24):  # 24 x 250 = the minute's 6000
            reply = await http.get(DEPTH, params={"symbol": "BTCUSDT", "limit": 5000})
            used.append(int(reply.headers["x-mbx-used-weight-1m"]))
        refused = await http.get(DEPTH, params={"symbol": "BTCUSDT", "limit": 5})
    assert used == [250 * (i + 1) for i in range(24)]
    assert refused.status_code == 429 and refused.json()["code"] == -1003


async def test_binance_raw_stream_subscribe_method_and_inline_hftbacktest_snapshot() -> None:
    async with (
        venue_sim([HFT], close_at_end=True) as sim,
        httpx.AsyncClient(base_url=sim.rest_url) as http,
    ):
        url = sim.url("binance").replace("/stream", "/ws")
        with trio.fail_after(LIMIT_S):
            async with open_websocket_url(url) as ws:
                subscribe = {"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 7}
                await ws.send_message(json.dumps(subscribe))
                assert json.loads(await ws.get_message()) == {"result": None, "id": 7}
                first = json.loads(await ws.get_message())
        snapshot = (
            await http.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 5})
        ).json()
        bad = await http.get("/api/v3/depth", params={"symbol": "NOPE"})
    assert first["e"] == "depthUpdate" and "stream" not in first  # raw: the data alone
    assert snapshot["lastUpdateId"] >= 50093239218  # the capture's, and what was replayed since
    assert len(snapshot["bids"]) == len(snapshot["asks"]) == 5
    assert bad.status_code == 400 and bad.json()["code"] == -1121


async def test_coinbase_replays_to_the_expected_books() -> None:
    adapter = ExchangeFeed()
    products = list(COINBASE_FIGURES["products"])
    subscribe = {
        "type": "subscribe",
        "product_ids": products,
        "channels": ["level2_batch", "matches"],
    }
    async with venue_sim([COINBASE], close_at_end=True) as sim:
        outputs, code = await replay(sim.url("coinbase"), [subscribe], adapter.on_frame)
        async with httpx.AsyncClient(base_url=sim.rest_url) as http:
            product = (await http.get("/products/SKL-USD")).json()
            missing = await http.get("/products/NOPE-USD")
    assert code == 1000
    assert [o for o in outputs if not isinstance(o, Feed)] == []
    c = adapter.counters()
    assert c.snapshots == len(products)
    assert c.level_changes == sum(
        p["changes_applied"] for p in COINBASE_FIGURES["products"].values()
    )
    assert c.crossed == c.resyncs == 0
    assert (product["base_currency"], product["quote_currency"]) == ("SKL", "USD")
    assert missing.status_code == 404


def advanced_capture(tmp_path: Path) -> Path:
    """The documented-schema Advanced Trade frames as an ndjson capture."""
    frames = json.loads((DATA / "coinbase" / "advanced_trade_level2.json").read_text())["frames"]
    path = tmp_path / "advanced.ndjson"
    path.write_text("".join(json.dumps(f) + "\n" for f in frames))
    return path


async def test_coinbase_advanced_numbers_each_connection_and_a_gap_fault_skips_one(
    tmp_path: Path,
) -> None:
    path = advanced_capture(tmp_path)
    subscribe = {"type": "subscribe", "product_ids": ["BTC-USD", "ETH-USD"], "channel": "level2"}
    async with venue_sim([path], close_at_end=True, faults=[parse_fault("gap@3")]) as sim:
        first = AdvancedTradeFeed()
        gapped, _ = await replay(sim.url("coinbase-advanced"), [subscribe], first.on_frame)
        clean = AdvancedTradeFeed()
        outputs, _ = await replay(sim.url("coinbase-advanced"), [subscribe], clean.on_frame)
    assert [o.why for o in gapped if isinstance(o, Resync)] == [Why.GAP, Why.GAP]
    assert [o for o in outputs if not isinstance(o, Feed)] == []


# -- faults -----------------------------------------------------------------------------


async def kraken_with(
    fault: str, sent: list[str] | None = None
) -> tuple[KrakenFeed, list[Output], int | None]:
    """XBT/CHF replayed with ``fault``; the frames received are appended to ``sent``."""
    feed = KrakenFeed(["XBT/CHF"], depth=1000)

    def on_frame(text: str, ts: int) -> list[Output]:
        if sent is not None:
            sent.append(text)
        return feed.on_frame(text, ts)

    async with venue_sim([KRAKEN], close_at_end=True, faults=[parse_fault(fault)]) as sim:
        outputs, code = await replay(sim.url("kraken"), [kraken_subscribe(["XBT/CHF"])], on_frame)
    return feed, outputs, code


async def test_drop_closes_the_connection_after_n_frames() -> None:
    feed, _, code = await kraken_with("kraken/drop@5")
    assert code == 1011
    counts = feed.counts()
    assert counts.frames - counts.heartbeats == 1 + 5  # the ack, then five frames of the tape


async def test_checksum_fault_changes_a_price_and_is_a_checksum_resync() -> None:
    clean: list[str] = []
    await kraken_with("stall@1:0.001", clean)
    for at in (3, 200):
        sent: list[str] = []
        feed, outputs, _ = await kraken_with(f"checksum@{at}", sent)
        resyncs = [(o.symbol, o.why) for o in outputs if isinstance(o, Resync)]
        assert resyncs == [("BTC-CHF", Why.CHECKSUM)]
        assert feed.counts().checksum_bad == 1
        (changed,) = [(a, b) for a, b in zip(sent, clean, strict=True) if a != b]
        assert _checksum(changed[0]) == _checksum(changed[1])  # a price changed, not the CRC


def _checksum(frame: str) -> str:
    return json.loads(frame)[-3]["c"]


async def test_malformed_and_oversized_frames() -> None:
    _, outputs, _ = await kraken_with("malformed@2")
    errors = [o for o in outputs if isinstance(o, FrameError)]
    assert errors and errors[0].field == "json"
    _, _, code = await kraken_with("oversized@2")
    assert code == 1009  # trio-websocket refuses a message above its 1 MiB limit


async def test_a_lost_kraken_update_fails_the_next_checksum() -> None:
    feed, outputs, _ = await kraken_with("gap@3")
    assert [o.why for o in outputs if isinstance(o, Resync)] == [Why.CHECKSUM]
    # the snapshot and every update but the lost one
    assert feed.counts().book_messages == 1 + KRAKEN_FIGURES["pairs"]["XBT/CHF"]["updates"] - 1


async def test_stall_holds_the_stream() -> None:
    start = trio.current_time()
    feed, _, _ = await kraken_with("stall@2:0.3")
    assert trio.current_time() - start >= 0.3
    assert feed.counts().checksum_bad == 0


async def test_refused_subscriptions_get_the_exchanges_error() -> None:
    async with venue_sim([KRAKEN], faults=[parse_fault("refuse")]) as sim:
        with trio.fail_after(LIMIT_S):
            async with open_websocket_url(sim.url("kraken")) as ws:
                await ws.send_message(json.dumps(kraken_subscribe(["XBT/CHF"])))
                (error,) = KrakenFeed(["XBT/CHF"], depth=1000).on_frame(await ws.get_message(), 1)
    assert isinstance(error, FrameError) and error.field == "subscription"
    async with venue_sim([COINBASE], faults=[parse_fault("coinbase/refuse")]) as sim:
        with trio.fail_after(LIMIT_S):
            async with open_websocket_url(sim.url("coinbase")) as ws:
                subscribe = {
                    "type": "subscribe",
                    "product_ids": ["SKL-USD"],
                    "channels": ["level2"],
                }
                await ws.send_message(json.dumps(subscribe))
                (error,) = ExchangeFeed().on_frame(await ws.get_message(), 1)
            assert isinstance(error, FrameError) and "Failed to subscribe" in str(error)
            async with open_websocket_url(sim.url("coinbase")) as ws:  # connection 2: no fault
                await ws.send_message(json.dumps(subscribe | {"product_ids": ["NOPE-USD"]}))
                (error,) = ExchangeFeed().on_frame(await ws.get_message(), 1)
            assert isinstance(error, FrameError) and "NOPE-USD is not a valid product" in str(error)
    async with venue_sim(
        [BINANCE_WS, BINANCE_REST], faults=[Fault(Kind.REFUSE, venue="binance")]
    ) as sim:
        with trio.fail_after(LIMIT_S), pytest.raises(ConnectionRejected):
            async with open_websocket_url(f"{sim.url('binance')}?streams=nknusdt@depth@100ms"):
                pass  # pragma: no cover


async def test_binance_gap_fault_resyncs_and_a_later_snapshot_bridges() -> None:
    adapter = BinanceSpot(["NKN-USDT"])
    faults = [parse_fault("binance/gap@20")]
    outputs: list[Output] = []
    async with (
        venue_sim([BINANCE_WS, BINANCE_REST], close_at_end=True, faults=faults) as sim,
        httpx.AsyncClient(base_url=sim.rest_url) as http,
    ):
        with trio.fail_after(LIMIT_S):
            url = f"{sim.url('binance')}?streams=nknusdt@depth@100ms"
            async with open_websocket_url(url) as ws:
                try:
                    for ts in range(1, 10_000):
                        out = adapter.on_frame(str(await ws.get_message()), ts)
                        outputs += out
                        if any(isinstance(o, NeedSnapshot) for o in out):
                            body = (await http.get(f"{DEPTH}?symbol=NKNUSDT&limit=1000")).text
                            outputs += adapter.snapshot("NKNUSDT", body, ts)
                except ConnectionClosed:
                    pass
    assert [o.why for o in outputs if isinstance(o, Resync)] == [Why.GAP]
    book = adapter.books["NKNUSDT"]
    assert book.phase is Phase.LIVE and book.counters.resyncs == 1
    want = BINANCE_FIGURES["binance_spot_depth_cryptofeed_BINANCE.ws.1.0.log"]["symbols"]["NKNUSDT"]
    assert book.top() == (fixed(want["final_best_bid"]), fixed(want["final_best_ask"]))


def test_fault_specs_parse_and_refuse_nonsense() -> None:
    assert parse_fault("kraken/stall@20:2.5#2") == Fault(Kind.STALL, 20, 2.5, "kraken", 2)
    assert str(parse_fault("binance/gap@40")) == "binance/gap@40"
    assert parse_fault("oversized@3").arg == 2 * 1024 * 1024
    for bad, why in [
        ("boom@3", "unknown kind"),
        ("stall@3", "needs :SECONDS"),
        ("drop@x", "expected"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_fault(bad)


@pytest.mark.e2e
async def test_the_command_serves_its_captures_until_interrupted() -> None:
    command = [
        sys.executable,
        "-m",
        "meshrt.cli.main",
        "venue-sim",
        str(KRAKEN),
        "--port",
        "0",
        "--as-fast-as-possible",
        "--fault",
        "kraken/drop@2",
    ]
    process = await trio.lowlevel.open_process(command, stdout=subprocess.PIPE)
    assert process.stdout is not None
    try:
        with trio.fail_after(LIMIT_S):
            printed = b""
            while b"REST" not in printed:
                printed += await process.stdout.receive_some()
            url = printed.decode().split()[1]
            _, code = await replay(url, [kraken_subscribe(["XBT/CHF"])], lambda t, n: [])
        assert url.endswith("/kraken") and code == 1011
    finally:
        process.send_signal(signal.SIGINT)
        with trio.fail_after(LIMIT_S):
            assert await process.wait() == 0
