"""Types of the Cython module meshrt/ledger.pyx."""

from typing import Any, final

@final
class Holding:
    """Mutable per-symbol state (hot: touched on every fill and mark)."""

    position: int
    cost: int
    realized: int
    mark: int
    marked: bool
    value: int
    def __init__(self) -> None: ...

@final
class Ledger:
    """The books of one deployment; see the module docstring for the method."""

    def __init__(self, initial_cash: int = 0) -> None: ...
    def apply_fill(self, symbol: str, side: int, price: int, size: int, fee: int) -> None:
        """Book one fill: cash, fees, position, cost basis, realized PnL, drawdown."""
    def mark(self, symbol: str, price: int) -> None:
        """Set the mark price used for unrealized PnL and equity; updates drawdown."""
    def position(self, symbol: str) -> int: ...
    def cost_basis(self, symbol: str) -> int:
        """Signed total cost of the open position (0 when flat)."""
    def mark_price(self, symbol: str) -> int | None:
        """The price the symbol is valued at, or None if never filled nor marked."""
    @property
    def symbols(self) -> list[str]: ...
    @property
    def initial_cash(self) -> int: ...
    @property
    def cash(self) -> int: ...
    @property
    def fees(self) -> int: ...
    @property
    def realized_pnl(self) -> int:
        """Gross of fees."""
    @property
    def unrealized_pnl(self) -> int:
        """Gross of fees, at the last marks."""
    @property
    def equity(self) -> int: ...
    @property
    def high_water_mark(self) -> int: ...
    @property
    def max_drawdown(self) -> int:
        """Largest fall of equity from its running peak, sampled at every fill and mark."""
    @property
    def fills(self) -> int: ...
    @property
    def volume(self) -> int:
        """Traded notional (money units), summed over all fills."""
    def snapshot(self) -> dict[str, Any]:
        """Plain ints and strs, fixed key order, symbols sorted: JSON-able and replay-stable."""
