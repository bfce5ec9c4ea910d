"""The live session (meshrt/venues/live/session.py) against scripted exchanges on
127.0.0.1 (tests/live_servers.py): subscribe, order and receive times, stale connections
and peer closes with backoff, per-symbol resync, Binance snapshots over REST, a full
channel, and the recorder's tap. Every wait is bounded by trio.fail_after."""

from __future__ import annotations

import gzip
import itertools
import queue
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
from live_servers import FakeExchange, KrakenBookScript, Peer, RestServer, json

from meshrt.cli.main import main
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT
from meshrt.venues.live.backoff import Backoff
from meshrt.venues.live.recorder import CaptureWriter, header_line, parse_snapshot
from meshrt.venues.live.refdata import Reference
from meshrt.venues.live.session import run_session
from meshrt.venues.live.stats import SessionState
from meshrt.venues.live.verdicts import Connected, Disconnected, Feed, Received, Resync, Why
from meshrt.venues.specs import LiveSpec

MS = 1_000_000
STALE = 150 * MS  # where staleness is the point; the others use QUIET, slow machines too
QUIET = 2_000 * MS
BACKOFF = (20 * MS, 80 * MS)
SEED = 7


def spec(exchange: str, symbol: str, url: str, stale: int = QUIET, **kw: Any) -> LiveSpec:
    return LiveSpec(
        symbol=symbol,
        exchange=exchange,
        url=url,
        stale_after_ns=stale,
        reconnect_min_ns=BACKOFF[0],
        reconnect_max_ns=BACKOFF[1],
        **kw,
    )


def counter_clock() -> Callable[[], int]:
    return itertools.count(1_000).__next__


async def collect(
    receive: trio.MemoryReceiveChannel[Received], done: Callable[[list[Any]], bool]
) -> list[Any]:
    """Every output received, flattened with its ts, until ``done(outputs)``."""
    outputs: list[Any] = []
    async for item in receive:
        outputs += [(item.ts_ns, out) for out in item.outputs]
        if done([out for _, out in outputs]):
            return outputs
    raise AssertionError("the session ended")


def feeds(outputs: list[Any], symbol: str) -> list[Any]:
    return [
        event
        for _, out in outputs
        if type(out) is Feed and out.symbol == symbol
        for event in out.events
    ]


async def run(
    specs: list[LiveSpec],
    done: Callable[[list[Any]], bool],
    *,
    state: SessionState | None = None,
    buffer: int = 1000,
    tap: Any = None,
    consumer_delay: float = 0.0,
) -> list[Any]:
    send, receive = trio.open_memory_channel[Received](buffer)
    with trio.fail_after(3):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                lambda: run_session(
                    specs, send, counter_clock(), rng=random.Random(SEED), state=state, tap=tap
                )
            )
            await trio.sleep(consumer_delay)
            outputs = await collect(receive, done)
            nursery.cancel_scope.cancel()
    return outputs


def count(kind: type, n: int) -> Callable[[list[Any]], bool]:
    return lambda outs: sum(type(o) is kind for o in outs) >= n


# -- Kraken ---------------------------------------------------------------------------

A, B = "BTC/USD", "ETH/USD"


def two_books() -> tuple[KrakenBookScript, KrakenBookScript]:
    return KrakenBookScript(A), KrakenBookScript(B)


async def test_kraken_subscribes_and_hands_frames_on_in_order_with_receive_times() -> None:
    a, b = two_books()

    async def script(peer: Peer) -> None:
        await peer.got(3)
        await peer.send(a.frame("snapshot", [("100.0", "1.0")], [("101.0", "2.0")]))
        await peer.send(b.frame("snapshot", [("10.0", "1.0")], [("11.0", "2.0")]))
        await peer.send(a.frame("update", [("100.5", "3.0")], []))
        await peer.send(b.frame("update", [], [("11.0", "0")]))
        await trio.sleep_forever()

    exchange = FakeExchange(script)
    async with trio.open_nursery() as nursery:
        url = await exchange.start(nursery)
        specs = [spec("kraken", "BTC-USD", url), spec("kraken", "ETH-USD", url)]
        outputs = await run(specs, count(Feed, 4))
        nursery.cancel_scope.cancel()
    assert outputs[0][1] == Connected("kraken", 1)
    channels = [m["params"]["channel"] for m in exchange.peers[0].received]
    assert channels == ["instrument", "book", "trade"]
    book = exchange.peers[0].received[1]["params"]
    assert book == {"channel": "book", "symbol": [A, B], "depth": 10, "snapshot": True}
    stamps = [ts for ts, _ in outputs]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    order = [(out.symbol, out.events[0][1]) for _, out in outputs if type(out) is Feed]
    assert order == [
        ("BTC-USD", FEED_SNAPSHOT),
        ("ETH-USD", FEED_SNAPSHOT),
        ("BTC-USD", FEED_DELTA),
        ("ETH-USD", FEED_DELTA),
    ]
    for ts, out in outputs[1:]:
        assert all(event[0] == ts for event in out.events)  # stamped at receipt


async def test_kraken_instruments_become_reference_data_and_checksum_digits() -> None:
    a, _ = two_books()
    instrument = {
        "symbol": A,
        "status": "online",
        "price_precision": 1,
        "qty_precision": 8,
        "price_increment": "0.1",
        "qty_increment": "0.00000001",
        "qty_min": "0.0001",
        "cost_min": "0.5",
    }

    async def script(peer: Peer) -> None:
        await peer.got(3)
        pairs = {"pairs": [instrument]}
        await peer.send({"channel": "instrument", "type": "snapshot", "data": pairs})
        full = ("100.0", "1.00000000"), ("101.0", "2.00000000")  # full precision, as Kraken
        await peer.send(a.frame("snapshot", [full[0]], [full[1]]))
        await trio.sleep_forever()

    exchange = FakeExchange(script)
    state = SessionState()
    async with trio.open_nursery() as nursery:
        url = await exchange.start(nursery)
        outputs = await run([spec("kraken", "BTC-USD", url)], count(Feed, 1), state=state)
        nursery.cancel_scope.cancel()
    reference = Reference("kraken", A, "BTC-USD", 10**8, 1, 10**4, 5 * 10**8)
    assert state.references() == {"BTC-USD": reference}
    assert [out for _, out in outputs if type(out) is Reference] == [reference]  # handed on


async def test_connect_failures_back_off_exponentially_within_bounds() -> None:
    with trio.socket.socket() as probe:  # a port nothing listens on
        await probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state = SessionState()
    specs = [spec("kraken", "BTC-USD", f"ws://127.0.0.1:{port}")]
    outputs = await run(specs, count(Disconnected, 4), state=state)
    gone = [out for _, out in outputs]
    assert all(type(o) is Disconnected and o.why.startswith("connect failed: ") for o in gone)
    backoff = Backoff(*BACKOFF, random.Random(SEED))
    assert [o.reconnect_in_ns for o in gone] == [backoff.next_ns() for _ in range(4)]
    for n, o in enumerate(gone, 1):
        assert BACKOFF[0] <= o.reconnect_in_ns <= min(BACKOFF[1], BACKOFF[0] << n)
    stats = state.statistics()
    assert (stats.connect_failures, stats.connects, stats.disconnects) == (4, 0, 0)


async def test_a_stale_connection_reconnects_after_a_jittered_backoff_and_resubscribes() -> None:
    a, _ = two_books()

    async def script(peer: Peer) -> None:
        await peer.got(3)
        await peer.send(a.frame("snapshot", [("100.0", "1.0")], [("101.0", "2.0")]))
        await trio.sleep_forever()  # silent: the session must call it stale

    exchange = FakeExchange(script)
    state = SessionState()
    async with trio.open_nursery() as nursery:
        url = await exchange.start(nursery)
        specs = [spec("kraken", "BTC-USD", url, stale=STALE)]
        outputs = await run(specs, count(Feed, 2), state=state)
        nursery.cancel_scope.cancel()
    kinds = [type(out) for _, out in outputs]
    assert kinds == [Connected, Feed, Disconnected, Connected, Feed]
    gone = outputs[2][1]
    assert gone.why == "stale: no message in 0.15 s"
    expected = Backoff(*BACKOFF, random.Random(SEED)).next_ns()
    assert gone.reconnect_in_ns == expected and BACKOFF[0] <= expected <= 2 * BACKOFF[0]
    assert outputs[3][1] == Connected("kraken", 2)
    assert exchange.peers[1].received == exchange.peers[0].received
    stats = state.statistics()
    assert (stats.stale, stats.disconnects, stats.reconnects, stats.connects) == (1, 1, 1, 2)
    assert stats.reconnect_delay_ns == expected


async def test_a_peer_closing_mid_stream_is_a_disconnect_and_a_reconnect() -> None:
    a, _ = two_books()

    async def script(peer: Peer) -> None:
        await peer.got(3)
        await peer.send(a.frame("snapshot", [("100.0", "1.0")], [("101.0", "2.0")]))
        if peer.index == 0:
            await peer.send(a.frame("update", [("100.0", "2.0")], []))
            return  # the server closes the connection
        await trio.sleep_forever()

    exchange = FakeExchange(script)
    async with trio.open_nursery() as nursery:
        url = await exchange.start(nursery)
        outputs = await run([spec("kraken", "BTC-USD", url)], count(Connected, 2))
        nursery.cancel_scope.cancel()
    kinds = [type(out) for _, out in outputs]
    assert kinds == [Connected, Feed, Feed, Disconnected, Connected]
    assert outputs[3][1].why.startswith("closed by peer: 1000")


async def test_a_checksum_failure_resyncs_only_its_pair() -> None:
    a, b = two_books()

    async def script(peer: Peer) -> None:
        await peer.got(3)
        await peer.send(a.frame("snapshot", [("100.0", "1.0")], [("101.0", "2.0")]))
        await peer.send(b.frame("snapshot", [("10.0", "1.0")], [("11.0", "2.0")]))
        await peer.send(a.frame("update", [("100.0", "5.0")], [], corrupt=True))
        await peer.send(b.frame("update", [("10.5", "1.0")], []))
        await peer.got(5)  # unsubscribe + subscribe, for A only
        await peer.send(a.frame("snapshot", [("99.0", "1.0")], [("101.0", "2.0")]))
        await peer.send(b.frame("update", [("10.5", "0")], []))
        await trio.sleep_forever()

    exchange = FakeExchange(script)
    state = SessionState()
    async with trio.open_nursery() as nursery:
        url = await exchange.start(nursery)
        specs = [spec("kraken", "BTC-USD", url), spec("kraken", "ETH-USD", url)]
        outputs = await run(specs, count(Feed, 5), state=state)
        nursery.cancel_scope.cancel()
    resyncs = [out for _, out in outputs if type(out) is Resync]
    assert [(r.symbol, r.exchange_symbol, r.why) for r in resyncs] == [("BTC-USD", A, Why.CHECKSUM)]
    assert [e[1] for e in feeds(outputs, "ETH-USD")] == [FEED_SNAPSHOT, FEED_DELTA, FEED_DELTA]
    assert [e[1] for e in feeds(outputs, "BTC-USD")] == [FEED_SNAPSHOT, FEED_SNAPSHOT]
    again = exchange.peers[0].received[3:5]
    assert [m["method"] for m in again] == ["unsubscribe", "subscribe"]
    assert all(m["params"]["symbol"] == [A] for m in again)
    assert len(exchange.peers) == 1  # a resync is not a reconnect
    assert state.statistics().checksum_failures == 1


async def test_a_full_channel_blocks_the_reader_loses_nothing_and_is_measured() -> None:
    a, _ = two_books()
    updates = 30

    async def script(peer: Peer) -> None:
        await peer.got(3)
        await peer.send(a.frame("snapshot", [("100.0", "1.0")], [("101.0", "2.0")]))
        for i in range(updates):
            await peer.send(a.frame("update", [("100.0", f"{i + 2}.0")], []))
        await trio.sleep_forever()

    exchange = FakeExchange(script)
    state = SessionState()
    async with trio.open_nursery() as nursery:
        url = await exchange.start(nursery)
        outputs = await run(
            [spec("kraken", "BTC-USD", url, stale=STALE)],
            count(Feed, updates + 1),
            state=state,
            buffer=0,
            consumer_delay=0.25,  # longer than stale_after: blocked is not silent
        )
        nursery.cancel_scope.cancel()
    assert [type(out) for _, out in outputs] == [Connected] + [Feed] * (updates + 1)
    sizes = [e[4] for e in feeds(outputs, "BTC-USD")[1:]]
    assert sizes == [(i + 2) * 10**8 for i in range(updates)]
    stats = state.statistics()
    assert stats.blocked_sends >= 1 and stats.blocked_ns > 0 and stats.max_lag_ns > 0
    assert stats.disconnects == 0 and stats.frames == updates + 1


async def test_the_tap_records_every_frame_and_the_file_reads_back(tmp_path: Path) -> None:
    a, _ = two_books()
    sent = [
        a.frame("snapshot", [("100.0", "1.0")], [("101.0", "2.0")]),
        '{"channel":"heartbeat"}',
        a.frame("update", [("100.0", "2.0")], []),
    ]

    async def script(peer: Peer) -> None:
        await peer.got(3)
        for frame in sent:
            await peer.send(frame)
        await trio.sleep_forever()

    exchange = FakeExchange(script)
    path = tmp_path / "kraken.capture.gz"
    async with trio.open_nursery() as nursery:
        url = await exchange.start(nursery)
        header = header_line("kraken", url, {"BTC-USD": A}, 10, 123)
        with CaptureWriter(path, header) as writer:
            outputs = await run([spec("kraken", "BTC-USD", url)], count(Feed, 2), tap=writer.write)
            writer.write(99, "a frame\nwith a line break")
        nursery.cancel_scope.cancel()
    lines = gzip.decompress(path.read_bytes()).decode().split("\n")
    magic, version, meta = lines[0].split(" ", 2)
    assert (magic, version) == ("#meshrt-capture", "1")
    assert orjson.loads(meta)["symbols"] == {"BTC-USD": A}
    frames = [line.split(" ", 1) for line in lines[1:] if line]
    assert [text for _, text in frames] == sent
    stamps = [int(ts) for ts, _ in frames]
    assert stamps[::2] == [ts for ts, out in outputs if type(out) is Feed]
    assert (writer.written, writer.refused) == (3, 1)
    assert lines[-1] == ""  # every line ends, none is broken


# -- Binance: diff stream bridged by REST snapshots -------------------------------------


EXCHANGE_INFO = {
    "symbol": "BTCUSDT",
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "0.01", "tickSize": "0.01000000"},
        {"filterType": "LOT_SIZE", "minQty": "0.00001000", "stepSize": "0.00001000"},
        {"filterType": "NOTIONAL", "minNotional": "5.00000000"},
    ],
}


def depth_event(first: int, last: int, bid: str) -> str:
    data = {
        "e": "depthUpdate",
        "E": 1,
        "s": "BTCUSDT",
        "U": first,
        "u": last,
        "b": [[bid, "1.0"]],
        "a": [],
    }
    return json({"stream": "btcusdt@depth@100ms", "data": data})


async def test_binance_bridges_a_rest_snapshot_and_resnapshots_after_a_gap() -> None:
    snapshots = iter([100, 109])

    def respond(target: str) -> tuple[int, dict[str, str], bytes]:
        if target.startswith("/api/v3/exchangeInfo"):
            return 200, {}, orjson.dumps({"symbols": [EXCHANGE_INFO]})
        book = [["100.0", "1.0"]], [["200.0", "1.0"]]
        body = {"lastUpdateId": next(snapshots), "bids": book[0], "asks": book[1]}
        return 200, {"content-type": "application/json"}, orjson.dumps(body)

    async def script(peer: Peer) -> None:
        await peer.got(1)
        await peer.send({"result": None, "id": 1})
        await peer.send(depth_event(101, 102, "101.0"))
        await peer.send(depth_event(103, 103, "102.0"))
        await peer.send(depth_event(110, 110, "103.0"))  # 104..109 lost: a gap
        await trio.sleep_forever()

    exchange = FakeExchange(script)
    rest = RestServer(respond)
    state = SessionState()
    async with trio.open_nursery() as nursery:
        url = await exchange.start(nursery)
        rest_url = await rest.start(nursery)
        specs = [spec("binance", "BTC-USDT", url, rest_url=rest_url)]

        def bridged_twice(outs: list[Any]) -> bool:
            resynced = any(type(o) is Resync for o in outs) and type(outs[-1]) is Feed
            return resynced and any(type(o) is Reference for o in outs)

        tapped: list[tuple[int, str]] = []
        outputs = await run(specs, bridged_twice, state=state, tap=lambda *x: tapped.append(x))
        nursery.cancel_scope.cancel()
    assert exchange.peers[0].received[0] == {
        "method": "SUBSCRIBE",
        "params": ["btcusdt@depth@100ms", "btcusdt@trade"],
        "id": 1,
    }
    depth = [t for t in rest.targets if t.startswith("/api/v3/depth")]
    assert depth == ["/api/v3/depth?symbol=BTCUSDT&limit=1000"] * 2
    assert [(o.why, o.exchange_symbol) for _, o in outputs if type(o) is Resync] == [
        (Why.GAP, "BTCUSDT")
    ]
    last = outputs[-1][1].events[-1]
    assert last[1] == FEED_SNAPSHOT
    assert [p for p, _ in last[2]] == [103 * 10**9, 100 * 10**9]  # 110 bridged on 109
    assert state.statistics().snapshot_requests == 2
    recorded = [parse_snapshot(text) for _, text in tapped if parse_snapshot(text)]
    assert [(name, orjson.loads(body)["lastUpdateId"]) for name, body in recorded] == [
        ("BTCUSDT", 100),
        ("BTCUSDT", 109),
    ]  # a recording holds the REST answers, in arrival order among the frames
    assert state.statistics().gaps == 1
    info = [t for t in rest.targets if t.startswith("/api/v3/exchangeInfo")]
    assert info == ["/api/v3/exchangeInfo?symbols=%5B%22BTCUSDT%22%5D"]
    ref = state.references()["BTC-USDT"]
    assert [o for _, o in outputs if type(o) is Reference] == [ref]  # handed on once
    assert (ref.tick, ref.lot, ref.min_size, ref.min_notional) == (
        10**7,
        10**3,
        10**3,
        5 * 10**9,
    )


# -- meshrt record ------------------------------------------------------------------------


def serve_in_thread(script: Any) -> tuple[str, Callable[[], None]]:
    """A FakeExchange on its own Trio loop in a thread, for a command that runs trio.run."""
    ready: queue.Queue[tuple[str, trio.lowlevel.TrioToken, trio.CancelScope]] = queue.Queue()

    async def serve() -> None:
        async with trio.open_nursery() as nursery:
            url = await FakeExchange(script).start(nursery)
            ready.put((url, trio.lowlevel.current_trio_token(), nursery.cancel_scope))

    thread = threading.Thread(target=trio.run, args=(serve,), daemon=True)
    thread.start()
    url, token, scope = ready.get(timeout=5)

    def stop() -> None:
        trio.from_thread.run_sync(scope.cancel, trio_token=token)
        thread.join(5)

    return url, stop


@pytest.mark.e2e
def test_meshrt_record_writes_a_capture_for_its_duration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, _ = two_books()

    async def script(peer: Peer) -> None:
        await peer.got(3)
        await peer.send(a.frame("snapshot", [("100.0", "1.0")], [("101.0", "2.0")]))
        for i in range(5):
            await peer.send(a.frame("update", [("100.0", f"{i + 2}.0")], []))
        await trio.sleep_forever()

    url, stop = serve_in_thread(script)
    out = tmp_path / "btc.capture"
    try:
        argv = ["record", "kraken", "BTC/USD", "--out", str(out), "--url", url]
        code = main([*argv, "--duration", "0.4"])
    finally:
        stop()
    assert code == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("#meshrt-capture 1 ")
    assert orjson.loads(lines[0].split(" ", 2)[2])["symbols"] == {"BTC-USD": A}
    assert len(lines) == 7
    printed = capsys.readouterr().out
    assert "recorded 6 frames in" in printed and "connections 1, disconnects 0" in printed
    assert main(["record", "kraken", "BTC/USD", "--out", str(out), "--depth", "7"]) == 2
    assert "meshrt record: " in capsys.readouterr().err


# -- Coinbase ---------------------------------------------------------------------------


def product(name: str) -> bytes:
    return orjson.dumps(
        {
            "id": name,
            "quote_increment": "0.01",
            "base_increment": "0.00000001",
            "min_market_funds": "1",
        }
    )


async def test_coinbase_resyncs_a_crossed_product_alone_and_reads_its_products() -> None:
    def snapshot(name: str, bid: str, ask: str) -> dict[str, Any]:
        return {"type": "snapshot", "product_id": name, "bids": [[bid, "1"]], "asks": [[ask, "1"]]}

    def update(name: str, side: str, price: str) -> dict[str, Any]:
        return {"type": "l2update", "product_id": name, "changes": [[side, price, "1"]]}

    async def script(peer: Peer) -> None:
        await peer.got(1)
        await peer.send(snapshot("BTC-USD", "100", "101"))
        await peer.send(snapshot("ETH-USD", "10", "11"))
        await peer.send(update("BTC-USD", "buy", "102"))  # crosses: BTC-USD held back
        await peer.send(update("ETH-USD", "buy", "10.5"))  # past a 0 grace: BTC-USD resyncs
        await peer.got(3)
        await peer.send(snapshot("BTC-USD", "99", "101"))
        await trio.sleep_forever()

    exchange = FakeExchange(script)
    rest = RestServer(lambda target: (200, {}, product(target.rsplit("/", 1)[1])))
    state = SessionState()
    async with trio.open_nursery() as nursery:
        url = await exchange.start(nursery)
        rest_url = await rest.start(nursery)
        specs = [
            spec("coinbase", name, url, rest_url=rest_url, crossed_grace_ns=0)
            for name in ("BTC-USD", "ETH-USD")
        ]

        def done(outs: list[Any]) -> bool:
            return count(Feed, 4)(outs) and count(Reference, 2)(outs)

        outputs = await run(specs, done, state=state)
        nursery.cancel_scope.cancel()
    sent = exchange.peers[0].received
    assert sent[0] == {
        "type": "subscribe",
        "product_ids": ["BTC-USD", "ETH-USD"],
        "channels": ["level2_batch", "matches", "heartbeat"],
    }
    assert sent[1:] == [
        {"type": "unsubscribe", "product_ids": ["BTC-USD"], "channels": ["level2_batch"]},
        {"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["level2_batch"]},
    ]
    assert [(o.symbol, o.why) for _, o in outputs if type(o) is Resync] == [
        ("BTC-USD", Why.CROSSED)
    ]
    assert [e[1] for e in feeds(outputs, "ETH-USD")] == [FEED_SNAPSHOT, FEED_DELTA]
    assert sorted(rest.targets) == ["/products/BTC-USD", "/products/ETH-USD"]
    assert state.references()["ETH-USD"].tick == 10**7
    handed = [(ts, o) for ts, o in outputs if type(o) is Reference]
    assert [o.symbol for _, o in handed] == ["BTC-USD", "ETH-USD"]
    assert handed[0][0] == handed[1][0]  # one item, when the REST answers are in
