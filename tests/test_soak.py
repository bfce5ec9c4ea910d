"""``meshrt soak``: random fault schedules drawn from a seed, run on a process pool and
checked; a planted bug is found and reproduces alone from the printed command."""

from __future__ import annotations

import shlex
from pathlib import Path

import attrs
import pytest

from meshrt import seconds
from meshrt.cli.main import main
from meshrt.runtime.replay import verify
from meshrt.scenario.definition import load_scenario
from meshrt.scenario.faults import DropRate, KillFeed, KillInstance, LatencySpike, Partition
from meshrt.soak.checks import check_run
from meshrt.soak.schedules import MAX_FAULTS, random_schedule, schedule_seed

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
