"""The intent desk: what an algo asks for becomes an order operation, or a reject.

It owns the order state machine and the range and risk checks on intents: a new order,
a replace or a cancel is checked (contract ranges, lifecycle, risk limits), moved
through the state machine, logged, and sent to its venue at ``time + order latency``;
a refused intent is counted, logged and delivered back as ``on_reject``.

One handler per action kind, each refusing at its first failed check, in a fixed order
(so the same intent always gets the same reason): desk-wide controls belong at the top of
``commit_action`` or of a handler, before the state machine is touched.

Why compiled: every action an algo takes is committed here, on the sequencer's one
thread; in Python one cost 10-15 us. Here the contract's range checks read the int in C
(inline, meshrt/contract/_ranges.pxd), action kinds are C ints, the state machine, the
risk gate, the ledger, the order latency and the reference price are called in C
(through their .pxd files), what the desk reads of a deployment and its lane is read
once (its ``Seat``, meshrt/sequencer/seat.pyx), the records are written by
meshrt/log/_intents.pyx, and the values sent on (Submit, Replace, Cancel, Reject,
RejectDelivery) are built as the tuples their NamedTuple classes make.
What the algo gave is held as the Python object it is: the intent is logged, and a
refusal's detail shown, exactly as given.
"""

from libc.stdint cimport int64_t

from meshrt.log._intents cimport (
    cancel_sent,
    intent,
    intent_rejected,
    order_created,
    replace_sent,
)
from meshrt.contract._ranges cimport (
    ABOVE_I64,
    POSITIVE_I64,
    ZERO,
    int_kind,
    is_int,
    is_order_id,
    is_quantity,
)
from meshrt.sequencer.order cimport Order, created_order
from meshrt.sequencer.orders cimport replace_refusal, replace_requested
from meshrt.sequencer.seat cimport Seat
from meshrt.venues._matching cimport new_tuple_of, put_item

from meshrt.actors.protocol import Cancel, RejectDelivery, Replace, Submit
from meshrt.contract import ActionKind, RejectReason, Side, TimeInForce
from meshrt.log.records import shown
from meshrt.sdk import Reject
from meshrt.sequencer.order import ACCEPTED, PARTIALLY_FILLED, OrderStatus

# Action kinds as C ints, read from their one home (meshrt/contract/__init__.py); 0 is none.
cdef int LIMIT = ActionKind.LIMIT, MARKET = ActionKind.MARKET, CANCEL = ActionKind.CANCEL
cdef int REPLACE = ActionKind.REPLACE, CANCEL_ALL = ActionKind.CANCEL_ALL
cdef tuple KINDS = tuple(ActionKind)
cdef object T_KIND = ActionKind
# members by value: Order holds enum members, the algo may have given plain ints
cdef dict KIND_OF = {int(k): k for k in ActionKind}
cdef dict SIDE_OF = {int(s): s for s in Side}
cdef dict TIF_OF = {int(t): t for t in TimeInForce}
# names by member (an int of the same value finds it too): enum .name is a slow property
cdef dict REASON_NAME = {r: r.name for r in RejectReason}
cdef dict STATUS_NAME = {s: s.name for s in OrderStatus}
cdef object OPEN_STATES = (ACCEPTED, PARTIALLY_FILLED)

cdef object NOT_RUNNING = RejectReason.NOT_RUNNING
cdef object INVALID_ACTION = RejectReason.INVALID_ACTION
cdef object INVALID_SIZE = RejectReason.INVALID_SIZE
cdef object INVALID_PRICE = RejectReason.INVALID_PRICE
cdef object UNKNOWN_SYMBOL = RejectReason.UNKNOWN_SYMBOL
cdef object UNKNOWN_ORDER = RejectReason.UNKNOWN_ORDER
cdef object DUPLICATE_ORDER_ID = RejectReason.DUPLICATE_ORDER_ID
cdef object ILLEGAL_TRANSITION = RejectReason.ILLEGAL_TRANSITION

# A NamedTuple's __new__ is a Python function around tuple.__new__(cls, values): the
# same object, without the Python frame (or, for what is sent on every order, built in C).
cdef object tuple_new = tuple.__new__
cdef type T_SUBMIT = Submit, T_REPLACE = Replace, T_CANCEL = Cancel


cdef int kind_code(object kind) except -1:
    """The action kind's number, 0 for none: as ``kind == ActionKind.X`` says."""
    cdef int64_t x
    if type(kind) is int or type(kind) is T_KIND:
        return <int>x if int_kind(kind, &x) == POSITIVE_I64 and x <= CANCEL_ALL else 0
    for member in KINDS:  # whatever else an algo gave: Python's == decides
        if kind == member:
            return member
    return 0


cdef inline object sent_on(type cls, Py_ssize_t n, object a, object b, object c, object d=None,
                           object e=None, object f=None, object g=None):
    """A Submit (7 fields), Replace (5) or Cancel (3) for the venue, at one allocation."""
    out = new_tuple_of(cls, n)
    put_item(out, 0, a)
    put_item(out, 1, b)
    put_item(out, 2, c)
    if n > 3:
        put_item(out, 3, d)
        put_item(out, 4, e)
    if n > 5:
        put_item(out, 5, f)
        put_item(out, 6, g)
    return out


cdef class IntentDesk:
    """IntentDesk(journal, lanes, orders=None, cancel_on_accept=None)

    The order state machine (``orders``) and the orders of crashed deployments that are
    cancelled as soon as their venue accepts them (``cancel_on_accept``)."""

    def __init__(self, journal, list lanes not None, orders=None, cancel_on_accept=None):
        self.journal = journal
        self.replay_log = journal.log  # never replaced (the window driver holds it too)
        self.lanes = lanes
        self.orders = OrderStateMachine() if orders is None else orders
        self.cancel_on_accept = set() if cancel_on_accept is None else cancel_on_accept
        self.seats = {}

    cdef Seat seat(self, object dep):
        """The deployment's seat, made at its first action."""
        seat = self.seats.get(dep)
        if seat is None:
            seat = self.seats[dep] = Seat(dep, self.lanes[dep.venue])
        return <Seat>seat

    cpdef commit_action(self, object ts, object dep, object action):
        """Log one action an algo took at ``ts`` (the action tuple of meshrt.sdk.Actions),
        then check and commit it, or refuse it."""
        kind, side, tif, client_id, target, price, size, symbol = action
        self.orders.expire(ts)
        cdef Seat seat = self.seat(dep)
        cdef list lines = self.replay_log.lines  # for this action's records
        lines.append(intent(self.next_seq(), ts, seat.source, seat.venue, symbol, action))
        cdef int code = kind_code(kind)
        if code != CANCEL and code != CANCEL_ALL and dep.lifecycle != "running":
            # a stopped or paused deployment may still take its orders down, never add
            self.reject(ts, dep, client_id, kind, NOT_RUNNING, f"deployment is {dep.lifecycle}")
        elif code == LIMIT or code == MARKET:
            self.new_order(
                ts, dep, seat, lines, code, kind, side, tif, client_id, price, size, symbol
            )
        elif code == CANCEL:
            self.cancel(ts, dep, seat, target)
        elif code == REPLACE:
            self.replace(ts, dep, seat, lines, target, price, size)
        elif code == CANCEL_ALL:
            self.cancel_all(ts, dep, seat, symbol)
        else:
            self.reject(
                ts, dep, client_id, kind, INVALID_ACTION, f"unknown action kind {kind}"
            )

    # ---- one handler per action kind ---------------------------------------------------

    cdef new_order(self, object ts, object dep, Seat seat, list lines, int code, object kind,
                   object side, object tif, object client_id, object price, object size,
                   object symbol):
        """A limit or market order (``code``: LIMIT or MARKET, ``kind`` as the algo gave
        it): contract ranges, a fresh client id, then risk."""
        cdef int64_t side_value = 0, tif_value = 0
        cdef bint is_limit = code == LIMIT
        cdef OrderStateMachine orders = self.orders
        label = seat.label
        reason = None
        if symbol not in seat.symbols:
            reason = UNKNOWN_SYMBOL
            detail = f"no symbol {shown(symbol)} on {seat.venue!r}"
        elif not (
            int_kind(side, &side_value) == POSITIVE_I64 and side_value in SIDE_OF
            and int_kind(tif, &tif_value) in (ZERO, POSITIVE_I64) and tif_value in TIF_OF
        ):
            reason, detail = INVALID_ACTION, f"side {shown(side)} / tif {shown(tif)}"
        elif not is_order_id(client_id):
            reason, detail = INVALID_ACTION, f"client id {shown(client_id)}"
        elif not is_quantity(size):
            reason, detail = INVALID_SIZE, f"size {shown(size)}"
        elif is_limit and not is_quantity(price):
            reason, detail = INVALID_PRICE, f"price {shown(price)}"
        elif orders.client_id_used(label, client_id):
            reason, detail = DUPLICATE_ORDER_ID, f"client id {client_id}"
        if reason is not None:
            return self.reject(ts, dep, client_id, kind, reason, detail)
        limit_price = price if is_limit else None
        cdef Py_ssize_t symbol_index = seat.index_of(symbol)
        reason = seat.check_new(orders, ts, side, limit_price, size, symbol, symbol_index)
        if reason is not None:
            return self.reject(ts, dep, client_id, kind, reason, "risk limit")
        order_id = orders.created + 1
        venue = seat.venue
        orders.create(
            created_order(order_id, label, client_id, venue, symbol, SIDE_OF[side_value],
                          KIND_OF[code], TIF_OF[tif_value], limit_price, size, ts)
        )
        orders.submit(order_id, ts)
        lines.append(
            order_created(self.next_seq(), ts, venue, symbol, order_id, label, client_id)
        )
        seat.risk.record_order(ts)
        dep.orders += 1
        counts = self.journal.counts  # a Counter, set as the dict it is: no Python-level call
        (<dict>counts)["orders"] = (<dict>counts).get("orders", 0) + 1
        seat.send(
            sent_on(T_SUBMIT, 7, seat.orders.deliver_at(ts, 0), order_id, symbol_index, side,
                    limit_price, size, tif)
        )

    cdef cancel(self, object ts, object dep, Seat seat, object target):
        """A cancel of one order: it must be open (ACCEPTED or PARTIALLY_FILLED)."""
        found = self.named_order(ts, dep, seat, target, CANCEL)
        if found is None:
            return
        if type(found) is str:
            return self.refuse_ended(ts, dep, target, CANCEL, found)
        cdef Order order = <Order>found
        before = STATUS_NAME[order.status]
        reason = self.orders.request_cancel(order.order_id, ts)
        if reason is not None:
            return self.reject(
                ts, dep, target, KIND_OF[CANCEL], reason,
                f"order {target} is {STATUS_NAME[order.status]}",
            )
        self.send_cancel(ts, dep, order, "intent", before)

    cdef replace(self, object ts, object dep, Seat seat, list lines, object target,
                 object price, object size):
        """A replace of one open order to (price, size): ranges, the state machine's
        rules, then risk."""
        cdef int64_t value
        cdef Py_ssize_t symbol_index = 0
        cdef OrderStateMachine orders = self.orders
        found = self.named_order(ts, dep, seat, target, REPLACE)
        if found is None:
            return
        if not is_int(size) or (price is not None and not is_int(price)):
            return self.reject(
                ts, dep, target, KIND_OF[REPLACE], INVALID_ACTION,
                "price and size must be integers",
            )
        if type(found) is str:
            return self.refuse_ended(ts, dep, target, REPLACE, found)
        cdef Order order = <Order>found
        order_id = order.order_id
        symbol = order.symbol
        label = seat.label
        reason = replace_refusal(order, price, size)  # orders.validate_replace
        if reason is None and int_kind(size, &value) == ABOVE_I64:
            reason = INVALID_SIZE
        elif reason is None and price is not None and int_kind(price, &value) == ABOVE_I64:
            reason = INVALID_PRICE
        if reason is None:
            symbol_index = seat.index_of(symbol)
            reason = seat.check_replace(orders, ts, order, price, size, symbol_index)
        if reason is not None:
            return self.reject(
                ts, dep, target, KIND_OF[REPLACE], reason,
                f"order {target} is {STATUS_NAME[order.status]}",
            )
        seat.risk.record_order(ts)
        lines.append(
            replace_sent(self.next_seq(), ts, seat.venue, symbol, order_id, label, price, size)
        )
        replace_requested(order)  # orders.replace_sent
        seat.send(
            sent_on(T_REPLACE, 5, seat.orders.deliver_at(ts, 0), order_id, symbol_index, price,
                    size)
        )

    cdef cancel_all(self, object ts, object dep, Seat seat, object symbol):
        """A cancel of every open order of the deployment (on ``symbol`` if one is named)."""
        for order in self.orders.live_orders(seat.label):
            if symbol and order.symbol != symbol:
                continue
            if order.status in OPEN_STATES:
                self.send_cancel(ts, dep, order, "cancel_all")

    # ---- what the handlers share -------------------------------------------------------

    cdef object named_order(self, object ts, object dep, Seat seat, object target, int kind):
        """The deployment's order a cancel or replace names, the final state's name of a
        retired one (see ``OrderStateMachine.ended_state``), or None after refusing it."""
        if not is_order_id(target):
            self.reject(
                ts, dep, target, KIND_OF[kind], INVALID_ACTION, f"order id {shown(target)}"
            )
            return None
        label = seat.label
        order = self.orders.find(label, target)
        if order is not None:
            return order
        ended = self.orders.ended_state(label, target)
        if ended is None:
            self.reject(ts, dep, target, KIND_OF[kind], UNKNOWN_ORDER, f"no order {target}")
        return ended

    cdef refuse_ended(self, object ts, object dep, object target, int kind, str state):
        """Refuse a cancel or replace of a retired order, as a terminal one is refused."""
        self.reject(
            ts, dep, target, KIND_OF[kind], ILLEGAL_TRANSITION, f"order {target} is {state}"
        )

    cdef object next_seq(self):
        """The journal's next seq id, taken."""
        journal = self.journal
        seq = journal.seq + 1
        journal.seq = seq
        return seq

    cdef log(self, bytes line):
        self.replay_log.lines.append(line)

    cpdef send_cancel(self, object ts, object dep, object order, str cause,
                      object already_pending=None):
        """Send a cancel; ``already_pending`` is the status the order had when the caller
        already moved it to CANCEL_PENDING."""
        before = already_pending or STATUS_NAME[order.status]
        if already_pending is None and self.orders.request_cancel(order.order_id, ts) is not None:
            return
        cdef Seat seat = self.seat(dep)
        order_id = order.order_id
        symbol = order.symbol
        self.log(
            cancel_sent(
                self.next_seq(),
                ts,
                seat.venue,
                symbol,
                order_id,
                seat.label,
                cause,
                before,
                STATUS_NAME[order.status],
            )
        )
        seat.send(
            sent_on(T_CANCEL, 3, seat.orders.deliver_at(ts, 0), order_id, seat.index_of(symbol))
        )

    cpdef reject(self, object ts, object dep, object client_id, object kind, object reason,
                 str detail):
        """Refuse an intent: counted, logged, and delivered as on_reject after the order latency.

        A refused cancel or replace tells the algo whether the order still has a request
        outstanding (its ``OpenOrder.pending``): refusing one request answers no other."""
        name = REASON_NAME[reason]
        dep.rejects[name] += 1
        cdef Seat seat = self.seat(dep)
        label = seat.label
        self.log(intent_rejected(self.next_seq(), ts, seat.venue, label, client_id, name, detail))
        if dep.crashed is not None:
            return
        order = (
            self.orders.find(label, client_id)
            if kind_code(kind) in (CANCEL, REPLACE) and is_order_id(client_id)
            else None
        )
        dep.timer(
            tuple_new(
                RejectDelivery,
                (
                    ts + seat.order_base_ns,
                    tuple_new(Reject, (ts, client_id, reason, int(kind), detail)),
                    order is not None and bool(order.requests),
                ),
            )
        )
