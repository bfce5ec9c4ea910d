"""Stateful online features a venue keeps per symbol: volatility and trade flow.

Integer exponential moving averages so results are identical on every machine:
volatility tracks |change of mid| with weight 1/16 per book update; trade flow adds
each print's signed size and decays by 1/32 per book update.
"""

from __future__ import annotations

from meshrt.contract import Side


class FeatureTracker:
    __slots__ = ("last_mid", "volatility", "trade_flow")

    def __init__(self) -> None:
        self.last_mid = 0
        self.volatility = 0
        self.trade_flow = 0

    def on_book(self, best_bid: int | None, best_ask: int | None) -> None:
        self.trade_flow -= self.trade_flow >> 5
        if best_bid is None or best_ask is None:
            return
        mid = (best_bid + best_ask) >> 1
        last = self.last_mid
        self.last_mid = mid
        if last:
            move = mid - last if mid >= last else last - mid
            self.volatility += (move - self.volatility) >> 4

    def on_trade(self, aggressor: int, size: int) -> None:
        self.trade_flow += size if aggressor == Side.BUY else -size
