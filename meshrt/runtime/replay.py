"""Verify a run by re-executing it from its replay log.

The run's own log supplies the market data: every venue's feed is read back out of it
(``LogSource``) instead of coming from the scenario's generator or file, and the
scenario's algos (Python, WASM or native alike), seeds, latencies and faults do the
rest. The sequencer then re-derives every intent, every order transition and every
fill; the regenerated log must equal the recorded one line for line. The first line
that differs names the divergent seq id with both values.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from meshrt.log.reader import LOG_NAME, read_log
from meshrt.log.schema import FEED_BY_KIND
from meshrt.runtime import run_folder
from meshrt.runtime.assemble import is_live, is_paper
from meshrt.runtime.run import RunOptions, run
from meshrt.runtime.run_file import load_run_scenario
from meshrt.scenario.definition import Scenario
from meshrt.venues.events import FEED_SNAPSHOT
from meshrt.venues.specs import RecordedSpec

_FEED = {record.name: kind for kind, record in FEED_BY_KIND.items()}


@attrs.frozen(slots=True)
class LogSpec(RecordedSpec):
    """The feed one venue recorded for one symbol, read back from a replay log."""

    venue: str = ""

    def open(self) -> LogSource:
        return LogSource(self)


class LogSource:
    """A ``Source`` (see meshrt.venues.sources) over one venue's logged feed records."""

    def __init__(self, spec: LogSpec) -> None:
        self.symbol = spec.symbol
        self.spec = spec
        _, records = read_log(spec.path)
        self._events = self._feed(records, f"venue:{spec.venue}", spec.symbol)
        self._next: tuple[Any, ...] | None = next(self._events, None)

    @staticmethod
    def _feed(records: Iterator[Any], source: str, symbol: str) -> Iterator[tuple[Any, ...]]:
        for record in records:
            kind = _FEED.get(record.type)
            if kind is None or record.source != source or record.instrument != symbol:
                continue
            payload = record.payload
            if kind == FEED_SNAPSHOT:
                yield (
                    record.event_ts,
                    kind,
                    tuple(map(tuple, payload[0])),
                    tuple(map(tuple, payload[1])),
                )
            else:
                yield (record.event_ts, kind, payload[0], payload[1], payload[2])

    @property
    def exhausted(self) -> bool:
        return self._next is None

    def peek_time(self) -> int | None:
        return None if self._next is None else self._next[0]

    def batch(self, until: int) -> list[tuple[Any, ...]]:
        out = []
        event = self._next
        while event is not None and event[0] < until:
            out.append(event)
            event = next(self._events, None)
        self._next = event
        return out


@attrs.frozen(slots=True)
class Divergence:
    """The first record where the re-execution differs from the log."""

    seq: int
    logged: str
    replayed: str


@attrs.frozen(slots=True)
class Verdict:
    records: int
    divergence: Divergence | None

    @property
    def ok(self) -> bool:
        return self.divergence is None


def verify(run_dir: Path) -> Verdict:
    """Re-execute a run from its log and compare (CheckpointError/ScenarioError on bad input)."""
    run_dir = run_dir.absolute()  # before the log's path joins scenario paths rebased elsewhere
    scenario = load_run_scenario(run_dir)
    # a live run (or a resume) writing this log would make a replay diverge where it reads
    # a half-written line: hold the folder's lock while comparing (RunFolderError if held)
    folder = run_folder.claim(run_dir)
    try:
        return _verify(run_dir, scenario)
    finally:
        folder.release()


def _verify(run_dir: Path, scenario: Scenario) -> Verdict:
    log = run_dir / LOG_NAME
    read_log(log)  # refuses an unknown version or a damaged header before anything runs
    # a capture is read again through its adapter (its digest is checked like a data
    # file's): its venue's notes and down/up states come from the same frames; a paper
    # venue is fed from the log by the live loop (meshrt/runtime/replay_live.py)
    venues = [
        venue
        if is_live(venue)
        else attrs.evolve(
            venue,
            sources=[
                LogSpec(symbol=source.symbol, path=str(log), venue=venue.name)
                for source in venue.sources
            ],
        )
        for venue in scenario.venues
    ]
    with tempfile.TemporaryDirectory(prefix="meshrt-replay-") as work:
        out = Path(work) / "run"
        # a paper run's windows and feed come from its log, the clock's anchor too
        options = RunOptions(paper_log=log if is_paper(scenario) else None)
        run(attrs.evolve(scenario, venues=venues), out, options=options)
        return compare(log, out / LOG_NAME)


def compare(logged: Path, replayed: Path) -> Verdict:
    """Line-by-line comparison of two logs; the header line counts as seq 0."""
    with open(logged, "rb") as a, open(replayed, "rb") as b:
        seq = 0
        while True:
            left, right = a.readline(), b.readline()
            if left != right:
                return Verdict(
                    seq,
                    Divergence(seq, _text(left) or "(end of log)", _text(right) or "(end of log)"),
                )
            if not left:
                return Verdict(seq - 1, None)
            seq += 1


def _text(line: bytes) -> str:
    return line.decode("utf-8", "replace").rstrip("\n")
