"""The algo instance actor: one loaded algo slot, its lifecycle and its own view.

It receives deliveries in time order, calls the slot, and returns what the algo did
(actions and host calls) as one ``InstanceBatch`` per window. An exception in a
callback (any BaseException: a stray ``sys.exit()`` is algo code too) terminates this
instance only: it is recorded, its remaining deliveries are
counted as discarded, and the reply says it crashed.
"""

from __future__ import annotations

import traceback
from collections.abc import Hashable
from typing import Any

from meshrt.actors._deliver import LatencyHistogram, deliver, flush, step as step_batch
from meshrt.actors.mailbox import Mailbox
from meshrt.actors.protocol import (
    BookDelivery,
    CrashOut,
    Delivery,
    FillDelivery,
    HeartbeatDelivery,
    InstanceBatch,
    InstanceOutput,
    LifecycleDelivery,
    LogOut,
    MessageDelivery,
    MessageOut,
    NbboDelivery,
    RejectDelivery,
    RestartDelivery,
    SetParamOut,
    ShutdownDelivery,
    SubscribedDelivery,
    SubscribeOut,
)
from meshrt.contract import MAX_MESSAGES, MAX_PAYLOAD
from meshrt.scenario.limits import MailboxConfig
from meshrt.sdk import ActionLimitExceeded, Actions, AlgoState, OpenOrder, with_filled
from meshrt.validators import ScenarioValueError, check_param, shown

LIFECYCLE_CALLBACKS = {
    "start": "on_start",
    "stop": "on_stop",
    "pause": "on_pause",
    "resume": "on_resume",
}
RUNNING = "running"
# what a crash line names as running (meshrt/runtime/watchdog.py); on_book is named in C
CALLBACK_OF: dict[type[Delivery], str] = {
    FillDelivery: "on_fill",
    RejectDelivery: "on_reject",
    LifecycleDelivery: "a lifecycle callback",
    NbboDelivery: "on_nbbo",
    MessageDelivery: "on_message",
    HeartbeatDelivery: "on_heartbeat",
    SubscribedDelivery: "on_subscribed or on_unsubscribed",
    ShutdownDelivery: "on_shutdown",
}


class InjectedFault(Exception):
    """Raised inside an instance by fault injection (KillInstance)."""


class MessageRefused(ValueError):
    """A mesh message broke the contract's limits (size or count); it was not sent."""


class ParamRefused(ValueError):
    """``set_param`` with a value that is not a JSON value (meshrt.validators.check_param):
    it would log differently from run to run. Unlike a refused message it is a bug in the
    algo, so uncaught it crashes the instance like any other exception."""


def _market_data_key(item: Any) -> Hashable | None:
    """Only market data may be dropped or conflated; reports and lifecycle never are."""
    if type(item) is BookDelivery:
        book = item.book
        return (book.venue, book.symbol)
    return None


class InstanceHost:
    """The host calls of one instance (DESIGN section 4): outputs leave as data."""

    def __init__(self, instance: AlgoInstance) -> None:
        self._instance = instance

    def send(self, label: str, payload: bytes) -> None:
        inst = self._instance
        if not isinstance(label, str):
            inst.messages_refused += 1
            raise MessageRefused(f"message label {label!r} must be a string")
        if not isinstance(payload, (bytes, bytearray)):
            inst.messages_refused += 1
            raise MessageRefused(f"message payload to {label!r} must be bytes")
        if len(payload) > MAX_PAYLOAD:
            inst.messages_refused += 1
            raise MessageRefused(
                f"message to {label!r} is {len(payload)} bytes; at most {MAX_PAYLOAD}"
            )
        if inst.messages_this_callback >= MAX_MESSAGES:
            inst.messages_refused += 1
            raise MessageRefused(f"more than {MAX_MESSAGES} messages in one callback")
        inst.messages_this_callback += 1
        inst.outputs.append(MessageOut(inst.state.now, label, bytes(payload)))

    def subscribe(self, symbol: str) -> None:
        inst = self._instance
        inst.outputs.append(SubscribeOut(inst.state.now, symbol, True))

    def unsubscribe(self, symbol: str) -> None:
        inst = self._instance
        inst.outputs.append(SubscribeOut(inst.state.now, symbol, False))

    def position(self, symbol: str) -> int:
        return self._instance.state.position(symbol)

    def param(self, name: str, default: Any = None) -> Any:
        return self._instance.params.get(name, default)

    def set_param(self, name: str, value: Any) -> None:
        if type(name) is not str:
            raise ParamRefused(f"set_param name must be a string, got {shown(name)}")
        try:
            check_param(f"set_param({name!r}) value", value)
        except ScenarioValueError as exc:
            raise ParamRefused(str(exc)) from None
        inst = self._instance
        inst.params[name] = value
        inst.outputs.append(SetParamOut(inst.state.now, name, value))

    def log(self, message: str) -> None:
        inst = self._instance
        inst.outputs.append(LogOut(inst.state.now, str(message)))

    def order(self, order_id: int) -> OpenOrder | None:
        return self._instance.state.open_orders.get(order_id)


class AlgoInstance:
    """The actor around one deployed algo slot."""

    def __init__(
        self,
        index: int,
        label: str,
        symbols: list[str],
        params: dict[str, Any],
        reply_to: Mailbox[Any],
        mailbox: MailboxConfig = MailboxConfig(),
    ) -> None:
        self.index = index
        self.label = label
        self.params = dict(params)
        self.state = AlgoState(symbols[0])
        self.actions = Actions(self.state, symbols[0])
        self.host = InstanceHost(self)
        self.reply_to = reply_to
        self.mailbox: Mailbox[Any] = Mailbox(f"algo:{label}", mailbox, _market_data_key)
        self.slot: Any = None
        self.wasm = False
        self.factory: Any = None  # makes a new slot for this instance (supervised restart)
        self.on_book: Any = None
        self.on_nbbo: Any = None
        self.on_message: Any = None
        self.on_heartbeat: Any = None
        self.restarts = 0
        self.messages_received = 0
        self.lifecycle = "stopped"
        self.outputs: list[InstanceOutput] = []
        self.crashed: str | None = None
        self.crash_traceback: str | None = None
        self.latencies_ns = LatencyHistogram()  # on_book durations
        self.book_callbacks = 0
        self.skipped = 0  # market data that arrived while not running
        self.discarded = 0  # deliveries that arrived after a crash
        self.messages_this_callback = 0
        self.messages_refused = 0

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["factory"] = None  # rebuilt from the scenario on restore (it is a closure)
        # the slot's callables (a compiled slot's are bound to its dispatcher, or closures)
        # are taken from the restored slot again
        state.update(on_book=None, on_nbbo=None, on_message=None, on_heartbeat=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.slot is not None:
            self.attach(self.slot)

    def attach(self, slot: Any) -> None:
        self.slot = slot
        self.wasm = slot.kind == "wasm"  # faults are wasmtime's traps (meshrt/runtime/watchdog.py)
        self.on_book = slot.on_book
        self.on_nbbo = slot.optional("on_nbbo")
        self.on_message = slot.optional("on_message")
        self.on_heartbeat = slot.optional("on_heartbeat")

    def _restart(self, item: RestartDelivery) -> None:
        """A new slot from the factory, on the sequencer's books as of the restart."""
        restart = item.state
        state = self.state
        state.now = item.ts
        state.ledger = restart.ledger
        state.open_orders = dict(restart.open_orders)
        self.actions._buffer.clear()
        self.crashed = None
        self.crash_traceback = None
        self.restarts += 1
        try:
            self.attach(self.factory(self))
            self.lifecycle = "stopped"
            if restart.lifecycle in (RUNNING, "paused"):
                self._lifecycle("start")
                if restart.lifecycle == "paused":
                    self._lifecycle("pause")
        except BaseException as exc:  # noqa: BLE001 - the new algo may fail to start too
            self._callback_failed(item.ts, exc)
        self._flush(item.ts)

    async def run(self) -> None:
        """Run as a Trio task: step on each batch the mailbox receives, until told to stop."""
        while not self.step(await self.mailbox.receive_batch()):
            pass

    # Compiled (meshrt/actors/_deliver.pyx), the rules' one home. step: deliver a batch
    # in order, replying at each WindowEnd, True once told to stop (the sequencer calls
    # it directly in virtual time: meshrt/sequencer/_window.pyx); runs of books go to
    # on_book at C level, anything else to _deliver: one delivery, the instance's view
    # updated and its callback called; _flush(ts): a callback's actions moved into the
    # window's outputs, in order.
    step = step_batch
    _deliver = deliver
    _flush = flush

    def _reply(self) -> None:
        self.reply_to.send_nowait(InstanceBatch(self.index, self.take_outputs()))

    def take_outputs(self) -> list[InstanceOutput]:
        """Everything the algo did since the last take, in callback order."""
        outputs = self.outputs
        self.outputs = []
        return outputs

    def _callback_failed(self, ts: int, exc: BaseException) -> None:
        """A refused action or message is counted and the instance goes on; anything else
        terminates this instance (and only it)."""
        if isinstance(exc, (ActionLimitExceeded, MessageRefused)):
            return  # counted where refused; the actions before it stand
        self.crashed = f"{type(exc).__name__}: {exc}"
        self.crash_traceback = "".join(traceback.format_exception(exc))
        self.actions._buffer.clear()  # a crashing callback's half-made decisions never leave
        self.outputs.append(CrashOut(ts, self.crashed))

    def _on_fill(self, fill: Any) -> None:
        state = self.state
        state.ledger.apply_fill(fill.symbol, fill.side, fill.price, fill.size, fill.fee)
        order = state.open_orders.get(fill.order_id)
        if order is not None:
            if fill.remaining == 0:
                del state.open_orders[fill.order_id]
            else:
                state.open_orders[fill.order_id] = with_filled(order, order.size - fill.remaining)
        self.slot.on_fill(fill, state, self.actions)

    def _lifecycle(self, transition: str) -> None:
        self.lifecycle = {
            "start": RUNNING,
            "resume": RUNNING,
            "stop": "stopped",
            "pause": "paused",
        }[transition]
        callback = self.slot.optional(LIFECYCLE_CALLBACKS[transition])
        if callback is not None:
            callback(self.state, self.actions)
