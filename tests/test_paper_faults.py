"""The bundled paper_mesh scenario against three local exchanges with injected faults, in
one short run: a corrupted Kraken checksum and a malformed Kraken frame, a Coinbase drop,
an oversized Binance frame and then a gap on Binance's next connection. Each fault is
counted (summary.json ``live``) and logged, its venue recovers (a snapshot after the
fault, a second connection where one was closed), no book reaches an algo while its
symbol is down, and the replay verifies. The run ends, as Ctrl-C ends it, once every
venue has been through its faults and is back with books flowing (``Recovery``): about
1.5 s when the machine is idle, longer on a loaded one (closing on an oversized frame
alone can take 2 s there), so what the run did does not depend on the CPU the machine
spares it; the duration is only a bound.

A stall past ``stale_after_ns`` is driven through the session itself: paper_mesh's specs
keep the 10 s default (no environment variable sets it), longer than a short run.
"""

from __future__ import annotations

import json
import os
import random
import signal
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from meshrt import Book, LiveSpec
from meshrt.loaders.python import resolve_algo_class
from meshrt.log.reader import Record, read_log
from meshrt.runtime.paper import Session, default_session
from meshrt.runtime.replay import verify
from meshrt.runtime.run import RunOptions, run_async
from meshrt.scenario.definition import load_scenario
from meshrt.scenario.overrides import DURATION, Setting
from meshrt.venues.events import FEED_SNAPSHOT
from meshrt.venues.live.session import run_session
from meshrt.venues.live.stats import SessionState
from meshrt.venues.live.verdicts import (
    Connected,
    Disconnected,
    Feed,
    Received,
    ReceivedSink,
    Resync,
)
from meshrt.venuesim.faults import parse_fault
from meshrt.venuesim.server import venue_sim

ROOT = Path(__file__).parent.parent
DATA = ROOT / "tests" / "data" / "venues"
KRAKEN = DATA / "kraken" / "kraken_v1_book1000_cryptofeed_KRAKEN.ws.50.0.log.gz"
CAPTURES = [
    KRAKEN,
    DATA / "coinbase" / "coinbase_exchange_level2_cryptofeed_COINBASE.ws.28.0.log.gz",
    DATA / "binance" / "binance_spot_hftbacktest_btcusdt_20240808_first17150lines.log.gz",
]
SECONDS, SPEED = 30, 3.0  # the run's bound: it ends once every venue has recovered
OVERSIZED = 16_800_000  # just past the sessions' 16 MiB frame limit (MAX_FRAME_BYTES)
FAULTS = (
    "kraken/checksum@20",
    "kraken/malformed@62",  # a frame whose loss changes the top 10: the next checksum fails
    "coinbase/drop@60",
    f"binance/oversized@3:{OVERSIZED}",
    "binance/gap@20#2",  # on the connection after the oversized frame closed the first
)
ALGOS = ("algos/hedger.py:ReportingMaker", "algos/hedger.py:NbboHedger")
SETTLED = 20  # feed items after a venue's last recovery before it counts as back


@attrs.define
class Recovery:
    """One venue's way through its faults, as its session hands them over: the resyncs
    and connections the faults above cause, every symbol they took down back with a
    snapshot, and ``SETTLED`` feed items since (books reach its algos again)."""

    resyncs: int
    connections: int
    seen_resyncs: int = 0
    seen_connections: int = 0
    down: set[str] = attrs.field(factory=set)  # symbols awaiting a snapshot ("*": all)
    since: int = 0  # feed items since the last one came back

    def see(self, item: Received) -> None:
        for out in item.outputs:
            if type(out) is Resync:
                self.seen_resyncs += 1
                self.down.add(out.symbol)
            elif type(out) in (Connected, Disconnected):
                self.seen_connections += type(out) is Connected
                self.down.add("*")
            elif type(out) is Feed:
                if out.events[0][1] == FEED_SNAPSHOT and self.down:
                    self.down -= {out.symbol, "*"}
                    self.since = 0
                self.since += 1

    @property
    def done(self) -> bool:
        return (
            self.seen_resyncs >= self.resyncs
            and self.seen_connections >= self.connections
            and not self.down
            and self.since >= SETTLED
        )


def ends_when_recovered(session: Session) -> Session:
    """``session`` with each connection's items watched: once every venue's ``Recovery``
    is done, the run is ended as Ctrl-C ends it (once)."""
    venues = {  # by exchange: the faults above
        "kraken": Recovery(resyncs=2, connections=1),
        "coinbase": Recovery(resyncs=0, connections=2),
        "binance": Recovery(resyncs=1, connections=2),
    }
    ended: list[None] = []

    def seen(exchange: str, item: Received) -> None:
        venues[exchange].see(item)
        if not ended and all(venue.done for venue in venues.values()):
            ended.append(None)
            os.kill(os.getpid(), signal.SIGINT)

    async def watched(
        specs: Sequence[LiveSpec], send: ReceivedSink, clock: Callable[[], int]
    ) -> None:
        await session(specs, _Tap(send, partial(seen, specs[0].exchange)), clock)

    return watched


@attrs.frozen
class _Tap:
    """A sink that shows each item handed over to ``seen``, after its receiver has it."""

    sink: ReceivedSink
    seen: Callable[[Received], None]

    def send_nowait(self, item: Received) -> None:
        self.sink.send_nowait(item)
        self.seen(item)

    async def send(self, item: Received) -> None:
        await self.sink.send(item)
        self.seen(item)


@attrs.frozen
class PaperRun:
    out: Path
    summary: dict[str, Any]
    records: list[Record]
    books: list[tuple[str, int]]  # (venue, book ts) of every on_book, in call order


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperRun]:
    out = tmp_path_factory.mktemp("paper_faults") / "run"
    books: list[tuple[str, int]] = []
    with pytest.MonkeyPatch.context() as patch:
        for ref in ALGOS:  # the scenario's own classes (loaded once per process), watched
            cls = resolve_algo_class(ref, ROOT / "scenarios")
            patch.setattr(cls, "on_book", _watched(cls.on_book, books))

        async def main() -> dict[str, Any]:
            faults = [parse_fault(f) for f in FAULTS]
            async with venue_sim(CAPTURES, port=0, speed=SPEED, faults=faults) as sim:
                # every venue on the local exchange, on its captures' symbols (the README's)
                patch.setenv("MESHRT_VENUE_SIM", f"127.0.0.1:{sim.port}")
                scenario = load_scenario(ROOT / "scenarios" / "paper_mesh.py")
                duration = Setting(None, DURATION, SECONDS * 1_000_000_000)
                session = ends_when_recovered(default_session(scenario.seed, []))
                with trio.fail_after(SECONDS + 20):
                    result = await run_async(
                        scenario, out, options=RunOptions(session=session, overrides=(duration,))
                    )
                assert result.ok, result.summary["failure"]
                return result.summary

        trio.run(main)
        called = list(books)  # the run's calls: the replay below calls them again
        summary = json.loads((out / "summary.json").read_text())
        _, records = read_log(out / "replay.jsonl")
        yield PaperRun(out, summary, list(records), called)


def _watched(on_book: Any, books: list[tuple[str, int]]) -> Any:
    def watched(self: Any, book: Book, state: Any, features: Any, actions: Any) -> None:
        books.append((book.venue, book.ts))
        on_book(self, book, state, features, actions)

    return watched


def _after(records: list[Record], first: Record, venue: str, kind: str) -> Record | None:
    """The first record of ``kind`` from ``venue`` logged after ``first``."""
    return next(
        (r for r in records if r.seq > first.seq and r.venue == venue and r.type == kind), None
    )


def _of(records: list[Record], venue: str, kind: str) -> list[Record]:
    return [r for r in records if r.venue == venue and r.type == kind]


def _timeline(records: list[Record]) -> list[tuple[int, str | None, str]]:
    """(ms, venue, type) of the connection, resync, frame error and snapshot records: what
    a failing assertion shows."""
    kinds = ("connected", "disconnected", "resync", "frame_error", "snapshot")
    return [(r.event_ts // 1_000_000, r.venue, r.type) for r in records if r.type in kinds]


@pytest.mark.e2e
def test_each_fault_is_counted(paper: PaperRun) -> None:
    live = paper.summary["live"]
    assert live["ended"] == "interrupted"  # by ends_when_recovered, well before the bound
    kraken, coinbase, binance = live["kraken"], live["coinbase"], live["binance"]
    why = _timeline(paper.records)
    # the malformed frame is lost: the next update's checksum shows it, and XMR/USD resyncs
    assert kraken["resync_why"] == {"CHECKSUM": 2} and kraken["frame_error"] == 1, why
    assert kraken["connected"] == 1 and kraken["disconnected"] == 0, why
    assert coinbase["disconnected"] == 1 and coinbase["connected"] == 2, why
    assert coinbase["resync"] == 0 and coinbase["frame_error"] == 0, why
    assert binance["disconnected"] == 1 and binance["connected"] == 2, why
    assert binance["resync_why"] == {"GAP": 1} and binance["frame_error"] == 0, why


@pytest.mark.e2e
def test_each_fault_is_logged_and_its_venue_recovers(paper: PaperRun) -> None:
    records = paper.records
    why = _timeline(records)
    checksum, lost_update = _of(records, "kraken", "resync")
    (malformed,) = _of(records, "kraken", "frame_error")
    (drop,) = _of(records, "coinbase", "disconnected")
    (oversized,) = _of(records, "binance", "disconnected")
    (gap,) = _of(records, "binance", "resync")
    assert checksum.payload[1] == lost_update.payload[1] == "CHECKSUM", why
    assert checksum.seq < malformed.seq < lost_update.seq and malformed.payload[2] == "json", why
    assert "1011" in drop.payload[1] and "1009" in oversized.payload[1], why
    assert oversized.seq < gap.seq and gap.payload[1] == "GAP", why
    for fault in (checksum, lost_update, drop, oversized, gap):
        assert fault.venue is not None
        recovered = _after(records, fault, fault.venue, "snapshot")
        assert recovered is not None, f"{fault.venue} never came back after {fault}: {why}"
        if fault.type == "disconnected":
            again = _after(records, fault, fault.venue, "connected")
            assert again is not None and again.payload[1] == 2 and again.seq < recovered.seq


@pytest.mark.e2e
def test_no_book_reaches_an_algo_while_its_symbol_is_down(paper: PaperRun) -> None:
    down: list[tuple[str, int, int]] = []  # (venue, from, until the next snapshot)
    since: dict[str, int] = {}
    for record in paper.records:
        venue = record.venue
        if venue is None:
            continue
        if record.type in ("resync", "disconnected"):
            since.setdefault(venue, record.event_ts)
        elif record.type == "snapshot" and venue in since:
            down.append((venue, since.pop(venue), record.event_ts))
    assert {venue for venue, _, _ in down} == {"kraken", "coinbase", "binance"}
    seen = {venue for venue, _ in paper.books}
    assert {"kraken", "coinbase"} <= seen  # the two algos' venues delivered books
    for venue, start, end in down:
        late = [ts for v, ts in paper.books if v == venue and start <= ts < end]
        assert not late, f"{venue} delivered books at {late[:3]} while down {start}..{end}"
        # and its books flowed again after it came back
        assert venue == "binance" or any(v == venue and ts >= end for v, ts in paper.books)


@pytest.mark.e2e
def test_the_faulted_run_replays(paper: PaperRun) -> None:
    verdict = verify(paper.out)
    assert verdict.ok, verdict.divergence


@pytest.mark.e2e
def test_a_stall_past_stale_after_reconnects_and_resnapshots() -> None:
    spec = LiveSpec(
        symbol="XMR-USD",
        exchange="kraken",
        exchange_symbol="XMR/USD",
        depth=1000,
        stale_after_ns=800_000_000,  # the first XMR/USD frame comes 0.43 s in
        reconnect_min_ns=50_000_000,
        reconnect_max_ns=100_000_000,
    )
    state = SessionState()
    seen: list[Received] = []

    async def main() -> None:
        async with venue_sim(
            [KRAKEN], speed=SPEED, faults=[parse_fault("kraken/stall@5:1.5")]
        ) as sim:
            spec_here = attrs.evolve(spec, url=sim.url("kraken"))
            send, receive = trio.open_memory_channel[Received](1024)
            with trio.fail_after(8):
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(
                        lambda: run_session(
                            [spec_here], send, _clock, rng=random.Random(1), state=state
                        )
                    )
                    reconnected = False
                    async for item in receive:
                        seen.append(item)
                        reconnected |= any(
                            type(o) is Connected and o.attempt == 2 for o in item.outputs
                        )
                        if reconnected and _snapshot(item):
                            nursery.cancel_scope.cancel()

    trio.run(main)
    stats = state.statistics()
    assert stats.stale == 1 and stats.disconnects == 1 and stats.reconnects == 1, stats
    outputs = [o for item in seen for o in item.outputs]
    (gone,) = [o for o in outputs if type(o) is Disconnected]
    assert gone.why.startswith("stale: no message in 0.8 s"), gone
    after = outputs[outputs.index(gone) + 1 :]
    assert type(after[0]) is Connected and after[0].attempt == 2
    first_feed = next(o for o in after if type(o) is Feed)
    assert first_feed.events[0][1] == FEED_SNAPSHOT  # up again only with a snapshot


def _clock() -> int:
    return int(trio.current_time() * 1e9)


def _snapshot(item: Received) -> bool:
    return any(type(o) is Feed and o.events[0][1] == FEED_SNAPSHOT for o in item.outputs)
