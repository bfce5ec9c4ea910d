"""Types of the Cython module meshrt/sequencer/outputs.pyx."""

from typing import final

from meshrt.actors.protocol import Output
from meshrt.sequencer.bridge import MeshBridge
from meshrt.sequencer.desk import IntentDesk
from meshrt.sequencer.journal import Journal
from meshrt.sequencer.lanes import Deployed, VenueLane
from meshrt.sequencer.supervisor import Supervisor

@final
class OutputIngress:
    journal: Journal
    lanes: list[VenueLane]
    deployed: list[Deployed]
    desk: IntentDesk
    bridge: MeshBridge
    supervisor: Supervisor

    def __init__(
        self,
        journal: Journal,
        lanes: list[VenueLane],
        deployed: list[Deployed],
        desk: IntentDesk,
        bridge: MeshBridge,
        supervisor: Supervisor,
    ) -> None: ...
    def commit(self, events: list[Output], start: int, stop: int) -> None:
        """Commit instance outputs events[start:stop], each by its type."""
