"""The books per deployment, as the sequencer keeps them: which deployment and ledger
an order belongs to, and equity marks at the mid of each venue's last book (``mid``,
compiled in meshrt/sequencer/risk.pyx: the intent desk takes its reference price there)."""

from __future__ import annotations

import attrs

from meshrt.ledger import Ledger
from meshrt.sequencer.lanes import Deployed, VenueLane
from meshrt.sequencer.order import Order
from meshrt.sequencer.risk import mid


@attrs.define(slots=True, eq=False)
class Books:
    lanes: list[VenueLane]
    deployed: list[Deployed]
    by_label: dict[str, Deployed]

    def deployment_of(self, order: Order) -> Deployed:
        return self.by_label[order.deployment]

    def ledger_of(self, order: Order) -> Ledger:
        return self.by_label[order.deployment].ledger

    def mark_all(self) -> None:
        """Mark every position at its venue's mid (drawdown is sampled from the marks)."""
        for dep in self.deployed:
            lane = self.lanes[dep.venue]
            for symbol in dep.ledger.symbols:
                if symbol in lane.symbols:
                    price = mid(lane.last_book[lane.symbols.index(symbol)])
                    if price is not None:
                        dep.ledger.mark(symbol, price)
