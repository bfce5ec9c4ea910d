"""The pure parts of live connections: subscribe messages per exchange, the adapter
factory, reconnect backoff, Binance request weights and 429/418 pauses, reference data
and ``check_order``, and the recording format's lines (docs/live.md, "Connections")."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import random
from pathlib import Path

import httpx
import orjson
import pytest
import trio

from meshrt.contract import RejectReason
from meshrt.validators import ScenarioValueError
from meshrt.venues.live import protocols
from meshrt.venues.live._order_check import check_order
from meshrt.venues.live.adapters import adapter_for, exchange_symbol, exchange_symbols
from meshrt.venues.live.backoff import Backoff
from meshrt.venues.live.binance import BinanceSpot
from meshrt.venues.live.coinbase import AdvancedTradeFeed, ExchangeFeed
from meshrt.venues.live.crossing import CROSSED_GRACE_NS
from meshrt.venues.live.kraken import KrakenFeed
from meshrt.venues.live.kraken_values import Instrument
from meshrt.venues.live.ratelimit import WeightLimiter, depth_weight, retry_after_ns
from meshrt.venues.live.recorder import (
    CaptureWriter,
    header_line,
    parse_snapshot,
    snapshot_frame,
)
from meshrt.venues.live.refdata import (
    Reference,
    Refusal,
    binance_references,
    coinbase_reference,
    kraken_reference,
)
from meshrt.venues.live.rest import Rest
from meshrt.venues.live.stats import SessionState
from meshrt.venues.recorded_fields import Bad
from meshrt.venues.specs import EXCHANGES, LiveSpec

S = 1_000_000_000

INVALID_PRICE, INVALID_SIZE = RejectReason.INVALID_PRICE, RejectReason.INVALID_SIZE


def messages(texts: list[str]) -> list[dict[str, object]]:
    return [orjson.loads(t) for t in texts]


# -- subscribe messages -----------------------------------------------------------------


def test_kraken_subscribes_instrument_first_then_book_at_depth_and_trades() -> None:
    sent = messages(protocols.subscribe("kraken", ["BTC/USD", "ETH/USD"], depth=25))
    assert sent == [
        {"method": "subscribe", "params": {"channel": "instrument"}},
        {
            "method": "subscribe",
            "params": {
                "channel": "book",
                "symbol": ["BTC/USD", "ETH/USD"],
                "depth": 25,
                "snapshot": True,
            },
        },
        {
            "method": "subscribe",
            "params": {"channel": "trade", "symbol": ["BTC/USD", "ETH/USD"], "snapshot": False},
        },
    ]
    again = messages(protocols.resubscribe("kraken", ["ETH/USD"], depth=25))
    assert [m["method"] for m in again] == ["unsubscribe", "subscribe"]
    assert all(m["params"]["symbol"] == ["ETH/USD"] for m in again)  # type: ignore[index]


def test_binance_subscribes_depth_and_trade_streams_and_resyncs_by_rest_alone() -> None:
    assert messages(protocols.subscribe("binance", ["BTCUSDT"])) == [
        {"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms", "btcusdt@trade"], "id": 1}
    ]
    assert protocols.resubscribe("binance", ["BTCUSDT"]) == []


def test_coinbase_subscribes_level2_batch_matches_and_heartbeat_without_credentials() -> None:
    assert messages(protocols.subscribe("coinbase", ["BTC-USD"])) == [
        {
            "type": "subscribe",
            "product_ids": ["BTC-USD"],
            "channels": ["level2_batch", "matches", "heartbeat"],
        }
    ]
    again = messages(protocols.resubscribe("coinbase", ["BTC-USD"]))
    assert [(m["type"], m["channels"]) for m in again] == [
        ("unsubscribe", ["level2_batch"]),
        ("subscribe", ["level2_batch"]),
    ]


def test_coinbase_with_credentials_signs_a_level2_subscribe() -> None:
    secret = base64.b64encode(b"not a real secret").decode()
    creds = protocols.CoinbaseCredentials(key="k1", secret=secret, passphrase="pp")
    (sent,) = messages(
        protocols.subscribe("coinbase", ["BTC-USD"], credentials=creds, timestamp="1700000000")
    )
    digest = hmac.new(b"not a real secret", b"1700000000GET/users/self/verify", hashlib.sha256)
    assert sent == {
        "type": "subscribe",
        "product_ids": ["BTC-USD"],
        "channels": ["level2", "matches", "heartbeat"],
        "signature": base64.b64encode(digest.digest()).decode(),
        "key": "k1",
        "passphrase": "pp",
        "timestamp": "1700000000",
    }
    again = messages(
        protocols.resubscribe("coinbase", ["BTC-USD"], credentials=creds, timestamp="1700000001")
    )
    assert again[1]["channels"] == ["level2"] and again[1]["timestamp"] == "1700000001"
    assert secret not in repr(creds) and "pp" not in repr(creds)


def test_coinbase_advanced_subscribes_heartbeats_and_level2() -> None:
    assert messages(protocols.subscribe("coinbase-advanced", ["BTC-USD"])) == [
        {"type": "subscribe", "channel": "heartbeats"},
        {"type": "subscribe", "product_ids": ["BTC-USD"], "channel": "level2"},
    ]
    again = messages(protocols.resubscribe("coinbase-advanced", ["BTC-USD"]))
    assert [m["type"] for m in again] == ["unsubscribe", "subscribe"]


def test_rest_defaults_to_the_public_api_or_the_local_websockets_host() -> None:
    assert protocols.rest_url("binance", None, None) == "https://api.binance.com"
    assert protocols.rest_url("binance", "ws://127.0.0.1:9001/stream", None) == (
        "http://127.0.0.1:9001"
    )
    assert protocols.rest_url("coinbase", "wss://example.org/feed", None) == ("https://example.org")
    assert protocols.rest_url("binance", "ws://h:1", "http://r:2") == "http://r:2"
    assert protocols.rest_url("kraken", None, None) is None


# -- the adapter factory ----------------------------------------------------------------


def test_adapter_for_builds_each_exchanges_adapter_from_one_symbol_mapping() -> None:
    kraken = adapter_for("kraken", {"BTC-USD": "BTC/USD"}, depth=100)
    assert isinstance(kraken, KrakenFeed) and kraken.depth == 100
    assert isinstance(adapter_for("binance", {"BTC-USDT": "BTCUSDT"}), BinanceSpot)
    assert isinstance(adapter_for("coinbase", {"BTC-USD": "BTC-USD"}), ExchangeFeed)
    advanced = adapter_for("coinbase-advanced", {"BTC-USD": "BTC-USD"})
    assert isinstance(advanced, AdvancedTradeFeed)
    # a scenario may name an instrument its own way
    mapped = adapter_for("binance", {"BTC-USD": "BTCUSDT"})
    assert isinstance(mapped, BinanceSpot) and mapped.books["BTCUSDT"].symbol == "BTC-USD"
    with pytest.raises(ValueError, match="two scenario symbols"):
        adapter_for("kraken", {"BTC-USD": "BTC/USD", "XBT-USD": "BTC/USD"})


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_adapter_for_passes_the_crossed_grace_and_live_spec_checks_it(exchange: str) -> None:
    symbols = {"BTC-USD": "BTCUSDT" if exchange == "binance" else "BTC-USD"}
    default = adapter_for(exchange, symbols)
    assert default._crossed.grace_ns == CROSSED_GRACE_NS  # type: ignore[attr-defined]
    adapter = adapter_for(exchange, symbols, crossed_grace_ns=0)
    assert adapter._crossed.grace_ns == 0  # type: ignore[attr-defined]
    assert LiveSpec(symbol="BTC-USD", exchange=exchange).crossed_grace_ns == CROSSED_GRACE_NS
    with pytest.raises(ScenarioValueError, match="crossed_grace_ns"):
        LiveSpec(symbol="BTC-USD", exchange=exchange, crossed_grace_ns=-1)


def test_exchange_symbols_come_from_the_table_unless_the_spec_names_one() -> None:
    assert exchange_symbol("kraken", "BTC-USD") == "BTC/USD"  # v2 before v1's XBT/USD
    assert exchange_symbol("binance", "BTC-USDT") == "BTCUSDT"
    specs = [
        LiveSpec(symbol="BTC-USD", exchange="binance", exchange_symbol="BTCUSDT"),
        LiveSpec(symbol="ETH-USD", exchange="coinbase"),
    ]
    assert exchange_symbols(specs) == {"BTC-USD": "BTCUSDT", "ETH-USD": "ETH-USD"}
    with pytest.raises(ValueError, match="exchange_symbol="):
        exchange_symbol("binance", "BTC-USD")  # BTCUSDT is another instrument


# -- backoff ----------------------------------------------------------------------------


def test_backoff_doubles_its_ceiling_draws_in_the_whole_window_and_resets() -> None:
    backoff = Backoff(100, 1_000, random.Random(1))
    delays = [backoff.next_ns() for _ in range(8)]
    ceilings = [200, 400, 800, 1_000, 1_000, 1_000, 1_000, 1_000]
    assert all(100 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    again = Backoff(100, 1_000, random.Random(1))
    assert [again.next_ns() for _ in range(8)] == delays  # seeded: reproducible
    backoff.reset()
    assert 100 <= backoff.next_ns() <= 200
    draws = Backoff(100, 1_000, random.Random(2))
    spread = {min(draws.next_ns(), 10**9) for _ in range(200)}
    assert min(spread) < 300 and max(spread) > 900  # full jitter, not a fixed step
    with pytest.raises(ValueError):
        Backoff(0, 10, random.Random(0))


# -- Binance weights --------------------------------------------------------------------


def test_depth_weights_follow_the_published_table() -> None:
    table = {1: 5, 100: 5, 101: 25, 500: 25, 501: 50, 1000: 50, 1001: 250, 5000: 250}
    assert {limit: depth_weight(limit) for limit in table} == table
    for bad in (0, 5001):
        with pytest.raises(ValueError):
            depth_weight(bad)


def test_the_limiter_spends_a_budget_per_window_and_honours_a_pause() -> None:
    limiter = WeightLimiter(budget=100, window_ns=60 * S)
    for i in range(2):
        assert limiter.delay_ns(50, i * S) == 0
        limiter.take(50, i * S)
    assert limiter.delay_ns(50, 2 * S) == 58 * S  # the first 50 leaves the window at 60 s
    assert limiter.delay_ns(100, 2 * S) == 59 * S
    assert limiter.delay_ns(50, 60 * S) == 0
    limiter.pause(90 * S)
    assert limiter.delay_ns(1, 60 * S) == 30 * S
    with pytest.raises(ValueError):
        limiter.delay_ns(101, 0)
    assert retry_after_ns("7", 1) == 7 * S
    assert retry_after_ns(None, 5) == retry_after_ns("soon", 5) == 5


async def test_a_429_pauses_requests_for_its_retry_after(autojump_clock: trio.abc.Clock) -> None:
    answers = iter([(429, {"Retry-After": "7"}), (418, {"Retry-After": "30"}), (200, {})])
    seen: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(trio.current_time())
        status, headers = next(answers)
        return httpx.Response(status, headers=headers, content=b'{"lastUpdateId":1}')

    state = SessionState()
    limiter = WeightLimiter()
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rest = Rest(client, "http://127.0.0.1:1", limiter, state, retry_ns=S // 10)
        body = await rest.binance_depth("BTCUSDT")
    assert body == b'{"lastUpdateId":1}'
    assert seen[1] - seen[0] >= 7 and seen[2] - seen[1] >= 30
    stats = state.statistics()
    assert (stats.rate_limited, stats.rest_errors, stats.snapshot_requests) == (2, 2, 1)
    assert limiter.used == 3 * depth_weight(1000)


async def test_other_failures_are_retried_with_a_doubling_delay(
    autojump_clock: trio.abc.Clock,
) -> None:
    seen: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(trio.current_time())
        return httpx.Response(404 if len(seen) < 4 else 200, content=b"{}")

    state = SessionState()
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rest = Rest(client, "http://127.0.0.1:1", WeightLimiter(), state, retry_ns=S)
        await rest.get("/products/BTC-USD", {}, 1)
    gaps = [round(b - a) for a, b in itertools.pairwise(seen)]
    assert gaps == [1, 2, 4] and state.statistics().rest_errors == 3


async def test_the_venues_used_weight_header_is_spent_here_too(
    autojump_clock: trio.abc.Clock,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"X-MBX-USED-WEIGHT-1M": "5990"}, content=b"{}")

    limiter = WeightLimiter()
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rest = Rest(client, "http://127.0.0.1:1", limiter, SessionState(), retry_ns=S)
        await rest.get("/api/v3/depth", {}, 5)
        start = trio.current_time()
        await rest.get("/api/v3/depth", {}, 50)
    assert trio.current_time() - start >= 59  # the budget was spent elsewhere on this IP


# -- reference data ---------------------------------------------------------------------


def ref(**kw: int | None) -> Reference:
    values: dict[str, int | None] = {
        "tick": 10**7,
        "lot": 10**3,
        "min_size": 10**4,
        "min_notional": 5 * 10**9,
    }
    values.update(kw)
    return Reference("binance", "BTCUSDT", "BTC-USDT", **values)  # type: ignore[arg-type]


def test_check_order_gives_the_venues_reason_or_none() -> None:
    r = ref()
    assert check_order(r, 100 * 10**9, 10**8) is None
    assert check_order(r, 100_005_000_000, 10**8) == Refusal(
        INVALID_PRICE, "binance BTCUSDT: price 100.005 is not a multiple of the tick 0.01"
    )
    assert check_order(r, 100 * 10**9, 10**8 + 1) == Refusal(
        INVALID_SIZE, "binance BTCUSDT: size 1.00000001 is not a multiple of the lot 0.00001"
    )
    assert check_order(r, 100 * 10**9, 10**3) == Refusal(
        INVALID_SIZE, "binance BTCUSDT: size 0.00001 is below the minimum 0.0001"
    )
    assert check_order(r, 100 * 10**9, 4 * 10**6) == Refusal(
        INVALID_SIZE, "binance BTCUSDT: notional 4 is below the minimum 5"
    )
    assert check_order(r, 125 * 10**9, 4 * 10**6) is None  # exactly 5
    assert check_order(ref(min_notional=None), 10**7, 10**4) is None
    assert check_order(r, 0, 10**8) == Refusal(
        INVALID_PRICE, "binance BTCUSDT: price must be positive"
    )
    assert check_order(r, 10**11, 0) == Refusal(
        INVALID_SIZE, "binance BTCUSDT: size must be positive"
    )


def test_a_market_order_is_checked_for_its_size_alone() -> None:
    r = ref()
    assert check_order(r, None, 4 * 10**6) is None  # its notional is the venue's call
    assert check_order(r, None, 10**3) == Refusal(
        INVALID_SIZE, "binance BTCUSDT: size 0.00001 is below the minimum 0.0001"
    )


def test_check_order_s_notional_is_exact_beyond_an_int64() -> None:
    r = ref(tick=1, lot=1, min_size=1, min_notional=2**62)  # price x size near 2**124
    assert check_order(r, 2**62, 10**8) is None  # exactly the minimum
    assert check_order(r, 2**62, 10**8 - 1) == Refusal(
        INVALID_SIZE,
        "binance BTCUSDT: notional 4611685972.310527719 is below the minimum 4611686018.427387904",
    )
    assert check_order(r, 2**63 - 1, 2**63 - 1) is None
    with pytest.raises(OverflowError):  # prices and sizes are the contract's int64s
        check_order(r, 2**63, 1)


def test_binance_exchange_info_filters_become_references_exactly() -> None:
    body = orjson.dumps(
        {
            "symbols": [
                {
                    "symbol": "BTCUSDT",
                    "filters": [
                        {"filterType": "PRICE_FILTER", "tickSize": "0.01000000"},
                        {"filterType": "LOT_SIZE", "minQty": "0.00001000", "stepSize": "0.00001"},
                        {"filterType": "MIN_NOTIONAL", "minNotional": "10.00000000"},
                    ],
                },
                {
                    "symbol": "ETHBTC",
                    "filters": [
                        {"filterType": "PRICE_FILTER", "tickSize": "0.00000000"},
                        {"filterType": "LOT_SIZE", "minQty": "0.0001", "stepSize": "0.0001"},
                    ],
                },
                {"symbol": "NOTOURS", "filters": []},
            ]
        }
    )
    refs = binance_references(body, {"BTC-USDT": "BTCUSDT", "ETH-BTC": "ETHBTC"})
    assert refs["BTC-USDT"] == Reference(
        "binance", "BTCUSDT", "BTC-USDT", 10**7, 10**3, 10**3, 10 * 10**9
    )
    assert refs["ETH-BTC"] == Reference("binance", "ETHBTC", "ETH-BTC", 1, 10**4, 10**4, None)
    with pytest.raises(Bad, match="tickSize"):
        binance_references(
            b'{"symbols":[{"symbol":"BTCUSDT","filters":[{"filterType":"PRICE_FILTER",'
            b'"tickSize":"0.0000000001"},{"filterType":"LOT_SIZE","minQty":"1","stepSize":"1"}]}]}',
            {"BTC-USDT": "BTCUSDT"},
        )


def test_coinbase_products_become_references() -> None:
    exchange = (
        b'{"id":"BTC-USD","quote_increment":"0.01","base_increment":"0.00000001",'
        b'"min_market_funds":"1"}'
    )
    assert coinbase_reference(exchange, "coinbase", "BTC-USD") == Reference(
        "coinbase", "BTC-USD", "BTC-USD", 10**7, 1, 1, 10**9
    )
    advanced = (
        b'{"product_id":"BTC-USD","price_increment":"0.01","base_increment":"0.00000001",'
        b'"base_min_size":"0.00001","quote_min_size":"1"}'
    )
    assert coinbase_reference(advanced, "coinbase-advanced", "BTC-USD") == Reference(
        "coinbase-advanced", "BTC-USD", "BTC-USD", 10**7, 1, 10**3, 10**9
    )


def test_kraken_instruments_become_references() -> None:
    instrument = Instrument("BTC/USD", 10**8, 1, 5 * 10**3, 1, 8, 5 * 10**8, "online")
    assert kraken_reference(instrument, "BTC-USD") == Reference(
        "kraken", "BTC/USD", "BTC-USD", 10**8, 1, 5 * 10**3, 5 * 10**8
    )


# -- the recording format ---------------------------------------------------------------


def test_a_snapshot_frame_keeps_the_body_text_and_parses_back() -> None:
    body = b'{"lastUpdateId":5,"bids":[["100.10","1.0"]],"asks":[]}'
    frame = snapshot_frame("BTCUSDT", body)
    assert orjson.loads(frame)["body"]["bids"] == [["100.10", "1.0"]]
    assert parse_snapshot(frame) == ("BTCUSDT", body.decode())
    assert parse_snapshot('{"e":"depthUpdate"}') is None


def test_a_plain_capture_file_has_the_header_and_one_line_per_frame(tmp_path: Path) -> None:
    path = tmp_path / "x.capture"
    header = header_line("binance", "wss://x", {"BTC-USDT": "BTCUSDT"}, 10, 17)
    with CaptureWriter(path, header) as writer:
        writer.write(5, '{"a":1}')
        writer.write(6, "broken\r")
        writer.write(7, '{"b":2}')
    assert path.read_text().splitlines() == [header.rstrip("\n"), '5 {"a":1}', '7 {"b":2}']
    assert orjson.loads(header.split(" ", 2)[2]) == {
        "exchange": "binance",
        "url": "wss://x",
        "symbols": {"BTC-USDT": "BTCUSDT"},
        "depth": 10,
        "started_ns": 17,
    }
    assert (writer.written, writer.refused) == (2, 1)
