"""The bundled paper_mesh scenario for 10 s against three local exchanges: the real
sessions (meshrt/venues/live/session.py) connect to ``meshrt venue-sim`` on 127.0.0.1,
replaying the Kraken, Coinbase and Binance captures at their recorded pace; the run ends
at its duration and its replay reproduces every record."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import trio

from meshrt.log.reader import read_log
from meshrt.runtime.replay import verify
from meshrt.runtime.run import RunOptions, run_async
from meshrt.scenario.definition import load_scenario
from meshrt.scenario.overrides import DURATION, Setting
from meshrt.venuesim.server import venue_sim

ROOT = Path(__file__).parent.parent
DATA = ROOT / "tests" / "data" / "venues"
CAPTURES = [
    DATA / "kraken" / "kraken_v1_book1000_cryptofeed_KRAKEN.ws.50.0.log.gz",
    DATA / "coinbase" / "coinbase_exchange_level2_cryptofeed_COINBASE.ws.28.0.log.gz",
    DATA / "binance" / "binance_spot_hftbacktest_btcusdt_20240808_first17150lines.log.gz",
]
SECONDS = 10


@pytest.mark.e2e
def test_paper_mesh_for_ten_seconds_against_three_local_exchanges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"

    async def main() -> dict[str, object]:
        async with venue_sim(CAPTURES, port=0, speed=1.0) as sim:
            # the README's demo: every venue on the local exchange, on its captures' symbols
            monkeypatch.setenv("MESHRT_VENUE_SIM", f"127.0.0.1:{sim.port}")
            scenario = load_scenario(ROOT / "scenarios" / "paper_mesh.py")
            duration = Setting(None, DURATION, SECONDS * 1_000_000_000)
            with trio.fail_after(SECONDS + 20):
                result = await run_async(scenario, out, options=RunOptions(overrides=(duration,)))
            assert result.ok, result.summary["failure"]
            sessions = result.metrics["sessions"]  # what each connection counted
            assert len(sessions) == 3 and all(c["frames"] > 0 for c in sessions), sessions
            assert all(c["blocked_sends"] == 0 and c["max_lag_ns"] >= 0 for c in sessions)
            return result.summary

    summary = trio.run(main)
    live = summary["live"]
    assert isinstance(live, dict) and live["ended"] == "duration"
    for venue in ("coinbase", "kraken", "binance"):
        assert live[venue]["connected"] >= 1, live
    _, records = read_log(out / "replay.jsonl")
    books = {record.venue for record in records if record.type == "snapshot"}
    assert books == {"coinbase", "kraken", "binance"}  # every venue synced, Binance over REST
    maker, hedger = summary["deployments"]  # type: ignore[misc]
    assert maker["book_callbacks"] > 0 and maker["orders"] > 0
    assert hedger["report"]["nbbo_updates"] > 0
    for name in [name for name in os.environ if name.startswith("MESHRT_")]:
        monkeypatch.delenv(name)  # run.json recorded them: the replay loads the file with them
    verdict = verify(out)
    assert verdict.ok, verdict.divergence
