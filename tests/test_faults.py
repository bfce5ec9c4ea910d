"""Supervision and fault injection: the failure table of DESIGN section 7, each a test
on the two-venue maker/hedger scenario, plus random fault schedules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from meshrt import Algo, seconds
from meshrt.runtime.run import run
from meshrt.scenario.definition import Scenario, load_scenario
from meshrt.scenario.faults import (
    DropRate,
    KillCoordinator,
    KillFeed,
    KillInstance,
    LatencySpike,
    Partition,
    RestartCoordinator,
)
from meshrt.scenario.restart import LEAVE, on_failure
from meshrt.soak.checks import check_determinism, check_run
from meshrt.soak.schedules import apply, random_schedule

from helpers import UNIT, deployment, scenario, thinned

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = load_scenario(ROOT / "scenarios" / "maker_hedger.py")


def maker_hedger(*faults: Any, duration: float = 1.5, updates: int = 40_000) -> Scenario:
    """The bundled two-venue scenario, shortened, with a fault schedule."""
    venues = [
        attrs.evolve(v, sources=[attrs.evolve(v.sources[0], updates=updates)])
        for v in BUNDLED.venues
    ]
    maker = attrs.evolve(BUNDLED.deployments[0], schedule=BUNDLED.deployments[0].schedule[:1])
    return attrs.evolve(
        BUNDLED,
        venues=venues,
        deployments=[maker, BUNDLED.deployments[1]],
        duration_ns=seconds(duration),
        faults=faults,
    )


def records(run_dir: Path) -> list[list[Any]]:
    lines = (run_dir / "replay.jsonl").read_bytes().splitlines()
    return [orjson.loads(line) for line in lines[1:]]


def fills_of(run_dir: Path, label: str) -> list[int]:
    recs = records(run_dir)
    owner = {r[7][0]: r[7][1] for r in recs if r[6] == "order_created"}
    return [r[1] for r in recs if r[6] == "fill" and owner[r[7][0]] == label]


def messages_from(run_dir: Path, label: str) -> list[int]:
    return [r[1] for r in records(run_dir) if r[6] == "message" and r[7][0] == label]


def link(run_dir: Path, sender: str, receiver: str) -> dict[str, Any]:
    mesh = orjson.loads((run_dir / "mesh.json").read_bytes())
    return next(row for row in mesh["links"] if row["from"] == sender and row["to"] == receiver)


def assert_nothing_lost(result: Any) -> None:
    assert result.ok, result.summary["failure"]
    rec = result.summary["reconciliation"]
    assert rec["mismatches"] == []
    assert rec["orders"] == result.summary["orders"]


def test_one_instance_crashes_and_its_siblings_keep_trading(tmp_path: Path) -> None:
    kill_at = seconds(0.5)
    result = run(maker_hedger(KillInstance("hedger", kill_at)), tmp_path)
    by_label = {d["label"]: d for d in result.summary["deployments"]}
    assert by_label["hedger"]["state"] == "failed"
    assert by_label["hedger"]["crashed"] == "InjectedFault: killed by fault injection"
    assert by_label["hedger"]["crashed_at_ns"] == kill_at
    assert [t for t in fills_of(tmp_path, "maker") if t > kill_at], "fills continue after"
    assert any(r[6] == "crash" for r in records(tmp_path))
    assert_nothing_lost(result)


def test_an_edge_that_loses_the_coordinator_keeps_trading_and_its_mesh_resumes(
    tmp_path: Path,
) -> None:
    start, length = seconds(0.4), seconds(0.4)
    result = run(maker_hedger(Partition("alpha", start, length)), tmp_path)
    during = [t for t in fills_of(tmp_path, "maker") if start <= t < start + length]
    assert during, "the partitioned edge keeps trading on its local feed"
    assert link(tmp_path, "maker", "hedger")["dropped"].get("partition", 0) > 0
    assert [t for t in messages_from(tmp_path, "maker") if t > start + length], "mesh resumes"
    hedger_fills = fills_of(tmp_path, "hedger")
    assert [t for t in hedger_fills if t > start + length], "the hedger hears again"
    assert_nothing_lost(result)


def test_the_coordinator_restarts_and_routing_comes_back(tmp_path: Path) -> None:
    down, up = seconds(0.4), seconds(0.7)
    result = run(maker_hedger(KillCoordinator(down), RestartCoordinator(up)), tmp_path)
    assert result.summary["coordinator"] == {"kills": 1, "restarts": 1, "up_at_end": True}
    assert link(tmp_path, "maker", "hedger")["dropped"].get("coordinator_down", 0) > 0
    maker_fills = fills_of(tmp_path, "maker")
    assert [t for t in maker_fills if down <= t < up], "instances keep trading without it"
    assert [t for t in fills_of(tmp_path, "hedger") if t > up + seconds(0.1)], "routing back"
    kinds = [r[6] for r in records(tmp_path)]
    assert "coordinator_killed" in kinds and "coordinator_restarted" in kinds
    assert_nothing_lost(result)


def test_a_dropped_message_blocks_nobody(tmp_path: Path) -> None:
    result = run(maker_hedger(DropRate("maker", "hedger", 0.5, 0, seconds(10))), tmp_path)
    row = link(tmp_path, "maker", "hedger")
    assert row["dropped"]["loss"] > 0 and row["delivered"] > 0
    assert row["sent"] == row["delivered"] + row["dropped"]["loss"] + row["in_flight"]
    assert result.summary["scenario_time_ns"] == seconds(1.5)  # ran to the end
    assert_nothing_lost(result)


def test_a_latency_spike_delays_messages_by_its_size(tmp_path: Path) -> None:
    run(maker_hedger(LatencySpike("maker", "hedger", seconds(0.5), 0, seconds(10))), tmp_path)
    assert link(tmp_path, "maker", "hedger")["latency_p50_ns"] >= seconds(0.55)


class Watcher(Algo):
    """Records the time and touch of every book it is shown."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        self.params["books"].append((state.now, book.bid_prices[0], book.ask_prices[0]))

    def on_fill(self, fill, state, actions):  # type: ignore[no-untyped-def]
        pass

    def on_reject(self, reject, state, actions):  # type: ignore[no-untyped-def]
        pass


def test_a_killed_feed_stops_market_data_but_not_the_venue(tmp_path: Path) -> None:
    seen: dict[str, Any] = {"books": []}
    sc = maker_hedger(KillFeed("alpha", seconds(0.5), seconds(0.3)))
    watcher = attrs.evolve(sc.deployments[0], label="watcher", algo=Watcher, params=seen)
    sc = attrs.evolve(sc, deployments=[*sc.deployments, watcher])
    result = run(sc, tmp_path)
    dropped = result.summary["reconciliation"]["feed_events_dropped"]["alpha"]
    assert dropped > 0
    times = [t for t, _, _ in seen["books"]]
    assert not [t for t in times if seconds(0.502) < t < seconds(0.8)], "nothing shown"
    assert [t for t in times if t > seconds(0.801)], "the feed comes back"
    assert all(bid < ask for _, bid, ask in seen["books"]), "and the book it shows is whole"
    # the venue's book kept moving: its events are in the log even while not shown
    feed = [
        r[1]
        for r in records(tmp_path)
        if r[4] == "alpha" and r[6] in ("delta", "trade", "snapshot")
    ]
    assert len([t for t in feed if seconds(0.5) <= t < seconds(0.8)]) == dropped
    assert_nothing_lost(result)


class CrashEvery(Algo):
    """Quotes one resting order, then crashes on each book after params['every'] ns."""

    def __init__(self, host, params):  # type: ignore[no-untyped-def]
        super().__init__(host, params)
        self.params["starts"].append(None)

    def on_start(self, state, actions):  # type: ignore[no-untyped-def]
        self.params["started_at"].append(state.now)
        self.started = state.now
        self.params["views"].append((state.position(), sorted(state.open_orders)))

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        if not state.open_orders:
            actions.limit(1, book.bid_prices[-1], UNIT)
        if state.now - self.started > self.params["every"]:
            raise RuntimeError("again")

    def on_fill(self, fill, state, actions):  # type: ignore[no-untyped-def]
        pass

    def on_reject(self, reject, state, actions):  # type: ignore[no-untyped-def]
        pass


def crash_every(policy: Any) -> tuple[Scenario, dict[str, Any]]:
    params: dict[str, Any] = {"every": seconds(0.05), "starts": [], "started_at": [], "views": []}
    return scenario(
        deployment(CrashEvery, params=params, restart=policy),
        updates=20_000,
        duration_ns=seconds(0.35),
    ), params


def test_on_failure_restarts_within_the_budget_then_gives_up_and_says_why(tmp_path: Path) -> None:
    sc, params = crash_every(
        on_failure(
            max_restarts=2, period_ns=seconds(10), delay_ns=seconds(0.01), on_crash_orders=LEAVE
        )
    )
    result = run(sc, tmp_path)
    dep = result.summary["deployments"][0]
    assert (dep["crashes"], dep["restarts"], dep["state"]) == (3, 2, "failed")
    assert "2 restarts within 10 s used up" in dep["gave_up"]
    kinds = [r[6] for r in records(tmp_path) if r[3] == "control"]
    assert kinds.count("crash") == 3 and kinds.count("restart") == 2
    assert kinds.count("restart_scheduled") == 2 and kinds.count("gave_up") == 1
    assert len(params["starts"]) == 3  # a new algo object per restart
    # each restart happens delay_ns after its crash, and sees the order it left resting
    crash_times = [r[1] for r in records(tmp_path) if r[6] == "crash"]
    assert [t + seconds(0.01) for t in crash_times[:2]] == params["started_at"][1:]
    assert all(view[1] == [1] for view in params["views"][1:])
    assert_nothing_lost(result)


def test_the_default_crash_policy_cancels_resting_orders() -> None:
    sc, _ = crash_every(on_failure(max_restarts=0))
    result = run(sc)
    dep = result.summary["deployments"][0]
    assert dep["state"] == "failed" and dep["open_orders"] == 0
    assert_nothing_lost(result)


def test_the_budget_window_slides() -> None:
    sc, _ = crash_every(
        on_failure(max_restarts=1, period_ns=seconds(0.02), delay_ns=seconds(0.001))
    )
    result = run(sc)
    dep = result.summary["deployments"][0]
    assert dep["restarts"] >= 3 and dep["gave_up"] is None  # one restart per 20 ms is fine


@pytest.mark.property
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_random_fault_schedules_lose_nothing_and_replay_identically(
    seed: int, tmp_path_factory: Any
) -> None:
    """The schedules and checks of ``meshrt soak`` (meshrt/soak/), drawn by hypothesis."""
    sc = thinned(maker_hedger(duration=1.0, updates=25_000), 4)  # faults, not depth
    sc = apply(sc, random_schedule(sc, seed))
    first = tmp_path_factory.mktemp("a")
    second = tmp_path_factory.mktemp("b")
    result = run(sc, first)
    assert_nothing_lost(result)
    assert check_run(result.summary, first) == ()
    run(sc, second)
    assert check_determinism(first, second) is None


def test_the_bundled_hedger_keeps_net_exposure_near_zero(tmp_path: Path) -> None:
    result = run(BUNDLED, tmp_path)
    net = result.summary["net_position"]["BTC-USD"]
    maker = result.summary["deployments"][0]["position"]["BTC-USD"]
    assert abs(net) <= UNIT // 10
    assert maker != 0, "the maker did hold inventory, which the hedger offset"


def test_every_message_sent_is_delivered_dropped_or_in_flight_at_the_end(tmp_path: Path) -> None:
    """sent = delivered + dropped (by reason) + in_flight on every link; a message due
    after the end is in flight, not delivered, so delivered is what the receiver got."""
    result = run(
        maker_hedger(
            Partition("alpha", seconds(0.2), seconds(0.1)),
            DropRate("maker", "hedger", 0.3, seconds(0.4), seconds(0.2)),
            KillCoordinator(seconds(0.7)),
            RestartCoordinator(seconds(0.75)),
            duration=1.0,
            updates=25_000,
        ),
        tmp_path,
    )
    assert_nothing_lost(result)
    mesh = orjson.loads((tmp_path / "mesh.json").read_bytes())
    for row in mesh["links"]:
        assert row["sent"] == row["delivered"] + sum(row["dropped"].values()) + row["in_flight"]
    row = link(tmp_path, "maker", "hedger")
    assert row["in_flight"] > 0, "the link's latency leaves messages on the way at the end"
    assert {"partition", "loss", "coordinator_down"} <= set(row["dropped"])
    [hedger] = [d for d in result.summary["deployments"] if d["label"] == "hedger"]
    assert hedger["skipped_while_not_running"] == 0  # running throughout: it got them all
    assert row["delivered"] == hedger["messages_received"]


# -- overlapping faults: a counted hold, and the worst state of a link ---------------------


def _short(*faults: Any) -> Scenario:
    return maker_hedger(*faults, duration=1.0, updates=25_000)


def control_records(run_dir: Path, *kinds: str) -> list[tuple[int, str]]:
    return [(r[1], r[6]) for r in records(run_dir) if r[6] in kinds]


def test_overlapping_feed_kills_hold_the_feed_down_until_the_last_lets_go(tmp_path: Path) -> None:
    forever = KillFeed("beta", seconds(0.2))
    run(_short(forever), tmp_path / "one")
    result = run(_short(forever, KillFeed("beta", seconds(0.4), seconds(0.1))), tmp_path / "two")
    assert control_records(tmp_path / "two", "feed_down", "feed_up") == [
        (seconds(0.2), "feed_down")
    ]
    dropped = result.summary["reconciliation"]["feed_events_dropped"]["beta"]
    one = orjson.loads((tmp_path / "one" / "summary.json").read_bytes())
    assert dropped == one["reconciliation"]["feed_events_dropped"]["beta"] > 0
    assert_nothing_lost(result)
    # nested and chained windows: down at the first start, up at the last end
    run(
        _short(
            KillFeed("beta", seconds(0.2), seconds(0.3)),
            KillFeed("beta", seconds(0.3), seconds(0.1)),
            KillFeed("beta", seconds(0.45), seconds(0.2)),
        ),
        tmp_path / "three",
    )
    assert control_records(tmp_path / "three", "feed_down", "feed_up") == [
        (seconds(0.2), "feed_down"),
        (seconds(0.65), "feed_up"),
    ]


def test_touching_feed_kills_hold_the_feed_down_through_the_instant_they_meet(
    tmp_path: Path,
) -> None:
    """One window ends exactly where the next begins: the feed stays down through that
    instant (a hold is taken before one is let go at the same time), not down/up/down."""
    touching = (
        KillFeed("beta", seconds(0.2), seconds(0.2)),
        KillFeed("beta", seconds(0.4), seconds(0.2)),
    )
    result = run(_short(*touching), tmp_path / "touching")
    assert control_records(tmp_path / "touching", "feed_down", "feed_up") == [
        (seconds(0.2), "feed_down"),
        (seconds(0.6), "feed_up"),
    ]
    run(_short(KillFeed("beta", seconds(0.2), seconds(0.4))), tmp_path / "one")
    one = orjson.loads((tmp_path / "one" / "summary.json").read_bytes())
    dropped = result.summary["reconciliation"]["feed_events_dropped"]["beta"]
    assert dropped == one["reconciliation"]["feed_events_dropped"]["beta"] > 0
    assert_nothing_lost(result)


def test_overlapping_partitions_heal_at_the_last_end(tmp_path: Path) -> None:
    result = run(
        _short(
            Partition("alpha", seconds(0.2), seconds(0.1)),
            Partition("alpha", seconds(0.25), seconds(0.2)),
        ),
        tmp_path / "two",
    )
    assert control_records(tmp_path / "two", "partition", "partition_healed") == [
        (seconds(0.2), "partition"),
        (seconds(0.45), "partition_healed"),
    ]
    assert_nothing_lost(result)
    # the drops are those of the union of the intervals
    run(_short(Partition("alpha", seconds(0.2), seconds(0.25))), tmp_path / "union")
    assert link(tmp_path / "two", "maker", "hedger") == link(tmp_path / "union", "maker", "hedger")


@pytest.mark.parametrize(
    "faults, worst",
    [
        (
            (
                DropRate("maker", "hedger", 0.3, seconds(0.2), seconds(0.5)),
                DropRate("maker", "hedger", 0.6, seconds(0.2), seconds(0.5)),
            ),
            DropRate("maker", "hedger", 0.6, seconds(0.2), seconds(0.5)),
        ),
        (
            (
                LatencySpike("maker", "hedger", seconds(0.02), seconds(0.2), seconds(0.5)),
                LatencySpike("maker", "hedger", seconds(0.05), seconds(0.2), seconds(0.5)),
            ),
            LatencySpike("maker", "hedger", seconds(0.05), seconds(0.2), seconds(0.5)),
        ),
    ],
)
def test_overlapping_link_faults_leave_the_link_in_the_worst_state_of_them(
    faults: tuple[Any, ...], worst: Any, tmp_path: Path
) -> None:
    run(_short(*faults), tmp_path / "both")
    run(_short(worst), tmp_path / "worst")
    both = link(tmp_path / "both", "maker", "hedger")
    assert both == link(tmp_path / "worst", "maker", "hedger")
    assert both["dropped"].get("loss", 0) > 0 or both["latency_p99_ns"] >= seconds(0.05)


def test_a_kill_of_an_instance_that_is_already_down_does_nothing(tmp_path: Path) -> None:
    sc = _short(
        KillInstance("maker", seconds(0.2)),
        KillInstance("maker", seconds(0.2)),
        KillInstance("maker", seconds(0.21)),
    )
    policy = on_failure(max_restarts=3, delay_ns=seconds(0.05))
    sc = attrs.evolve(
        sc, deployments=[attrs.evolve(sc.deployments[0], restart=policy), sc.deployments[1]]
    )
    result = run(sc, tmp_path)
    [maker] = [d for d in result.summary["deployments"] if d["label"] == "maker"]
    assert (maker["crashes"], maker["restarts"], maker["state"]) == (1, 1, "running")
    assert [r[1] for r in records(tmp_path) if r[6] == "crash"] == [seconds(0.2)]
    assert_nothing_lost(result)


def test_coordinator_kills_and_restarts_are_events_a_second_one_does_nothing(
    tmp_path: Path,
) -> None:
    result = run(
        _short(
            RestartCoordinator(seconds(0.1)),  # one is up: nothing happens
            KillCoordinator(seconds(0.3)),
            KillCoordinator(seconds(0.4)),
            RestartCoordinator(seconds(0.5)),
            RestartCoordinator(seconds(0.6)),
        ),
        tmp_path,
    )
    assert result.summary["coordinator"] == {"kills": 1, "restarts": 1, "up_at_end": True}
    mesh = orjson.loads((tmp_path / "mesh.json").read_bytes())
    assert mesh["coordinator"]["generations"] == 2
    row = link(tmp_path, "maker", "hedger")
    assert row["dropped"]["coordinator_down"] > 0
    assert_nothing_lost(result)
