"""The local exchange: one ASGI app served by hypercorn on Trio, every venue's websocket
path and REST endpoints on one port (docs/live.md, "venue-sim (the local exchange)").

Each connection replays its venue's tape from the start once it subscribes, sending the
frames of the (symbol, channel) pairs it subscribed, at recorded pace x ``speed``
(``None``: as fast as the client reads), with the faults that apply to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from meshrt.venuesim.binance import stream_keys
from meshrt.venuesim.faults import Fault, Kind
from meshrt.venuesim.protocol import Key, Session
from meshrt.venuesim.rest import Rest
from meshrt.venuesim.tape import Item, Tape, load_tapes

PATHS = {
    "kraken": "/kraken",
    "binance": "/binance/stream",
    "coinbase": "/coinbase",
    "coinbase-advanced": "/coinbase-advanced",
}
CLOSE_END, CLOSE_DROP = 1000, 1011  # the tape ended (close_at_end); a drop fault
HEARTBEAT_S = 1.0  # Kraken's: a heartbeat after a second without a frame
Send = Any  # the ASGI send callable
Receive = Any


class VenueSim:
    """The served tapes and their connections; ``url(venue)`` for a client."""

    def __init__(
        self,
        tapes: dict[str, Tape],
        faults: Sequence[Fault] = (),
        speed: float | None = None,
        close_at_end: bool = False,
    ) -> None:
        self.tapes = tapes
        self.faults = tuple(faults)
        self.speed = speed
        self.close_at_end = close_at_end
        self.host, self.port = "127.0.0.1", 0
        self.connections = dict.fromkeys(tapes, 0)  # venue -> connections so far
        self.rest = Rest(tapes, trio.current_time)

    def url(self, venue: str) -> str:
        """The websocket url of ``venue`` (Binance: the combined-stream path; add
        ``?streams=...`` or send SUBSCRIBE)."""
        if venue not in self.tapes:
            raise KeyError(f"venue-sim serves no {venue!r} capture (serves {sorted(self.tapes)})")
        return f"ws://{self.host}:{self.port}{PATHS[venue]}"

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def app(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, send)
        elif scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})

    # -- websocket ------------------------------------------------------------------------

    async def _websocket(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        path: str = scope["path"]
        venue = next((v for v, p in PATHS.items() if path == p and v in self.tapes), None)
        raw = path.startswith("/binance/ws") and "binance" in self.tapes
        if raw:
            venue = "binance"
        if venue is None:
            await send({"type": "websocket.close", "code": 1008})
            return
        self.connections[venue] += 1
        faults = [f for f in self.faults if f.applies(venue, self.connections[venue])]
        refuse = any(f.kind is Kind.REFUSE for f in faults)
        keys: set[Key] = set()
        if venue == "binance":
            query = parse_qs(scope["query_string"].decode())
            streams = [s for value in query.get("streams", ()) for s in value.split("/")]
            streams += (
                [path.removeprefix("/binance/ws/")] if path.startswith("/binance/ws/") else []
            )
            if streams and refuse:
                await send({"type": "websocket.close", "code": 1008})  # handshake refused
                return
            keys |= stream_keys(streams)
        await send({"type": "websocket.accept"})
        connection = _Connection(self, venue, Session(raw=raw), faults, refuse, keys, send)
        await connection.run(receive)

    async def _http(self, scope: dict[str, Any], send: Send) -> None:
        status, headers, body = self.rest.answer(scope["path"], scope["query_string"].decode())
        headers = [(b"content-type", b"application/json"), *headers]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body.encode()})


class _Connection:
    """One client connection: its requests answered, its tape replayed with its faults."""

    def __init__(
        self,
        sim: VenueSim,
        venue: str,
        session: Session,
        faults: list[Fault],
        refuse: bool,
        keys: set[Key],
        send: Send,
    ) -> None:
        self.sim, self.venue, self.session = sim, venue, session
        self.tape = sim.tapes[venue]
        self.faults, self.refuse, self.keys = faults, refuse, keys
        self._send, self._lock = send, trio.Lock()
        self.last_sent, self.stalled = trio.current_time(), False
        self.closed = False
        self.position = 0  # the tape items the replay is past (sent, skipped, or not asked)
        self.subscribed = trio.Event()
        if keys:
            self.subscribed.set()

    async def send(self, text: str) -> None:
        async with self._lock:
            await self._send_now(text)

    async def _send_now(self, text: str) -> None:
        if self.closed:
            return  # a request answered after the sim closed: the client is gone
        await self._send({"type": "websocket.send", "text": text})
        self.last_sent = trio.current_time()

    async def _send_item(self, index: int, key: Key, wire: Callable[[], str]) -> None:
        """Tape item ``index``, written by ``wire`` under the lock (a connection's
        sequence numbers go out in order), unless its key was unsubscribed while it
        waited; a snapshot built before it excludes it, one built after includes it."""
        async with self._lock:
            self.position = index + 1
            if key in self.keys:
                await self._send_now(wire())

    async def _subscribe(self, key: Key) -> None:
        """A subscription to ``key`` (the lock held): once the replay is past frames of
        it, the book they build is sent first (a resubscribe's fresh snapshot), then its
        live frames."""
        frames = [i.text for i in self.tape.items[: self.position] if _key(i) == key]
        snapshot = self.tape.protocol.snapshot(key, frames) if frames else None
        self.keys.add(key)  # before the send yields: the replay's next frame follows it
        if snapshot is not None:
            await self._send_now(self.tape.protocol.outgoing(snapshot, self.session))

    async def close(self, code: int) -> None:
        async with self._lock:
            self.closed = True
            await self._send({"type": "websocket.close", "code": code})

    async def run(self, receive: Receive) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._replay, nursery.cancel_scope)
            nursery.start_soon(self._heartbeats)
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    nursery.cancel_scope.cancel()
                    return
                await self._request(message.get("text") or (message.get("bytes") or b"").decode())

    async def _request(self, text: str) -> None:
        """Answered under the lock: its replies, snapshots and the replay's frames go out
        in the order they were numbered and built."""
        async with self._lock:
            try:
                reply = self.tape.protocol.request(text, self.session, refuse=self.refuse)
            except (ValueError, TypeError, AttributeError):
                return  # not a message of this protocol: the exchange ignores it
            for frame in reply.frames:
                await self._send_now(frame)
            self.keys -= reply.dropped
            for key in sorted(reply.keys):
                await self._subscribe(key)
        if reply.keys:
            self.subscribed.set()

    async def _replay(self, cancel: trio.CancelScope) -> None:
        await self.subscribed.wait()
        protocol, session, speed = self.tape.protocol, self.session, self.sim.speed
        pending: dict[Kind, Fault] = {f.kind: f for f in self.faults if f.kind is not Kind.REFUSE}
        start, n = trio.current_time(), 0
        for index, item in enumerate(self.tape.items):
            key = _key(item)
            if speed is not None:  # paced even when not asked: a resubscribe finds its time
                await trio.sleep_until(start + item.at_ns / 1e9 / speed)
            if key not in self.keys:
                self.position = index + 1
                continue
            n += 1
            stall = pending.get(Kind.STALL)
            if stall is not None and n >= stall.at:
                del pending[Kind.STALL]
                self.stalled = True
                await trio.sleep(stall.arg)
                self.stalled = False
                start += stall.arg
            protocol.passed(item.text)
            text: str | None = item.text
            gap = pending.get(Kind.GAP)
            if gap is not None and n >= gap.at and item.tag.sequenced:
                del pending[Kind.GAP]
                text = item.text if protocol.skip_sequence(session) else None
            if text is None:
                self.position = index + 1
                continue
            history = partial(self._history, index)
            await self._send_item(index, key, partial(self._wire, text, n, pending, history))
            drop = pending.get(Kind.DROP)
            if drop is not None and n >= drop.at:
                await self.close(CLOSE_DROP)
                cancel.cancel()
                return
        if self.sim.close_at_end:
            await self.close(CLOSE_END)
            cancel.cancel()

    async def _heartbeats(self) -> None:
        """The venue's heartbeat after HEARTBEAT_S without a frame (none while stalled)."""
        await self.subscribed.wait()
        while (beat := self.tape.protocol.heartbeat(self.session)) is not None:
            if self.stalled:
                await trio.sleep(HEARTBEAT_S)
            elif trio.current_time() >= self.last_sent + HEARTBEAT_S:
                await self.send(beat)
            else:
                await trio.sleep_until(self.last_sent + HEARTBEAT_S)

    def _history(self, index: int) -> list[str]:
        """The tape frames before ``index`` of the same symbol and channel."""
        same = _key(self.tape.items[index])
        return [i.text for i in self.tape.items[:index] if _key(i) == same]

    def _wire(
        self, text: str, n: int, pending: dict[Kind, Fault], history: Callable[[], list[str]]
    ) -> str:
        """Tape frame ``n`` as this connection is sent it, with the faults due."""
        checksum = pending.get(Kind.CHECKSUM)
        if checksum is not None and n >= checksum.at:
            corrupted = self.tape.protocol.corrupt_checksum(text, history)
            if corrupted is not None:
                del pending[Kind.CHECKSUM]
                text = corrupted
        text = self.tape.protocol.outgoing(text, self.session)
        malformed = pending.get(Kind.MALFORMED)
        if malformed is not None and n >= malformed.at:
            del pending[Kind.MALFORMED]
            text = text[: len(text) // 2]
        oversized = pending.get(Kind.OVERSIZED)
        if oversized is not None and n >= oversized.at:
            del pending[Kind.OVERSIZED]
            text += " " * max(0, int(oversized.arg) - len(text.encode()))
        return text


def _key(item: Item) -> Key:
    return item.tag.symbol, item.tag.channel


@asynccontextmanager
async def venue_sim(
    captures: Iterable[Path | str],
    *,
    faults: Sequence[Fault] = (),
    port: int = 0,
    speed: float | None = None,
    close_at_end: bool = False,
) -> AsyncIterator[VenueSim]:
    """Serve ``captures`` on 127.0.0.1:``port`` (0: any free port) while the block runs.
    ``speed`` None replays as fast as the client reads; 1.0 at the recorded pace."""
    sim = VenueSim(load_tapes(captures), faults, speed, close_at_end)
    config = Config()
    config.bind = [f"{sim.host}:{port}"]
    config.graceful_timeout = 0.0
    config.loglevel = "WARNING"
    config.websocket_ping_interval = None
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(partial(serve, sim.app, config, mode="asgi"))  # type: ignore[arg-type]
        sim.port = int(binds[0].rpartition(":")[2])
        try:
            yield sim
        finally:
            nursery.cancel_scope.cancel()
