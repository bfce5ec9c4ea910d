"""meshrt intel: market structure from hand-made books, a run's log and a real capture."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from meshrt import FeeSchedule, Scenario, Venue, micros
from meshrt.analysis.intel import FIRST_GRID_NS, MAX_SAMPLES, BookEvent, IntelError, analyse
from meshrt.analysis.intel_sources import CaptureError, capture_books, run_books
from meshrt.contract import PRICE_SCALE, SIZE_SCALE, Side
from meshrt.runtime.run import run
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT
from tests.helpers import Quiet, deployment, synthetic

KRAKEN = Path(__file__).parent / "data" / "venues" / "kraken"
CAPTURE = KRAKEN / "kraken_v1_book1000_cryptofeed_KRAKEN.ws.50.0.log.gz"
BINANCE = Path(__file__).parent / "data" / "venues" / "binance"
BINANCE_WS = BINANCE / "binance_spot_depth_cryptofeed_BINANCE.ws.1.0.log.gz"
BINANCE_REST = BINANCE / "binance_spot_rest_depth_cryptofeed_BINANCE.http.0.0.log.gz"
BINANCE_HFT = BINANCE / "binance_spot_hftbacktest_btcusdt_20240808_first17150lines.log.gz"
P = PRICE_SCALE
SELL = int(Side.SELL)
BUY = int(Side.BUY)
U = SIZE_SCALE


def snapshot(
    ts: int, venue: str, bids: list[tuple[int, int]], asks: list[tuple[int, int]]
) -> BookEvent:
    return ts, venue, (ts, FEED_SNAPSHOT, tuple(bids), tuple(asks))


def test_best_prices_spread_and_cost_of_taking() -> None:
    """a has the best ask, b the best bid; taking 2 units on a walks two ask levels."""
    events = [
        snapshot(0, "a", [(100 * P, 1 * U), (99 * P, 5 * U)], [(101 * P, 1 * U), (103 * P, 5 * U)]),
        snapshot(0, "b", [(100 * P + P // 2, 1 * U)], [(102 * P, 1 * U)]),
        (10_000_000, "a", (10_000_000, FEED_DELTA, SELL, 101 * P, 1 * U)),  # same ask again
    ]
    found = analyse("X", events, sizes=(1.0, 2.0))
    a, b = found.venues
    assert (a.venue, b.venue) == ("a", "b")
    assert a.best_ask_share == 1.0 and a.best_bid_share == 0.0
    assert b.best_bid_share == 1.0 and b.best_ask_share == 0.0
    assert a.spread_bps is not None and a.spread_bps.p50 == pytest.approx(1 / 100.5 * 1e4)
    # buy 2: 101 and 103 (avg 102); sell 2: 100 and 99 (avg 99.5); half the gap over mid
    assert a.take[1].cost_bps is not None
    assert a.take[1].cost_bps.p50 == pytest.approx((102 - 99.5) / 2 / 100.5 * 1e4)
    assert b.take[1].fillable == 0.0 and b.take[1].cost_bps is None  # b holds 1 unit a side
    assert a.take[1].cheapest == 1.0
    # one unit: a's touch is 1 wide, b's 1.5: a first, then b
    assert [venue for venue, _ in found.routing(1.0)] == ["a", "b"]
    assert found.routing(2.0) == [("a", a.take[1].cost_bps.p50)]  # b cannot fill 2


def test_depth_counts_both_sides_within_each_band_of_the_mid() -> None:
    c = P // 100  # one cent; the mid is 100.00
    bids = [(100 * P - c, U), (100 * P - 8 * c, 2 * U), (100 * P - 20 * c, 4 * U)]
    asks = [(100 * P + c, U), (100 * P + 9 * c, 2 * U), (100 * P + 30 * c, 8 * U)]
    (a,) = analyse("X", [snapshot(0, "a", bids, asks)]).venues
    depth = {band: p.p50 for band, p in a.depth_units if p is not None}
    assert depth == {5: 2.0, 10: 6.0, 25: 10.0}  # 1 bp, 8-9 bps, 20 bps (30 is outside)


def test_a_venue_down_is_not_counted_until_its_next_snapshot() -> None:
    events = [
        snapshot(0, "a", [(100 * P, U)], [(101 * P, U)]),
        (5_000_000, "a", None),
        (5_000_000, "a", (5_000_000, FEED_DELTA, BUY, 100 * P, 2 * U)),  # ignored: down
        snapshot(9_000_000, "a", [(100 * P, U)], [(101 * P, U)]),
    ]
    found = analyse("X", events)
    (a,) = found.venues
    assert found.samples == 10
    assert a.coverage == pytest.approx(6 / 10)  # 0-4 ms and 9 ms, not 5-8 ms


def test_the_grid_doubles_to_keep_samples_bounded_and_even() -> None:
    events = [snapshot(0, "a", [(100 * P, U)], [(101 * P, U)])]
    events += [(t, "a", (t, FEED_DELTA, BUY, 100 * P, U)) for t in range(0, 10**10, 10**7)]
    found = analyse("X", events)
    assert MAX_SAMPLES // 2 <= found.samples <= MAX_SAMPLES + 1
    assert found.grid_ns % FIRST_GRID_NS == 0
    assert found.grid_ns * (found.samples - 1) <= 10**10


def test_nothing_to_analyse_says_so() -> None:
    with pytest.raises(IntelError, match="no book of X"):
        analyse("X", [])


@pytest.mark.e2e
def test_a_runs_venues_share_the_nbbo(tmp_path: Path) -> None:
    venues = [
        Venue(
            name=name,
            sources=[synthetic(seed=seed, updates=1_500)],
            feed_latency=micros(100),
            order_latency=micros(100),
            fees=FeeSchedule(),
        )
        for name, seed in (("v1", 1), ("v2", 2))
    ]
    quiet = deployment(Quiet, symbols=["XYZ"])
    run(Scenario(name="intel", seed=3, venues=venues, deployments=[quiet]), tmp_path / "run")
    found = analyse("XYZ", run_books(tmp_path / "run", "XYZ"))
    assert [v.venue for v in found.venues] == ["v1", "v2"]
    assert sum(v.best_bid_share for v in found.venues) == pytest.approx(1.0)
    assert sum(v.best_ask_share for v in found.venues) == pytest.approx(1.0)
    assert all(v.coverage > 0.9 and v.updates > 1_000 for v in found.venues)
    with pytest.raises(IntelError, match="no book of ABC"):
        analyse("ABC", run_books(tmp_path / "run", "ABC"))


def meshrt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meshrt.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.e2e
def test_intel_on_a_real_kraken_capture() -> None:
    """XBT/CHF of the Kraken v1 capture (depth 1000): every book verified by the adapter."""
    done = meshrt("intel", "BTC-CHF", str(CAPTURE), "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    (kraken,) = found["venues"]
    assert kraken["venue"] == "kraken" and kraken["updates"] > 100
    assert kraken["coverage"] > 0.9 and kraken["best_bid_share"] == 1.0
    assert 0 < kraken["spread_bps"]["p50"] < 50
    table = meshrt("intel", "BTC-CHF", str(CAPTURE))
    assert table.returncode == 0 and "routing preference" in table.stdout


@pytest.mark.e2e
def test_intel_on_binance_captures_with_their_snapshots() -> None:
    """A cryptofeed capture with its REST log beside it, and hftbacktest's inline
    snapshots: every book bridged by the adapter's published procedure first."""
    done = meshrt("intel", "NKN-USDT", str(BINANCE_WS), str(BINANCE_REST), "--json")
    assert done.returncode == 0, done.stderr
    (binance,) = json.loads(done.stdout)["venues"]
    assert binance["venue"] == "binance" and binance["updates"] > 100
    assert binance["coverage"] > 0.9 and 0 < binance["spread_bps"]["p50"] < 50
    done = meshrt("intel", "BTC-USDT", str(BINANCE_HFT), "--json")
    assert done.returncode == 0, done.stderr
    (binance,) = json.loads(done.stdout)["venues"]
    assert binance["venue"] == "binance" and binance["updates"] > 10_000
    assert binance["coverage"] > 0.99


@pytest.mark.unit
def test_a_rest_log_is_no_venue_and_a_capture_without_the_symbol_is_refused() -> None:
    books = list(capture_books([BINANCE_REST, BINANCE_WS], "NKN-USDT"))
    assert {venue for _, venue, _ in books} == {"binance"}
    assert [ts for ts, _, _ in books] == sorted(ts for ts, _, _ in books)
    with pytest.raises(CaptureError, match="no kraken symbol maps to NKN-USDT"):
        list(capture_books([BINANCE_WS, BINANCE_REST, CAPTURE], "NKN-USDT"))


@pytest.mark.e2e
def test_a_binance_capture_without_its_rest_log_is_refused() -> None:
    done = meshrt("intel", "NKN-USDT", str(BINANCE_WS))
    assert done.returncode == 2
    assert "holds no REST depth snapshots" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.e2e
def test_intel_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    other = tmp_path / "x.log"
    other.write_text("wss://example.com <-> 1.0\n")
    done = meshrt("intel", "BTC-CHF", str(other))
    assert done.returncode == 2
    assert done.stderr.strip().startswith("meshrt intel: ") and "x.log" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
