"""A live venue's notes (connection events, resyncs, frame errors, reference data):
logged and counted per venue, in order with its feed. Used by the sequencer's venue merge
in any run with a live venue (paper mode, capture playback)."""

from __future__ import annotations

from meshrt.log import records, schema
from meshrt.sequencer.journal import Journal
from meshrt.sequencer.lanes import VenueLane
from meshrt.venues.live.refdata import Reference
from meshrt.venues.live.verdicts import Connected, Disconnected, FrameError, Resync
from meshrt.venues.outputs import LiveNote


def commit_note(journal: Journal, lane: VenueLane, out: LiveNote) -> None:
    """Log a live venue's note and count it per venue (``live:VENUE:KIND``, resyncs
    also per reason: ``live:VENUE:resync:WHY``, and the reconnect delays drawn:
    ``live:VENUE:reconnect_delay_ns``)."""
    note = out.note
    journal.seq += 1
    symbol = note.symbol if type(note) is Resync or type(note) is Reference else None
    line = records.live_note(journal.seq, out.ts, lane.name, symbol, note)
    journal.log.lines.append(line)
    kind = NOTE_KINDS[type(note)]
    journal.counts[f"live:{lane.name}:{kind}"] += 1
    if type(note) is Resync:
        journal.counts[f"live:{lane.name}:{kind}:{note.why.name}"] += 1
    elif type(note) is Disconnected:
        journal.counts[f"live:{lane.name}:reconnect_delay_ns"] += note.reconnect_in_ns


NOTE_KINDS: dict[type, str] = {
    Connected: schema.CONNECTED.name,
    Disconnected: schema.DISCONNECTED.name,
    Resync: schema.RESYNC.name,
    FrameError: schema.FRAME_ERROR.name,
    Reference: schema.REFERENCE.name,
}
