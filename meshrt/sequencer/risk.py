"""Pre-trade risk checks of one deployment (its ``RiskLimits``: meshrt/scenario/limits.py).

The sequencer asks the gate before an intent moves an order; a breach becomes a
``RISK_*`` reject for the algo. Limits are checked in a fixed order (order size,
position, notional, open orders, rate) and the first breach is reported, so the same
intent always gets the same reason.

Choices a user of a production runtime would expect, made explicit:

* Worst-case position counts every open order on the intent's side as filled. An order
  (or replace) that does not grow the worst case's magnitude is allowed even above the
  limit, so a deployment over its limit (say, after the limit was lowered) can still
  trade back toward flat.
* A market order is valued at ``reference_price`` (the mid). With a notional limit set
  and no price at all (an empty book), the intent is rejected RISK_MAX_NOTIONAL: the
  gate cannot show it is within the limit, so it fails closed. Without a notional limit
  the missing price does not matter here.
* The rate limit counts orders actually sent (``record_order``), not intents the gate
  or a later check refused, in a rolling one-second window of scenario time: an order
  at ``t`` stays in the window until ``t + 1 s`` (exclusive).
"""

from __future__ import annotations

from collections import deque

from meshrt.contract import RejectReason, Side, notional
from meshrt.scenario.limits import RiskLimits

RATE_WINDOW_NS = 1_000_000_000


class RiskGate:
    """Stateless checks plus the order-rate window of one deployment."""

    __slots__ = ("limits", "_sent")

    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits
        self._sent: deque[int] = deque()  # send times inside the window, oldest first

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
        """First limit a new order would breach, or None.

        ``price`` None means a market order. ``open_buy``/``open_sell`` are the sizes
        still working on the symbol, ``open_orders`` the deployment's live orders.
        """
        lim = self.limits
        if lim.max_order_size is not None and size > lim.max_order_size:
            return RejectReason.RISK_MAX_ORDER_SIZE
        if lim.max_position is not None:
            if side == Side.BUY:
                before = position + open_buy
                after = before + size
            else:
                before = position - open_sell
                after = before - size
            if _position_breach(before, after, lim.max_position):
                return RejectReason.RISK_MAX_POSITION
        if lim.max_notional is not None and _notional_breach(
            price, size, reference_price, lim.max_notional
        ):
            return RejectReason.RISK_MAX_NOTIONAL
        if lim.max_open_orders is not None and open_orders + 1 > lim.max_open_orders:
            return RejectReason.RISK_MAX_OPEN_ORDERS
        if self._rate_breach(ts):
            return RejectReason.RISK_ORDER_RATE
        return None

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
        """First limit replacing an order (``old_size`` total, ``filled`` done) with
        (``price``, ``size`` total) would breach, or None.

        The old order's remaining is already inside ``open_buy``/``open_sell``; the
        replacement swaps it for ``size - filled``. The open-order count does not change,
        so that limit is not checked; the replace does count toward the order rate.
        """
        lim = self.limits
        if lim.max_order_size is not None and size > lim.max_order_size:
            return RejectReason.RISK_MAX_ORDER_SIZE
        if lim.max_position is not None:
            old_remaining = old_size - filled
            new_remaining = size - filled
            if side == Side.BUY:
                before = position + open_buy
                after = before - old_remaining + new_remaining
            else:
                before = position - open_sell
                after = before + old_remaining - new_remaining
            if _position_breach(before, after, lim.max_position):
                return RejectReason.RISK_MAX_POSITION
        if lim.max_notional is not None and _notional_breach(
            price, size, reference_price, lim.max_notional
        ):
            return RejectReason.RISK_MAX_NOTIONAL
        if self._rate_breach(ts):
            return RejectReason.RISK_ORDER_RATE
        return None

    def record_order(self, ts: int) -> None:
        """Count an order or replace actually sent at ``ts`` toward the rate window."""
        sent = self._sent
        if sent and ts < sent[-1]:
            ts = sent[-1]  # keep the window sorted if a live clock steps back
        sent.append(ts)
        self._expire(ts)

    def orders_in_window(self, ts: int) -> int:
        """Orders sent in (ts - 1 s, ts]."""
        self._expire(ts)
        return len(self._sent)

    def _expire(self, ts: int) -> None:
        sent = self._sent
        horizon = ts - RATE_WINDOW_NS
        while sent and sent[0] <= horizon:
            sent.popleft()

    def _rate_breach(self, ts: int) -> bool:
        limit = self.limits.max_orders_per_second
        if limit is None:
            return False
        self._expire(ts)
        return len(self._sent) + 1 > limit


def _position_breach(before: int, after: int, limit: int) -> bool:
    """Breach if the worst case ends above the limit and the order grew it."""
    return abs(after) > limit and abs(after) > abs(before)


def _notional_breach(price: int | None, size: int, reference_price: int | None, limit: int) -> bool:
    px = price if price is not None else reference_price
    if px is None:
        return True  # no price to value it at: cannot show it is within the limit
    return abs(notional(px, size)) > limit
