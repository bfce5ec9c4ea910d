"""Types of the Cython module meshrt/venues/_feed.pyx."""

from typing import Any

from meshrt.venues._book import L2Book
from meshrt.venues.outputs import VenueOutput

def play(
    book: L2Book,
    engine: Any,
    tracker: Any,
    events: list[tuple[Any, ...]],
    start: int,
    stop: int,
    symbol: int,
    symbol_name: str,
    venue_name: str,
    out: list[VenueOutput],
    book_type: type,
    features_type: type,
) -> None:
    """The venue's feed loop for one symbol (meshrt/actors/venue.py)."""
