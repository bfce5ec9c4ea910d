"""The control schedule: lifecycle steps, faults and supervised restarts as typed
control values, each at its time, in the order they were scheduled.

A fault from the scenario (meshrt/scenario/faults.py) becomes one or two controls here (a feed
kill with a duration is a ``FeedDown`` and a ``FeedUp``). Feeds and edges are held down
by counted holds (docs/faults.md): a control that takes or releases a hold is due only
if it changes the state. What a control does is dispatched by its type, in the actor
shell; ``kind`` is its name in the replay log.
"""

from __future__ import annotations

from bisect import insort
from collections import Counter
from typing import Any, ClassVar

import attrs

from meshrt.scenario import faults
from meshrt.sequencer.lanes import Deployed, VenueLane


@attrs.frozen(slots=True)
class LifecycleChange:
    kind: ClassVar[str] = "lifecycle"
    deployment: int
    action: str


@attrs.frozen(slots=True)
class InstanceKill:
    kind: ClassVar[str] = "kill_instance"
    dep: Deployed


@attrs.frozen(slots=True)
class Restart:
    """A supervised restart of a crashed deployment (it starts a window of its own)."""

    kind: ClassVar[str] = "restart"
    dep: Deployed


@attrs.frozen(slots=True)
class FeedDown:
    kind: ClassVar[str] = "feed_down"
    lane: VenueLane


@attrs.frozen(slots=True)
class FeedUp:
    kind: ClassVar[str] = "feed_up"
    lane: VenueLane


@attrs.frozen(slots=True)
class CoordinatorKill:
    kind: ClassVar[str] = "coordinator_killed"


@attrs.frozen(slots=True)
class CoordinatorRestart:
    kind: ClassVar[str] = "coordinator_restarted"


@attrs.frozen(slots=True)
class PartitionStart:
    kind: ClassVar[str] = "partition"
    venue: str
    duration_ns: int


@attrs.frozen(slots=True)
class PartitionHeal:
    kind: ClassVar[str] = "partition_healed"
    venue: str


@attrs.frozen(slots=True)
class DropRateStart:
    kind: ClassVar[str] = "drop_rate"
    sender: str
    receiver: str
    rate: float
    duration_ns: int


@attrs.frozen(slots=True)
class LatencySpikeStart:
    kind: ClassVar[str] = "latency_spike"
    sender: str
    receiver: str
    extra_ns: int
    duration_ns: int


Control = (
    LifecycleChange
    | InstanceKill
    | Restart
    | FeedDown
    | FeedUp
    | CoordinatorKill
    | CoordinatorRestart
    | PartitionStart
    | PartitionHeal
    | DropRateStart
    | LatencySpikeStart
)
# the edges the mesh's LinkTable times itself: the control only logs them
LINK_CONTROLS = (PartitionStart, PartitionHeal, DropRateStart, LatencySpikeStart)


def link_payload(control: Any) -> list[Any]:
    """The logged payload of a control the LinkTable times."""
    if isinstance(control, PartitionStart):
        return [control.venue, control.duration_ns]
    if isinstance(control, PartitionHeal):
        return [control.venue]
    if isinstance(control, DropRateStart):
        return [control.sender, control.receiver, control.rate, control.duration_ns]
    return [control.sender, control.receiver, control.extra_ns, control.duration_ns]


def _hold(control: Control) -> tuple[tuple[str, str], bool] | None:
    """What a control holds down (or lets go of), and whether it takes the hold."""
    if isinstance(control, (FeedDown, FeedUp)):
        return ("feed", control.lane.name), isinstance(control, FeedDown)
    if isinstance(control, (PartitionStart, PartitionHeal)):
        return ("partition", control.venue), isinstance(control, PartitionStart)
    return None


def _rank(control: Control) -> int:
    """At one instant, controls that let a hold go come last: a window that ends where
    another begins keeps the feed (or edge) down through that instant."""
    return 1 if isinstance(control, (FeedUp, PartitionHeal)) else 0


@attrs.define(slots=True, eq=False)
class Schedule:
    # (time, rank at that time, insertion counter, control), sorted
    controls: list[tuple[int, int, int, Control]] = attrs.field(factory=list)
    counter: int = 0
    # counted holds: a feed or an edge is down while any fault holds it (faults.md)
    holds: Counter[tuple[str, str]] = attrs.field(factory=Counter)

    def add(self, at: int, control: Control) -> None:
        self.counter += 1
        insort(self.controls, (at, _rank(control), self.counter, control))

    def add_fault(
        self, fault: faults.Fault, lanes: list[VenueLane], by_label: dict[str, Deployed]
    ) -> None:
        if isinstance(fault, faults.KillInstance):
            self.add(fault.at_ns, InstanceKill(by_label[fault.label]))
        elif isinstance(fault, faults.KillFeed):
            lane = next(lane for lane in lanes if lane.name == fault.venue)
            self.add(fault.at_ns, FeedDown(lane))
            if fault.duration_ns is not None:
                self.add(fault.at_ns + fault.duration_ns, FeedUp(lane))
        elif isinstance(fault, faults.KillCoordinator):
            self.add(fault.at_ns, CoordinatorKill())
        elif isinstance(fault, faults.RestartCoordinator):
            self.add(fault.at_ns, CoordinatorRestart())
        elif isinstance(fault, faults.Partition):
            self.add(fault.at_ns, PartitionStart(fault.venue, fault.duration_ns))
            self.add(fault.at_ns + fault.duration_ns, PartitionHeal(fault.venue))
        elif isinstance(fault, faults.DropRate):
            self.add(
                fault.at_ns,
                DropRateStart(fault.sender, fault.receiver, fault.rate, fault.duration_ns),
            )
        elif isinstance(fault, faults.LatencySpike):
            self.add(
                fault.at_ns,
                LatencySpikeStart(fault.sender, fault.receiver, fault.extra_ns, fault.duration_ns),
            )

    def next_at(self) -> int | None:
        return self.controls[0][0] if self.controls else None

    def restart_in(self, start: int, until: int) -> int | None:
        """The first supervised restart after ``start`` and before ``until``."""
        for at, _, _, control in self.controls:
            if at >= until:
                break
            if isinstance(control, Restart) and at > start:
                return at
        return None

    def take_due(self, until: int) -> list[tuple[int, Control]]:
        """Remove and return the controls before ``until`` that change something."""
        due: list[tuple[int, Control]] = []
        controls = self.controls
        while controls and controls[0][0] < until:
            at, _, _, control = controls.pop(0)
            hold = _hold(control)
            if hold is not None:
                key, taking = hold
                self.holds[key] += 1 if taking else -1
                if self.holds[key] != (1 if taking else 0):
                    continue  # another fault still holds it down (or already did)
            due.append((at, control))
        return due
