"""``meshrt soak``: random fault schedules drawn from a seed, run on a process pool and
checked; a planted bug is found, reproduces alone from the printed command and shrinks to
the one fault it needs."""

from __future__ import annotations

import shlex
from pathlib import Path

import attrs
import pytest

from meshrt import seconds
from meshrt.cli.main import main
from meshrt.jobs.scenarios import load
from meshrt.runtime.replay import verify
from meshrt.scenario.definition import load_scenario
from meshrt.scenario.faults import (
    DropRate,
    KillCoordinator,
    KillFeed,
    KillInstance,
    LatencySpike,
    Partition,
    RestartCoordinator,
)
from meshrt.soak import delta, pool
from meshrt.soak.checks import check_run
from meshrt.soak.failure_file import write_schedule
from meshrt.soak.job import Job, run_job
from meshrt.soak.schedules import MAX_FAULTS, Schedule, random_schedule, schedule_seed
from meshrt.soak.shrink import shrink_outcome

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "scenarios" / "maker_hedger.py"
PLANTED = ROOT / "tests" / "soak_planted.py"


@pytest.mark.unit
def test_a_schedule_is_drawn_from_its_seed_alone_within_the_scenario() -> None:
    sc = attrs.evolve(load_scenario(BUNDLED), duration_ns=seconds(2))
    schedules = [random_schedule(sc, schedule_seed(3, i)) for i in range(200)]
    assert schedules == [random_schedule(sc, schedule_seed(3, i)) for i in range(200)]
    assert schedules != [random_schedule(sc, schedule_seed(4, i)) for i in range(200)]
    faults = [f for s in schedules for f in s.faults]
    assert max(len(s.faults) for s in schedules) == MAX_FAULTS
    assert {type(f).__name__ for f in faults} == {
        "KillInstance", "KillFeed", "KillCoordinator", "RestartCoordinator",
        "Partition", "DropRate", "LatencySpike",
    }  # fmt: skip
    assert {s.supervised for s in schedules} == {True, False}
    for fault in faults:
        assert 0 < fault.at_ns < seconds(2)
        if isinstance(fault, KillInstance):
            assert fault.label in ("maker", "hedger")
        if isinstance(fault, (KillFeed, Partition)):
            assert fault.venue in ("alpha", "beta")
        if isinstance(fault, (DropRate, LatencySpike)):
            assert {fault.sender, fault.receiver} == {"maker", "hedger"}


def test_a_50_schedule_soak_of_the_bundled_scenario_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(BUNDLED), "--schedules", "50", "--seed", "1", "--duration", "0.6"]
    code = main(["soak", *args, "--jobs", "2", "--verify-every", "5", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, out
    rows = dict(line.rsplit(None, 1) for line in out.splitlines() if line.strip())
    assert rows["failed"] == "0" and rows["re-run for determinism"] == "10"
    assert float(rows["schedules/s"]) > 0
    assert "50/50 schedules" in err
    assert not list(tmp_path.iterdir()), "no failure files"


def test_soak_finds_a_planted_bug_and_its_command_reproduces_it_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # failing schedules are written to soak/NAME-SEED/ by default
    code = main(["soak", str(PLANTED), "--schedules", "12", "--seed", "2"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "algo_crash (maker)" in out
    assert "algo_crash [maker]: KeyError: 'quote_state'" in out
    command = next(
        line.split("reproduce: ")[1] for line in out.splitlines() if "reproduce:" in line
    )
    words = shlex.split(command)
    assert words[:2] == ["meshrt", "soak"] and "--only" in words
    assert main(words[1:]) == 1
    alone, _ = capsys.readouterr()
    assert "algo_crash [maker]: KeyError: 'quote_state'" in alone
    # the failing schedule, written as a scenario file with its faults spelled out
    index = words[words.index("--only") + 1]
    written = load_scenario(tmp_path / "soak" / "planted-2" / f"schedule-{index}.py")
    assert any(isinstance(f, KillInstance) and f.label == "maker" for f in written.faults)
    assert written.duration_ns == seconds(0.3)
    # and shrunk to the one fault it needs, in a file that fails the same way as it is
    shrunk = tmp_path / "soak" / "planted-2" / f"schedule-{index}-shrunk.py"
    assert f"shrunk:    {shrunk.relative_to(tmp_path)}  (5 faults -> 1 fault" in out
    assert load_scenario(shrunk).faults == (KillInstance("maker", 0),)
    assert main(["soak", str(shrunk), "--as-is"]) == 1
    assert "algo_crash [maker]: KeyError: 'quote_state'" in capsys.readouterr()[0]


def test_a_kept_schedule_is_a_scenario_file_and_a_run_folder_that_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--schedules", "2", "--seed", "3", "--duration", "0.2", "--jobs", "1"]
    assert main(["soak", str(BUNDLED), *args, "--keep", str(tmp_path)]) == 0
    kept = load_scenario(tmp_path / "1" / "schedule.py")
    drawn = random_schedule(
        attrs.evolve(load_scenario(BUNDLED), duration_ns=seconds(0.2)), schedule_seed(3, 1)
    )
    assert kept.faults == drawn.faults and kept.duration_ns == seconds(0.2)
    assert verify(tmp_path / "1" / "run").ok


@pytest.mark.unit
def test_each_failure_is_named_by_its_check_and_deployment(tmp_path: Path) -> None:
    (tmp_path / "replay.jsonl").write_bytes(
        b'{"header": 1}\n'
        b'[1,5,5,"control","alpha",null,"crash",["maker","InjectedFault: killed"],null]\n'
        b'[2,6,6,"control","beta",null,"crash",["hedger","KeyError: \'x\'"],null]\n'
    )
    summary = {
        "status": "ok",
        "failure": None,
        "orders": 3,
        "reconciliation": {
            "orders": 2,
            "mismatches": [
                "order 7 (LIVE, remaining 1) has remaining None at beta",
                "deployment 'maker' holds 5 BTC-USD but its orders filled a net 4",
            ],
        },
    }
    assert [f.signature for f in check_run(summary, tmp_path)] == [
        ("algo_crash", "hedger"),
        ("reconciliation", None),
        ("positions", "maker"),
        ("reconciliation", None),
    ]
    failed = {"status": "failed", "failure": "invariant violated at seq 9: x", "reconciliation": {}}
    assert [f.signature for f in check_run(failed, tmp_path)] == [
        ("run_failed", None),
        ("algo_crash", "hedger"),
    ]


def test_a_planted_bug_shrinks_to_the_one_fault_it_needs_at_an_earlier_time(
    tmp_path: Path,
) -> None:
    scenario, digest = load(str(PLANTED))
    kill = KillInstance("maker", seconds(0.12))
    faults = (
        RestartCoordinator(seconds(0.05)),
        DropRate("maker", "hedger", 0.5, seconds(0.02), seconds(0.1)),
        kill,
        Partition("beta", seconds(0.2), seconds(0.05)),
    )
    failed = run_job(Job(str(PLANTED), digest, None, 9, 4, Schedule(faults, False), False))
    assert [f.signature for f in failed.failures] == [("algo_crash", "maker")]
    shrunk = shrink_outcome(failed, runs=30)
    assert shrunk.signature == ("algo_crash", "maker") and not shrunk.exhausted
    (only,) = shrunk.job.schedule.faults
    assert isinstance(only, KillInstance) and only.label == "maker"
    assert only.at_ns <= kill.at_ns
    path = write_schedule(tmp_path / "shrunk.py", shrunk.job, scenario.duration_ns, "x")
    assert load_scenario(path).faults == (only,)
    # two failures shrink side by side on a pool, each as it does alone
    assert pool.shrink_all([failed, failed], 30, workers=2) == [shrunk, shrunk]


@pytest.mark.unit
def test_shrinking_keeps_the_fewest_faults_at_the_least_times_that_still_fail() -> None:
    ms = 1_000_000
    kill, cut = KillInstance("maker", 80 * ms), Partition("alpha", 50 * ms, 40 * ms)
    noise = (
        RestartCoordinator(10 * ms),
        KillFeed("beta", 20 * ms, 5 * ms),
        KillCoordinator(30 * ms),
        LatencySpike("maker", "hedger", ms, 40 * ms, 60 * ms),
    )
    asked: list[delta.Faults] = []

    def fails(faults: delta.Faults) -> bool:
        """Fails with a kill of the maker at 36.5 ms or later and a partition of
        alpha lasting 12.5 ms or longer, whatever else happens."""
        asked.append(faults)
        killed = any(isinstance(f, KillInstance) and f.at_ns >= 36.5 * ms for f in faults)
        cut_off = any(isinstance(f, Partition) and f.duration_ns >= 12.5 * ms for f in faults)
        return killed and cut_off

    schedule = (*noise[:2], kill, *noise[2:], cut)
    found = delta.shrink(schedule, fails, runs=100)
    assert found.faults == (KillInstance("maker", 37 * ms), Partition("alpha", 0, 13 * ms))
    assert found.runs == len(asked) == len(set(asked)) <= 40 and not found.exhausted
    assert delta.shrink(schedule, fails, runs=100) == found  # deterministic
    tight = delta.shrink(schedule, fails, runs=5)
    assert tight.exhausted and tight.runs == 5 and fails(tight.faults)
