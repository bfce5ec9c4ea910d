"""Capture playback (``CaptureSpec``): a capture read through the live adapter as a
virtual-time data source, deterministic, and verified by ``meshrt replay``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from binance_replay import CRYPTOFEED_REST, CRYPTOFEED_WS, HFTBACKTEST

from meshrt import (
    CaptureSpec,
    Scenario,
    Venue,
)
from meshrt.contract import RejectReason
from meshrt.log import schema
from meshrt.log.reader import read_log
from meshrt.runtime.digest import data_files
from meshrt.runtime.replay import verify
from meshrt.runtime.run import run
from meshrt.scenario.definition import ScenarioError, load_scenario, validate
from meshrt.validators import ScenarioValueError
from meshrt.venues.events import FEED_SNAPSHOT
from meshrt.venues.live.playback import Playback, capture_items, received
from meshrt.venues.live.recorder import CaptureWriter, header_line, snapshot_frame
from meshrt.venues.live.verdicts import Feed, Resync

from helpers import synthetic

DATA = Path(__file__).parent / "data" / "venues"
KRAKEN = next((DATA / "kraken").glob("*.log.gz"))
COINBASE = next((DATA / "coinbase").glob("*.log.gz"))


SCENARIO = """
from meshrt import CaptureSpec, Deployment, Scenario, Venue, price_to_int, size_to_int, start
from scenarios.algos.market_maker import MarketMaker

PARAMS = {{
    "size": size_to_int("0.01"),
    "tick": price_to_int("0.01"),
    "max_inventory": size_to_int("0.03"),
}}
kraken = CaptureSpec(
    symbol="XMR-USD", exchange="kraken", path={kraken!r}, exchange_symbol="XMR/USD", depth=1000
)
coinbase = CaptureSpec(symbol="SKL-USD", exchange="coinbase", path={coinbase!r})
scenario = Scenario(
    name="capture",
    seed=3,
    venues=[Venue(name="kraken", sources=[kraken]), Venue(name="coinbase", sources=[coinbase])],
    deployments=[
        Deployment(
            label="mm-" + venue, venue=venue, symbols=[symbol], algo=MarketMaker,
            params=PARAMS, schedule=[start(0)],
        )
        for venue, symbol in (("kraken", "XMR-USD"), ("coinbase", "SKL-USD"))
    ],
)
"""


def capture_scenario(folder: Path) -> Scenario:
    """A maker on a Kraken capture and another on a Coinbase one, as a scenario file."""
    path = folder / "capture.py"
    path.write_text(SCENARIO.format(kraken=str(KRAKEN), coinbase=str(COINBASE)))
    return load_scenario(path)


@pytest.mark.e2e
def test_a_capture_plays_back_the_same_log_twice_and_replays(tmp_path: Path) -> None:
    scenario = capture_scenario(tmp_path)
    first = run(scenario, tmp_path / "a")
    second = run(scenario, tmp_path / "b")
    assert first.ok and first.summary["venue_events"] > 1000
    assert first.summary["deployments"][0]["book_callbacks"] > 0
    logged = (tmp_path / "a" / "replay.jsonl").read_bytes()
    assert logged == (tmp_path / "b" / "replay.jsonl").read_bytes()
    assert second.summary == first.summary
    verdict = verify(tmp_path / "a")
    assert verdict.ok, verdict.divergence


@pytest.mark.unit
def test_a_venue_mixing_live_and_simulated_sources_is_refused(tmp_path: Path) -> None:
    sc = capture_scenario(tmp_path)
    mixed = Venue(name="kraken", sources=[*sc.venues[0].sources, synthetic("XYZ")])
    with pytest.raises(ScenarioError, match="all LiveSpec, all CaptureSpec, or all simulated"):
        validate(attrs.evolve(sc, venues=[mixed, sc.venues[1]]))


BINANCE = DATA / "binance"
BINANCE_WS = BINANCE / (CRYPTOFEED_WS + ".gz")
BINANCE_REST = BINANCE / (CRYPTOFEED_REST + ".gz")
BINANCE_HFT = BINANCE / (HFTBACKTEST + ".gz")
FOUR = {"NKN-USDT": "NKNUSDT", "BLZ-ETH": "BLZETH", "LRC-BTC": "LRCBTC", "RUNE-EUR": "RUNEEUR"}


QUIET = """
from meshrt import Algo


class Quiet(Algo):
    def on_book(self, book, state, features, actions):
        pass

    def on_fill(self, fill, state, actions):
        pass

    def on_reject(self, reject, state, actions):
        pass
"""
BINANCE_SCENARIO = """
from meshrt import CaptureSpec, Deployment, Scenario, Venue, start

FOUR = {four!r}
scenario = Scenario(
    name="binance-capture",
    seed=1,
    venues=[
        Venue(
            name="binance",
            sources=[CaptureSpec(symbol=s, exchange="binance", **{capture!r}) for s in FOUR],
        )
    ],
    deployments=[
        Deployment(
            label="quiet", venue="binance", symbols=list(FOUR), algo="quiet.py:Quiet",
            schedule=[start(0)],
        )
    ],
)
"""


def _binance_scenario(folder: Path, **capture: Any) -> Scenario:
    """A quiet algo on the four symbols of a Binance capture, as a scenario file."""
    (folder / "quiet.py").write_text(QUIET)
    path = folder / "binance.py"
    path.write_text(BINANCE_SCENARIO.format(four=list(FOUR), capture=capture))
    return load_scenario(path)


@pytest.mark.e2e
def test_a_binance_capture_plays_back_with_its_rest_log_and_replays(tmp_path: Path) -> None:
    scenario = _binance_scenario(tmp_path, path=str(BINANCE_WS), rest_log=str(BINANCE_REST))
    done = run(scenario, tmp_path / "a")
    assert done.ok and done.summary["venue_events"] > 100
    again = run(scenario, tmp_path / "b")
    logged = (tmp_path / "a" / "replay.jsonl").read_bytes()
    assert logged == (tmp_path / "b" / "replay.jsonl").read_bytes()
    assert again.summary == done.summary
    verdict = verify(tmp_path / "a")
    assert verdict.ok, verdict.divergence
    names = [name for _, name in data_files(scenario)]
    assert str(BINANCE_REST) in names  # the REST log is in the run's digest


@pytest.mark.unit
def test_every_binance_capture_form_gives_the_sessions_items(tmp_path: Path) -> None:
    """A cryptofeed capture with its REST log, the same frames as a meshrt recording
    (snapshot frames where the session's tap writes them) and hftbacktest's inline
    snapshots: every symbol bridges, nothing resyncs."""
    cryptofeed = list(received(Playback(BINANCE_WS, "binance", FOUR, rest_logs=(BINANCE_REST,))))
    recording = tmp_path / "binance.capture.gz"
    with CaptureWriter(recording, header_line("binance", "wss://x", FOUR, 10, 0)) as writer:
        for ts, symbol, text in capture_items(BINANCE_WS, (BINANCE_REST,))[1]:
            writer.write(ts, text if symbol is None else snapshot_frame(symbol, text))
    recorded = list(received(Playback(recording, "binance", FOUR)))
    assert recorded == cryptofeed
    snapshots = [
        out.symbol
        for item in cryptofeed
        for out in item.outputs
        if isinstance(out, Feed) and out.events[0][1] == FEED_SNAPSHOT
    ]
    assert sorted(snapshots) == sorted(FOUR)
    assert not [o for item in cryptofeed for o in item.outputs if isinstance(o, Resync)]
    hft = list(received(Playback(BINANCE_HFT, "binance", {"BTC-USDT": "BTCUSDT"})))
    events = [e for item in hft for o in item.outputs if isinstance(o, Feed) for e in o.events]
    assert events[0][1] == FEED_SNAPSHOT and len(events) > 10_000


@pytest.mark.unit
def test_a_binance_capture_without_its_snapshots_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="holds no REST depth snapshots") as refused:
        _binance_scenario(tmp_path, path=str(BINANCE_WS))
    assert len(str(refused.value).strip().splitlines()) == 1
    with pytest.raises(ScenarioError, match="is not a cryptofeed REST log"):
        _binance_scenario(tmp_path, path=str(BINANCE_WS), rest_log=str(BINANCE_WS))
    _binance_scenario(tmp_path, path=str(BINANCE_HFT))  # snapshots inline


@pytest.mark.unit
def test_a_rest_log_is_for_binance_only() -> None:
    with pytest.raises(ScenarioValueError, match=r"CaptureSpec\.rest_log is for exchange="):
        CaptureSpec(symbol="BTC-USD", exchange="kraken", path="x.log", rest_log="r.log")


KRAKEN_V2 = """
from meshrt import CaptureSpec, Deployment, Scenario, Venue, price_to_int, seconds, size_to_int
from meshrt import start
from scenarios.algos.market_maker import MarketMaker

kraken = CaptureSpec(symbol="BTC-USD", exchange="kraken", path={path!r}, depth=10)
scenario = Scenario(
    name="capture-refdata",
    seed=3,
    duration_ns=seconds(0.5),
    venues=[Venue(name="kraken", sources=[kraken])],
    deployments=[
        Deployment(
            label="mm", venue="kraken", symbols=["BTC-USD"], algo=MarketMaker,
            params={{"size": size_to_int("0.01"), "tick": price_to_int("0.1"),
                     "max_inventory": size_to_int("0.03")}},
            schedule=[start(0)],
        )
    ],
)
"""


@pytest.mark.e2e
def test_a_kraken_captures_instrument_references_refuse_orders_as_the_venue_would(
    tmp_path: Path,
) -> None:
    """A v2 capture's ``instrument`` frame becomes the venue's reference, as in a paper
    run: the maker's 0.01 quotes are below its qty_min of 0.5, so each is rejected."""
    instrument = {
        "symbol": "BTC/USD",
        "status": "online",
        "price_precision": 1,
        "qty_precision": 8,
        "price_increment": "0.1",
        "qty_increment": "0.00000001",
        "qty_min": "0.5",
        "cost_min": "0.5",
    }
    snapshot = DATA / "kraken" / "kraken_v2_book_docs_checksum_guide_btcusd_snapshot.json"
    frames = [
        json.dumps({"channel": "instrument", "type": "snapshot", "data": {"pairs": [instrument]}}),
        snapshot.read_text().strip(),
    ]
    capture = tmp_path / "kraken_v2.log"
    lines = [f"1700000000.{k}: {frame}\n" for k, frame in enumerate(frames)]
    capture.write_text("wss://ws.kraken.com/v2 <-> 1700000000.0\n" + "".join(lines))
    scenario_file = tmp_path / "capture_refdata.py"
    scenario_file.write_text(KRAKEN_V2.format(path=str(capture)))
    out = tmp_path / "run"
    result = run(load_scenario(scenario_file), out)
    assert result.ok, result.summary["failure"]
    records = list(read_log(out / "replay.jsonl")[1])
    (reference,) = [r for r in records if r.type == schema.REFERENCE.name]
    assert reference.payload == ["kraken", "BTC/USD", 10**8, 1, 5 * 10**7, 5 * 10**8]
    answers = {(r.type, r.payload[1]) for r in records if r.type in schema.REPORT_TYPES}
    assert answers == {("rejected", RejectReason.INVALID_SIZE)}
    verdict = verify(out)
    assert verdict.ok, verdict.divergence
