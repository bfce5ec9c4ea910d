"""A maker that reports its fills over the mesh, and a hedger that offsets them elsewhere.

The maker quotes on one venue (it is the bundled MarketMaker) and, on every fill,
sends ``(side, size)`` to the hedger's label: 9 bytes, far under the 256-byte limit.
The hedger, on a venue in another region, takes the opposite side with a market
order. Whatever it could not hedge yet (a reject, say) it retries on its heartbeat,
so the net exposure across both venues stays near zero.
"""

from __future__ import annotations

import struct
from typing import Any

from market_maker import MarketMaker

from meshrt import NBBO, Actions, Algo, AlgoState, Book, Features, Fill, Message, Reject, Side

FILL_REPORT = struct.Struct("<Bq")  # side, size (1e-8)


class ReportingMaker(MarketMaker):
    def on_fill(self, fill: Fill, state: AlgoState, actions: Actions) -> None:
        super().on_fill(fill, state, actions)
        self.host.send(self.params["hedger"], FILL_REPORT.pack(fill.side, fill.size))


class Hedger(Algo):
    def __init__(self, host: Any, params: dict[str, Any]) -> None:
        super().__init__(host, params)
        self.target = 0  # the position that offsets every maker fill reported so far

    def on_message(self, message: Message, state: AlgoState, actions: Actions) -> None:
        side, size = FILL_REPORT.unpack(message.payload)
        # the maker bought: we sell, and the other way round
        self.target += -size if side == Side.BUY else size
        self._hedge(state, actions)

    def on_heartbeat(self, state: AlgoState, actions: Actions) -> None:
        self._hedge(state, actions)

    def _hedge(self, state: AlgoState, actions: Actions) -> None:
        """Trade the gap to the target, one order at a time; partial fills, cancels and
        rejects are all caught up on the next message or heartbeat."""
        if state.open_orders:
            return
        needed = self.target - state.position()
        if needed:
            actions.market(Side.BUY if needed > 0 else Side.SELL, abs(needed))

    def on_book(self, book: Book, state: AlgoState, features: Features, actions: Actions) -> None:
        pass

    def on_fill(self, fill: Fill, state: AlgoState, actions: Actions) -> None:
        if fill.remaining == 0:  # the hedge is done: trade whatever gap is left now
            self._hedge(state, actions)

    def on_reject(self, reject: Reject, state: AlgoState, actions: Actions) -> None:
        pass


class NbboHedger(Hedger):
    """The hedger, also watching the NBBO of its symbol across every venue quoting it
    (scenarios/paper_mesh.py): its report says how often the NBBO moved and where it
    ended."""

    def __init__(self, host: Any, params: dict[str, Any]) -> None:
        super().__init__(host, params)
        self.nbbo_updates = 0
        self.last_nbbo: NBBO | None = None

    def on_nbbo(self, nbbo: NBBO, state: AlgoState, actions: Actions) -> None:
        self.nbbo_updates += 1
        self.last_nbbo = nbbo

    def report(self) -> dict[str, Any]:
        nbbo = self.last_nbbo
        last = None
        if nbbo is not None:
            last = {"bid": nbbo.bid_price, "bid_venue": nbbo.bid_venue}
            last.update(ask=nbbo.ask_price, ask_venue=nbbo.ask_venue)
        return {"nbbo_updates": self.nbbo_updates, "last_nbbo": last}
