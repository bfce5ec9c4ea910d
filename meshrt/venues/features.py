"""Per-symbol state of the online features a venue keeps incrementally.

Integer exponential moving averages, so results are identical on every machine:
volatility tracks |change of mid| with weight 1/16 per book update; trade flow adds
each print's signed size (buyer-initiated positive) and decays by 1/32 per book
update. The venue's feed loop (``play`` in meshrt/venues/_book.c) applies these rules,
reading this state at the start of a window's events and writing it back at the end.
"""

from __future__ import annotations


class FeatureTracker:
    __slots__ = ("last_mid", "volatility", "trade_flow")

    def __init__(self) -> None:
        self.last_mid = 0
        self.volatility = 0
        self.trade_flow = 0
