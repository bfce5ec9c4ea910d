"""Same scenario and seeds, same replay log byte for byte, whatever Trio's scheduling."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
import trio
import trio._core._run as trio_run

from meshrt.runtime.run import RunOptions, run
from meshrt.scenario.definition import load_scenario

from helpers import thinned

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BUNDLED = SCENARIOS / "market_maker.py"


@pytest.fixture
def shuffled_scheduling() -> Iterator[None]:
    """Make Trio shuffle each batch of runnable tasks from a seeded source (as Hypothesis does)."""
    saved = trio_run._ALLOW_DETERMINISTIC_SCHEDULING
    state = trio_run._r.getstate()
    trio_run._ALLOW_DETERMINISTIC_SCHEDULING = True  # type: ignore[misc]
    yield
    trio_run._ALLOW_DETERMINISTIC_SCHEDULING = saved  # type: ignore[misc]
    trio_run._r.setstate(state)


def schedule_order(seed: int) -> list[int]:
    """The order in which three ready tasks run under the scheduler seed."""
    order: list[int] = []

    async def main() -> None:
        async def task(n: int) -> None:
            await trio.lowlevel.checkpoint()
            order.append(n)

        async with trio.open_nursery() as nursery:
            for n in range(6):
                nursery.start_soon(task, n)

    trio_run._r.seed(seed)
    trio.run(main)
    return order


@pytest.mark.unit
def test_the_scheduler_seed_really_changes_task_order(shuffled_scheduling: None) -> None:
    orders = {tuple(schedule_order(seed)) for seed in range(5)}
    assert len(orders) > 1


@pytest.mark.parametrize("name", ["market_maker.py", "maker_hedger.py"])
def test_actors_as_tasks_write_the_stepped_log_under_five_schedules(
    tmp_path: Path, shuffled_scheduling: None, name: str
) -> None:
    """In virtual time the sequencer steps its actors; as Trio tasks woken by their
    mailboxes (live mode's way), in any task order, they must write the same bytes."""
    # the property is about task order, not feed depth: a sparser feed keeps the run's shape
    scenario = thinned(load_scenario(SCENARIOS / name), 5)
    stepped = run(scenario, tmp_path / "stepped")
    assert stepped.ok and stepped.summary["fills"] > 0
    expected = [
        (tmp_path / "stepped" / "replay.jsonl").read_bytes(),
        (tmp_path / "stepped" / "summary.json").read_bytes(),
        (tmp_path / "stepped" / "mesh.json").read_bytes(),
    ]
    for seed in range(5):
        trio_run._r.seed(seed)
        out = tmp_path / f"tasks{seed}"
        assert run(scenario, out, options=RunOptions(actors_as_tasks=True)).ok
        written = [(out / f).read_bytes() for f in ("replay.jsonl", "summary.json", "mesh.json")]
        assert written == expected, f"scheduler seed {seed}"


def test_a_different_seed_gives_a_different_log(tmp_path: Path) -> None:
    import attrs

    scenario = thinned(load_scenario(BUNDLED), 5)
    run(scenario, tmp_path / "a")
    run(attrs.evolve(scenario, seed=scenario.seed + 1), tmp_path / "b")
    assert (tmp_path / "a" / "replay.jsonl").read_bytes() != (
        tmp_path / "b" / "replay.jsonl"
    ).read_bytes()


# The replay logs of golden scenario shapes, as this release writes them. A change to the
# runtime that is meant to keep behaviour (a speed-up, a refactor) must keep these; one
# that changes what a run does updates them and says why. The shapes: the bundled
# scenarios (one with faults), the bundled maker as WASM and as a native library, a
# recorded-data run (a file this test writes from integer arithmetic alone, so it does not
# depend on the synthetic generator) and one venue quoting two symbols.
# Regenerated when the synthetic source moved to xoshiro256** (issue 9): every shape but
# the recorded one reads synthetic data; the recorded digest did not change. Regenerated
# for replay log version 2 (live mode's records, issue 12): only the header's version
# byte changed; every record line is the one version 1 wrote. Regenerated for version 3
# (a live window's rounds repeat until nothing falls due before its end): again only the
# header's version byte.
GOLDEN = {
    "market_maker": "6d28b918a9f0f741",
    "maker_hedger": "e088bd8f62a5b18c",
    "maker_hedger_faults": "31d7024adff590f2",
    "market_maker_wasm": "6d28b918a9f0f741",  # the three loaders write the same log
    "market_maker_native": "6d28b918a9f0f741",
    "recorded": "3e299e39e0b389cb",
    "two_symbols": "6a9b865b9db446cc",
}


def recorded_rows(count: int, seed: int) -> Iterator[bytes]:
    """A recorded L2 stream: a snapshot, then deltas and trades around a walking mid, from
    a linear congruential generator (no library whose output could change)."""
    state = seed

    def draw(n: int) -> int:
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
        return (state >> 33) % n

    def price(ticks: int) -> str:
        return f"{ticks // 1000}.{ticks % 1000:03d}"

    mid = 100_000  # ticks of 0.001: 100.000
    yield orjson.dumps(
        {
            "ts": 0,
            "type": "snapshot",
            "bids": [[price(mid - 1 - i), f"{1 + i}"] for i in range(10)],
            "asks": [[price(mid + 1 + i), f"{1 + i}"] for i in range(10)],
        }
    )
    ts = 0
    for _ in range(count):
        ts += 200_000 + draw(1_800_000)  # 0.2 to 2 ms apart: sparse, like real feeds
        roll = draw(100)
        if roll < 8:
            mid += 1 if draw(2) else -1
            side = "buy" if draw(2) else "sell"
            edge = mid - 1 if side == "buy" else mid + 1
            yield orjson.dumps(
                {
                    "ts": ts,
                    "type": "delta",
                    "side": side,
                    "price": price(edge),
                    "size": f"{1 + draw(5)}.{draw(100):02d}",
                }
            )
        elif roll < 18:
            side = "buy" if draw(2) else "sell"
            yield orjson.dumps(
                {
                    "ts": ts,
                    "type": "trade",
                    "side": side,
                    "price": price(mid + 1 if side == "buy" else mid - 1),
                    "size": f"0.{1 + draw(99):02d}",
                }
            )
        else:
            side = "buy" if draw(2) else "sell"
            depth = draw(10)
            level = mid - 1 - depth if side == "buy" else mid + 1 + depth
            size = "0" if draw(10) == 0 else f"{draw(9)}.{draw(100):02d}"
            yield orjson.dumps(
                {"ts": ts, "type": "delta", "side": side, "price": price(level), "size": size}
            )


def golden_scenario(name: str, data_dir: Path) -> Any:
    from meshrt import KillFeed, KillInstance, RecordedSpec, seconds, start

    if name == "maker_hedger_faults":
        return attrs.evolve(
            load_scenario(SCENARIOS / "maker_hedger.py"),
            faults=[
                KillFeed("alpha", seconds(0.5), seconds(0.3)),
                KillInstance("hedger", seconds(1.0)),
            ],
        )
    if name in ("maker_hedger", "market_maker"):
        return load_scenario(SCENARIOS / f"{name}.py")
    maker = load_scenario(BUNDLED)
    venue, deployment = maker.venues[0], maker.deployments[0]
    if name in ("market_maker_wasm", "market_maker_native"):
        from c_algos import market_maker

        artifact = market_maker()[name.rsplit("_", 1)[1]]
        return attrs.evolve(maker, deployments=[attrs.evolve(deployment, algo=str(artifact))])
    if name == "recorded":
        data = data_dir / "recorded.jsonl"
        data.write_bytes(b"\n".join(recorded_rows(20_000, seed=11)) + b"\n")
        source = RecordedSpec("BTC-USD", str(data))
        params = dict(deployment.params, tick=1_000_000)  # the file's tick: 0.001
        return attrs.evolve(
            maker,
            duration_ns=None,
            venues=[attrs.evolve(venue, sources=[source])],
            deployments=[attrs.evolve(deployment, params=params, schedule=[start(0)])],
        )
    assert name == "two_symbols"
    first = attrs.evolve(venue.sources[0], updates=40_000)
    second = attrs.evolve(first, symbol="ETH-USD", seed=43, interval_ns=35_000)
    return attrs.evolve(
        maker,
        duration_ns=seconds(1.5),
        venues=[attrs.evolve(venue, sources=[first, second])],
        deployments=[
            attrs.evolve(deployment, schedule=[start(0)]),
            attrs.evolve(deployment, label="mm-eth", symbols=["ETH-USD"], schedule=[start(0)]),
        ],
    )


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_the_golden_scenarios_write_the_replay_log_they_always_wrote(
    name: str, tmp_path: Path
) -> None:
    result = run(golden_scenario(name, tmp_path), tmp_path / "run")
    assert result.ok and result.summary["fills"] > 0, name
    digest = hashlib.sha256((tmp_path / "run" / "replay.jsonl").read_bytes()).hexdigest()[:16]
    assert digest == GOLDEN[name], f"{name}: the replay log changed"
