"""A single-venue market maker: joins the best bid and ask, skews away from inventory.

It keeps one bid and one ask resting (post-only), moves them with the book by
replacing them, leans its quotes against its position so fills on one side make
fills on the other more likely, and stops quoting the side that would take its
inventory past ``max_inventory``.
"""

from __future__ import annotations

from typing import Any

from meshrt import Actions, Algo, AlgoState, Book, Features, Fill, Reject, Side, TimeInForce


class MarketMaker(Algo):
    def __init__(self, host: Any, params: dict[str, Any]) -> None:
        super().__init__(host, params)
        self.size: int = params["size"]
        self.tick: int = params["tick"]
        self.max_inventory: int = params["max_inventory"]
        self.skew_ticks: int = params.get("skew_ticks", 1)  # ticks of lean per `size` held
        self.bid_id: int | None = None
        self.ask_id: int | None = None
        self.seen: tuple[Any, ...] = ()
        self.fills = 0
        self.rejects = 0

    def on_book(self, book: Book, state: AlgoState, features: Features, actions: Actions) -> None:
        bids, asks = book.bid_prices, book.ask_prices
        if not bids or not asks:
            return
        # most updates change neither the touch nor our orders: nothing to decide then
        orders = state.open_orders
        seen = (bids[0], asks[0], orders.get(self.bid_id), orders.get(self.ask_id))
        if seen == self.seen:
            return
        self.seen = seen
        position = state.position()
        lean = (position * self.skew_ticks // self.size) * self.tick
        bid = book.bid_prices[0] - lean
        ask = book.ask_prices[0] - lean
        if bid >= book.ask_prices[0]:
            bid = book.ask_prices[0] - self.tick
        if ask <= book.bid_prices[0]:
            ask = book.bid_prices[0] + self.tick
        self.bid_id = self._quote(
            state,
            actions,
            self.bid_id,
            Side.BUY,
            bid,
            position + self.size <= self.max_inventory,
        )
        self.ask_id = self._quote(
            state,
            actions,
            self.ask_id,
            Side.SELL,
            ask,
            position - self.size >= -self.max_inventory,
        )

    def _quote(
        self,
        state: AlgoState,
        actions: Actions,
        order_id: int | None,
        side: Side,
        price: int,
        allowed: bool,
    ) -> int | None:
        order = state.open_orders.get(order_id) if order_id is not None else None
        if order is None:
            if not allowed:
                return None
            return actions.limit(side, price, self.size, TimeInForce.POST_ONLY)
        if not order.accepted or order.pending:
            return order_id  # wait for the venue's answer before touching it again
        if not allowed:
            actions.cancel(order_id)
        elif order.price != price:
            actions.replace(order_id, price, order.filled + self.size)
        return order_id

    def on_stop(self, state: AlgoState, actions: Actions) -> None:
        actions.cancel_all()  # a stopped maker should not leave quotes behind

    def on_fill(self, fill: Fill, state: AlgoState, actions: Actions) -> None:
        self.fills += 1

    def on_reject(self, reject: Reject, state: AlgoState, actions: Actions) -> None:
        self.rejects += 1
