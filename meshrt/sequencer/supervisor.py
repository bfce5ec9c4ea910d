"""Supervision: crashes, the crash policy for a crashed deployment's orders, and the
restart policy (a budget of restarts per period; a restart is a control of its own).

A crashed deployment gets nothing more: its pending deliveries are dropped (messages
among them counted as dropped at a receiver that is down) and it leaves its venue's
subscriptions. A restarted one gets a new slot, started from the books as they are at
its restart time.
"""

from __future__ import annotations

import copy

import attrs

from meshrt.actors.protocol import MessageDelivery, RestartDelivery, RestartState
from meshrt.log import records
from meshrt.scenario.restart import LEAVE, ON_FAILURE
from meshrt.sdk import OpenOrder
from meshrt.sequencer.bridge import MeshBridge
from meshrt.sequencer.desk import IntentDesk
from meshrt.sequencer.journal import Journal
from meshrt.sequencer.lanes import Deployed, VenueLane
from meshrt.sequencer.order import ACCEPTED, CANCEL_PENDING, CREATED, PARTIALLY_FILLED, SUBMITTED
from meshrt.sequencer.schedule import Restart, Schedule

LIFECYCLE_STATE = {"start": "running", "resume": "running", "stop": "stopped", "pause": "paused"}


@attrs.define(slots=True, eq=False)
class Supervisor:
    journal: Journal
    lanes: list[VenueLane]
    desk: IntentDesk
    bridge: MeshBridge
    schedule: Schedule

    def commit_crash(self, ts: int, dep: Deployed, error: str) -> None:
        """Record the crash, apply the crash policy to its orders and the restart policy."""
        dep.crashed = error
        dep.crashed_at = ts
        dep.crashes += 1
        dep.inbound.clear()
        for _, _, item in dep.timers:
            if type(item) is MessageDelivery:  # in flight to a receiver that is gone: counted
                self.bridge.receiver_down(item.message.sender, dep.label)  # and dropped
        dep.timers.clear()
        lane = self.lanes[dep.venue]
        journal = self.journal
        journal.seq += 1
        journal.log.lines.append(records.crash(journal.seq, ts, lane.name, dep.label, error))
        self.bridge.unsubscribe_all(dep)
        if dep.policy.on_crash_orders != LEAVE:
            # nobody is left to manage the crashed instance's resting orders; those not
            # yet accepted are cancelled as soon as the venue accepts them
            for order in self.desk.orders.live_orders(dep.label):
                if order.status in (ACCEPTED, PARTIALLY_FILLED):
                    self.desk.send_cancel(ts, dep, order, "crash")
                elif order.status in (CREATED, SUBMITTED):
                    self.desk.cancel_on_accept.add(order.order_id)
        if dep.policy.mode != ON_FAILURE:
            return
        journal.seq += 1
        if dep.budget.allow(ts):
            at = ts + max(dep.policy.delay_ns, 1)
            self.schedule.add(at, Restart(dep))
            line = records.restart_scheduled(journal.seq, ts, lane.name, dep.label, at)
        else:
            dep.gave_up = (
                f"{dep.policy.max_restarts} restarts within "
                f"{dep.policy.period_ns / 1e9:g} s used up; last crash: {error}"
            )
            line = records.gave_up(journal.seq, ts, lane.name, dep.label, dep.gave_up)
        journal.log.lines.append(line)

    def restart(self, at: int, dep: Deployed) -> None:
        """Start a new slot at ``at`` on the books as they are now (a window starts here)."""
        if dep.crashed is None:
            return
        dep.crashed = None
        dep.restarts += 1
        self.bridge.subscribe_all(dep)
        ledger = copy.deepcopy(dep.ledger)
        orders = {
            order.client_id: OpenOrder(
                order.client_id,
                order.symbol,
                order.side,
                order.price,
                order.size,
                order.filled,
                order.status in (ACCEPTED, PARTIALLY_FILLED, CANCEL_PENDING),
                bool(order.requests),
            )
            for order in self.desk.orders.live_orders(dep.label)
        }
        dep.timer(RestartDelivery(at, RestartState(dep.lifecycle, ledger, orders)))
