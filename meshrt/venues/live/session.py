"""A live websocket session: one connection to one exchange URL for a venue's symbols,
kept alive, its frames read by the exchange's adapter and handed on in arrival order
(docs/live.md, "Connections").

``run_session`` connects, subscribes, stamps each frame with ``clock()`` the moment the
receive returns and sends ``Received(ts, outputs)``; ``Connected``/``Disconnected`` frame
each connection; each instrument's ``Reference``, from the adapter (Kraken's
``instrument`` channel) or the session's REST call (Binance, Coinbase), goes out the same
way, so the venue checks paper orders against it. A connection silent for
``stale_after_ns`` is closed; every end is
followed by a reconnect after a jittered exponential backoff, with a fresh adapter (every
symbol comes up with its next snapshot). A ``Resync`` re-snapshots only its symbol. A
full ``send`` channel blocks the reader: nothing is dropped or conflated, and the time
spent blocked is counted.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import NoReturn

import httpx
import trio
import trio_websocket
from trio_websocket import ConnectionClosed, HandshakeError, WebSocketConnection

from meshrt.venues.live import protocols
from meshrt.venues.live.adapters import Adapter, adapter_for, exchange_symbols
from meshrt.venues.live.backoff import Backoff
from meshrt.venues.live.binance import BinanceSpot
from meshrt.venues.live.protocols import CoinbaseCredentials
from meshrt.venues.live.ratelimit import WeightLimiter
from meshrt.venues.live.recorder import snapshot_frame
from meshrt.venues.live.refdata import Reference
from meshrt.venues.live.rest import Rest, limiter_for
from meshrt.venues.live.stats import SessionState
from meshrt.venues.live.verdicts import (
    Connected,
    Disconnected,
    Feed,
    FrameError,
    NeedSnapshot,
    Output,
    Received,
    ReceivedSink,
    Resync,
)
from meshrt.venues.specs import LiveSpec

MAX_FRAME_BYTES = 1 << 24  # Kraken's instrument snapshot lists every pair
DISCONNECT_TIMEOUT_S = 1.0  # the closing handshake, after which the socket is dropped
# a received frame and the session's own REST answers, for a recorder: (receive ns, text)
Tap = Callable[[int, str], None]

_CONNECTION_FIELDS = (
    "exchange",
    "url",
    "rest_url",
    "depth",
    "stale_after_ns",
    "reconnect_min_ns",
    "reconnect_max_ns",
    "crossed_grace_ns",
)


async def run_session(
    specs: Sequence[LiveSpec],
    send: ReceivedSink,
    clock: Callable[[], int],
    *,
    rng: random.Random,
    state: SessionState | None = None,
    credentials: CoinbaseCredentials | None = None,
    limiter: WeightLimiter | None = None,
    tap: Tap | None = None,
) -> NoReturn:
    """Run one connection for ``specs`` (one exchange and URL, one symbol each) until
    cancelled, sending what arrives to ``send`` in arrival order.

    ``clock`` gives receive times (ns; paper mode's anchored monotonic clock). ``rng``
    draws the reconnect jitter. ``state`` (read ``state.statistics()`` and
    ``state.references()`` at any time) counts what happened. ``credentials`` make
    Coinbase subscribe to the signed ``level2``. ``limiter`` paces REST calls (share one
    between sessions on one IP). ``tap`` sees every raw frame and REST snapshot body.
    """
    session = _Session(specs, send, clock, rng, state or SessionState(), credentials, tap)
    await session.run(limiter or limiter_for(session.exchange))


def _check(specs: Sequence[LiveSpec]) -> LiveSpec:
    if not specs:
        raise ValueError("run_session needs at least one LiveSpec")
    first = specs[0]
    for spec in specs[1:]:
        for name in _CONNECTION_FIELDS:
            if getattr(spec, name) != getattr(first, name):
                raise ValueError(
                    f"one session is one connection: {spec.symbol!r} has {name} "
                    f"{getattr(spec, name)!r}, {first.symbol!r} has {getattr(first, name)!r}"
                )
    symbols = [s.symbol for s in specs]
    if len(set(symbols)) != len(symbols):
        raise ValueError(f"a symbol is named twice: {symbols}")
    return first


class _Connection:
    """One connection's adapter, socket and liveness."""

    def __init__(self, adapter: Adapter, scope: trio.CancelScope) -> None:
        self.adapter = adapter
        self.scope = scope
        self.ws: WebSocketConnection | None = None
        self.nursery: trio.Nursery | None = None
        self.last = trio.current_time()  # the latest frame (or the end of a blocked send)
        self.why: str | None = None
        self.fetching: set[str] = set()  # Binance symbols with a snapshot request out

    def end(self, why: str) -> None:
        if self.why is None:
            self.why = why
        self.scope.cancel()


class _Session:
    def __init__(
        self,
        specs: Sequence[LiveSpec],
        send: ReceivedSink,
        clock: Callable[[], int],
        rng: random.Random,
        state: SessionState,
        credentials: CoinbaseCredentials | None,
        tap: Tap | None,
    ) -> None:
        first = _check(specs)
        self.exchange = first.exchange
        self.symbols = exchange_symbols(specs)  # scenario -> exchange symbol
        self.url = first.url or protocols.WS_URLS[self.exchange]
        self.rest_url = protocols.rest_url(self.exchange, first.url, first.rest_url)
        self.depth = first.depth
        self.crossed_grace_ns = first.crossed_grace_ns
        self.stale_s = first.stale_after_ns / 1e9
        self.retry_ns = first.reconnect_min_ns
        self.backoff = Backoff(first.reconnect_min_ns, first.reconnect_max_ns, rng)
        self.send = send
        self.clock = clock
        self.state = state
        self.credentials = credentials
        self.tap = tap
        self.sending = 0  # tasks waiting on a full channel
        self.rest: Rest | None = None

    # -- the connection loop -------------------------------------------------------------

    async def run(self, limiter: WeightLimiter) -> NoReturn:
        state = self.state
        async with httpx.AsyncClient(timeout=10.0) as client, trio.open_nursery() as nursery:
            if self.rest_url is not None:
                self.rest = Rest(client, self.rest_url, limiter, state, self.retry_ns)
                nursery.start_soon(self._references, self.rest)
            attempt = 0
            while True:
                attempt += 1
                state.reconnects += attempt > 1
                why = await self._connection(attempt)
                delay = self.backoff.next_ns()
                state.reconnect_delay_ns += delay
                state.max_reconnect_delay_ns = max(state.max_reconnect_delay_ns, delay)
                await self._emit(Received(self.clock(), (Disconnected(self.exchange, why, delay),)))
                await trio.sleep(delay / 1e9)

    async def _connection(self, attempt: int) -> str:
        """Open, subscribe and read one connection; why it ended."""
        state = self.state
        frames = state.frames
        adapter = adapter_for(
            self.exchange, self.symbols, depth=self.depth, crossed_grace_ns=self.crossed_grace_ns
        )
        with trio.CancelScope() as scope:
            conn = _Connection(adapter, scope)
            try:
                async with trio_websocket.open_websocket_url(
                    self.url,
                    max_message_size=MAX_FRAME_BYTES,
                    connect_timeout=self.stale_s,
                    disconnect_timeout=DISCONNECT_TIMEOUT_S,
                ) as ws:
                    conn.ws = ws
                    for message in self._messages("subscribe", list(self.symbols.values())):
                        await ws.send_message(message)
                    state.connects += 1
                    await self._emit(Received(self.clock(), (Connected(self.exchange, attempt),)))
                    conn.last = trio.current_time()
                    async with trio.open_nursery() as nursery:
                        conn.nursery = nursery
                        nursery.start_soon(self._watch, conn)
                        nursery.start_soon(self._ping, conn, ws)
                        await self._read(conn, ws)
            except HandshakeError as e:
                conn.why = f"connect failed: {_cause(e)}"
            except ConnectionClosed as e:
                conn.why = f"closed by peer: {_reason(e)}"
            except (OSError, trio.BrokenResourceError) as e:
                conn.why = f"connection failed: {_cause(e)}"
        if conn.ws is None:
            state.connect_failures += 1
        else:
            state.disconnects += 1
        if state.frames > frames:  # the connection worked: start the doubling over
            self.backoff.reset()
        return conn.why or "ended"

    def _messages(self, kind: str, exchange_symbols: list[str]) -> list[str]:
        """``subscribe`` or ``resubscribe`` messages (a fresh signature time for Coinbase)."""
        make = protocols.subscribe if kind == "subscribe" else protocols.resubscribe
        return make(
            self.exchange,
            exchange_symbols,
            depth=self.depth,
            credentials=self.credentials,
            timestamp=str(int(time.time())),
        )

    async def _read(self, conn: _Connection, ws: WebSocketConnection) -> None:
        state = self.state
        clock = self.clock
        tap = self.tap
        on_frame = conn.adapter.on_frame
        send_nowait = self.send.send_nowait
        try:
            while True:
                message = await ws.get_message()
                ts = clock()
                conn.last = trio.current_time()
                state.frames += 1
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                if tap is not None:
                    tap(ts, text)
                outputs = on_frame(text, ts)
                if not outputs:
                    pass
                elif len(outputs) == 1 and type(outputs[0]) is Feed:  # the common frame
                    item = Received(ts, (outputs[0],))
                    state.forwarded += 1
                    try:
                        send_nowait(item)
                    except trio.WouldBlock:
                        await self._blocked(item)
                else:
                    await self._handle(conn, ts, outputs)
        except ConnectionClosed as e:
            conn.end(f"closed by peer: {_reason(e)}")

    async def _watch(self, conn: _Connection) -> None:
        """Ends the connection when no frame came for ``stale_after_ns`` (time blocked on
        a full channel is not silence)."""
        state = self.state
        while True:
            deadline = conn.last + self.stale_s
            if trio.current_time() >= deadline and not self.sending:
                state.stale += 1
                conn.end(f"stale: no message in {self.stale_s:g} s")
                return
            await trio.sleep_until(max(deadline, trio.current_time() + self.stale_s / 10))

    async def _ping(self, conn: _Connection, ws: WebSocketConnection) -> None:
        """Keeps the connection (and any NAT on the way) alive; the pong is not awaited
        past the next ping (the stale watch ends a dead connection)."""
        try:
            while True:
                await trio.sleep(self.stale_s / 2)
                with trio.move_on_after(self.stale_s / 2):
                    await ws.ping()
        except (ConnectionClosed, trio.BrokenResourceError, OSError):
            return  # the reader sees the end too, and says why

    # -- outputs ----------------------------------------------------------------------

    async def _handle(self, conn: _Connection, ts: int, outputs: list[Output]) -> None:
        """Send a frame's (or a snapshot's) outputs; act on snapshot requests and
        resyncs, and keep references for ``state.references()``."""
        state = self.state
        resynced: list[str] = []
        items: list[Output] = []
        for output in outputs:
            kind = type(output)
            if kind is Feed:
                items.append(output)
            elif kind is NeedSnapshot:
                self._fetch(conn, output.exchange_symbol)  # type: ignore[union-attr]
            elif kind is Resync:
                why = output.why  # type: ignore[union-attr]
                state.resyncs[why] = state.resyncs.get(why, 0) + 1
                resynced.append(output.exchange_symbol)  # type: ignore[union-attr]
                items.append(output)
            elif isinstance(output, Reference):
                state.reference[output.symbol] = output
                items.append(output)
            else:
                state.frame_errors += kind is FrameError
                items.append(output)
        if items:
            await self._emit(Received(ts, tuple(items)))  # type: ignore[arg-type]
        ws = conn.ws
        if resynced and ws is not None:
            for message in self._messages("resubscribe", resynced):
                await ws.send_message(message)

    async def _emit(self, item: Received) -> None:
        """Hand one item on; a full channel blocks (never drops), measured."""
        self.state.forwarded += 1
        try:
            self.send.send_nowait(item)
        except trio.WouldBlock:
            await self._blocked(item)

    async def _blocked(self, item: Received) -> None:
        """Wait for room on the channel, in order behind any other waiting item."""
        state = self.state
        clock = self.clock
        start = clock()
        self.sending += 1
        try:
            await self.send.send(item)
        finally:
            self.sending -= 1
        end = clock()
        state.blocked_sends += 1
        state.blocked_ns += end - start
        state.max_lag_ns = max(state.max_lag_ns, end - item.ts_ns)

    # -- REST ------------------------------------------------------------------------------

    def _fetch(self, conn: _Connection, exchange_symbol: str) -> None:
        """Ask a REST depth snapshot once at a time per symbol; the adapter asks again if
        the answer cannot bridge."""
        if exchange_symbol in conn.fetching or conn.nursery is None:
            return
        conn.fetching.add(exchange_symbol)
        conn.nursery.start_soon(self._snapshot, conn, exchange_symbol)

    async def _snapshot(self, conn: _Connection, exchange_symbol: str) -> None:
        assert self.rest is not None and isinstance(conn.adapter, BinanceSpot)
        body = await self.rest.binance_depth(exchange_symbol)
        ts = self.clock()
        conn.fetching.discard(exchange_symbol)
        if self.tap is not None:
            self.tap(ts, snapshot_frame(exchange_symbol, body))
        outputs = conn.adapter.snapshot(exchange_symbol, body, ts)
        if outputs:
            await self._handle(conn, ts, outputs)

    async def _references(self, rest: Rest) -> None:
        """The REST reference data, handed on as one item when it arrives."""
        refs = await rest.references(self.exchange, self.symbols, self._reference_error)
        if refs:
            self.state.reference.update(refs)
            await self._emit(Received(self.clock(), tuple(refs.values())))

    def _reference_error(self, reason: str) -> None:
        self.state.frame_errors += 1


def _reason(error: ConnectionClosed) -> str:
    reason = error.reason
    if reason is None:
        return "no close reason"
    return f"{reason.code} {reason.name}" + (f" {reason.reason}" if reason.reason else "")


def _cause(error: BaseException) -> str:
    cause = error.__cause__ or error
    return f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
