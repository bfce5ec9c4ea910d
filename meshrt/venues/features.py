"""Per-symbol state of the online features a venue keeps incrementally, and their rules.

Integer exponential moving averages, so results are identical on every machine:
volatility tracks |change of mid| with weight 1/16 per book update; trade flow adds
each print's signed size (buyer-initiated positive) and decays by 1/32 per book
update. The methods below are the rules' one Python home. The venue applies the same
rules in compiled form (``VenueSymbol`` in meshrt/venues/_feed.pyx, whose int64 fields
are this state); tests/test_book.py checks the two agree on random feeds.
"""

from __future__ import annotations

from meshrt.contract import Side

_BUY = int(Side.BUY)


class FeatureTracker:
    __slots__ = ("last_mid", "volatility", "trade_flow")

    def __init__(self) -> None:
        self.last_mid = 0
        self.volatility = 0
        self.trade_flow = 0

    def on_trade(self, aggressor: int, size: int) -> None:
        """A trade print: buyer-initiated size adds to the flow, any other subtracts."""
        self.trade_flow += size if aggressor == _BUY else -size

    def on_book(self, mid: int | None) -> None:
        """A book update; ``mid`` is None when a side is empty (volatility holds)."""
        self.trade_flow -= self.trade_flow >> 5
        if mid is None:
            return
        if self.last_mid:
            self.volatility += (abs(mid - self.last_mid) - self.volatility) >> 4
        self.last_mid = mid
