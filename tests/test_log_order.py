"""A simulated run's replay log never steps back in event_ts, and run_end closes it
(docs/replay.md): scanned over runs of several shapes, faults and late crashes included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from test_faults import maker_hedger

from meshrt import KillCoordinator, KillFeed, KillInstance, Partition, RestartCoordinator, seconds
from meshrt.runtime.run import run
from meshrt.scenario.definition import Scenario

from helpers import deployment, scenario
from scenarios.algos.market_maker import MarketMaker


class CrashesAtTheEnd(MarketMaker):
    """Quotes like the market maker, then crashes on a book near the end of the data,
    so its resting orders are cancelled by the crash policy in the last windows."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        super().on_book(book, state, features, actions)
        if book.ts >= self.params["crash_at"]:
            raise RuntimeError("late crash")


class CrashesInShutdown(MarketMaker):
    def on_shutdown(self, state):  # type: ignore[no-untyped-def]
        raise RuntimeError("crash in on_shutdown")


def _last_feed_ts(updates: int) -> int:
    return updates * 20_000  # helpers.synthetic: one update every 20 us


SHAPES: dict[str, Any] = {
    "no duration": lambda: scenario(deployment(MarketMaker), updates=2_000),
    "duration inside the data": lambda: scenario(
        deployment(MarketMaker), updates=2_000, duration_ns=_last_feed_ts(2_000) // 2 + 7
    ),
    "duration past the data": lambda: scenario(
        deployment(MarketMaker), updates=2_000, duration_ns=_last_feed_ts(2_000) * 2
    ),
    "crash in the last windows, no duration": lambda: scenario(
        deployment(
            CrashesAtTheEnd,
            params={
                "size": 10**8,
                "tick": 10**7,
                "max_inventory": 3 * 10**8,
                "crash_at": _last_feed_ts(2_000) - 100_000,
            },
        ),
        updates=2_000,
    ),
    "crash in on_shutdown, no duration": lambda: scenario(
        deployment(CrashesInShutdown), deployment(MarketMaker, label="other"), updates=2_000
    ),
    "faults": lambda: maker_hedger(
        KillInstance("maker", seconds(0.2)),
        KillFeed("beta", seconds(0.3), seconds(0.1)),
        Partition("alpha", seconds(0.5), seconds(0.1)),
        KillCoordinator(seconds(0.7)),
        RestartCoordinator(seconds(0.8)),
        KillInstance("hedger", seconds(0.9995)),
        duration=1.0,
        updates=25_000,
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_event_ts_never_decreases_and_run_end_closes_the_log(shape: str, tmp_path: Path) -> None:
    sc: Scenario = SHAPES[shape]()
    result = run(sc, tmp_path)
    assert result.ok
    lines = (tmp_path / "replay.jsonl").read_bytes().splitlines()
    records = [orjson.loads(line) for line in lines[1:]]
    last = 0
    for record in records:
        assert record[1] >= last, f"{shape}: seq {record[0]} steps back: {record} after {last}"
        last = record[1]
    end = records[-1]
    assert end[6] == "run_end" and end[7] == [end[1]]
    if sc.duration_ns is not None:
        assert end[1] == sc.duration_ns
