"""Capture playback (``CaptureSpec``): a capture read through the live adapter as a
virtual-time data source, deterministic, and verified by ``meshrt replay``."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from meshrt import (
    CaptureSpec,
    Scenario,
    Venue,
)
from meshrt.runtime.replay import verify
from meshrt.runtime.run import run
from meshrt.scenario.definition import ScenarioError, load_scenario, validate
from meshrt.validators import ScenarioValueError

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


@pytest.mark.unit
def test_a_binance_capture_is_refused_in_one_line() -> None:
    with pytest.raises(ScenarioValueError, match=r"CaptureSpec\.exchange must be one of 'kraken'"):
        CaptureSpec(symbol="BTC-USDT", exchange="binance", path="x.log")
