"""Feed events: a data source's record format, as plain tuples with kind numbers.

Each tuple starts with its event time in nanoseconds and its kind::

    (ts, FEED_SNAPSHOT, bids, asks)        bids/asks: tuple of (price, size), best first
    (ts, FEED_DELTA, side, price, size)    size 0 removes the level
    (ts, FEED_TRADE, aggressor, price, size)

They stay tuples, unlike every message between actors, because they are a record
format, not a message: what a data source (meshrt/venues/sources.py) yields and users
write their own sources and recordings in (docs/data.md; the kind numbers are the
recording file's kind bytes). Only the venue actor (its feed loop, meshrt/venues/
_feed.pyx) acts on their fields; a book update or trade print carries its event on to
the sequencer, whose feed commit (meshrt/actors/_commit.pyx) only copies the fields after
the kind into the log record the kind names (``meshrt.log.schema.FEED_BY_KIND``). And
they are the hottest values in the runtime: a busy feed makes hundreds of thousands a
second, and a NamedTuple costs about five times as much as a tuple to build.

A venue's reports about algo orders are typed values: meshrt/venues/reports.py.
"""

from __future__ import annotations

from typing import Any, Final, TypeAlias

# The shapes vary by kind (above) and the hot path reads fields by index: a tuple of
# any length is the precise static type a kind-dependent layout allows.
FeedEvent: TypeAlias = tuple[Any, ...]

FEED_SNAPSHOT: Final = 0
FEED_DELTA: Final = 1
FEED_TRADE: Final = 2
