"""Types of the Cython module meshrt/actors/_venue.pyx."""

from meshrt.actors.protocol import Arrival
from meshrt.venues._feed import VenueSymbol
from meshrt.venues.outputs import VenueOutput
from meshrt.venues.sources import Source

class VenueCore:
    """The compiled part of a simulated venue actor (meshrt/actors/venue.py)."""

    sources: list[Source]
    lanes: list[VenueSymbol]
    feed_up: bool
    def next_time(self) -> int | None:
        """Time of the next feed event on any symbol, None when every source is done."""
    def advance(self, until: int, arrivals: list[Arrival]) -> list[VenueOutput]:
        """Everything that happens before ``until``, in time order (feed first on ties)."""
