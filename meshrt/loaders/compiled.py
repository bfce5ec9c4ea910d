"""What the WASM and native slots share: symbol ids, input packing, host calls, replay.

A compiled algo sees the contract structs; this module turns the runtime's Python values
into them (the hot on_book path is packed in C by ``_dispatch``) and replays the algo's
Action structs through the instance's own ``Actions`` object, so client order ids, the
16-action limit and the algo's open-order view behave exactly as for a Python algo.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from meshrt.actors.instance import MessageRefused
from meshrt.contract import (
    ABI_VERSION,
    CALLBACK_NAMES,
    FILL,
    IO_OFFSETS,
    IO_SIZE,
    MAX_LABEL,
    MAX_NBBO_VENUES,
    MAX_PAYLOAD,
    MESSAGE,
    NBBO_HEADER,
    NBBO_VENUE,
    REJECT,
    SYMBOL_ALL,
    ActionKind,
)
from meshrt.loaders import _dispatch
from meshrt.loaders.errors import FAULTS, AlgoFault, BadAction, BadInput
from meshrt.log.checkpoint import CheckpointUnsupported
from meshrt.sdk import ActionLimitExceeded, Actions, AlgoState

INDEX = {name: i for i, name in enumerate(CALLBACK_NAMES)}
MAX_SYMBOLS = 0xFFFE  # ids 0..0xFFFE; 0xFFFF means "all symbols"
OK, REFUSED, BAD_ARG = 0, -1, -2

_compiled = _dispatch.layout()
assert _compiled["abi_version"] == ABI_VERSION and _compiled["size"] == IO_SIZE, _compiled
assert all(_compiled[name] == offset for name, offset in IO_OFFSETS.items()), _compiled


@attrs.frozen(slots=True)
class SlotContext:
    """Names behind the ids a compiled algo sees.

    Venue ids are the scenario's venue order. Symbol ids start with the deployment's
    symbols (so id 0 is its first, default symbol), then the venue's other symbols;
    names met later (subscribe, symbol()) get the next free id.
    """

    venues: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()


def _ledger_snapshot(state: AlgoState) -> tuple[int, int, int, int, tuple[Any, ...]]:
    """The ledger figures of the state struct; refreshed only after a fill."""
    ledger = state.ledger
    holdings = tuple(
        (symbol, ledger.position(symbol), ledger.cost_basis(symbol))
        for symbol in ledger.symbols
        if ledger.position(symbol)
    )
    return state.position(), ledger.cash, ledger.realized_pnl, ledger.fees, holdings


class MutedHost:
    """The host while a slot is restored from a checkpoint: the saved state already holds
    everything the algo did, so a host call made while the instance is rebuilt (a WASM
    start function, a native restore entry) must leave no trace. Every call is ignored
    and answers nothing (a parameter is not found)."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


class CompiledSlot:
    """Base of WasmSlot and NativeSlot: everything but loading and the call itself.

    Checkpoints pickle a slot: ``PICKLED`` is the Python side (ids, capabilities, and the
    instance's host, which the pickle keeps pointing at the same instance); each loader
    adds its algo's own state and rebuilds the instance from it on unpickling.
    """

    kind = "compiled"
    PICKLED = ("name", "host", "capabilities", "symbol_names", "symbol_ids", "venue_ids", "info")

    def __init__(self, name: str, host: Any, context: SlotContext, wasm: bool) -> None:
        self.name = name
        self.host = host
        self.capabilities: frozenset[str] = frozenset()
        self.symbol_names = list(dict.fromkeys(context.symbols))
        self.symbol_ids = {symbol: i for i, symbol in enumerate(self.symbol_names)}
        self.venue_ids = {venue: i for i, venue in enumerate(context.venues)}
        self._bind_dispatcher(wasm)

    def _bind_dispatcher(self, wasm: bool) -> None:
        self.dispatcher = _dispatch.Dispatcher(
            wasm,
            self.symbol_ids,
            self.venue_ids,
            self._host_call,
            self._replay,
            self._fault,
            _ledger_snapshot,
        )
        self.on_book: Callable[..., Any] = self.dispatcher.on_book
        self._call = self.dispatcher.call

    # -- checkpoints ----------------------------------------------------------------------

    def _pickled(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.PICKLED}

    def _unsaveable(self, reason: str) -> CheckpointUnsupported:
        label = getattr(getattr(self.host, "_instance", None), "label", None)
        where = f"deployment {label!r}: " if label is not None else ""
        return CheckpointUnsupported(
            f"{where}{self.kind} algo {self.name!r} cannot be checkpointed: {reason}"
        )

    @contextlib.contextmanager
    def _muted(self) -> Iterator[None]:
        host, self.host = self.host, MutedHost()
        try:
            yield
        finally:
            self.host = host

    # -- the callbacks the instance calls ---------------------------------------------

    def on_fill(self, fill: Any, state: AlgoState, actions: Actions) -> None:
        payload = FILL.pack(
            fill.ts,
            fill.order_id,
            self._symbol_id(fill.symbol),
            self._venue_id(fill.venue),
            fill.side,
            fill.liquidity,
            0,
            fill.price,
            fill.size,
            fill.fee,
            fill.remaining,
        )
        self._call(INDEX["on_fill"], state, actions, payload, IO_OFFSETS["fill"])

    def on_reject(self, reject: Any, state: AlgoState, actions: Actions) -> None:
        payload = REJECT.pack(
            reject.ts, reject.order_id, int(reject.reason), int(reject.action), 0, 0
        )
        self._call(INDEX["on_reject"], state, actions, payload, IO_OFFSETS["reject"])

    def optional(self, name: str) -> Callable[..., Any] | None:
        """The optional callback with the Python SDK's signature, or None if not declared."""
        if name not in self.capabilities:
            return None
        index = INDEX[name]
        call = self._call
        if name == "on_nbbo":
            return lambda nbbo, state, actions: call(
                index, state, actions, self._pack_nbbo(nbbo), IO_OFFSETS["nbbo"]
            )
        if name == "on_message":
            return lambda message, state, actions: call(
                index, state, actions, self._pack_message(message), IO_OFFSETS["message"]
            )
        if name in ("on_subscribed", "on_unsubscribed"):
            return lambda symbol, state, actions: call(
                index,
                state,
                actions,
                self._symbol_id(symbol).to_bytes(8, "little"),
                IO_OFFSETS["symbol"],
            )
        if name == "on_shutdown":
            return lambda state: call(index, state, None, None, 0)
        return lambda state, actions: call(index, state, actions, None, 0)

    def close(self) -> None:
        self.dispatcher.close()

    # -- ids and packing ----------------------------------------------------------------

    def _symbol_id(self, symbol: str) -> int:
        found = self.symbol_ids.get(symbol)
        if found is not None:
            return found
        if len(self.symbol_names) > MAX_SYMBOLS:
            raise BadInput(f"more than {MAX_SYMBOLS} distinct symbols")
        self.symbol_ids[symbol] = len(self.symbol_names)
        self.symbol_names.append(symbol)
        return self.symbol_ids[symbol]

    def _symbol_name(self, symbol_id: int) -> str:
        if 0 <= symbol_id < len(self.symbol_names):
            return self.symbol_names[symbol_id]
        return f"<unknown symbol id {symbol_id}>"  # the sequencer rejects it: UNKNOWN_SYMBOL

    def _venue_id(self, venue: str) -> int:
        found = self.venue_ids.get(venue)
        if found is None:
            raise BadInput(f"unknown venue {venue!r}")
        return found

    def _pack_nbbo(self, nbbo: Any) -> bytes:
        if len(nbbo.venues) > MAX_NBBO_VENUES:
            raise BadInput(f"NBBO of {len(nbbo.venues)} venues; at most {MAX_NBBO_VENUES}")
        venue = {name: i for i, name in enumerate(self.venue_ids)}
        parts = [
            NBBO_HEADER.pack(
                nbbo.ts,
                self._symbol_id(nbbo.symbol),
                len(nbbo.venues),
                venue.get(nbbo.bid_venue, 0xFFFF),
                venue.get(nbbo.ask_venue, 0xFFFF),
                nbbo.bid_price or 0,
                nbbo.bid_size or 0,
                nbbo.ask_price or 0,
                nbbo.ask_size or 0,
            )
        ]
        for quote in nbbo.venues:
            parts.append(
                NBBO_VENUE.pack(
                    self._venue_id(quote.venue),
                    0,
                    0,
                    quote.bid_price or 0,
                    quote.bid_size or 0,
                    quote.ask_price or 0,
                    quote.ask_size or 0,
                )
            )
        parts.append(bytes(NBBO_VENUE.size * (MAX_NBBO_VENUES - len(nbbo.venues))))
        return b"".join(parts)

    def _pack_message(self, message: Any) -> bytes:
        sender = message.sender.encode()
        if len(sender) > MAX_LABEL:
            raise BadInput(f"sender label {message.sender!r} is over {MAX_LABEL} bytes")
        if len(message.payload) > MAX_PAYLOAD:
            raise BadInput(
                f"message payload of {len(message.payload)} bytes; at most {MAX_PAYLOAD}"
            )
        return MESSAGE.pack(
            message.ts, len(sender), len(message.payload), 0, sender, bytes(message.payload)
        )

    # -- what the dispatcher calls back -----------------------------------------------

    def _fault(self, code: int, detail: str, index: int | None = None) -> AlgoFault:
        """The fault the dispatcher raises; ``index``: the export that trapped (WASM)."""
        return FAULTS[code](f"{self.kind} algo {self.name}: {detail}")

    def _host_call(self, op: str, a: Any, b: Any = None) -> Any:
        """Host calls from compiled code, by name; errors become result codes."""
        host = self.host
        if op == "send":
            try:
                host.send(a, b)
            except MessageRefused as exc:  # counted by the host; the algo gets MR_REFUSED
                host.log(f"message refused: {exc}")
                return REFUSED
            return OK
        if op == "symbol":
            return self._symbol_id(a)
        if op in ("subscribe", "unsubscribe"):
            getattr(host, op)(a)
            return self._symbol_id(a)
        if op == "position":
            return host.position(self._symbol_name(a)) if 0 <= a < len(self.symbol_names) else 0
        if op == "param":
            value = host.param(a)
            return int(value) if isinstance(value, int) else None
        if op == "set_param":
            host.set_param(a, b)
            return OK
        if op == "log":
            host.log(a)
            return OK
        raise AssertionError(op)  # pragma: no cover - the dispatcher only sends the above

    def _replay(self, items: tuple[tuple[int, ...], ...], refused: int, actions: Actions) -> None:
        """Replay the algo's Action structs through ``actions``, in order."""
        for n, (kind, side, tif, client_id, target, price, size, symbol) in enumerate(items):
            if kind == ActionKind.LIMIT:
                # the algo's raw ints: Actions refuses a bad side or tif as it does Python's
                order_id = actions.limit(
                    side,  # type: ignore[arg-type]
                    price,
                    size,
                    tif,  # type: ignore[arg-type]
                    self._symbol_name(symbol),
                )
            elif kind == ActionKind.MARKET:
                order_id = actions.market(
                    side,  # type: ignore[arg-type]
                    size,
                    self._symbol_name(symbol),
                )
            elif kind == ActionKind.CANCEL:
                actions.cancel(target)
                continue
            elif kind == ActionKind.REPLACE:
                actions.replace(target, price, size)
                continue
            elif kind == ActionKind.CANCEL_ALL:
                actions.cancel_all(None if symbol == SYMBOL_ALL else self._symbol_name(symbol))
                continue
            else:
                raise BadAction(f"{self.kind} algo {self.name}: action {n} has unknown kind {kind}")
            if client_id and client_id != order_id:
                raise BadAction(
                    f"{self.kind} algo {self.name}: action {n} uses client order id "
                    f"{client_id}, but the next id is {order_id} (take ids from "
                    "state->next_order_id, as mr_limit/mr_market do)"
                )
        if refused:
            actions.refused += refused
            raise ActionLimitExceeded(
                f"{self.kind} algo {self.name}: {refused} action(s) past the limit refused: "
                f"at most {len(items)} actions per callback"
            )
