"""``meshrt run --seed N --set LABEL.PARAM=VALUE``: the run of the file as if edited, kept
in run.json so a resume and a replay run the same; a bad override refused in one line.
``meshrt summary`` prints a finished run's table again."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from meshrt.cli.main import main

from killing import EVERY, bundled_copy, killed_run, meshrt
from small_scenario import write_scenario

SIZE = 2 * 10**8  # the small scenario's deployment quotes 10**8


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([*args, "--no-progress"] if args[0] == "run" else list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_seed_and_set_run_the_scenario_as_if_edited_and_are_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write_scenario(tmp_path)
    edited = tmp_path / "edited"
    edited.mkdir()
    text = scenario.read_text()
    write_scenario(edited).write_text(
        text.replace('"MESHRT_TEST_SEED", "7"', '"MESHRT_TEST_SEED", "3"').replace(
            '"size": 10**8', f'"size": {SIZE}'
        )
    )
    out = tmp_path / "run"
    code, printed, err = run(
        capsys, "run", str(scenario), "--out", str(out), "--seed", "3", "--set", f"mm.size={SIZE}"
    )
    assert code == 0, err
    code, _, err = run(capsys, "run", str(edited / "scenario.py"), "--out", str(tmp_path / "ed"))
    assert code == 0, err
    assert (out / "replay.jsonl").read_bytes() == (tmp_path / "ed" / "replay.jsonl").read_bytes()
    info = orjson.loads((out / "run.json").read_bytes())
    assert info["overrides"] == {"seed": 3, "mm.size": SIZE}
    assert orjson.loads((out / "summary.json").read_bytes())["seed"] == 3
    assert run(capsys, "replay", str(out))[:2] == (
        0,
        "replay verified: all 2,353 records identical\n",
    )
    code, table, _ = run(capsys, "summary", str(out))
    assert code == 0 and printed == f"{table}run folder: {out}\n"


def test_duration_runs_the_scenario_that_long_and_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write_scenario(tmp_path)
    out = tmp_path / "run"
    code, _, err = run(capsys, "run", str(scenario), "--out", str(out), "--duration", "0.01")
    assert code == 0, err
    assert orjson.loads((out / "run.json").read_bytes())["overrides"] == {"duration_ns": 10_000_000}
    assert orjson.loads((out / "summary.json").read_bytes())["scenario_time_ns"] == 10_000_000
    assert run(capsys, "replay", str(out))[0] == 0


def test_a_killed_run_with_overrides_resumes_to_the_log_of_an_uninterrupted_one(
    tmp_path: Path,
) -> None:
    scenario = bundled_copy("market_maker", tmp_path)
    options = ("--seed", "11", "--set", "mm-1.skew_ticks=3")
    whole = tmp_path / "whole"
    done = meshrt("run", str(scenario), "--out", str(whole), "--no-progress",
                  "--checkpoint-every", EVERY, *options)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = tmp_path / "run"
    killed_run(scenario, out, 2, *options)
    done = meshrt("run", "--resume", str(out), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert (out / "replay.jsonl").read_bytes() == (whole / "replay.jsonl").read_bytes()
    assert (out / "summary.json").read_bytes() == (whole / "summary.json").read_bytes()
    replayed = meshrt("replay", str(out))
    assert replayed.returncode == 0 and "replay verified" in replayed.stdout, replayed.stderr


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (["--set", "mx.size=1"], "--set mx.size: no deployment 'mx' in small (deployments: mm"),
        (["--set", "mm.sise=1"], "--set mm.sise: deployment 'mm' has no param 'sise' (params: "),
        (["--set", "mm.size"], "--set 'mm.size': expected NAME=VALUE"),
        (["--set", "mm.size=1e999"], "--set mm.size: mm.size must be a JSON value"),
        (["--set", 'seed="x"'], "--set seed: Scenario.seed must be an integer within 64 bits"),
        (["--seed", "1", "--set", "seed=2"], "--set seed: given twice"),
    ],
)
def test_a_bad_override_is_one_line_naming_it(
    options: list[str], error: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write_scenario(tmp_path)
    code, _, err = run(capsys, "run", str(scenario), "--out", str(tmp_path / "run"), *options)
    assert code == 2
    assert err.startswith(f"meshrt run: {error}") and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists()


def test_resume_takes_its_overrides_from_the_run_file_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "run", "--resume", str(tmp_path), "--seed", "1")
    assert (code, err) == (
        2,
        "meshrt run: --resume uses the run's own --seed, --duration and --set (run.json)\n",
    )


def test_summary_of_a_folder_with_no_summary_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "summary", str(tmp_path))
    assert code == 2
    assert err == (
        f"meshrt summary: {tmp_path / 'summary.json'}: no such file "
        f"(is {tmp_path} the folder of a run that ended?)\n"
    )
