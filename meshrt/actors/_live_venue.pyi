"""Types of the Cython module meshrt/actors/_live_venue.pyx."""

from meshrt.actors._venue import VenueCore
from meshrt.actors.live_venue import ReceivedInput
from meshrt.actors.protocol import Arrival
from meshrt.venues.live.refdata import Reference
from meshrt.venues.live.verdicts import Received
from meshrt.venues.outputs import VenueOutput

class LiveVenueCore(VenueCore):
    """The compiled part of a live venue actor (meshrt/actors/live_venue.py)."""

    feed: ReceivedInput
    index_of: dict[str, int]
    up: list[bool]
    references: list[Reference | None]
    last: int
    def next_time(self) -> int | None:
        """The next item's time, None when there is none (yet)."""
    def hand(self, items: list[Received]) -> None:
        """Paper mode: what arrived for this venue, for the window about to be sent it."""
    def advance(self, until: int, arrivals: list[Arrival]) -> list[VenueOutput]:
        """The items before ``until`` in arrival order, the arrivals interleaved by time."""
