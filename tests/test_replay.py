"""`meshrt replay`: re-execute a run from its log; any divergence names its seq id."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from meshrt.runtime.replay import compare, verify
from meshrt.runtime.run import run
from meshrt.scenario.definition import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def copy_project(tmp_path: Path) -> Path:
    """A private copy of the bundled scenario and its algo, free to be edited."""
    folder = tmp_path / "project"
    shutil.copytree(ROOT / "scenarios", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rec") / "run"
    assert run(load_scenario(ROOT / "scenarios" / "maker_hedger.py"), out).ok
    return out


def test_a_run_replays_to_identical_records(recorded: Path) -> None:
    verdict = verify(recorded)
    assert verdict.ok
    lines = (recorded / "replay.jsonl").read_bytes().count(b"\n")
    assert verdict.records == lines - 1  # every record after the header was compared


def test_replay_names_the_first_divergent_seq_with_both_values(
    recorded: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(recorded, run_dir)
    log = run_dir / "replay.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines[1:], 1) if orjson.loads(line)[6] == "intent")
    record = orjson.loads(lines[index])
    record[7][5] += 1  # someone edits the price the algo asked for
    lines[index] = orjson.dumps(record) + b"\n"
    log.write_bytes(b"".join(lines))
    done = subprocess.run(
        [sys.executable, "-m", "meshrt.cli.main", "replay", str(run_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 1
    assert f"replay diverges at seq {record[0]}:" in done.stdout
    assert orjson.dumps(record).decode() in done.stdout  # the logged value
    original = orjson.loads((recorded / "replay.jsonl").read_bytes().splitlines()[index])
    assert orjson.dumps(original).decode() in done.stdout  # the re-executed value


def test_a_changed_algo_file_is_refused(tmp_path: Path) -> None:
    from meshrt.log.checkpoint import CheckpointError

    project = copy_project(tmp_path)
    out = tmp_path / "run"
    assert run(load_scenario(project / "market_maker.py"), out).ok
    algo = project / "algos" / "market_maker.py"
    algo.write_text(
        algo.read_text().replace(
            'self.skew_ticks: int = params.get("skew_ticks", 1)',
            'self.skew_ticks: int = params.get("skew_ticks", 1) + 1',
        )
    )
    with pytest.raises(CheckpointError, match="an algo file it names"):
        verify(out)


def test_a_changed_scenario_is_refused(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    out = tmp_path / "run"
    assert run(load_scenario(project / "market_maker.py"), out).ok
    scenario = project / "market_maker.py"
    scenario.write_text(scenario.read_text().replace("seed=7", "seed=9"))
    done = subprocess.run(
        [sys.executable, "-m", "meshrt.cli.main", "replay", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert "scenario_sha256: the scenario changed" in done.stderr


@pytest.mark.unit
def test_compare_reports_a_shorter_log(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_bytes(b"h\n[1]\n[2]\n")
    b.write_bytes(b"h\n[1]\n")
    verdict = compare(a, b)
    assert verdict.divergence is not None
    assert (verdict.divergence.seq, verdict.divergence.logged, verdict.divergence.replayed) == (
        2,
        "[2]",
        "(end of log)",
    )


def test_a_corrupt_log_of_a_multi_venue_run_is_one_line(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every venue's reader fails on the same bad line: one error line, not a group."""
    from meshrt.cli.main import main

    assert (
        len(orjson.loads((recorded / "replay.jsonl").read_bytes().split(b"\n", 1)[0])["venues"]) > 1
    )
    run_dir = tmp_path / "run"
    shutil.copytree(recorded, run_dir)
    log = run_dir / "replay.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    lines[len(lines) // 2] = b"{not json\n"
    log.write_bytes(b"".join(lines))
    assert main(["replay", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("meshrt replay: cannot replay: ") and err.count("\n") == 1, err
