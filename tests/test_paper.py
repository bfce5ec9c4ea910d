"""Paper mode: a scenario on live venues runs in wall-clock time through the live loop,
fed by sessions (here a fake one that replays a capture through the adapter at wall
pace: the seam ``RunOptions.session``), ends at its duration or on Ctrl-C with a summary,
and ``meshrt replay`` of the run reproduces every record."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
import trio

from meshrt import LiveSpec, Scenario, size_to_int
from meshrt.contract import RejectReason
from meshrt.log import schema
from meshrt.log.reader import read_log
from meshrt.runtime.paper import Session
from meshrt.runtime.replay import verify
from meshrt.runtime.run import RunOptions, run
from meshrt.scenario.definition import load_scenario
from meshrt.scenario.overrides import DURATION, Setting
from meshrt.venues.live.adapters import adapter_for, exchange_symbols
from meshrt.venues.live.capture import cryptofeed_frames
from meshrt.venues.live.refdata import Reference
from meshrt.venues.live.verdicts import (
    Connected,
    Disconnected,
    NeedSnapshot,
    Received,
    ReceivedSink,
)

ROOT = Path(__file__).parent.parent
DATA = ROOT / "tests" / "data" / "venues"
CAPTURES = {
    "kraken": next((DATA / "kraken").glob("*.log.gz")),
    "coinbase": next((DATA / "coinbase").glob("*.log.gz")),
}
SPEED = 20  # capture seconds per wall second


def fake_session(
    captures: dict[str, Path] = CAPTURES,
    speed: float = SPEED,
    after: Callable[[], None] | None = None,
    drop_after: int | None = None,
    references: Mapping[str, Reference] | None = None,
) -> Session:
    """A session with no network: each connection replays its exchange's capture through
    the adapter at ``speed`` times wall pace, stamping items with the run's clock, then
    waits to be cancelled (``after``: called once the capture is done; ``drop_after``:
    a ``Disconnected`` after that many items, the frames going on as if nothing
    happened, as a session that failed to notice its reconnect's snapshot would;
    ``references``: exchange -> a reference handed over right after connecting, as a
    session's REST answer would be)."""

    async def session(
        specs: Sequence[LiveSpec], send: ReceivedSink, clock: Callable[[], int]
    ) -> None:
        await send.send(Received(clock(), (Connected(specs[0].exchange, 1),)))
        if references and specs[0].exchange in references:
            await send.send(Received(clock(), (references[specs[0].exchange],)))
        if specs[0].exchange not in captures:
            await trio.sleep_forever()  # connected, never a book: the venue stays down
        adapter = adapter_for(specs[0].exchange, exchange_symbols(specs), depth=specs[0].depth)
        zero, first, sent = clock(), None, 0
        for ts, text in cryptofeed_frames(captures[specs[0].exchange]):
            first = ts if first is None else first
            delay = zero + (ts - first) / speed - clock()
            if delay > 0:
                await trio.sleep(delay / 1e9)
            now = clock()
            outputs = tuple(
                out for out in adapter.on_frame(text, now) if type(out) is not NeedSnapshot
            )
            if outputs:
                await send.send(Received(now, outputs))
                sent += 1
                if sent == drop_after:
                    gone = Disconnected(specs[0].exchange, "test: dropped", 250_000_000)
                    await send.send(Received(clock(), (gone,)))
        if after is not None:
            after()
        await trio.sleep_forever()

    return session


def played(sessions: int = 2) -> Callable[[], None]:
    """A ``fake_session`` ``after`` that ends the run as Ctrl-C does once ``sessions``
    captures have all played: what the run did then does not depend on how much CPU the
    machine spared it (a run of fixed wall length starved by other processes may not
    have reached its books); the scenario's duration is only a bound."""
    done: list[None] = []

    def after() -> None:
        done.append(None)
        if len(done) == sessions:
            os.kill(os.getpid(), signal.SIGINT)

    return after


SCENARIO = """
from meshrt import Deployment, LiveSpec, Scenario, Venue, price_to_int, seconds, size_to_int
from meshrt import start
from scenarios.algos.market_maker import MarketMaker

PARAMS = {{
    "size": size_to_int("0.01"),
    "tick": price_to_int("0.01"),
    "max_inventory": size_to_int("0.03"),
}}
scenario = Scenario(
    name="paper",
    seed=3,
    duration_ns={duration},
    venues=[
        Venue(name="kraken", sources=[
            LiveSpec(symbol="XMR-USD", exchange="kraken", exchange_symbol="XMR/USD", depth=1000)
        ]),
        Venue(name="coinbase", sources=[LiveSpec(symbol="SKL-USD", exchange="coinbase")]),
    ],
    deployments=[
        Deployment(
            label="mm-" + venue, venue=venue, symbols=[symbol], algo=MarketMaker,
            params=PARAMS, schedule=[start(0)],
        )
        for venue, symbol in (("kraken", "XMR-USD"), ("coinbase", "SKL-USD"))
    ],
)
"""


def paper_scenario(folder: Path, duration: str = "seconds(1.5)") -> Scenario:
    path = folder / "paper.py"
    path.write_text(SCENARIO.format(duration=duration))
    return load_scenario(path)


def duration(seconds: float) -> Setting:
    return Setting(None, DURATION, round(seconds * 1e9))


def types(run_dir: Path) -> list[str]:
    _, records = read_log(run_dir / "replay.jsonl")
    return [record.type for record in records]


@pytest.mark.e2e
@pytest.mark.parametrize("as_tasks", [False, True], ids=["stepped", "as-tasks"])
def test_a_paper_run_ends_at_its_duration_and_replays(tmp_path: Path, as_tasks: bool) -> None:
    """Stepped (paper mode's way) or with the actors as Trio tasks, the replay (stepped)
    reproduces every record. Three wall seconds: a run starved of CPU (the suite's other
    processes on an oversubscribed machine) still reaches its books and trades (at 1.5 s
    a run beside four busy loops on its core often had not), the captures at half the
    usual pace so they last past the end; a window takes all that arrived, so a starved
    run has fewer, larger ones, and only more than one is asked."""
    out = tmp_path / "run"
    options = RunOptions(session=fake_session(speed=SPEED / 2), actors_as_tasks=as_tasks)
    result = run(paper_scenario(tmp_path, "seconds(3)"), out, options=options)
    assert result.ok, result.summary["failure"]
    written = types(out)
    assert written.count(schema.LIVE_CLOCK.name) == 1
    assert written.count(schema.CONNECTED.name) == 2
    assert written.count(schema.LIVE_WINDOW.name) > 1
    assert {"snapshot", "delta", "order_created", "accepted"} <= set(written)
    assert result.summary["deployments"][0]["book_callbacks"] > 0
    assert 2e9 <= result.summary["scenario_time_ns"] < 6e9  # the last window's end
    assert result.summary["live"]["kraken"]["connected"] == 1
    assert result.summary["live"]["ended"] == "duration"
    verdict = verify(out)
    assert verdict.ok, verdict.divergence


@pytest.mark.e2e
def test_ctrl_c_ends_a_paper_run_cleanly_with_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "run"
    fired: list[int] = []

    def ctrl_c_once() -> None:  # the first capture done; a second Ctrl-C would cut it short
        if not fired:
            fired.append(signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)

    interrupt = fake_session(speed=200, after=ctrl_c_once)
    # a duration only in case the signal went astray: the run must end by Ctrl-C
    result = run(
        paper_scenario(tmp_path, "seconds(30)"), out, options=RunOptions(session=interrupt)
    )
    assert result.ok and not result.interrupted
    assert result.summary["live"]["ended"] == "interrupted"
    assert types(out)[-1] == schema.RUN_END.name
    assert (out / "summary.json").is_file()
    assert verify(out).ok


@pytest.mark.e2e
def test_the_bundled_paper_mesh_runs_on_three_venues_and_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kraken and Coinbase from their captures (Binance connected, never synced: down all
    along), all three quoting one scenario symbol by name."""
    for name, value in {
        "PAPER_SYMBOL": "TEST-USD",
        "PAPER_SIZE": "0.01",
        "KRAKEN_SYMBOL": "XMR/USD",
        "KRAKEN_DEPTH": "1000",
        "COINBASE_SYMBOL": "SKL-USD",
        "KRAKEN_URL": "ws://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(f"MESHRT_{name}", value)
    scenario = load_scenario(ROOT / "scenarios" / "paper_mesh.py")
    assert [spec.url for venue in scenario.venues for spec in venue.sources] == [
        None,
        "ws://127.0.0.1:9",
        None,
    ]
    out = tmp_path / "run"
    options = RunOptions(session=fake_session(after=played()), overrides=(duration(30),))
    result = run(scenario, out, options=options)
    assert result.ok, result.summary["failure"]
    live = result.summary["live"]
    assert [live[venue]["connected"] for venue in ("coinbase", "kraken", "binance")] == [1, 1, 1]
    maker, hedger = result.summary["deployments"]
    assert maker["book_callbacks"] > 0 and maker["orders"] > 0
    assert hedger["report"]["nbbo_updates"] > 0  # Kraken's and Coinbase's books consolidated
    assert verify(out).ok


@pytest.mark.e2e
def test_no_book_reaches_an_algo_after_a_disconnect_until_a_snapshot(tmp_path: Path) -> None:
    out = tmp_path / "run"
    session = fake_session(drop_after=50, after=played())
    result = run(paper_scenario(tmp_path, "seconds(30)"), out, options=RunOptions(session=session))
    assert result.ok
    live = result.summary["live"]
    assert [live[venue]["disconnected"] for venue in ("kraken", "coinbase")] == [1, 1]
    assert live["kraken"]["reconnect_delay_ns"] == 250_000_000
    _, records = read_log(out / "replay.jsonl")
    shown = dict.fromkeys(("kraken", "coinbase"), 0)
    down = set()
    for record in records:
        if record.type == schema.DISCONNECTED.name:
            down.add(record.venue)
        elif record.type in ("snapshot", "delta") and record.venue not in down:
            shown[record.venue] += 1
    for deployment in result.summary["deployments"]:
        venue = deployment["venue"]
        assert 0 < deployment["book_callbacks"] <= shown[venue], venue
    assert verify(out).ok


@pytest.mark.e2e
def test_orders_the_venues_reference_data_refuses_are_rejected_and_replay(tmp_path: Path) -> None:
    """The maker's 0.01 quotes on Kraken are below the (injected) minimum of 0.1: each is
    refused by the venue with INVALID_SIZE, never matched; Coinbase, with no reference
    yet, is not checked. The replay re-applies the logged reference and refuses the same."""
    minimum = size_to_int("0.1")
    rules = Reference("kraken", "XMR/USD", "XMR-USD", 10**7, 10**3, minimum, None)
    session = fake_session(references={"kraken": rules}, after=played())
    out = tmp_path / "run"
    scenario = paper_scenario(tmp_path, "seconds(30)")
    result = run(scenario, out, options=RunOptions(session=session))
    assert result.ok, result.summary["failure"]
    records = list(read_log(out / "replay.jsonl")[1])
    (logged,) = [r for r in records if r.type == schema.REFERENCE.name]
    assert (logged.venue, logged.instrument) == ("kraken", "XMR-USD")
    assert logged.payload == ["kraken", "XMR/USD", 10**7, 10**3, minimum, None]
    reports = schema.REPORT_TYPES
    answers = {
        venue: [(r.type, r.payload[1]) for r in records if r.venue == venue and r.type in reports]
        for venue in ("kraken", "coinbase")
    }
    assert answers["kraken"] and set(answers["kraken"]) == {("rejected", RejectReason.INVALID_SIZE)}
    assert "accepted" in {kind for kind, _ in answers["coinbase"]}
    assert result.summary["live"]["kraken"]["reference"] == 1
    verdict = verify(out)
    assert verdict.ok, verdict.divergence
