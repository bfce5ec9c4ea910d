"""The mesh: labelled messages through the coordinator, links, NBBO and heartbeats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest

from meshrt import Side, seconds
from meshrt.contract import MAX_MESSAGES, MAX_PAYLOAD
from meshrt.runtime.run import run
from meshrt.scenario.definition import Scenario, Venue
from meshrt.scenario.latency import millis
from meshrt.scenario.mesh import Link, Mesh

from helpers import Quiet, deployment, scenario, synthetic


class Sender(Quiet):
    """Sends params['send'] (a list of (label, payload)) once, on its first book."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        if not self.params.get("sent"):
            self.params["sent"] = True
            for label, payload in self.params["send"]:
                try:
                    self.host.send(label, payload.encode("latin-1"))
                except ValueError as exc:
                    self.params["errors"].append((state.now, str(exc)))
            self.params["first_book"].append(state.now)


class Receiver(Quiet):
    def on_message(self, message, state, actions):  # type: ignore[no-untyped-def]
        self.params["got"].append((state.now, message))


def two_venues(
    *deployments: Any,
    mesh: Mesh = Mesh(),
    faults: tuple[Any, ...] = (),
    regions: tuple[str, str] = ("eu", "us"),
    duration: float = 0.3,
) -> Scenario:
    return Scenario(
        name="mesh-test",
        seed=3,
        duration_ns=seconds(duration),
        mesh=mesh,
        faults=faults,
        venues=[
            Venue(name="v1", region=regions[0], sources=[synthetic(updates=20_000)]),
            Venue(name="v2", region=regions[1], sources=[synthetic(updates=20_000, seed=2)]),
        ],
        deployments=list(deployments),
    )


def sender_and_receiver(
    send: list[tuple[str, bytes]], **kwargs: Any
) -> tuple[Scenario, dict[str, Any], dict[str, Any]]:
    # params are JSON values: the payloads travel as latin-1 text, the Sender encodes them
    out: dict[str, Any] = {
        "send": [(label, payload.decode("latin-1")) for label, payload in send],
        "errors": [],
        "first_book": [],
    }
    into: dict[str, Any] = {"got": []}
    sc = two_venues(
        deployment(Sender, "a", params=out),
        deployment(Receiver, "b", venue="v2", params=into),
        **kwargs,
    )
    return sc, out, into


def mesh_json(run_dir: Path) -> dict[str, Any]:
    return orjson.loads((run_dir / "mesh.json").read_bytes())


def link(run_dir: Path, sender: str, receiver: str) -> dict[str, Any]:
    return next(
        row
        for row in mesh_json(run_dir)["links"]
        if row["from"] == sender and row["to"] == receiver
    )


def test_a_message_arrives_once_with_the_sender_stamped_by_the_coordinator(tmp_path: Path) -> None:
    sc, out, into = sender_and_receiver([("b", b"hello")])
    run(sc, tmp_path)
    [(at, message)] = into["got"]
    assert message.sender == "a" and message.payload == b"hello"
    sent_at = out["first_book"][0]
    assert seconds(0.050) <= at - sent_at <= seconds(0.100)  # cross region: 50-100 ms
    row = link(tmp_path, "a", "b")
    assert (row["sent"], row["delivered"], row["dropped"]) == (1, 1, {})


def test_same_region_links_take_one_to_two_milliseconds(tmp_path: Path) -> None:
    sc, out, into = sender_and_receiver(
        [("b", bytes([k])) for k in range(10)], regions=("eu", "eu")
    )
    run(sc, tmp_path)
    sent_at = out["first_book"][0]
    latencies = [at - sent_at for at, _ in into["got"]]
    assert len(latencies) == 10
    assert all(seconds(0.001) <= lat <= seconds(0.002) for lat in latencies)
    assert [m.payload for _, m in into["got"]] == [bytes([k]) for k in range(10)]  # FIFO


def test_a_configured_link_overrides_the_default_latency_and_can_lose(tmp_path: Path) -> None:
    mesh = Mesh(links=[Link("eu", "us", millis(5), loss=1.0)])
    sc, _, into = sender_and_receiver([("b", b"x")] * 3, mesh=mesh)
    run(sc, tmp_path)
    assert into["got"] == []
    assert link(tmp_path, "a", "b")["dropped"] == {"loss": 3}


def test_an_oversized_message_is_refused_to_the_sender_and_counted(tmp_path: Path) -> None:
    sc, out, into = sender_and_receiver([("b", b"x" * (MAX_PAYLOAD + 1)), ("b", b"ok")])
    result = run(sc, tmp_path)
    assert len(out["errors"]) == 1 and f"at most {MAX_PAYLOAD}" in out["errors"][0][1]
    assert [m.payload for _, m in into["got"]] == [b"ok"]
    sender = result.summary["deployments"][0]
    assert sender["messages_refused"] == 1 and sender["crashed"] is None


def test_the_seventeenth_message_in_a_callback_is_refused(tmp_path: Path) -> None:
    sc, _out, into = sender_and_receiver([("b", b"m")] * (MAX_MESSAGES + 1))
    result = run(sc, tmp_path)
    assert len(into["got"]) == MAX_MESSAGES
    assert result.summary["deployments"][0]["messages_refused"] == 1


def test_a_message_to_a_label_nobody_has_is_dropped_and_counted(tmp_path: Path) -> None:
    sc, _, into = sender_and_receiver([("nobody", b"?"), ("b", b"!")])
    run(sc, tmp_path)
    assert [m.payload for _, m in into["got"]] == [b"!"]
    assert link(tmp_path, "a", "nobody")["dropped"] == {"no_such_label": 1}


class NbboWatcher(Quiet):
    def on_nbbo(self, nbbo, state, actions):  # type: ignore[no-untyped-def]
        self.params["nbbo"].append((state.now, nbbo))


class BookWatcher(Quiet):
    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        self.params["books"].append(book)


def test_nbbo_consolidates_every_venue_and_costs_nothing_to_others(tmp_path: Path) -> None:
    seen: dict[str, Any] = {"nbbo": []}
    books1: dict[str, Any] = {"books": []}
    books2: dict[str, Any] = {"books": []}
    sc = two_venues(
        deployment(NbboWatcher, "watch", params=seen),
        deployment(BookWatcher, "b1", params=books1),
        deployment(BookWatcher, "b2", venue="v2", params=books2),
        regions=("eu", "eu"),
    )
    run(sc, tmp_path)
    assert len(seen["nbbo"]) > 100
    last = {"v1": None, "v2": None}
    for at, nbbo in seen["nbbo"]:
        quotes = {q.venue: q for q in nbbo.venues}
        assert nbbo.bid_price == max(q.bid_price for q in quotes.values())
        assert nbbo.ask_price == min(q.ask_price for q in quotes.values())
        assert nbbo.ts == at
        for q in quotes.values():
            last[q.venue] = q
    assert set(last) == {"v1", "v2"}
    # the consolidated quote of each venue is one that venue really showed
    tops1 = {(b.bid_prices[0], b.ask_prices[0]) for b in books1["books"]}
    assert (last["v1"].bid_price, last["v1"].ask_price) in tops1


def test_nbbo_is_not_prepared_when_nobody_consolidates(tmp_path: Path) -> None:
    result = run(two_venues(deployment(Quiet, "q")), tmp_path)
    assert result.ok
    assert mesh_json(tmp_path)["links"] == []  # no quote ever went to the coordinator


class Beat(Quiet):
    def on_heartbeat(self, state, actions):  # type: ignore[no-untyped-def]
        self.params["beats"].append(state.now)


def test_heartbeat_fires_once_per_second_of_scenario_time() -> None:
    beats: dict[str, Any] = {"beats": []}
    result = run(scenario(deployment(Beat, params=beats), updates=200, duration_ns=seconds(3.5)))
    assert result.ok
    assert beats["beats"] == [seconds(1), seconds(2), seconds(3)]


def test_meshrt_mesh_prints_topology_and_links(tmp_path: Path) -> None:
    import subprocess
    import sys

    sc, _, _ = sender_and_receiver([("b", b"x"), ("nobody", b"y")])
    run(sc, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "meshrt.cli.main", "mesh", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "a      v1     eu" in done.stdout and "b      v2     us" in done.stdout
    assert "no_such_label 1" in done.stdout


@pytest.mark.unit
def test_a_scenario_link_with_zero_latency_is_refused() -> None:
    import pytest

    from meshrt.scenario.definition import ScenarioError, validate
    from meshrt.scenario.latency import Latency

    with pytest.raises(ValueError, match=r"Link\.latency must be a meshrt Latency with a positive"):
        Link("eu", "us", Latency(0))
    link = Link("eu", "us", Latency(1))
    object.__setattr__(link, "latency", Latency(0))  # forced past the constructor
    sc = attrs.evolve(two_venues(deployment(Quiet)), mesh=Mesh(links=[link]))
    with pytest.raises(ScenarioError, match=r"mesh.links\[0\].latency"):
        validate(sc)


__all__ = ["Side"]


def test_a_latency_spike_holds_later_messages_behind_it(tmp_path: Path) -> None:
    from meshrt.scenario.faults import LatencySpike

    class Burst(Sender):
        """Sends one numbered message per book, 40 in all."""

        def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
            n = self.params.setdefault("n", 0)
            if n < 40:
                self.host.send("b", bytes([n]))
                self.params["n"] = n + 1

    into: dict[str, Any] = {"got": []}
    spike = LatencySpike("a", "b", seconds(0.02), seconds(0.0005), seconds(0.0003))
    sc = two_venues(
        deployment(Burst, "a", params={}),
        deployment(Receiver, "b", venue="v2", params=into),
        faults=(spike,),
        regions=("eu", "eu"),
    )
    run(sc, tmp_path)
    order = [m.payload[0] for _, m in into["got"]]
    assert order == sorted(order) and len(order) == 40


def test_a_message_to_a_crashed_receiver_is_dropped_as_receiver_down(tmp_path: Path) -> None:
    from meshrt.scenario.faults import KillInstance

    class Steady(Sender):
        def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
            self.host.send("b", b"tick")

    into: dict[str, Any] = {"got": []}
    sc = two_venues(
        deployment(Steady, "a", params={}),
        deployment(Receiver, "b", venue="v2", params=into),
        faults=(KillInstance("b", seconds(0.1)),),
        regions=("eu", "eu"),
    )
    run(sc, tmp_path)
    row = link(tmp_path, "a", "b")
    assert row["dropped"]["receiver_down"] > 0
    assert row["delivered"] == len(into["got"])
    assert row["sent"] == row["delivered"] + row["dropped"]["receiver_down"]


def test_a_label_that_is_not_a_string_is_refused_to_the_sender(tmp_path: Path) -> None:
    sc, out, into = sender_and_receiver([(["b"], b"x"), (7, b"y"), ("b", b"ok")])
    result = run(sc, tmp_path)
    assert [e[1] for e in out["errors"]] == [
        "message label ['b'] must be a string",
        "message label 7 must be a string",
    ]
    assert [m.payload for _, m in into["got"]] == [b"ok"]
    assert result.ok


def test_heartbeats_across_a_gap_in_the_data_never_go_back_in_time(tmp_path: Path) -> None:
    import orjson as json

    from meshrt import RecordedSpec

    data = tmp_path / "gap.jsonl"
    events = [{"ts": 0, "type": "snapshot", "bids": [["99", "1"]], "asks": [["101", "1"]]}]
    events += [
        {"ts": t, "type": "delta", "side": "buy", "price": "99", "size": str(1 + t % 3)}
        for t in (100_000_000, 300_000_000, 3_500_000_000, 3_600_000_000)
    ]
    data.write_bytes(b"\n".join(json.dumps(e) for e in events) + b"\n")

    class Clock(Beat):
        def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
            self.params["beats"].append(state.now)

    times: dict[str, Any] = {"beats": []}
    sc = Scenario(
        name="gap",
        venues=[Venue(name="v1", sources=[RecordedSpec(symbol="XYZ", path=str(data))])],
        deployments=[deployment(Clock, params=times)],
    )
    run(sc, tmp_path / "run")
    assert times["beats"] == sorted(times["beats"])
    assert seconds(1) in times["beats"] and seconds(3) in times["beats"]
    lines = (tmp_path / "run" / "replay.jsonl").read_bytes().splitlines()[1:]
    stamps = [orjson.loads(line)[1] for line in lines]
    assert stamps == sorted(stamps)


class NbboSwitcher(NbboWatcher):
    """Takes the NBBO of XYZ from the start; subscribes to ABC at its first XYZ book and
    drops it again after params['keep_ns'] of scenario time."""

    def on_book(self, book, state, features, actions):  # type: ignore[no-untyped-def]
        if not self.params["switched"]:
            self.params["switched"] = state.now
            self.host.subscribe("ABC")
        elif (
            self.params["switched"] > 0
            and "ABC" in state.books
            and state.now - self.params["switched"] > self.params["keep_ns"]
        ):
            self.params["switched"] = -1
            self.host.unsubscribe("ABC")

    def on_subscribed(self, symbol, state, actions):  # type: ignore[no-untyped-def]
        self.params["subscribed"].append((state.now, symbol))

    def on_unsubscribed(self, symbol, state, actions):  # type: ignore[no-untyped-def]
        self.params["unsubscribed"].append((state.now, symbol))


def test_a_symbol_subscribed_while_running_gets_its_nbbo_until_unsubscribed(tmp_path: Path) -> None:
    seen: dict[str, Any] = {
        "nbbo": [],
        "switched": 0,
        "keep_ns": 50_000_000,
        "subscribed": [],
        "unsubscribed": [],
    }
    venues = [
        Venue(
            name=name,
            region="eu",
            sources=[synthetic("XYZ", 20_000, seed), synthetic("ABC", 20_000, seed + 10)],
        )
        for name, seed in (("v1", 1), ("v2", 2))
    ]
    sc = Scenario(
        name="nbbo-subscribe",
        seed=3,
        duration_ns=seconds(0.3),
        venues=venues,
        deployments=[deployment(NbboSwitcher, "watch", params=seen)],
    )
    assert run(sc, tmp_path).ok
    ((on_at, _),) = seen["subscribed"]
    ((off_at, _),) = seen["unsubscribed"]
    abc = [(at, nbbo) for at, nbbo in seen["nbbo"] if nbbo.symbol == "ABC"]
    assert len(abc) > 20 and {q.venue for _, n in abc for q in n.venues} == {"v1", "v2"}
    assert all(on_at <= at <= off_at + 5_000_000 for at, _ in abc)  # + what was in flight
    xyz_after = [at for at, nbbo in seen["nbbo"] if nbbo.symbol == "XYZ" and at > off_at]
    assert xyz_after  # the symbol it kept still comes


@pytest.mark.parametrize("receives", [False, True])
def test_the_mesh_bounds_the_window_only_when_an_algo_can_hear_it(
    tmp_path: Path, receives: bool
) -> None:
    """Venues 5 ms away, the mesh 1 ms: without on_message or on_nbbo anywhere nothing the
    mesh carries reaches an algo, so windows are 5 ms long, and the log is the one a 5 ms
    mesh writes; with a receiver the 1 ms mesh bounds them."""
    five = millis(5)
    logs, windows = [], []
    for mesh in (Mesh(), Mesh(same_region=five, cross_region=five)):
        sc, _, into = sender_and_receiver([("b", b"hi")], mesh=mesh)
        receiver = Receiver if receives else Quiet
        sc = attrs.evolve(
            sc,
            venues=[attrs.evolve(v, feed_latency=five, order_latency=five) for v in sc.venues],
            deployments=[sc.deployments[0], attrs.evolve(sc.deployments[1], algo=receiver)],
        )
        out = tmp_path / f"{receives}-{len(logs)}"
        result = run(sc, out)
        assert result.ok
        logs.append((out / "replay.jsonl").read_bytes())
        windows.append(result.summary["windows"])
        assert len(into["got"]) == (1 if receives else 0)
    assert logs[0] == logs[1]
    span = 0.3 / 0.005  # the run's length in 5 ms windows
    if receives:
        assert windows[0] > 3 * span > windows[1] - 5
    else:
        assert windows[0] == windows[1] <= span + 5
