"""Every command's bad input is one line, ``meshrt COMMAND: ...``, exit 2; a reader that
goes away ends a command quietly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from meshrt.cli.main import main

from killing import ROOT, meshrt
from small_scenario import write_scenario


@pytest.fixture(scope="module")
def done_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    out = folder / "run"
    assert main(["run", str(write_scenario(folder)), "--out", str(out), "--no-progress"]) == 0
    return out


def one_line(err: str, prefix: str) -> None:
    assert err.startswith(prefix) and err.count("\n") == 1 and "Traceback" not in err, err


def test_every_command_says_no_with_one_prefix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "missing")
    (tmp_path / "c").mkdir()
    for command, args in [
        ("run", [missing + ".py"]),
        ("run", []),
        ("run", ["--resume", missing]),
        ("replay", [missing]),
        ("mesh", [missing]),
        ("trace", [missing, "1"]),
        ("tca", [missing]),
        ("build", [str(tmp_path / "c")]),
        ("init", ["9lives"]),
    ]:
        assert main([command, *args]) == 2, command
        one_line(capsys.readouterr().err, f"meshrt {command}: ")


def test_out_on_an_existing_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write_scenario(tmp_path)
    taken = tmp_path / "taken"
    taken.write_text("mine")
    assert main(["run", str(scenario), "--out", str(taken)]) == 2
    assert capsys.readouterr().err == (
        f"meshrt run: bad run folder: {taken}: exists and is not a folder\n"
    )
    assert taken.read_text() == "mine"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--fsync-interval", "-1"),
        ("--fsync-interval", "nan"),
        ("--fsync-interval", "inf"),
        ("--fsync-interval", "soon"),
        ("--checkpoint-every", "-1"),
        ("--checkpoint-every", "1.5"),
    ],
)
def test_bad_durability_options_are_refused(tmp_path: Path, option: str, value: str) -> None:
    done = meshrt(
        "run", str(write_scenario(tmp_path)), "--out", str(tmp_path / "run"), option, value
    )
    assert done.returncode == 2
    assert f"meshrt run: error: argument {option}: " in done.stderr
    assert not (tmp_path / "run").exists()


def test_sys_exit_in_a_scenario_file_is_a_scenario_error(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path)
    scenario.write_text(scenario.read_text() + "import sys\nsys.exit(0)\n")
    done = meshrt("run", str(scenario), "--out", str(tmp_path / "run"))
    assert done.returncode == 2
    line = len(scenario.read_text().splitlines())
    assert done.stderr == (
        f"meshrt run: bad scenario: {scenario}: line {line}: the file calls "
        "sys.exit(0); a scenario file must define a scenario, not exit\n"
    )
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["replay", "{run}"],
        ["tca", "{run}"],
        ["mesh", "{run}"],
        ["trace", "{run}", "1"],
        ["run", "{scenario}", "--out", "{fresh}"],
    ],
)
def test_a_reader_that_goes_away_ends_a_command_quietly(
    done_run: Path, tmp_path: Path, args: list[str]
) -> None:
    names = {"run": done_run, "scenario": done_run / "../scenario.py", "fresh": tmp_path / "r"}
    process = subprocess.Popen(
        [sys.executable, "-m", "meshrt.cli.main", *(arg.format(**names) for arg in args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # `| head` that has read enough
    err = process.stderr.read()
    assert process.wait(timeout=120) == 141
    assert err == b""
