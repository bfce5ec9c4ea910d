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

Compiled because report ingress books every fill here: the money stays Python ints
(exact, unbounded), the method calls and attribute reads are C (the intent desk reads
``position`` through ledger.pxd).
"""

from meshrt.contract import Side, notional

cdef object BUY = Side.BUY
cdef object SELL = Side.SELL


cdef class Holding:
    """Mutable per-symbol state (hot: touched on every fill and mark)."""

    def __init__(self):
        self.position = 0
        self.cost = 0
        self.realized = 0
        self.mark = 0
        self.marked = False
        self.value = 0


cdef class Ledger:
    """The books of one deployment; see the module docstring for the method."""

    def __init__(self, initial_cash=0):
        self.holdings = {}
        self.initial_cash_ = initial_cash
        self.cash_ = initial_cash
        self.fees_ = 0
        self.realized_ = 0
        self.cost_ = 0
        self.value_ = 0
        self.fills_ = 0
        self.volume_ = 0
        self.high_water = initial_cash
        self.max_drawdown_ = 0

    cdef Holding holding(self, object symbol):
        cdef Holding h = self.holdings.get(symbol)
        if h is None:
            h = self.holdings[symbol] = Holding()
        return h

    def apply_fill(self, symbol, side, price, size, fee):
        """Book one fill: cash, fees, position, cost basis, realized PnL, drawdown."""
        if size <= 0:
            raise ValueError(f"fill size {size} must be positive")
        if price <= 0:
            raise ValueError(f"fill price {price} must be positive")
        value = notional(price, size)
        if side == BUY:
            sign = 1
            self.cash_ -= value + fee
        elif side == SELL:
            sign = -1
            self.cash_ += value - fee
        else:
            raise ValueError(f"unknown side {side}")
        cdef Holding h = self.holding(symbol)
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
        self.value_ += new_value - h.value
        h.value = new_value
        self.cost_ += h.cost - old_cost
        self.realized_ += h.realized - old_realized
        self.fees_ += fee
        self.fills_ += 1
        self.volume_ += value
        self.update_drawdown()

    def mark(self, symbol, price):
        """Set the mark price used for unrealized PnL and equity; updates drawdown."""
        if price <= 0:
            raise ValueError(f"mark price {price} must be positive")
        cdef Holding h = self.holding(symbol)
        h.mark = price
        h.marked = True
        new_value = notional(h.position, price)
        self.value_ += new_value - h.value
        h.value = new_value
        self.update_drawdown()

    cdef update_drawdown(self):
        equity = self.cash_ + self.value_
        if equity > self.high_water:
            self.high_water = equity
        elif self.high_water - equity > self.max_drawdown_:
            self.max_drawdown_ = self.high_water - equity

    # -- reads ----------------------------------------------------------------------------

    cpdef object position(self, object symbol):
        cdef Holding h = self.holdings.get(symbol)
        return 0 if h is None else h.position

    def cost_basis(self, symbol):
        """Signed total cost of the open position (0 when flat)."""
        cdef Holding h = self.holdings.get(symbol)
        return 0 if h is None else h.cost

    def mark_price(self, symbol):
        """The price the symbol is valued at, or None if never filled nor marked."""
        cdef Holding h = self.holdings.get(symbol)
        return None if h is None or h.mark == 0 else h.mark  # real prices are > 0

    @property
    def symbols(self):
        return sorted(self.holdings)

    @property
    def initial_cash(self):
        return self.initial_cash_

    @property
    def cash(self):
        return self.cash_

    @property
    def fees(self):
        return self.fees_

    @property
    def realized_pnl(self):
        """Gross of fees."""
        return self.realized_

    @property
    def unrealized_pnl(self):
        """Gross of fees, at the last marks."""
        return self.value_ - self.cost_

    @property
    def equity(self):
        return self.cash_ + self.value_

    @property
    def high_water_mark(self):
        return self.high_water

    @property
    def max_drawdown(self):
        """Largest fall of equity from its running peak, sampled at every fill and mark."""
        return self.max_drawdown_

    @property
    def fills(self):
        return self.fills_

    @property
    def volume(self):
        """Traded notional (money units), summed over all fills."""
        return self.volume_

    def snapshot(self):
        """Plain ints and strs, fixed key order, symbols sorted: JSON-able and replay-stable."""
        cdef Holding h
        positions = {}
        for symbol, h in sorted(self.holdings.items()):
            positions[symbol] = {
                "position": h.position,
                "cost_basis": h.cost,
                "mark": h.mark,
                "realized_pnl": h.realized,
                "unrealized_pnl": h.value - h.cost,
            }
        return {
            "initial_cash": self.initial_cash_,
            "cash": self.cash_,
            "fees": self.fees_,
            "realized_pnl": self.realized_,
            "unrealized_pnl": self.unrealized_pnl,
            "equity": self.equity,
            "high_water_mark": self.high_water,
            "max_drawdown": self.max_drawdown_,
            "fills": self.fills_,
            "volume": self.volume_,
            "positions": positions,
        }
