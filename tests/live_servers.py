"""Scripted exchanges on 127.0.0.1 for the live session tests: a websocket server whose
connections each run a script, and a tiny h11 REST server (no internet, nothing shared)."""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import h11
import orjson
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, WebSocketRequest, serve_websocket


class Peer:
    """One accepted connection: the socket and what the client sent on it."""

    def __init__(self, ws: WebSocketConnection, index: int) -> None:
        self.ws = ws
        self.index = index
        self.received: list[Any] = []
        self._changed = trio.Event()

    async def send(self, message: Any) -> None:
        await self.ws.send_message(message if isinstance(message, str) else json(message))

    async def got(self, count: int) -> None:
        """Wait until the client sent ``count`` messages on this connection."""
        while len(self.received) < count:
            await self._changed.wait()

    async def _collect(self, scope: trio.CancelScope) -> None:
        try:
            while True:
                self.received.append(orjson.loads(await self.ws.get_message()))
                self._changed.set()
                self._changed = trio.Event()
        except ConnectionClosed:
            scope.cancel()


Script = Callable[[Peer], Awaitable[None]]


class FakeExchange:
    """Each connection runs ``script(peer)``; returning from it closes the connection."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.peers: list[Peer] = []
        self.connected = trio.Event()

    async def start(self, nursery: trio.Nursery) -> str:
        server = await nursery.start(serve_websocket, self._handler, "127.0.0.1", 0, None)
        return f"ws://127.0.0.1:{server.port}"

    async def _handler(self, request: WebSocketRequest) -> None:
        ws = await request.accept()
        peer = Peer(ws, len(self.peers))
        self.peers.append(peer)
        self.connected.set()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(peer._collect, nursery.cancel_scope)
            with contextlib.suppress(ConnectionClosed):
                await self.script(peer)
            nursery.cancel_scope.cancel()


Respond = Callable[[str], tuple[int, dict[str, str], bytes]]


class RestServer:
    """HTTP/1.1 on 127.0.0.1 (h11): ``respond(target)`` gives status, headers, body."""

    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.targets: list[str] = []

    async def start(self, nursery: trio.Nursery) -> str:
        listeners = await nursery.start(trio.serve_tcp, self._handler, 0)
        port = listeners[0].socket.getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _handler(self, stream: trio.SocketStream) -> None:
        conn = h11.Connection(h11.SERVER)
        target = ""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await stream.receive_some(65536)
                if not data:
                    return
                conn.receive_data(data)
            elif isinstance(event, h11.Request):
                target = event.target.decode()
            elif isinstance(event, h11.EndOfMessage):
                self.targets.append(target)
                status, headers, body = self.respond(target)
                fields = [("content-length", str(len(body))), *headers.items()]
                await stream.send_all(conn.send(h11.Response(status_code=status, headers=fields)))
                await stream.send_all(conn.send(h11.Data(data=body)))
                await stream.send_all(conn.send(h11.EndOfMessage()))
                conn.start_next_cycle()
            elif isinstance(event, h11.ConnectionClosed):
                return


def json(value: Any) -> str:
    return orjson.dumps(value).decode()


# -- Kraken v2 book frames with true checksums ------------------------------------------


def _digits(text: str) -> str:
    return text.replace(".", "").lstrip("0")


class KrakenBookScript:
    """A pair's book as wire text, so frames carry the checksum Kraken would send."""

    def __init__(self, pair: str) -> None:
        self.pair = pair
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}

    def checksum(self) -> int:
        asks = sorted(self.asks.items(), key=lambda kv: float(kv[0]))[:10]
        bids = sorted(self.bids.items(), key=lambda kv: -float(kv[0]))[:10]
        text = "".join(_digits(p) + _digits(q) for p, q in asks + bids)
        return zlib.crc32(text.encode())

    def frame(
        self,
        kind: str,
        bids: list[tuple[str, str]],
        asks: list[tuple[str, str]],
        *,
        corrupt: bool = False,
    ) -> str:
        if kind == "snapshot":
            self.bids, self.asks = {}, {}
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for price, qty in levels:
                if float(qty) == 0:
                    side.pop(price, None)
                else:
                    side[price] = qty
        checksum = self.checksum() ^ (1 if corrupt else 0)
        entry = {
            "symbol": self.pair,
            "bids": [{"price": p, "qty": q} for p, q in bids],
            "asks": [{"price": p, "qty": q} for p, q in asks],
            "checksum": checksum,
        }
        return json({"channel": "book", "type": kind, "data": [entry]})
