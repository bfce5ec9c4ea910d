"""A session's REST calls over httpx (which runs on Trio): Binance depth snapshots and
reference data, Coinbase products, each paced by its venue's published limits and
retried until answered (docs/live.md, "Connections")."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import httpx
import trio

from meshrt.venues import recorded_fields as fields
from meshrt.venues.live import ratelimit
from meshrt.venues.live.ratelimit import WeightLimiter
from meshrt.venues.live.refdata import Reference, binance_references, coinbase_reference
from meshrt.venues.live.stats import SessionState

MAX_RETRY_S = 60.0
DEPTH_LIMIT = 1000  # levels per side in a Binance snapshot (weight 50)
# Coinbase public REST: 10 requests a second per IP
COINBASE_PACE = (10, 1_000_000_000)
PRODUCT_PATHS = {
    "coinbase": "/products/{}",
    "coinbase-advanced": "/api/v3/brokerage/market/products/{}",
}
_NO_PARAMS: Mapping[str, str | int] = {}


def limiter_for(exchange: str) -> WeightLimiter:
    """The pacing of ``exchange``'s REST API (weights per window)."""
    if exchange == "binance":
        return WeightLimiter()
    budget, window = COINBASE_PACE
    return WeightLimiter(budget=budget, window_ns=window)


class Rest:
    """GETs that return a 200 body, waiting out the venue's limits and failures."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base: str,
        limiter: WeightLimiter,
        state: SessionState,
        retry_ns: int,
    ) -> None:
        self.client = client
        self.base = base.rstrip("/")
        self.limiter = limiter
        self.state = state
        self.retry_s = retry_ns / 1e9

    async def get(self, path: str, params: Mapping[str, str | int], weight: int) -> bytes:
        """The body of ``GET base+path?params``; a 429/418 pauses every request of the
        limiter for its ``Retry-After``, any other failure is retried after ``retry_ns``,
        doubling up to ``MAX_RETRY_S`` (an endpoint a local exchange lacks stays quiet)."""
        state = self.state
        limiter = self.limiter
        retry_s = self.retry_s
        while True:
            await limiter.acquire(weight)
            try:
                response = await self.client.get(self.base + path, params=params)
            except httpx.HTTPError:
                state.rest_errors += 1
                await trio.sleep(retry_s)
                retry_s = min(retry_s * 2, MAX_RETRY_S)
                continue
            used = response.headers.get("x-mbx-used-weight-1m", "")
            now = int(trio.current_time() * 1e9)
            if used.isdigit() and int(used) > limiter.used:  # the venue counts more
                limiter.take(int(used) - limiter.used, now)
            if response.status_code == 200:
                return response.content
            state.rest_errors += 1
            if response.status_code in (429, 418):
                state.rate_limited += 1
                header = response.headers.get("retry-after")
                limiter.pause(now + ratelimit.retry_after_ns(header, int(self.retry_s * 1e9)))
            else:
                await trio.sleep(retry_s)
                retry_s = min(retry_s * 2, MAX_RETRY_S)

    async def binance_depth(self, exchange_symbol: str) -> bytes:
        state = self.state
        state.snapshot_requests += 1
        params: dict[str, str | int] = {"symbol": exchange_symbol, "limit": DEPTH_LIMIT}
        return await self.get("/api/v3/depth", params, ratelimit.depth_weight(DEPTH_LIMIT))

    async def references(
        self, exchange: str, symbols: Mapping[str, str], on_error: Callable[[str], None]
    ) -> dict[str, Reference]:
        """Scenario symbol -> the venue's order rules for ``symbols`` (scenario ->
        exchange symbol); a body that cannot be read is reported and asked again."""
        while True:
            try:
                if exchange == "binance":
                    names = json.dumps(list(symbols.values()), separators=(",", ":"))
                    body = await self.get(
                        "/api/v3/exchangeInfo", {"symbols": names}, ratelimit.EXCHANGE_INFO_WEIGHT
                    )
                    return binance_references(body, symbols)
                path = PRODUCT_PATHS[exchange]
                out = {}
                for symbol, name in symbols.items():
                    body = await self.get(path.format(name), _NO_PARAMS, 1)
                    out[symbol] = coinbase_reference(body, exchange, symbol)
                return out
            except fields.Bad as e:
                on_error(f"{exchange} reference data: {e.field}: {e.reason}")
            except (ValueError, LookupError, TypeError) as e:  # not the JSON documented
                on_error(f"{exchange} reference data: {type(e).__name__}: {e}")
            await trio.sleep(self.retry_s)
