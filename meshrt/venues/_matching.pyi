"""Types of the Cython module meshrt/venues/_matching.pyx."""

from collections.abc import Sequence
from typing import final

from meshrt.venues._book import L2Book
from meshrt.venues.fees import FeeSchedule
from meshrt.venues.reports import VenueReport
from meshrt.venues.resting import RestingOrder

__all__ = ["LiveOrder", "MatchingEngine"]

@final
class LiveOrder:
    """Mutable state of one live resting algo order; owned by the engine only."""

    def __init__(
        self,
        order_id: int,
        side: int,
        price: int,
        size: int,
        remaining: int,
        post_only: bool,
        exec_seq: int,
    ) -> None: ...
    @property
    def order_id(self) -> int: ...
    @property
    def price_obj(self) -> int: ...
    @property
    def side(self) -> int: ...
    @property
    def post_only(self) -> bool: ...
    @property
    def price(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def remaining(self) -> int: ...
    @property
    def queue_ahead(self) -> int: ...
    @property
    def exec_seq(self) -> int: ...

@final
class MatchingEngine:
    """One symbol on one simulated venue: the feed's L2 book plus virtual algo orders."""

    reports: list[VenueReport]
    def __init__(self, fees: FeeSchedule = ..., depth: int = ...) -> None: ...
    @property
    def book(self) -> L2Book: ...
    def apply_snapshot(
        self, ts: int, bids: Sequence[tuple[int, int]], asks: Sequence[tuple[int, int]]
    ) -> None:
        """Replace the whole displayed book (this also restores any consumed liquidity)."""
    def apply_delta(self, ts: int, side: int, price: int, size: int) -> None:
        """Set one displayed level (size <= 0 removes it); fill resting orders it crosses."""
    def after_delta(self, ts: int, side: int, price: int, size: int) -> None:
        """A displayed level changed where resting orders care (the book decides when)."""
    def apply_trade(self, ts: int, aggressor: int, price: int, size: int) -> None:
        """Fill resting orders a print goes through."""
    def submit(
        self, ts: int, order_id: int, side: int, price: int | None, size: int, tif: int
    ) -> None:
        """Accept or reject a new order, match what crosses, then rest or cancel the rest."""
    def cancel(self, ts: int, order_id: int) -> None:
        """Cancel a live order; an unknown or finished one gets CANCEL_REJECTED."""
    def replace(self, ts: int, order_id: int, price: int, size: int) -> None:
        """Change price and total size (filled part included) of a live resting order."""
    def reject(self, ts: int, order_id: int, reason: int) -> None:
        """A new order refused: it never lived."""
    def reject_replace(self, ts: int, order_id: int, reason: int) -> None:
        """A replace refused: CANCEL_REJECTED with the order's state as it stands."""
    def top(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """(bid prices, bid sizes, ask prices, ask sizes), best first, to the view depth."""
    def best_bid(self) -> tuple[int, int] | None:
        """Best displayed bid as (price, size), or None."""
    def best_ask(self) -> tuple[int, int] | None:
        """Best displayed ask as (price, size), or None."""
    def resting(self) -> list[RestingOrder]:
        """Resting algo orders: buys then sells, each in price-time priority."""
