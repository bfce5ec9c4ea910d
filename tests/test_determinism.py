"""Same scenario and seeds, same replay log byte for byte, whatever Trio's scheduling."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio._core._run as trio_run

from meshrt.runtime import run
from meshrt.scenario import load_scenario

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


def test_the_scheduler_seed_really_changes_task_order(shuffled_scheduling: None) -> None:
    orders = {tuple(schedule_order(seed)) for seed in range(5)}
    assert len(orders) > 1


@pytest.mark.parametrize("name", ["market_maker.py", "maker_hedger.py"])
def test_bundled_scenario_replays_byte_identical_under_five_schedules(
    tmp_path: Path, shuffled_scheduling: None, name: str
) -> None:
    scenario = load_scenario(SCENARIOS / name)
    logs = []
    summaries = []
    for seed in range(5):
        trio_run._r.seed(seed)
        out = tmp_path / f"run{seed}"
        result = run(scenario, out)
        assert result.ok
        logs.append((out / "replay.jsonl").read_bytes())
        summaries.append((out / "summary.json").read_bytes()
                         + (out / "mesh.json").read_bytes())
    assert result.summary["fills"] > 0
    assert all(log == logs[0] for log in logs[1:])
    assert all(summary == summaries[0] for summary in summaries[1:])


def test_a_different_seed_gives_a_different_log(tmp_path: Path) -> None:
    import attrs

    scenario = load_scenario(BUNDLED)
    run(scenario, tmp_path / "a")
    run(attrs.evolve(scenario, seed=scenario.seed + 1), tmp_path / "b")
    assert (tmp_path / "a" / "replay.jsonl").read_bytes() != (
        tmp_path / "b" / "replay.jsonl").read_bytes()


# The replay logs of the bundled scenarios, as this release writes them. A change to the
# runtime that is meant to keep behaviour (a speed-up, a refactor) must keep these; one
# that changes what a run does updates them and says why.
GOLDEN = {
    "market_maker": "42a296d97a2e0ed1",
    "maker_hedger": "dc903e6d3dd8bacb",  # issue 11.9: order 2208 stays CANCEL_PENDING at 3.5 s
    "maker_hedger_faults": "a637f051879e507b",
}


def golden_scenario(name: str) -> Any:
    from meshrt import KillFeed, KillInstance, seconds

    if name == "maker_hedger_faults":
        return attrs.evolve(load_scenario(SCENARIOS / "maker_hedger.py"),
                            faults=[KillFeed("alpha", seconds(0.5), seconds(0.3)),
                                    KillInstance("hedger", seconds(1.0))])
    return load_scenario(SCENARIOS / f"{name}.py")


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_the_bundled_scenarios_write_the_replay_log_they_always_wrote(
        name: str, tmp_path: Path) -> None:
    run(golden_scenario(name), tmp_path)
    digest = hashlib.sha256((tmp_path / "replay.jsonl").read_bytes()).hexdigest()[:16]
    assert digest == GOLDEN[name], f"{name}: the replay log changed"
