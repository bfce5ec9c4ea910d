"""Crash recovery: a run killed with SIGKILL part-way resumes from its newest checkpoint
and ends with the same log and the same final state as a run never interrupted."""

from __future__ import annotations

import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from meshrt.log import checkpoint
from meshrt.venues.recorded import RecordedSource
from meshrt.venues.specs import RecordedSpec

from killing import EVERY, ROOT, bundled_copy, killed_run, meshrt


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The bundled scenarios, thinned (killing.bundled_copy)."""
    folder = tmp_path_factory.mktemp("bundled")
    return {name: bundled_copy(name, folder) for name in ("market_maker", "maker_hedger")}


@pytest.fixture(scope="module")
def uninterrupted(
    bundled: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    runs = {}
    for name, scenario in bundled.items():
        out = tmp_path_factory.mktemp(name) / "run"
        done = meshrt(
            "run", str(scenario), "--out", str(out), "--no-progress", "--checkpoint-every", EVERY
        )
        assert done.returncode == 0, done.stderr
        runs[name] = out
    return runs


@pytest.mark.parametrize("name", ["market_maker", "maker_hedger"])
@pytest.mark.parametrize("after", [1, 3, 5])
def test_a_killed_run_resumes_to_the_same_log_and_state(
    bundled: dict[str, Path], uninterrupted: dict[str, Path], tmp_path: Path, name: str, after: int
) -> None:
    out = tmp_path / "run"
    killed_run(bundled[name], out, after)
    done = meshrt("run", "--resume", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    reference = uninterrupted[name]
    assert (out / "replay.jsonl").read_bytes() == (reference / "replay.jsonl").read_bytes()
    assert (out / "summary.json").read_bytes() == (reference / "summary.json").read_bytes()


def test_a_torn_final_record_is_cut_on_resume(
    bundled: dict[str, Path], uninterrupted: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    killed_run(bundled["market_maker"], out, 2)
    with open(out / "replay.jsonl", "ab") as log:
        log.write(b'[999999999,12,12,"venue:alpha","alpha","BTC-US')  # half a record
    done = meshrt("run", "--resume", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    reference = uninterrupted["market_maker"]
    assert (out / "replay.jsonl").read_bytes() == (reference / "replay.jsonl").read_bytes()


def test_a_corrupted_checkpoint_is_refused_naming_file_and_problem(
    bundled: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    killed_run(bundled["market_maker"], out, 1)
    newest = checkpoint.latest(out)
    data = bytearray(newest.read_bytes())
    data[-10] ^= 0xFF
    newest.write_bytes(bytes(data))
    done = meshrt("run", "--resume", str(out), "--no-progress")
    assert done.returncode == 2
    assert f"{newest}: payload: checksum mismatch" in done.stderr
    assert "Traceback" not in done.stderr


def test_resuming_after_the_scenario_changed_is_refused(tmp_path: Path) -> None:
    scenario = tmp_path / "mm.py"
    source = (ROOT / "scenarios" / "market_maker.py").read_text()
    scenario.write_text(
        source.replace(
            '"algos/market_maker.py:MarketMaker"',
            repr(str(ROOT / "scenarios/algos/market_maker.py") + ":MarketMaker"),
        )
    )
    out = tmp_path / "run"
    killed_run(scenario, out, 1)
    scenario.write_text(scenario.read_text().replace("seed=7", "seed=8"))
    done = meshrt("run", "--resume", str(out), "--no-progress")
    assert done.returncode == 2
    assert "scenario_sha256: the scenario changed since the run started" in done.stderr


def test_two_processes_with_different_hash_seeds_write_the_same_log(
    bundled: dict[str, Path], uninterrupted: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    done = meshrt(
        "run",
        str(bundled["maker_hedger"]),
        "--out",
        str(out),
        "--no-progress",
        "--checkpoint-every",
        "0",
        env={"PYTHONHASHSEED": "12345"},
    )
    assert done.returncode == 0, done.stderr
    reference = uninterrupted["maker_hedger"]
    assert (out / "replay.jsonl").read_bytes() == (reference / "replay.jsonl").read_bytes()


@pytest.mark.unit
def test_a_recorded_source_restored_from_a_checkpoint_continues_where_it_stopped() -> None:
    spec = RecordedSpec(symbol="X", path=str(ROOT / "scenarios" / "data" / "sample.jsonl"))
    whole = RecordedSource(spec).batch(2**62)
    source = RecordedSource(spec)
    head = source.batch(whole[5][0] + 1)
    restored = pickle.loads(pickle.dumps(source))
    assert head + restored.batch(2**62) == whole


def test_resume_passes_over_a_damaged_newest_checkpoint(
    bundled: dict[str, Path], uninterrupted: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    killed_run(bundled["market_maker"], out, 3)
    newest = checkpoint.latest(out)
    newest.write_bytes(newest.read_bytes()[:-10])  # torn by a disk fault
    done = meshrt("run", "--resume", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    reference = uninterrupted["market_maker"]
    assert (out / "replay.jsonl").read_bytes() == (reference / "replay.jsonl").read_bytes()
    metrics = orjson.loads((out / "metrics.json").read_bytes())
    [skipped] = metrics["checkpoints"]["skipped_on_resume"]
    assert f"{newest}: payload" in skipped
    # the resumed process's rate covers only what it did itself
    assert metrics["resumed_after_events"] > 0


def test_resume_refuses_a_changed_algo_file(tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "project"
    shutil.copytree(ROOT / "scenarios", project, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "run"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "meshrt.cli.main",
            "run",
            str(project / "market_maker.py"),
            "--out",
            str(out),
            "--no-progress",
            "--checkpoint-every",
            EVERY,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not (out / "checkpoints").is_dir() or not list((out / "checkpoints").glob("*.bin")):
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    algo = project / "algos" / "market_maker.py"
    algo.write_text(algo.read_text() + "\n# an edit\n")
    done = meshrt("run", "--resume", str(out), "--no-progress")
    assert done.returncode == 2
    assert "scenario_sha256: the scenario changed since the run started" in done.stderr


@pytest.mark.unit
def test_the_run_digest_covers_algos_named_by_module_or_given_as_a_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from meshrt.runtime.digest import scenario_sha256

    from helpers import deployment, scenario

    source = "from helpers import Quiet\n\n\nclass Algo(Quiet):\n    pass\n"
    module = tmp_path / "my_digest_algo.py"
    module.write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    by_module = scenario(deployment("my_digest_algo:Algo"))
    by_class = scenario(deployment(importlib.import_module("my_digest_algo").Algo))
    before = scenario_sha256(by_module)[0], scenario_sha256(by_class)[0]
    module.write_text(source + "# an edit\n")
    assert scenario_sha256(by_module)[0] != before[0]
    assert scenario_sha256(by_class)[0] != before[1]  # the class's module file changed
