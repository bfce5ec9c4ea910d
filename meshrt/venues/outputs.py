"""What a simulated venue emits, in time order, for the sequencer to commit: one typed
value per feed event it applied and per report its matching engines made.

The sequencer's commit loop (meshrt/actors/_commit.pyx) tells them apart by type.
``BookUpdate``, built by the compiled feed loop (_feed.pyx) per book update, is a compiled
value (_outputs.pyx) for speed; the rarer ones are NamedTuples.
"""

from __future__ import annotations

from typing import NamedTuple

from meshrt.venues._outputs import BookUpdate as BookUpdate
from meshrt.venues.events import FeedEvent
from meshrt.venues.live.refdata import Reference
from meshrt.venues.live.verdicts import Connected, Disconnected, FrameError, Resync
from meshrt.venues.reports import VenueReport


class TradePrint(NamedTuple):
    """A trade print on the feed."""

    ts: int
    symbol: int  # index into the venue's symbols
    event: FeedEvent


class OrderReport(NamedTuple):
    """A matching engine's report about an algo order, right after what caused it."""

    ts: int
    symbol: int
    report: VenueReport


class LiveNote(NamedTuple):
    """What a live venue's session said besides feed events, where the venue met it: a
    connection event, a symbol's resync or new reference, a frame error
    (meshrt/venues/live/verdicts.py)."""

    ts: int
    symbol: int  # the resync's or reference's symbol index; -1 for the others
    note: Connected | Disconnected | Resync | FrameError | Reference


VenueOutput = BookUpdate | TradePrint | OrderReport | LiveNote
