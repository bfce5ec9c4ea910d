"""What each scheduled control does, dispatched by its type.

A control acts twice: when its window starts (``take_due``: what instances and venues
must see is scheduled then, at its exact time: a lifecycle step, a kill, a feed going
down or up, a restart) and when it is committed in order with the window's other events
(``commit``: its log record and the state only the sequencer holds: a lifecycle flag,
the coordinator). Controls the mesh's LinkTable times itself are only logged.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable
from operator import itemgetter
from typing import Any

import attrs

from meshrt.actors.protocol import (
    FeedSwitch,
    HeartbeatDelivery,
    KillDelivery,
    LifecycleDelivery,
)
from meshrt.log import records
from meshrt.sequencer.bridge import MeshBridge
from meshrt.sequencer.journal import Journal
from meshrt.sequencer.lanes import HEARTBEAT_NS, Deployed, VenueLane
from meshrt.sequencer.schedule import (
    LINK_CONTROLS,
    Control,
    CoordinatorKill,
    CoordinatorRestart,
    FeedDown,
    FeedUp,
    InstanceKill,
    LifecycleChange,
    Restart,
    Schedule,
    link_payload,
)
from meshrt.sequencer.supervisor import LIFECYCLE_STATE, Supervisor

_ts = itemgetter(0)


@attrs.define(slots=True, eq=False)
class Controls:
    journal: Journal
    lanes: list[VenueLane]
    deployed: list[Deployed]
    schedule: Schedule
    supervisor: Supervisor
    bridge: MeshBridge
    # the deployments whose algo has on_heartbeat (capabilities never change in a run)
    heartbeats: list[Deployed] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.heartbeats = [dep for dep in self.deployed if "on_heartbeat" in dep.capabilities]

    def take_due(self, until: int) -> list[tuple[int, Control]]:
        """The controls inside the window, with what they schedule for instances and
        venues done; heartbeats due in the window are scheduled too."""
        controls = self.schedule.controls
        due = self.schedule.take_due(until) if controls and controls[0][0] < until else []
        for at, control in due:
            if isinstance(control, LifecycleChange):
                dep = self.deployed[control.deployment]
                if dep.crashed is None:
                    dep.timer(LifecycleDelivery(at, control.action))
            elif isinstance(control, InstanceKill):
                if control.dep.crashed is None:
                    control.dep.timer(KillDelivery(at, "killed by fault injection"))
            elif isinstance(control, (FeedDown, FeedUp)):
                up = not isinstance(control, FeedDown)
                insort(control.lane.arrivals, FeedSwitch(at, up), key=_ts)
            elif isinstance(control, Restart):
                self.supervisor.restart(at, control.dep)
        for dep in self.heartbeats:
            while dep.next_heartbeat < until:
                if dep.crashed is None:
                    dep.timer(HeartbeatDelivery(dep.next_heartbeat))
                dep.next_heartbeat += HEARTBEAT_NS
        return due

    def commit(
        self, spawn: Callable[..., None], events: list[tuple[int, Control]], start: int, stop: int
    ) -> None:
        """Commit ``events[start:stop]``; ``spawn`` starts a restarted coordinator."""
        journal = self.journal
        bridge = self.bridge
        for k in range(start, stop):
            at, control = events[k]
            journal.seq += 1
            venue: str | None = None
            payload: Any
            if isinstance(control, LifecycleChange):
                dep = self.deployed[control.deployment]
                dep.lifecycle = LIFECYCLE_STATE[control.action]
                payload = [dep.label, control.action]
                venue = self.lanes[dep.venue].name
            elif isinstance(control, InstanceKill):
                payload = [control.dep.label]
            elif isinstance(control, Restart):
                payload = [control.dep.label, control.dep.restarts]
            elif isinstance(control, (FeedDown, FeedUp)):
                payload, venue = [control.lane.name], control.lane.name
            elif isinstance(control, CoordinatorKill):
                payload = [bridge.generation]
                bridge.kill_coordinator()
            elif isinstance(control, CoordinatorRestart):
                bridge.restart_coordinator(spawn)
                payload = [bridge.generation]
            else:
                assert isinstance(control, LINK_CONTROLS)  # timed in the LinkTable
                payload = link_payload(control)
            journal.log.lines.append(records.control(journal.seq, at, venue, control.kind, payload))
