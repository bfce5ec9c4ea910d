"""The Python SDK: what an algo author subclasses and what each callback receives.

An algo is a subclass of :class:`Algo`. The host calls its callbacks with explicit
inputs (``book, state, features, actions``): everything an algo may read arrives as an
argument, and the only way to change the world is through ``actions`` (orders) and the
host calls on ``self.host`` (messages, subscriptions, parameters, log). Values handed
in are immutable tuples or per-instance views, so an algo cannot reach engine state.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple, Protocol

from meshrt.contract import CALLBACK_NAMES, Side, mid_price, notional
from meshrt.ledger import Ledger

# compiled (_actions.pyx): a reacting algo calls them on every move of its orders
from meshrt.sdk._actions import Actions as Actions, with_pending as with_pending

# the contract's callback order: the three required callbacks, then the optional ones
REQUIRED_CALLBACKS: tuple[str, ...] = CALLBACK_NAMES[:3]
OPTIONAL_CALLBACKS: tuple[str, ...] = CALLBACK_NAMES[3:]


class Book(NamedTuple):
    """An immutable L2 snapshot: the contract's 656-byte book as Python values.

    Prices and sizes are fixed-point ints, best level first. Shared by every
    subscriber of the (venue, symbol), which is safe because it is a tuple.
    """

    ts: int
    symbol: str
    venue: str
    bid_prices: tuple[int, ...]
    bid_sizes: tuple[int, ...]
    ask_prices: tuple[int, ...]
    ask_sizes: tuple[int, ...]

    @property
    def best_bid(self) -> int | None:
        return self.bid_prices[0] if self.bid_prices else None

    @property
    def best_ask(self) -> int | None:
        return self.ask_prices[0] if self.ask_prices else None


class Features(NamedTuple):
    """Host-computed online features of one (venue, symbol) at the book's time.

    volatility and trade_flow are kept incrementally by the venue; the book-derived
    features are computed on access so an algo that never reads them never pays.
    mid, microprice, spread and volatility are in price units (1e-9); imbalance is
    (bid size - ask size) / (bid size + ask size) at the top level in 1e-9 units;
    trade_flow is decayed signed traded size (1e-8, buyer-initiated positive).
    A book with an empty side gives 0 for mid, microprice, spread and imbalance.
    """

    book: Book
    volatility: int
    trade_flow: int

    @property
    def mid(self) -> int:
        book = self.book
        if not book.bid_prices or not book.ask_prices:
            return 0
        return mid_price(book.bid_prices[0], book.ask_prices[0])

    @property
    def spread(self) -> int:
        book = self.book
        if not book.bid_prices or not book.ask_prices:
            return 0
        return book.ask_prices[0] - book.bid_prices[0]

    @property
    def microprice(self) -> int:
        book = self.book
        if not book.bid_prices or not book.ask_prices:
            return 0
        bid_size, ask_size = book.bid_sizes[0], book.ask_sizes[0]
        total = bid_size + ask_size
        if total == 0:
            return mid_price(book.bid_prices[0], book.ask_prices[0])
        return (book.bid_prices[0] * ask_size + book.ask_prices[0] * bid_size) // total

    @property
    def imbalance(self) -> int:
        book = self.book
        if not book.bid_prices or not book.ask_prices:
            return 0
        bid_size, ask_size = book.bid_sizes[0], book.ask_sizes[0]
        total = bid_size + ask_size
        return (bid_size - ask_size) * 1_000_000_000 // total if total else 0


class Fill(NamedTuple):
    """One execution of one of the algo's orders (contract FILL)."""

    ts: int
    order_id: int
    symbol: str
    venue: str
    side: Side
    liquidity: int
    price: int
    size: int
    fee: int
    remaining: int


class Reject(NamedTuple):
    """A refused intent or order (contract REJECT); ``reason`` is a RejectReason."""

    ts: int
    order_id: int
    reason: int
    action: int
    detail: str


class VenueQuote(NamedTuple):
    venue: str
    bid_price: int
    bid_size: int
    ask_price: int
    ask_size: int


class NBBO(NamedTuple):
    """The consolidated best bid and offer across venues for one symbol."""

    ts: int
    symbol: str
    bid_price: int
    bid_size: int
    bid_venue: str
    ask_price: int
    ask_size: int
    ask_venue: str
    venues: tuple[VenueQuote, ...]


class Message(NamedTuple):
    """A mesh message; ``sender`` is stamped by the coordinator, never by the sender."""

    ts: int
    sender: str
    payload: bytes


class OpenOrder(NamedTuple):
    """A live order as the algo knows it.

    ``accepted`` once the venue's acknowledgement has reached the algo (only then can
    it be cancelled or replaced); ``pending`` while a cancel or replace the algo asked
    for has not been answered yet.
    """

    order_id: int
    symbol: str
    side: Side
    price: int | None
    size: int
    filled: int
    accepted: bool = False
    pending: bool = False


_new_tuple = tuple.__new__


def with_filled(order: OpenOrder, filled: int) -> OpenOrder:
    """``order._replace(filled=filled)`` without namedtuple's generic path."""
    return _new_tuple(OpenOrder, (*order[:5], filled, *order[6:]))


class AlgoState:
    """The algo's own view of itself, kept by its instance from delivered reports.

    This is a per-instance copy: changing it changes nothing in the engine. It lags
    the sequencer's books by exactly the report latency, as a real edge's view does.
    """

    __slots__ = ("now", "symbol", "next_order_id", "open_orders", "ledger", "books")

    def __init__(self, symbol: str) -> None:
        self.now = 0
        self.symbol = symbol
        self.next_order_id = 1
        self.open_orders: dict[int, OpenOrder] = {}
        self.ledger = Ledger()
        self.books: dict[str, Book] = {}

    def position(self, symbol: str | None = None) -> int:
        return self.ledger.position(symbol or self.symbol)

    @property
    def cash(self) -> int:
        return self.ledger.cash

    @property
    def fees(self) -> int:
        return self.ledger.fees

    @property
    def realized_pnl(self) -> int:
        return self.ledger.realized_pnl

    @property
    def unrealized_pnl(self) -> int:
        """Open positions valued at the mid of the last book this instance received."""
        total = 0
        for symbol in self.ledger.symbols:
            position = self.ledger.position(symbol)
            book = self.books.get(symbol)
            if position and book is not None and book.bid_prices and book.ask_prices:
                mid = mid_price(book.bid_prices[0], book.ask_prices[0])
                total += notional(mid, position) - self.ledger.cost_basis(symbol)
        return total


class ActionLimitExceeded(RuntimeError):
    """More than MAX_ACTIONS actions in one callback; the extra one is refused and counted."""


class Host(Protocol):
    """Host calls available to every loader (DESIGN section 4)."""

    def send(self, label: str, payload: bytes) -> None: ...
    def subscribe(self, symbol: str) -> None: ...
    def unsubscribe(self, symbol: str) -> None: ...
    def position(self, symbol: str) -> int: ...
    def param(self, name: str, default: Any = None) -> Any: ...
    def set_param(self, name: str, value: Any) -> None: ...
    def log(self, message: str) -> None: ...
    def order(self, order_id: int) -> OpenOrder | None:
        """One of the algo's open orders by client id (the view state.open_orders holds);
        compiled algos see open orders only through this call."""
        ...


class Algo:
    """Base class of Python algos.

    Subclasses implement the three required callbacks and any optional ones; the
    host detects capabilities from what the subclass overrides and prepares inputs
    only for those. ``self.host`` gives the host calls; ``self.params`` the
    deployment's parameters.
    """

    capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.capabilities = frozenset(
            name for name in OPTIONAL_CALLBACKS if getattr(cls, name) is not getattr(Algo, name)
        )

    def __init__(self, host: Host, params: dict[str, Any]) -> None:
        self.host = host
        self.params = params

    # required
    def on_book(self, book: Book, state: AlgoState, features: Features, actions: Actions) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement on_book")

    def on_fill(self, fill: Fill, state: AlgoState, actions: Actions) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement on_fill")

    def on_reject(self, reject: Reject, state: AlgoState, actions: Actions) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement on_reject")

    # optional
    def on_nbbo(self, nbbo: NBBO, state: AlgoState, actions: Actions) -> None: ...
    def on_message(self, message: Message, state: AlgoState, actions: Actions) -> None: ...
    def on_heartbeat(self, state: AlgoState, actions: Actions) -> None: ...
    def on_start(self, state: AlgoState, actions: Actions) -> None: ...
    def on_stop(self, state: AlgoState, actions: Actions) -> None: ...
    def on_pause(self, state: AlgoState, actions: Actions) -> None: ...
    def on_resume(self, state: AlgoState, actions: Actions) -> None: ...
    def on_subscribed(self, symbol: str, state: AlgoState, actions: Actions) -> None: ...
    def on_unsubscribed(self, symbol: str, state: AlgoState, actions: Actions) -> None: ...
    def on_shutdown(self, state: AlgoState) -> None: ...

    # not a callback: read once, at the end of the run
    def report(self) -> dict[str, Any] | None:
        """The algo's own figures for summary.json (``deployments[i].report``) and the
        RunResult: a dict that survives JSON unchanged (str keys; int, finite float, str,
        bool, None, lists and dicts of them). None: nothing to report."""
        return None


def missing_required(cls: type[Algo]) -> list[str]:
    """The required callbacks a class leaves unimplemented."""
    return [name for name in REQUIRED_CALLBACKS if getattr(cls, name) is getattr(Algo, name)]
