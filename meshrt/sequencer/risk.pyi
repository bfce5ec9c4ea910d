"""Types of the Cython module meshrt/sequencer/risk.pyx."""

from typing import Final, final

from meshrt.contract import RejectReason
from meshrt.scenario.limits import RiskLimits
from meshrt.sdk import Book

RATE_WINDOW_NS: Final[int]

def mid(book: Book | None) -> int | None:
    """The reference price of a book: the mid of its top levels, if it has both sides."""

@final
class RiskGate:
    """Stateless checks plus the order-rate window of one deployment."""

    @property
    def limits(self) -> RiskLimits: ...
    def __init__(self, limits: RiskLimits) -> None: ...
    def check_new(
        self,
        ts: int,
        side: int,
        price: int | None,
        size: int,
        position: int,
        open_buy: int,
        open_sell: int,
        open_orders: int,
        reference_price: int | None,
    ) -> RejectReason | None:
        """First limit a new order would breach, or None."""
    def check_replace(
        self,
        ts: int,
        side: int,
        price: int | None,
        size: int,
        old_size: int,
        filled: int,
        position: int,
        open_buy: int,
        open_sell: int,
        reference_price: int | None,
    ) -> RejectReason | None:
        """First limit replacing an order would breach, or None."""
    def record_order(self, ts: int) -> None:
        """Count an order or replace actually sent at ``ts`` toward the rate window (none
        is kept without a rate limit)."""
    def orders_in_window(self, ts: int) -> int:
        """Orders sent in (ts - 1 s, ts] (0 without a rate limit)."""
