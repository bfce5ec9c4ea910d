"""Instance output ingress: what an algo did in a window, committed by its type.

Actions go to the intent desk, subscriptions and messages to the mesh bridge, crashes
to supervision; ``set_param`` and ``log`` are recorded here. What a crashed instance
did after its crash is not committed.
"""

from __future__ import annotations

import attrs

from meshrt.actors.protocol import (
    ActionOut,
    CrashOut,
    MessageOut,
    Output,
    SetParamOut,
    SubscribeOut,
    UndeliveredOut,
)
from meshrt.log import records
from meshrt.sequencer.bridge import MeshBridge
from meshrt.sequencer.desk import IntentDesk
from meshrt.sequencer.journal import Journal
from meshrt.sequencer.lanes import Deployed, VenueLane
from meshrt.sequencer.supervisor import Supervisor


@attrs.define(slots=True, eq=False)
class OutputIngress:
    journal: Journal
    lanes: list[VenueLane]
    deployed: list[Deployed]
    desk: IntentDesk
    bridge: MeshBridge
    supervisor: Supervisor

    def commit(self, events: list[Output], start: int, stop: int) -> None:
        """Commit instance outputs events[start:stop], each by its type."""
        deployed = self.deployed
        commit_action = self.desk.commit_action
        for k in range(start, stop):
            ts, index, out = events[k]
            dep = deployed[index]
            if isinstance(out, UndeliveredOut):
                self.bridge.receiver_down(out.sender, dep.label)
            elif isinstance(out, CrashOut):
                self.supervisor.commit_crash(ts, dep, out.error)
            elif dep.crashed is not None:
                continue  # what a crashed instance did after its crash is not committed
            elif isinstance(out, ActionOut):
                commit_action(ts, dep, out.action)
            elif isinstance(out, SubscribeOut):
                self.bridge.commit_subscription(ts, dep, out.symbol, out.on)
            elif isinstance(out, MessageOut):
                self.bridge.commit_message(ts, dep, out.label, out.payload)
            else:
                journal = self.journal
                journal.seq += 1
                venue = self.lanes[dep.venue].name
                journal.log.lines.append(
                    records.set_param(journal.seq, ts, dep.source, venue, out.name, out.value)
                    if isinstance(out, SetParamOut)
                    else records.algo_log(journal.seq, ts, dep.source, venue, out.message)
                )
