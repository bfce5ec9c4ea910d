"""The REST endpoints on the sim's port: Binance ``/api/v3/depth`` and
``/api/v3/exchangeInfo`` with Binance's published request weights (the
``x-mbx-used-weight-1m`` header, 429 past the minute's limit), Coinbase ``/products/<id>``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from urllib.parse import parse_qs

from meshrt.venuesim.binance import DEFAULT_LIMIT, MAX_LIMIT, Binance
from meshrt.venuesim.coinbase import CoinbaseExchange
from meshrt.venuesim.tape import Tape

WEIGHT_LIMIT = 6000  # REQUEST_WEIGHT per minute, as exchangeInfo states it
EXCHANGE_INFO_WEIGHT = 20
Answer = tuple[int, list[tuple[bytes, bytes]], str]  # status, extra headers, body


def depth_weight(limit: int) -> int:
    """Binance's published weight of ``GET /api/v3/depth`` by ``limit``."""
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


class Rest:
    """Answers REST requests from the tapes; ``clock`` (seconds) sets the weight minute."""

    def __init__(self, tapes: Mapping[str, Tape], clock: Callable[[], float]) -> None:
        binance = tapes.get("binance")
        coinbase = tapes.get("coinbase")
        self.binance = binance.protocol if binance is not None else None
        self.coinbase = coinbase.protocol if coinbase is not None else None
        self.clock = clock
        self.minute, self.weight = -1, 0

    def answer(self, path: str, query_string: str) -> Answer:
        query = {k: v[0] for k, v in parse_qs(query_string).items()}
        if isinstance(self.binance, Binance) and path in ("/api/v3/depth", "/api/v3/exchangeInfo"):
            return self._binance(self.binance, path, query)
        if isinstance(self.coinbase, CoinbaseExchange) and path.startswith("/products/"):
            product = self.coinbase.product(path.removeprefix("/products/"))
            return (200, [], product) if product else (404, [], '{"message":"NotFound"}')
        return 404, [], json.dumps({"code": -1, "msg": f"no endpoint {path}"})

    def _binance(self, binance: Binance, path: str, query: dict[str, str]) -> Answer:
        limit = query.get("limit", str(DEFAULT_LIMIT))
        if path == "/api/v3/depth" and not (limit.isdigit() and 1 <= int(limit) <= MAX_LIMIT):
            error = {
                "code": -1100,
                "msg": f"Illegal characters found in parameter 'limit': {limit}",
            }
            return 400, [], json.dumps(error)
        cost = depth_weight(int(limit)) if path == "/api/v3/depth" else EXCHANGE_INFO_WEIGHT
        minute = int(self.clock() // 60)
        if minute != self.minute:
            self.minute, self.weight = minute, 0
        if self.weight + cost > WEIGHT_LIMIT:
            used = [(b"x-mbx-used-weight-1m", str(self.weight).encode()), (b"retry-after", b"60")]
            error = {
                "code": -1003,
                "msg": "Too much request weight used; please use WebSocket Streams",
            }
            return 429, used, json.dumps(error)
        self.weight += cost
        used = [(b"x-mbx-used-weight-1m", str(self.weight).encode())]
        if path == "/api/v3/exchangeInfo":
            asked = (
                [query["symbol"]] if "symbol" in query else json.loads(query.get("symbols", "[]"))
            )
            return 200, used, binance.exchange_info(asked or binance.symbols)
        body = binance.depth(query.get("symbol", ""), int(limit))
        if body is None:
            return 400, used, json.dumps({"code": -1121, "msg": "Invalid symbol."})
        return 200, used, body
