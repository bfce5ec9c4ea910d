"""Per-deployment accounting: positions, cash, fees, realized/unrealized PnL, drawdown.

Average-cost method in exact integers. Units follow the contract: sizes in 1e-8, prices
and money in 1e-9 quote units, values via ``contract.notional`` (truncated per fill).

Per symbol the ledger keeps ``position`` (signed size), ``cost`` (signed total cost of the
open position: positive long, negative short, 0 when flat) and ``realized``. Opening adds
the fill's notional to cost; reducing |q| of a position p removes ``cost * |q| // |p|``
and books the difference to the fill's cash flow as realized (the floor's remainder stays
in realized, so nothing is lost); a flip closes the old position then opens the rest,
splitting the fill's notional so the two parts sum to exactly what cash moved.

Identities, exact in integers at every moment (``tests/test_ledger.py`` asserts them):

* per symbol: ``realized - cost == trade cash flow`` (sum of signed notionals, fees excluded);
* ``unrealized == sum(notional(position, mark)) - sum(cost)``;
* hence ``realized + unrealized == (cash - initial_cash + fees) + sum(notional(position, mark))``;
* ``equity == cash + sum(notional(position, mark)) == initial_cash + realized + unrealized - fees``.

Fees are signed: positive is paid, negative a rebate. A symbol never marked is valued at
its last fill price, so equity is defined from the first fill on.
"""

from __future__ import annotations

from typing import Any

import attrs

from meshrt.contract import Side, notional


@attrs.define(slots=True, eq=False)
class _Holding:
    """Mutable per-symbol state (hot: touched on every fill and mark)."""

    position: int = 0
    cost: int = 0
    realized: int = 0
    mark: int = 0  # effective mark: the last explicit mark, else the last fill price
    marked: bool = False
    value: int = 0  # notional(position, mark), cached so equity is O(1)


class Ledger:
    """The books of one deployment; see the module docstring for the method."""

    __slots__ = (
        "_holdings",
        "_initial_cash",
        "_cash",
        "_fees",
        "_realized",
        "_cost",
        "_value",
        "_fills",
        "_volume",
        "_high_water",
        "_max_drawdown",
    )

    def __init__(self, initial_cash: int = 0) -> None:
        self._holdings: dict[str, _Holding] = {}
        self._initial_cash = initial_cash
        self._cash = initial_cash
        self._fees = 0
        self._realized = 0
        self._cost = 0  # sum of per-symbol cost
        self._value = 0  # sum of per-symbol notional(position, mark)
        self._fills = 0
        self._volume = 0
        self._high_water = initial_cash
        self._max_drawdown = 0

    def _holding(self, symbol: str) -> _Holding:
        holding = self._holdings.get(symbol)
        if holding is None:
            holding = self._holdings[symbol] = _Holding()
        return holding

    def apply_fill(self, symbol: str, side: int, price: int, size: int, fee: int) -> None:
        """Book one fill: cash, fees, position, cost basis, realized PnL, drawdown."""
        if size <= 0:
            raise ValueError(f"fill size {size} must be positive")
        if price <= 0:
            raise ValueError(f"fill price {price} must be positive")
        value = notional(price, size)
        if side == Side.BUY:
            sign = 1
            self._cash -= value + fee
        elif side == Side.SELL:
            sign = -1
            self._cash += value - fee
        else:
            raise ValueError(f"unknown side {side}")
        h = self._holding(symbol)
        pos = h.position
        old_cost = h.cost
        old_realized = h.realized
        if pos == 0 or (pos > 0) == (sign > 0):
            h.cost += sign * value  # opening or adding
        else:
            held = abs(pos)
            closed = size if size <= held else held
            # notional of the closing part; the opening part takes the rest exactly
            close_value = value if closed == size else notional(price, closed)
            removed = h.cost * closed // held  # == cost exactly when closing all
            h.cost -= removed
            h.realized += -sign * close_value - removed
            if closed < size:  # flip: open the remainder on the other side
                h.cost += sign * (value - close_value)
        h.position = pos + sign * size
        if not h.marked:
            h.mark = price
        new_value = notional(h.position, h.mark)
        self._value += new_value - h.value
        h.value = new_value
        self._cost += h.cost - old_cost
        self._realized += h.realized - old_realized
        self._fees += fee
        self._fills += 1
        self._volume += value
        self._update_drawdown()

    def mark(self, symbol: str, price: int) -> None:
        """Set the mark price used for unrealized PnL and equity; updates drawdown."""
        if price <= 0:
            raise ValueError(f"mark price {price} must be positive")
        h = self._holding(symbol)
        h.mark = price
        h.marked = True
        new_value = notional(h.position, price)
        self._value += new_value - h.value
        h.value = new_value
        self._update_drawdown()

    def _update_drawdown(self) -> None:
        equity = self._cash + self._value
        if equity > self._high_water:
            self._high_water = equity
        elif self._high_water - equity > self._max_drawdown:
            self._max_drawdown = self._high_water - equity

    # -- reads ----------------------------------------------------------------------------

    def position(self, symbol: str) -> int:
        h = self._holdings.get(symbol)
        return 0 if h is None else h.position

    def cost_basis(self, symbol: str) -> int:
        """Signed total cost of the open position (0 when flat)."""
        h = self._holdings.get(symbol)
        return 0 if h is None else h.cost

    def mark_price(self, symbol: str) -> int | None:
        """The price the symbol is valued at, or None if never filled nor marked."""
        h = self._holdings.get(symbol)
        return None if h is None or h.mark == 0 else h.mark  # real prices are > 0

    @property
    def symbols(self) -> list[str]:
        return sorted(self._holdings)

    @property
    def initial_cash(self) -> int:
        return self._initial_cash

    @property
    def cash(self) -> int:
        return self._cash

    @property
    def fees(self) -> int:
        return self._fees

    @property
    def realized_pnl(self) -> int:
        """Gross of fees."""
        return self._realized

    @property
    def unrealized_pnl(self) -> int:
        """Gross of fees, at the last marks."""
        return self._value - self._cost

    @property
    def equity(self) -> int:
        return self._cash + self._value

    @property
    def high_water_mark(self) -> int:
        return self._high_water

    @property
    def max_drawdown(self) -> int:
        """Largest fall of equity from its running peak, sampled at every fill and mark."""
        return self._max_drawdown

    @property
    def fills(self) -> int:
        return self._fills

    @property
    def volume(self) -> int:
        """Traded notional (money units), summed over all fills."""
        return self._volume

    def snapshot(self) -> dict[str, Any]:
        """Plain ints and strs, fixed key order, symbols sorted: JSON-able and replay-stable."""
        return {
            "initial_cash": self._initial_cash,
            "cash": self._cash,
            "fees": self._fees,
            "realized_pnl": self._realized,
            "unrealized_pnl": self.unrealized_pnl,
            "equity": self.equity,
            "high_water_mark": self._high_water,
            "max_drawdown": self._max_drawdown,
            "fills": self._fills,
            "volume": self._volume,
            "positions": {
                symbol: {
                    "position": h.position,
                    "cost_basis": h.cost,
                    "mark": h.mark,
                    "realized_pnl": h.realized,
                    "unrealized_pnl": h.value - h.cost,
                }
                for symbol, h in sorted(self._holdings.items())
            },
        }
