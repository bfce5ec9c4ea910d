"""Injectable faults, deterministic by frame index (docs/live.md, "venue-sim").

A fault acts on one connection of one venue path (default: every venue, the first
connection, so a reconnecting client then gets a clean stream). ``at`` counts the tape
frames the connection has been sent, from 1. Written on the command line as
``[VENUE/]KIND[@N][:ARG][#CONNECTION]``: ``drop@100``, ``kraken/checksum@5``,
``stall@20:2.5``, ``binance/gap@40``, ``refuse``, ``malformed@3``, ``oversized@3:2097152``.
"""

from __future__ import annotations

import enum
import re

from attrs import frozen


class Kind(enum.Enum):
    DROP = "drop"  # close the connection (1011) after N frames
    CHECKSUM = "checksum"  # the first checksummed frame at or after N fails its checksum
    GAP = "gap"  # the first sequenced frame at or after N is lost (or its number skipped)
    STALL = "stall"  # before frame N, send nothing for ARG seconds
    REFUSE = "refuse"  # every subscribe on the connection gets the exchange's error reply
    MALFORMED = "malformed"  # frame N is sent cut in half (not JSON); it is lost
    OVERSIZED = "oversized"  # frame N is padded with JSON whitespace to ARG bytes


OVERSIZED_BYTES = 2 * 1024 * 1024  # above trio-websocket's default 1 MiB message limit
_SPEC = re.compile(
    r"^(?:(?P<venue>[a-z-]+)/)?(?P<kind>[a-z]+)(?:@(?P<at>\d+))?(?::(?P<arg>[0-9.]+))?"
    r"(?:#(?P<conn>\d+))?$"
)


@frozen
class Fault:
    kind: Kind
    at: int = 1
    arg: float = 0.0  # STALL: seconds; OVERSIZED: bytes
    venue: str | None = None  # None: every venue
    connection: int = 1  # the connection number on the venue path, from 1

    def applies(self, venue: str, connection: int) -> bool:
        return self.venue in (None, venue) and self.connection == connection

    def __str__(self) -> str:
        text = f"{self.venue}/" if self.venue else ""
        text += self.kind.value + (f"@{self.at}" if self.kind is not Kind.REFUSE else "")
        text += f":{self.arg:g}" if self.arg else ""
        return text + (f"#{self.connection}" if self.connection != 1 else "")


def parse_fault(text: str) -> Fault:
    """``[VENUE/]KIND[@N][:ARG][#CONNECTION]`` as a Fault; ValueError says what is wrong."""
    match = _SPEC.match(text.strip())
    if match is None:
        raise ValueError(f"fault {text!r}: expected [VENUE/]KIND[@N][:ARG][#CONNECTION]")
    try:
        kind = Kind(match["kind"])
    except ValueError:
        kinds = ", ".join(k.value for k in Kind)
        raise ValueError(f"fault {text!r}: unknown kind {match['kind']!r} ({kinds})") from None
    at = int(match["at"] or 1)
    arg = float(match["arg"] or 0)
    if kind is Kind.STALL and arg <= 0:
        raise ValueError(f"fault {text!r}: stall needs :SECONDS")
    if kind is Kind.OVERSIZED and not arg:
        arg = OVERSIZED_BYTES
    if at < 1 or int(match["conn"] or 1) < 1:
        raise ValueError(f"fault {text!r}: frame and connection numbers count from 1")
    return Fault(kind, at, arg, match["venue"], int(match["conn"] or 1))
