"""Types of the Cython module meshrt/venues/_feed.pyx."""

from typing import Any, final

from meshrt.actors.protocol import Arrival, OrderOp
from meshrt.venues.matching import MatchingEngine
from meshrt.venues.outputs import VenueOutput

@final
class VenueLane:
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
    def window(
        self, events: list[tuple[Any, ...]], arrivals: list[Arrival], out: list[VenueOutput]
    ) -> int:
        """A single-source window with the feed up, up to the first arrival that is not an
        order operation: that arrival's index (``len(arrivals)``: all handled)."""
    def order(self, op: OrderOp, out: list[VenueOutput]) -> None:
        """An order operation reaching this symbol's engine; its reports follow in out."""
