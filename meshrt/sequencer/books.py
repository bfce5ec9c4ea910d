"""The books per deployment, as the sequencer keeps them: which deployment and ledger
an order belongs to, and equity marks at the mid of each venue's last book."""

from __future__ import annotations

import attrs

from meshrt.contract import mid_price
from meshrt.ledger import Ledger
from meshrt.sdk import Book
from meshrt.sequencer.lanes import Deployed, VenueLane
from meshrt.sequencer.order import Order


def mid(book: Book | None) -> int | None:
    """The reference price of a book: the mid of its top levels, if it has both sides."""
    if book is None or not book.bid_prices or not book.ask_prices:
        return None
    return mid_price(book.bid_prices[0], book.ask_prices[0])


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
