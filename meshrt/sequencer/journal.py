"""What every commit shares: the seq counter, the replay log the records go to, and the
run's counters. Each component holds the one journal, so seq ids stay one sequence."""

from __future__ import annotations

from collections import Counter

import attrs

from meshrt.log.writer import ReplayLog


@attrs.define(slots=True, eq=False)
class Journal:
    log: ReplayLog
    seq: int = 0
    counts: Counter[str] = attrs.field(factory=Counter)  # orders, fills, venue events, ...
