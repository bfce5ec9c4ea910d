"""Types of the Cython module meshrt/venues/_feed.pyx."""

from typing import Any, final

from meshrt.venues._matching import MatchingEngine
from meshrt.venues.outputs import VenueOutput

@final
class VenueSymbol:
    """One symbol of a simulated venue: its matching engine and online features."""

    last_mid: int
    volatility: int
    trade_flow: int
    def __init__(
        self,
        engine: MatchingEngine,
        symbol: int,
        symbol_name: str,
        venue_name: str,
        book_type: type,
        features_type: type,
    ) -> None: ...
    @property
    def engine(self) -> MatchingEngine: ...
    @property
    def symbol(self) -> int: ...
    @property
    def symbol_name(self) -> str: ...
    @property
    def venue_name(self) -> str: ...
    @property
    def book_type(self) -> type: ...
    @property
    def features_type(self) -> type: ...
    def play(
        self, events: list[tuple[Any, ...]], start: int, stop: int, out: list[VenueOutput]
    ) -> None:
        """Apply events[start:stop], appending the venue's outputs."""
