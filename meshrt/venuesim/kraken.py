"""Kraken Spot: WebSocket v1 (``event: subscribe``) and v2 (``method: subscribe``), the
``book`` and ``trade`` channels from the tape, and the ``instrument`` channel built from
the tape's pairs. A v2 request for ``BTC/...`` matches a v1 capture's ``XBT/...`` and is
sent its frames as v2 under the name it asked (kraken_v2.py); otherwise frames go out as
captured."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from meshrt.venuesim.kraken_book import KrakenBook, snapshot_frame
from meshrt.venuesim.kraken_corrupt import corrupt
from meshrt.venuesim.kraken_v2 import v1_to_v2
from meshrt.venuesim.protocol import (
    Key,
    Protocol,
    Reply,
    Session,
    Tag,
    increment,
    now_iso,
)

DEPTHS = (10, 25, 100, 500, 1000)


def _norm(pair: str) -> str:
    return "/".join(
        "BTC" if part == "XBT" else "DOGE" if part == "XDG" else part for part in pair.split("/")
    )


class Kraken(Protocol):
    name = "kraken"

    def __init__(self) -> None:
        super().__init__()
        self.depth: dict[str, int] = {}  # pair -> the captured book depth
        self.pairs: dict[str, str] = {}  # normalized -> captured pair name
        self.channel_ids: dict[Key, Any] = {}  # v1: (pair, channel) -> the captured channelID

    def tag(self, text: str) -> Tag | None:
        msg = json.loads(text, parse_float=str, parse_int=str)
        if isinstance(msg, list) and len(msg) >= 4 and isinstance(msg[-1], str):
            pair, name = msg[-1], str(msg[-2])
            self.pairs.setdefault(_norm(pair), pair)
            channel = "book" if name.startswith("book-") else name
            self.channel_ids.setdefault((pair, channel), int(msg[0]))
            if name.startswith("book-"):
                self.depth.setdefault(pair, int(name.partition("-")[2]))
                checksummed = any(isinstance(p, dict) and "c" in p for p in msg[1:-2])
                return Tag(pair, "book", checksummed)
            return Tag(pair, name)
        if (
            isinstance(msg, dict)
            and msg.get("channel") in ("book", "trade")
            and "method" not in msg
        ):
            data = msg.get("data") or [{}]
            pair = str(data[0].get("symbol", ""))
            self.pairs.setdefault(_norm(pair), pair)
            if msg["channel"] == "book":
                if msg.get("type") == "snapshot":
                    size = max(len(data[0].get("bids", ())), len(data[0].get("asks", ())))
                    depth = next((d for d in DEPTHS if d >= size), DEPTHS[-1])
                    self.depth.setdefault(pair, depth)
                return Tag(pair, "book", True)
            return Tag(pair, "trade")
        return None

    def levels(self, text: str) -> Iterable[tuple[str, Any, Any]]:
        msg = json.loads(text, parse_float=str, parse_int=str)
        if isinstance(msg, list) and str(msg[-2]).startswith("book-"):
            for payload in msg[1:-2]:
                for key in ("as", "bs", "a", "b"):
                    for level in payload.get(key, ()):
                        yield msg[-1], level[0], level[1]
        elif isinstance(msg, dict) and msg.get("channel") == "book":
            for entry in msg["data"]:
                for level in [*entry.get("bids", ()), *entry.get("asks", ())]:
                    yield entry["symbol"], level["price"], level["qty"]

    def corrupt_checksum(self, text: str, history: Callable[[], list[str]]) -> str | None:
        tag = self.tag(text)
        if tag is None or not tag.sequenced:
            return None
        return corrupt(text, history(), self.depth.get(tag.symbol, DEPTHS[-1]))

    def snapshot(self, key: Key, frames: list[str]) -> str | None:
        pair, channel = key
        if channel != "book" or not frames:
            return None
        book = KrakenBook.of(frames, self.depth.get(pair, DEPTHS[-1]))
        return snapshot_frame(book, frames[-1])

    def heartbeat(self, session: Session) -> str | None:
        return '{"channel":"heartbeat"}' if session.names else '{"event":"heartbeat"}'

    def outgoing(self, text: str, session: Session) -> str:
        """A v1 frame to a client that subscribed with v2 goes as v2 (kraken_v2.py)."""
        if session.names and text.startswith("["):
            pair = text[: text.rindex('"')].rpartition('"')[2]
            if pair in session.names:
                return v1_to_v2(text, session.names[pair])
        return text

    def request(self, text: str, session: Session, *, refuse: bool) -> Reply:
        msg = json.loads(text)
        if msg.get("event") == "ping":
            return Reply((json.dumps({"event": "pong", "reqid": msg.get("reqid")}),))
        if msg.get("method") == "ping":
            return Reply(
                (
                    json.dumps(
                        {
                            "method": "pong",
                            "req_id": msg.get("req_id"),
                            "time_in": now_iso(),
                            "time_out": now_iso(),
                        }
                    ),
                )
            )
        if msg.get("event") == "subscribe":
            return self._v1(msg, refuse)
        if msg.get("method") == "subscribe":
            return self._v2(msg, session, refuse)
        if msg.get("event") == "unsubscribe":
            return self._v1_unsubscribe(msg)
        if msg.get("method") == "unsubscribe":
            return self._v2_unsubscribe(msg)
        return Reply()

    def _v1_unsubscribe(self, msg: Mapping[str, Any]) -> Reply:
        sub = dict(msg.get("subscription", {}))
        channel = str(sub.get("name", ""))
        frames, keys = [], set()
        for asked in msg.get("pair", ()):
            pair = self.pairs.get(_norm(asked))
            ack: dict[str, Any] = {"event": "subscriptionStatus", "pair": asked}
            if pair is None:
                ack |= {"status": "error", "errorMessage": f"Currency pair not supported {asked}"}
            else:
                ack |= {"status": "unsubscribed", "subscription": sub}
                keys.add((pair, channel))
            frames.append(json.dumps(ack | ({"reqid": msg["reqid"]} if "reqid" in msg else {})))
        return Reply(tuple(frames), dropped=frozenset(keys))

    def _v2_unsubscribe(self, msg: Mapping[str, Any]) -> Reply:
        params = dict(msg.get("params", {}))
        channel = str(params.get("channel", ""))
        base = {"method": "unsubscribe", "time_in": now_iso(), "time_out": now_iso()}
        if "req_id" in msg:
            base["req_id"] = msg["req_id"]
        frames, keys = [], set()
        for asked in params.get("symbol", ()):
            pair = self.pairs.get(_norm(asked))
            if pair is None:
                error = f"Currency pair not supported {asked}"
                frames.append(json.dumps(base | {"success": False, "error": error}))
                continue
            result = {"channel": channel, "symbol": asked}
            frames.append(json.dumps(base | {"success": True, "result": result}))
            keys.add((pair, channel))
        return Reply(tuple(frames), dropped=frozenset(keys))

    def _v1(self, msg: Mapping[str, Any], refuse: bool) -> Reply:
        sub = dict(msg.get("subscription", {}))
        channel = str(sub.get("name", ""))
        frames, keys = [], set()
        for asked in msg.get("pair", ()):
            pair = self.pairs.get(_norm(asked))
            error = self._refusal(pair, asked, channel, sub.get("depth", 10), refuse)
            ack: dict[str, Any] = {
                "event": "subscriptionStatus",
                "pair": asked,
                "subscription": sub,
            }
            if "reqid" in msg:
                ack["reqid"] = msg["reqid"]
            if error or pair is None:
                ack |= {"status": "error", "errorMessage": error}
            else:
                key = (pair, channel)
                number = self.channel_ids.get(key, 0)  # the frames carry the captured one
                name = f"book-{self.depth[pair]}" if channel == "book" else channel
                ack |= {"channelID": number, "channelName": name, "status": "subscribed"}
                keys.add(key)
            frames.append(json.dumps(ack))
        return Reply(tuple(frames), frozenset(keys))

    def _v2(self, msg: Mapping[str, Any], session: Session, refuse: bool) -> Reply:
        params = dict(msg.get("params", {}))
        channel = str(params.get("channel", ""))
        base = {"method": "subscribe", "time_in": now_iso(), "time_out": now_iso()}
        if "req_id" in msg:
            base["req_id"] = msg["req_id"]
        if channel == "instrument":
            if refuse:
                return Reply((json.dumps(base | {"success": False, "error": "refused"}),))
            ack = base | {"success": True, "result": {"channel": "instrument", "snapshot": True}}
            return Reply((json.dumps(ack), self.instruments()))
        frames, keys = [], set()
        for asked in params.get("symbol", ()):
            pair = self.pairs.get(_norm(asked))
            error = self._refusal(pair, asked, channel, params.get("depth", 10), refuse)
            if error or pair is None:
                frames.append(
                    json.dumps(base | {"success": False, "error": error, "symbol": asked})
                )
                continue
            result: dict[str, Any] = {"channel": channel, "snapshot": True, "symbol": asked}
            if channel == "book":
                result["depth"] = self.depth[pair]
            frames.append(json.dumps(base | {"success": True, "result": result}))
            keys.add((pair, channel))
            session.names[pair] = asked
        return Reply(tuple(frames), frozenset(keys))

    def _refusal(self, pair: str | None, asked: str, channel: str, depth: Any, refuse: bool) -> str:
        if refuse:
            return f"Subscription refused (venue-sim fault): {asked}"
        if channel not in ("book", "trade"):
            return f"Subscription name invalid: {channel}"
        if pair is None:
            return f"Currency pair not supported {asked}"
        if channel == "book" and depth != self.depth.get(pair, depth):
            return (
                f"Subscription depth not supported: captured at {self.depth[pair]}, asked {depth}"
            )
        return ""

    def instruments(self) -> str:
        """The ``instrument`` snapshot of the tape's pairs (Kraken v2 schema, v2 names):
        precisions are the most decimals the capture's book text shows, increments
        10^-precision, minimums one increment (a capture shows no minimums)."""
        pairs = []
        for name, pair in sorted(self.pairs.items()):
            price_dp, qty_dp = self.precision.get(pair, (1, 8))
            base, _, quote = name.partition("/")
            pairs.append(
                {
                    "symbol": name,
                    "base": base,
                    "quote": quote,
                    "status": "online",
                    "price_precision": price_dp,
                    "qty_precision": qty_dp,
                    "price_increment": increment(price_dp),
                    "qty_increment": increment(qty_dp),
                    "qty_min": increment(qty_dp),
                    "cost_min": increment(price_dp),
                    "marginable": False,
                    "has_index": False,
                }
            )
        return json.dumps(
            {"channel": "instrument", "type": "snapshot", "data": {"assets": [], "pairs": pairs}}
        )
