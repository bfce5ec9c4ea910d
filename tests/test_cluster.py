"""Soak and sweep jobs on a Dask cluster (``--cluster``): a local cluster of two worker
processes on 127.0.0.1 gives the local pool's results point for point, from a scenario
shipped as content; a shipped scenario unpacks byte for byte and a corrupted file is
refused; a file a worker could not get, or a missing Dask, is refused in one line."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from meshrt import seconds
from meshrt.cli.main import main
from meshrt.jobs import scenarios
from meshrt.jobs.scenarios import load, load_checked, receive
from meshrt.jobs.shipped import ShipmentError, ship, unpack
from meshrt.soak import pool
from meshrt.soak.job import Job
from meshrt.soak.schedules import random_schedule, schedule_seed

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
SIZE = 100_000_000
# the bundled two-venue scenario, its maker replaced by one that crashes when restarted
# (as tests/soak_planted.py, but in one file beside its algos: a scenario a cluster can get)
PLANTED = """

import attrs

from meshrt import Algo, on_failure


class ForgetsOnRestart(Algo):
    def on_start(self, state, actions):
        if state.now > 0:
            raise KeyError("quote_state")

    def on_book(self, book, state, features, actions):
        pass

    def on_fill(self, fill, state, actions):
        pass

    def on_reject(self, reject, state, actions):
        pass


maker, hedger = scenario.deployments
scenario = attrs.evolve(
    scenario,
    name="planted",
    deployments=[
        attrs.evolve(maker, algo=ForgetsOnRestart, restart=on_failure(delay_ns=seconds(0.01))),
        hedger,
    ],
)
"""
RECORDED = """

import attrs

from meshrt import RecordedSpec

alpha = attrs.evolve(
    scenario.venues[0],
    sources=[RecordedSpec(symbol="BTC-USD", path="data/sample.jsonl", start_at_zero=True)],
)
scenario = attrs.evolve(scenario, venues=[alpha])
"""


def copy_scenario(folder: Path, name: str, extra: str = "") -> Path:
    """A bundled scenario with ``extra`` appended, in ``folder`` beside copies of its algos
    and data."""
    shutil.copytree(SCENARIOS / "algos", folder / "algos")
    shutil.copytree(SCENARIOS / "data", folder / "data")
    path = folder / name
    path.write_text((SCENARIOS / name).read_text() + extra)
    return path


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A Dask scheduler and two single-threaded worker processes on 127.0.0.1: workers
    that import meshrt themselves, as a real cluster's do."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as local:
        yield local.scheduler_address


def test_a_soak_on_the_cluster_gives_the_local_outcomes_schedule_for_schedule(
    tmp_path: Path, cluster: str
) -> None:
    path = str(copy_scenario(tmp_path, "maker_hedger.py", PLANTED))
    scenario, digest = load(path)
    duration = seconds(0.3)
    shaped = attrs.evolve(scenario, duration_ns=duration)
    jobs = [
        Job(path, digest, duration, 2, i, random_schedule(shaped, schedule_seed(2, i)), i % 4 == 0)
        for i in range(8)
    ]
    here = sorted(pool.run_jobs(jobs, 1), key=lambda o: o.job.index)
    there = sorted(pool.run_jobs(jobs, 1, cluster=cluster), key=lambda o: o.job.index)
    assert there == here
    assert {o.ok for o in here} == {True, False}, "some schedules find the planted bug"


def test_a_sweep_on_the_cluster_writes_the_local_results_byte_for_byte(
    tmp_path: Path, cluster: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep = [
        "sweep", str(SCENARIOS / "market_maker.py"), "--duration", "0.3", "--markouts", "0.1",
        "--param", f"mm-1.size={SIZE},{2 * SIZE}", "--param", "mm-1.skew_ticks=0,3",
    ]  # fmt: skip
    assert main([*sweep, "--jobs", "1", "--out", str(tmp_path / "here")]) == 0
    assert main([*sweep, "--cluster", cluster, "--out", str(tmp_path / "there")]) == 0
    assert f"on the cluster at {cluster}" in capsys.readouterr().err
    for name in ("results.csv", "results.json"):
        assert (tmp_path / "there" / name).read_bytes() == (tmp_path / "here" / name).read_bytes()


@pytest.mark.unit
def test_a_shipped_scenario_unpacks_byte_for_byte_and_is_known_by_its_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scenarios, "_received", {})
    path = copy_scenario(tmp_path / "caller", "market_maker.py", RECORDED)
    scenario, digest = load(str(path))
    shipment = ship(scenario, digest)
    # the scenario file, its algo file and the .py files beside it, its data file
    assert [f.path for f in shipment.files] == [
        "market_maker.py", "algos/market_maker.py", "algos/__init__.py", "algos/hedger.py",
        "data/sample.jsonl",
    ]  # fmt: skip
    unpacked = unpack(shipment)
    assert unpacked.parent != path.parent
    for file in shipment.files:
        assert (unpacked.parent / file.path).read_bytes() == (path.parent / file.path).read_bytes()
    received = receive(shipment)
    assert received.base_dir != scenario.base_dir
    # a job names its scenario by the caller's file, which a worker need not have
    assert load_checked(str(tmp_path / "elsewhere.py"), digest) is received


@pytest.mark.unit
def test_a_shipped_file_that_does_not_match_its_digest_is_refused(tmp_path: Path) -> None:
    path = copy_scenario(tmp_path, "market_maker.py")
    shipment = ship(*load(str(path)))
    first, *rest = shipment.files
    corrupted = attrs.evolve(first, content=first.content + b"\n")
    with pytest.raises(ShipmentError) as refused:
        unpack(attrs.evolve(shipment, files=(corrupted, *rest)))
    message = str(refused.value)
    assert message.startswith("shipped file market_maker.py: its content's sha256 is ")
    assert first.sha256 in message and "\n" not in message


@pytest.mark.unit
def test_a_file_a_worker_could_not_get_is_refused_in_one_line() -> None:
    planted = load(str(ROOT / "tests" / "soak_planted.py"))  # algos named by absolute paths
    with pytest.raises(ShipmentError, match=r"named by an absolute path, which a worker"):
        ship(*planted)


def test_cluster_without_dask_names_the_extra_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    soak = ["soak", str(SCENARIOS / "maker_hedger.py"), "--schedules", "1", "--duration", "0.1"]
    assert main([*soak, "--cluster", "tcp://127.0.0.1:1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (
        "meshrt soak: --cluster needs Dask distributed: pip install 'meshrt[cluster]'"
    )
    keep = ["--cluster", "tcp://127.0.0.1:1", "--keep", str(tmp_path)]
    assert main([*soak, *keep]) == 2
    assert capsys.readouterr().err == (
        "meshrt soak: --keep keeps runs on this disk: not with --cluster\n"
    )
