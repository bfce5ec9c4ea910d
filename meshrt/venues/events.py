"""Hot-path event tuples shared by data sources, venues and the sequencer.

Book-rate data travels as plain tuples, not objects: a tuple costs ~25 ns to build,
a frozen attrs instance ~370 ns, and a busy feed carries hundreds of thousands of
them per second. Each tuple starts with its event time in nanoseconds and its kind.

Feed events (from a data source into a venue):
    (ts, FEED_SNAPSHOT, bids, asks)        bids/asks: tuple of (price, size), best first
    (ts, FEED_DELTA, side, price, size)    size 0 removes the level
    (ts, FEED_TRADE, aggressor, price, size)

Venue reports about an algo order (from a matching engine):
    (ts, REPORT_ACCEPTED, order_id)
    (ts, REPORT_REJECTED, order_id, reason)
    (ts, REPORT_FILL, order_id, price, size, liquidity, fee, remaining)
    (ts, REPORT_CANCELLED, order_id, remaining)
    (ts, REPORT_CANCEL_REJECTED, order_id, reason)
    (ts, REPORT_REPLACED, order_id, price, size, remaining)
"""

from __future__ import annotations

from typing import Any, Final, TypeAlias

# The shapes vary by kind (above) and the hot path reads fields by index: a tuple of
# any length is the precise static type a kind-dependent layout allows.
FeedEvent: TypeAlias = tuple[Any, ...]
VenueReport: TypeAlias = tuple[Any, ...]

FEED_SNAPSHOT: Final = 0
FEED_DELTA: Final = 1
FEED_TRADE: Final = 2

REPORT_ACCEPTED: Final = 10
REPORT_REJECTED: Final = 11
REPORT_FILL: Final = 12
REPORT_CANCELLED: Final = 13
REPORT_CANCEL_REJECTED: Final = 14
REPORT_REPLACED: Final = 15

REPORT_KIND_NAMES: Final = {
    REPORT_ACCEPTED: "accepted",
    REPORT_REJECTED: "rejected",
    REPORT_FILL: "fill",
    REPORT_CANCELLED: "cancelled",
    REPORT_CANCEL_REJECTED: "cancel_rejected",
    REPORT_REPLACED: "replaced",
}
