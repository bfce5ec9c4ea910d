"""Types of the Cython module meshrt/sdk/_actions.pyx."""

from meshrt.contract import Side, TimeInForce
from meshrt.sdk import AlgoState, OpenOrder

def with_pending(order: OpenOrder, pending: bool) -> OpenOrder:
    """``order._replace(pending=pending)`` without namedtuple's generic path, which cost
    more than the rest of an algo's cancel or replace."""

class Actions:
    """The per-callback action buffer: at most 16 actions, each a fixed-layout tuple.

    Each method returns the client order id the action concerns. Actions become
    intents that the sequencer checks (schema, risk, legal transition) after the
    callback returns; refusals come back through ``on_reject``.
    """

    @property
    def _buffer(self) -> list[tuple[int, int, int, int, int, int | None, int, str]]: ...
    refused: int
    def __init__(self, state: AlgoState, default_symbol: str) -> None: ...
    def limit(
        self,
        side: Side,
        price: int,
        size: int,
        tif: TimeInForce = TimeInForce.GTC,
        symbol: str | None = None,
    ) -> int:
        """Place a limit order (GTC, IOC or post-only); returns its client order id."""
    def market(self, side: Side, size: int, symbol: str | None = None) -> int:
        """Place a market order (fills what the book has, cancels the rest)."""
    def cancel(self, order_id: int) -> int: ...
    def replace(self, order_id: int, price: int, size: int) -> int:
        """Change an open order's price and total size (queue priority may be lost)."""
    def cancel_all(self, symbol: str | None = None) -> None: ...
    def __len__(self) -> int: ...
