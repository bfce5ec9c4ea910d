"""A live session's counters: mutable state the session updates, and the frozen
statistics value read from it, as trio's memory channels do (``MemoryChannelState`` /
``statistics()``). docs/live.md, "Connections", lists what each counts."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs
from attrs import define, field, frozen

from meshrt.venues.live.refdata import Reference
from meshrt.venues.live.verdicts import Why


@frozen
class SessionStatistics:
    frames: int  # websocket frames received
    forwarded: int  # Received items sent (frames with outputs, snapshots, connection events)
    connects: int  # connections opened and subscribed
    connect_failures: int  # attempts that never opened
    disconnects: int  # open connections that ended (peer close, error, stale)
    stale: int  # of the disconnects, connections silent past stale_after_ns
    reconnects: int  # attempts after the first
    reconnect_delay_ns: int  # backoff slept, in total
    max_reconnect_delay_ns: int
    resyncs: Mapping[Why, int]  # by why; CHECKSUM, GAP and REFUSED are the failures counted
    frame_errors: int
    snapshot_requests: int  # REST depth snapshots fetched (Binance)
    rest_errors: int  # REST answers that were not 200 (429/418 included) or failed
    rate_limited: int  # 429/418 answers, each honoured by its Retry-After
    blocked_sends: int  # Received items that found the channel full
    blocked_ns: int  # time spent waiting on a full channel, in total (clock ns)
    max_lag_ns: int  # the most a Received item was sent after its receive time

    @property
    def checksum_failures(self) -> int:
        return self.resyncs.get(Why.CHECKSUM, 0)

    @property
    def gaps(self) -> int:
        return self.resyncs.get(Why.GAP, 0)

    @property
    def refused(self) -> int:
        return self.resyncs.get(Why.REFUSED, 0)


@define
class SessionState:
    """Handed to ``run_session`` by its caller, read at any time: ``statistics()`` and
    the reference data per scenario symbol (``references()``)."""

    frames: int = 0
    forwarded: int = 0
    connects: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    stale: int = 0
    reconnects: int = 0
    reconnect_delay_ns: int = 0
    max_reconnect_delay_ns: int = 0
    resyncs: dict[Why, int] = field(factory=dict)
    frame_errors: int = 0
    snapshot_requests: int = 0
    rest_errors: int = 0
    rate_limited: int = 0
    blocked_sends: int = 0
    blocked_ns: int = 0
    max_lag_ns: int = 0
    reference: dict[str, Reference] = field(factory=dict)  # scenario symbol -> rules

    def statistics(self) -> SessionStatistics:
        values = {name: getattr(self, name) for name in _NAMES}
        values["resyncs"] = MappingProxyType(dict(self.resyncs))
        return SessionStatistics(**values)

    def references(self) -> Mapping[str, Reference]:
        """Scenario symbol -> the venue's order rules, as far as received so far."""
        return MappingProxyType(dict(self.reference))


_NAMES = tuple(a.name for a in attrs.fields(SessionStatistics))
