"""A venue's fees: the one home of the fee rule (parts per million of a fill's notional,
floored). The matching engine charges it on every fill; a scenario's ``Venue`` holds it."""

from __future__ import annotations

from typing import Final

import attrs

from meshrt.contract import Liquidity, notional
from meshrt.validators import ppm

MAKER: Final = int(Liquidity.MAKER)
PPM: Final = 1_000_000


@attrs.frozen(slots=True)
class FeeSchedule:
    """Venue fees in parts per million of notional; a negative rate is a rebate."""

    maker_ppm: int = attrs.field(default=0, validator=ppm)
    taker_ppm: int = attrs.field(default=0, validator=ppm)

    def fee(self, liquidity: int, price: int, size: int) -> int:
        """Fee in price units, floored (a fractional fee rounds down, a rebate up in size)."""
        ppm = self.maker_ppm if liquidity == MAKER else self.taker_ppm
        return ppm * notional(price, size) // PPM
