"""A run folder belongs to one live run (an flock on run.lock), its default name comes
from a scenario name that cannot leave runs/, and every path a command takes is read
against the caller's working directory."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from meshrt.cli.main import main
from meshrt.runtime.run_folder import RunFolderError, claim
from meshrt.scenario.definition import ScenarioError, load_scenario

from killing import ROOT, meshrt
from small_scenario import write_scenario


def test_two_claims_of_one_folder_conflict_even_in_one_process(tmp_path: Path) -> None:
    first = claim(tmp_path / "run")
    with pytest.raises(
        RunFolderError, match=f"{tmp_path / 'run'}: in use by a live run \\(pid {os.getpid()}\\)"
    ):
        claim(tmp_path / "run")
    first.release()
    claim(tmp_path / "run").release()  # free again once released


def test_a_default_folder_is_never_shared(tmp_path: Path) -> None:
    first = claim(tmp_path / "x-STAMP", fresh=True)
    second = claim(tmp_path / "x-STAMP", fresh=True)  # the same second, another run
    first.release()
    third = claim(tmp_path / "x-STAMP", fresh=True)  # a finished run's folder is kept too
    assert [first.path.name, second.path.name, third.path.name] == [
        "x-STAMP",
        "x-STAMP-2",
        "x-STAMP-3",
    ]


@pytest.mark.e2e
def test_a_lock_held_by_a_process_goes_with_it_even_on_kill_9(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from pathlib import Path; "
                "from meshrt.runtime.run_folder import claim; claim(Path(sys.argv[1])); "
                "print('held', flush=True); time.sleep(60)"
            ),
            str(tmp_path / "run"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(RunFolderError, match=f"pid {holder.pid}"):
            claim(tmp_path / "run")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    claim(tmp_path / "run").release()


@pytest.mark.e2e
def test_the_cli_refuses_out_and_resume_on_a_folder_a_live_run_holds(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path)
    out = tmp_path / "run"
    done = meshrt("run", str(scenario), "--out", str(out), "--checkpoint-every", "300")
    assert done.returncode == 0, done.stderr
    log = (out / "replay.jsonl").read_bytes()
    held = claim(out)
    try:
        for args in (("run", str(scenario), "--out", str(out)), ("run", "--resume", str(out))):
            done = meshrt(*args)
            assert done.returncode == 2
            assert done.stderr == (
                f"meshrt run: bad run folder: {out}: in use by a live run "
                f"(pid {os.getpid()}); wait for it to end or choose "
                "another folder\n"
            )
    finally:
        held.release()
    assert (out / "replay.jsonl").read_bytes() == log  # nothing of the live run was touched
    assert meshrt("run", "--resume", str(out)).returncode == 0


def test_out_on_a_finished_run_is_refused_unless_replaced(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path)
    out = tmp_path / "run"
    assert meshrt("run", str(scenario), "--out", str(out)).returncode == 0
    (out / "summary.json").write_text("{}")  # marks this run's record as its own
    log = (out / "replay.jsonl").read_bytes()
    done = meshrt("run", str(scenario), "--out", str(out))
    assert done.returncode == 2
    assert done.stderr == (
        f"meshrt run: bad run folder: {out}: holds a run already (run.json); resume it "
        "with --resume, choose another folder, or replace it with --replace\n"
    )
    assert (out / "summary.json").read_text() == "{}"  # nothing of the old run was touched
    assert (out / "replay.jsonl").read_bytes() == log
    assert meshrt("run", str(scenario), "--out", str(out), "--replace").returncode == 0
    assert (out / "summary.json").read_text() != "{}"  # replaced
    assert (out / "replay.jsonl").read_bytes() == log  # same scenario, same seeds


@pytest.mark.e2e
def test_two_runs_in_the_same_second_get_two_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Frozen(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> Frozen:
            return cls(2024, 1, 2, 3, 4, 5, tzinfo=tz)

    monkeypatch.setattr(datetime, "datetime", Frozen)
    scenario = write_scenario(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(scenario), "--no-progress"]) == 0
    assert main(["run", str(scenario), "--no-progress"]) == 0
    runs = tmp_path / "runs"
    assert sorted(p.name for p in runs.iterdir()) == [
        "small-20240102T030405Z",
        "small-20240102T030405Z-2",
    ]
    assert (runs / "small-20240102T030405Z" / "replay.jsonl").read_bytes() == (
        runs / "small-20240102T030405Z-2" / "replay.jsonl"
    ).read_bytes()
    assert "run folder: runs/small-20240102T030405Z-2" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["../../x", "/abs", "BTC/USD mm", ".hidden", "-x", "a b"])
def test_a_scenario_name_that_is_not_one_plain_folder_name_is_refused(
    tmp_path: Path, name: str
) -> None:
    path = write_scenario(tmp_path, name=name)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}: line ") and "\n" not in message
    assert (
        f"Scenario.name must be 1 to 64 ASCII letters, digits, '_', '.' or '-', starting "
        f"with a letter or digit, got {name!r}" in message
    )


@pytest.mark.parametrize("name", ["mm", "BTC-USD_mm.v2", "9lives"])
def test_plain_scenario_names_are_accepted(tmp_path: Path, name: str) -> None:
    assert load_scenario(write_scenario(tmp_path, name=name)).name == name


@pytest.mark.e2e
def test_every_command_reads_a_relative_run_folder_against_the_callers_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    scenario = write_scenario(project, recorded=True)  # its data path is relative to project/
    caller = tmp_path / "elsewhere"
    caller.mkdir()
    monkeypatch.chdir(caller)
    rel_scenario = os.path.relpath(scenario, caller)
    assert (
        main(["run", rel_scenario, "--out", "run", "--no-progress", "--checkpoint-every", "1"]) == 0
    )
    assert (caller / "run" / "replay.jsonl").is_file()
    for args in (
        ["replay", "run"],
        ["tca", "run"],
        ["trace", "run", "1"],
        ["mesh", "run"],
        ["run", "--resume", "run", "--no-progress"],
    ):
        assert main(args) == 0, (args, capsys.readouterr().err)
    assert "no such data file" not in capsys.readouterr().err
