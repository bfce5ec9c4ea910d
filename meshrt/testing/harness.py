"""Drive one algo by hand: books, fills, rejects, messages, NBBO views and heartbeats in,
what it emitted out, with no venue and no sequencer.

The algo is loaded by the runtime's own loaders (``meshrt.loaders.load_slot``: a Python
class or reference, a ``.wasm`` module, a native ``.so``) into the runtime's own instance
actor (``meshrt.actors.instance.AlgoInstance``), and every input is the delivery a run
would hand it: the same callbacks, state keeping (open orders, ledger), action limits,
message limits and crash containment as in a run. Prices and sizes given as ``str`` or
``float`` are decimals (``"100.01"``); ``int`` ones are contract units already.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from meshrt.actors.coordinator import consolidate
from meshrt.actors.instance import AlgoInstance
from meshrt.actors.mailbox import Mailbox
from meshrt.actors.protocol import (
    ActionOut,
    BookDelivery,
    CrashOut,
    Delivery,
    FillDelivery,
    HeartbeatDelivery,
    InstanceOutput,
    LifecycleDelivery,
    LogOut,
    MessageDelivery,
    MessageOut,
    NbboDelivery,
    OrderDelivery,
    RejectDelivery,
    SetParamOut,
    ShutdownDelivery,
    SubscribedDelivery,
    SubscribeOut,
)
from meshrt.contract import (
    BOOK_DEPTH,
    ActionKind,
    Liquidity,
    RejectReason,
    price_to_int,
    size_to_int,
)
from meshrt.loaders import load_slot
from meshrt.scenario.definition import Deployment
from meshrt.scenario.limits import SandboxLimits
from meshrt.sdk import Algo, AlgoState, Book, Features, Fill, Message, OpenOrder, Reject
from meshrt.testing.actions import Action, typed

Number = int | float | str  # int: contract units; float or str: a decimal
LABEL = "algo"
STEP_NS = 1_000_000  # an input without a time comes this long after the one before


@attrs.frozen(slots=True)
class Emitted:
    """Everything one input made the algo do, in order within each kind."""

    actions: tuple[Action, ...] = ()
    messages: tuple[MessageOut, ...] = ()
    logs: tuple[str, ...] = ()
    params: tuple[SetParamOut, ...] = ()
    subscriptions: tuple[SubscribeOut, ...] = ()
    crashed: str | None = None  # "ExceptionType: message" when the callback crashed

    @classmethod
    def of(cls, outputs: Sequence[InstanceOutput]) -> Emitted:
        crashes = [out.error for out in outputs if type(out) is CrashOut]
        return cls(
            tuple(typed(out.action) for out in outputs if type(out) is ActionOut),
            tuple(out for out in outputs if type(out) is MessageOut),
            tuple(out.message for out in outputs if type(out) is LogOut),
            tuple(out for out in outputs if type(out) is SetParamOut),
            tuple(out for out in outputs if type(out) is SubscribeOut),
            crashes[0] if crashes else None,
        )


class AlgoHarness:
    """One loaded algo and the clock of its inputs (``now``, ns)."""

    def __init__(self, instance: AlgoInstance, venue: str) -> None:
        self.instance = instance
        self.venue = venue
        self.now = 0
        self.started = Emitted()  # what on_start emitted when ``load`` started the algo

    @classmethod
    def load(
        cls,
        algo: type[Algo] | str | Path,
        params: Mapping[str, Any] | None = None,
        *,
        symbols: Sequence[str] = ("XYZ",),
        venue: str = "sim",
        base_dir: Path | None = None,
        sandbox: SandboxLimits = SandboxLimits(),
        start: bool = True,
    ) -> AlgoHarness:
        """Load ``algo`` (a class, ``"file.py:Class"``, ``"module:Class"``, or a path to a
        ``.wasm`` or ``.so``; relative paths against ``base_dir``, else the working
        folder) with ``params``, as a deployment trading ``symbols`` on ``venue``, and
        start it (``start=False``: leave it stopped; ``lifecycle("start")`` later)."""
        deployment = Deployment(
            label=LABEL,
            venue=venue,
            symbols=tuple(symbols),
            algo=str(algo) if isinstance(algo, Path) else algo,
            params=dict(params or {}),
            sandbox=sandbox,
        )
        instance = AlgoInstance(
            0, LABEL, list(deployment.symbols), dict(deployment.params), Mailbox("harness")
        )
        instance.attach(load_slot(deployment, base_dir, instance.host, instance.params))
        harness = cls(instance, venue)
        if start:
            harness.started = harness.lifecycle("start", ts=0)
        return harness

    @property
    def state(self) -> AlgoState:
        """The algo's own view: open orders, ledger, position."""
        return self.instance.state

    @property
    def crashed(self) -> str | None:
        return self.instance.crashed

    @property
    def refused_actions(self) -> int:
        """Actions refused so far for being over the per-callback limit."""
        return self.instance.actions.refused

    def book(
        self,
        bids: Sequence[tuple[Number, Number]] = (),
        asks: Sequence[tuple[Number, Number]] = (),
        *,
        symbol: str | None = None,
        volatility: int = 0,
        trade_flow: int = 0,
        ts: int | None = None,
    ) -> Emitted:
        """``on_book`` with these levels, ``(price, size)`` best first."""
        at = self._at(ts)
        bid_prices, bid_sizes = _side(bids, "bids", descending=True)
        ask_prices, ask_sizes = _side(asks, "asks", descending=False)
        book = Book(
            at,
            symbol or self.state.symbol,
            self.venue,
            bid_prices,
            bid_sizes,
            ask_prices,
            ask_sizes,
        )
        return self.deliver(BookDelivery(at, book, Features(book, volatility, trade_flow)))

    def accept(self, order_id: int, *, ts: int | None = None) -> Emitted:
        """The venue accepted an open order: the algo may now cancel or replace it."""
        order = self._order(order_id)
        accepted = order._replace(accepted=True, pending=False)
        return self.deliver(OrderDelivery(self._at(ts), order_id, accepted))

    def done(self, order_id: int, *, ts: int | None = None) -> Emitted:
        """An open order ended without a fill the algo is told of (cancelled, expired)."""
        self._order(order_id)
        return self.deliver(OrderDelivery(self._at(ts), order_id, None))

    def fill(
        self,
        order_id: int,
        size: Number | None = None,
        price: Number | None = None,
        *,
        liquidity: Liquidity = Liquidity.MAKER,
        fee: Number = 0,
        ts: int | None = None,
    ) -> Emitted:
        """``on_fill`` for an open order: by default all that is left of it, at its price."""
        order = self._order(order_id)
        filled = order.size - order.filled if size is None else _size(size)
        at_price = order.price if price is None else _price(price)
        if at_price is None:
            raise ValueError(f"order {order_id} is a market order: give the fill's price")
        remaining = order.size - order.filled - filled
        if filled <= 0 or remaining < 0:
            raise ValueError(
                f"order {order_id} has {order.size - order.filled} left; cannot fill {filled}"
            )
        at = self._at(ts)
        fill = Fill(
            at,
            order_id,
            order.symbol,
            self.venue,
            order.side,
            liquidity,
            at_price,
            filled,
            _price(fee),
            remaining,
        )
        return self.deliver(FillDelivery(at, fill))

    def reject(
        self,
        order_id: int,
        reason: RejectReason = RejectReason.POST_ONLY_WOULD_CROSS,
        *,
        action: ActionKind | None = None,
        detail: str = "",
        pending: bool = False,
        ts: int | None = None,
    ) -> Emitted:
        """``on_reject`` for an order (``action``: what was refused; by default the
        order's own placement, LIMIT or MARKET)."""
        if action is None:
            order = self._order(order_id)
            action = ActionKind.MARKET if order.price is None else ActionKind.LIMIT
        at = self._at(ts)
        return self.deliver(
            RejectDelivery(at, Reject(at, order_id, reason, action, detail), pending)
        )

    def message(self, sender: str, payload: bytes, *, ts: int | None = None) -> Emitted:
        """``on_message`` from ``sender``."""
        at = self._at(ts)
        return self.deliver(MessageDelivery(at, Message(at, sender, payload)))

    def nbbo(
        self,
        quotes: Mapping[str, tuple[Number, Number, Number, Number]],
        *,
        symbol: str | None = None,
        ts: int | None = None,
    ) -> Emitted:
        """``on_nbbo`` consolidated (as the coordinator does) from each venue's
        ``(bid price, bid size, ask price, ask size)``."""
        at = self._at(ts)
        by_venue = {
            venue: (_price(bid), _size(bid_size), _price(ask), _size(ask_size))
            for venue, (bid, bid_size, ask, ask_size) in quotes.items()
        }
        return self.deliver(
            NbboDelivery(at, consolidate(at, symbol or self.state.symbol, by_venue))
        )

    def heartbeat(self, *, ts: int | None = None) -> Emitted:
        return self.deliver(HeartbeatDelivery(self._at(ts)))

    def lifecycle(self, transition: str, *, ts: int | None = None) -> Emitted:
        """``start``, ``stop``, ``pause`` or ``resume``, as a scenario's schedule does."""
        return self.deliver(LifecycleDelivery(self._at(ts), transition))

    def subscribed(self, symbol: str, on: bool = True, *, ts: int | None = None) -> Emitted:
        return self.deliver(SubscribedDelivery(self._at(ts), symbol, on))

    def shutdown(self, *, ts: int | None = None) -> Emitted:
        return self.deliver(ShutdownDelivery(self._at(ts)))

    def deliver(self, item: Delivery) -> Emitted:
        """Any delivery of meshrt/actors/protocol.py, as the instance actor gets it."""
        self.now = item.ts
        self.instance.step([item])
        return Emitted.of(self.instance.take_outputs())

    def close(self) -> None:
        """Release the algo (a compiled one's ``destroy``, then its library)."""
        if self.instance.slot is not None:
            self.instance.slot.close()
            self.instance.slot = None

    def __enter__(self) -> AlgoHarness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _at(self, ts: int | None) -> int:
        return self.now + STEP_NS if ts is None else ts

    def _order(self, order_id: int) -> OpenOrder:
        order = self.state.open_orders.get(order_id)
        if order is None:
            raise ValueError(f"no open order {order_id} (open: {sorted(self.state.open_orders)})")
        return order


def _price(value: Number) -> int:
    return value if isinstance(value, int) else price_to_int(value)


def _size(value: Number) -> int:
    return value if isinstance(value, int) else size_to_int(value)


def _side(
    levels: Sequence[tuple[Number, Number]], name: str, descending: bool
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A book side's prices and sizes, checked as the contract has them: best first, at
    most BOOK_DEPTH levels."""
    prices = tuple(_price(price) for price, _ in levels)
    sizes = tuple(_size(size) for _, size in levels)
    if len(prices) > BOOK_DEPTH:
        raise ValueError(f"{name}: {len(prices)} levels; a book has at most {BOOK_DEPTH}")
    ordered = sorted(prices, reverse=descending)
    if list(prices) != ordered or len(set(prices)) != len(prices):
        raise ValueError(f"{name}: prices must be distinct, best first: {prices}")
    return prices, sizes
