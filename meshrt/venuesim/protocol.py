"""What the local exchange needs of each venue's protocol: which symbol and channel a
captured frame belongs to, how a subscribe request is answered, and how a frame is
corrupted for a fault. One subclass per venue (kraken.py, binance.py, coinbase.py)."""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from attrs import define, field, frozen

Key = tuple[str, str]  # (exchange symbol, channel)


@frozen
class Tag:
    """A replayable frame's symbol and channel; ``sequenced`` when losing it is detectable
    (it carries a checksum or update ids), so a gap fault skips it."""

    symbol: str
    channel: str
    sequenced: bool = False


@frozen
class Reply:
    """The answer to one client message: frames to send now, the (symbol, channel) keys it
    subscribed (none when refused or not a subscribe) and those it unsubscribed."""

    frames: tuple[str, ...] = ()
    keys: frozenset[Key] = frozenset()
    dropped: frozenset[Key] = frozenset()


@define
class Session:
    """One connection's protocol state."""

    sequence: int = 0  # Coinbase Advanced Trade numbers every message on a connection
    raw: bool = False  # Binance raw streams: the data without its {"stream", "data"} wrapper
    names: dict[str, str] = field(factory=dict)  # Kraken: captured v1 pair -> v2 name asked


class Protocol(ABC):
    """A venue's websocket protocol over a tape of captured frames."""

    name: str
    padded = False  # the wire pads numbers with zeros past the increment (Binance: 8 places)

    def __init__(self) -> None:
        self.precision: dict[str, tuple[int, int]] = {}  # symbol -> price, size decimals

    @abstractmethod
    def tag(self, text: str) -> Tag | None:
        """The frame's symbol and channel, or None for a frame the sim makes itself
        (acks, heartbeats, status)."""

    @abstractmethod
    def request(self, text: str, session: Session, *, refuse: bool) -> Reply:
        """Answer a client message as the exchange does (``refuse``: its error reply)."""

    def levels(self, text: str) -> Iterable[tuple[str, Any, Any]]:
        """(symbol, price text, size text) of a book frame's levels: the precisions the
        reference data states are the ones the capture shows."""
        return ()

    def heartbeat(self, session: Session) -> str | None:
        """The frame a quiet subscribed connection is sent each second, if the venue has one."""
        return None

    def passed(self, text: str) -> None:  # noqa: B027 (most venues keep no state of it)
        """A connection passed this tape frame (sent it, or skipped it for a fault)."""

    def outgoing(self, text: str, session: Session) -> str:
        """The frame as sent on this connection (Advanced Trade renumbers it)."""
        return text

    def corrupt_checksum(self, text: str, history: Callable[[], list[str]]) -> str | None:
        """The frame made to fail its checksum, or None if it has none; ``history`` gives
        the earlier tape frames of its symbol and channel."""
        return None

    def snapshot(self, key: Key, frames: list[str]) -> str | None:
        """The snapshot a subscribe to ``key`` is sent once the replay is past ``frames``
        (the tape's frames of ``key`` so far, in order): the book they build, in the
        tape's own form (``outgoing`` then writes it for the connection); None for a
        channel with no book, or a venue whose client re-snapshots over REST (Binance)."""
        return None

    def skip_sequence(self, session: Session) -> bool:
        """Skip a sequence number without dropping a frame; False if the venue's
        sequence lives in the frames (then the frame itself is dropped)."""
        return False


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())


def decimals(texts: Iterable[Any], *, padded: bool = False) -> int:
    """The most decimal places among number texts (what a capture shows of a precision);
    ``padded``: trailing zeros do not count."""
    most = 0
    for text in texts:
        _, _, frac = str(text).partition(".")
        most = max(most, len(frac.rstrip("0") if padded else frac))
    return most


def increment(places: int) -> str:
    """``10**-places`` as plain decimal text: 3 -> ``0.001``."""
    return format(Decimal(1).scaleb(-places), "f")


def replace_last(pattern: re.Pattern[str], text: str) -> str | None:
    """``text`` with the digits of ``pattern``'s last match (group 2) changed: +1 mod 2^32."""
    matches = list(pattern.finditer(text))
    if not matches:
        return None
    match = matches[-1]
    value = (int(match.group(2)) + 1) % 2**32
    return text[: match.start(2)] + str(value) + text[match.end(2) :]


def precisions(protocol: Protocol, texts: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Per symbol, the most price and size decimals in the book frames' text."""
    prices: dict[str, list[Any]] = {}
    sizes: dict[str, list[Any]] = {}
    for text in texts:
        for symbol, p, q in protocol.levels(text):
            prices.setdefault(symbol, []).append(p)
            sizes.setdefault(symbol, []).append(q)
    padded = protocol.padded
    return {
        s: (decimals(prices[s], padded=padded), decimals(sizes[s], padded=padded)) for s in prices
    }
