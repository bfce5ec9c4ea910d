"""docs/compat.md: a replay log, checkpoint or run file of another version is refused, by
every reader, with the documented line. (An algo of another ABI version:
tests/test_bad_algos.py, ``test_a_wrong_abi_version_*``.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from meshrt.cli.main import main
from meshrt.log import checkpoint, writer
from meshrt.log.errors import LogVersionError
from meshrt.log.reader import ReplayReader
from meshrt.runtime.run import RunOptions, run
from meshrt.runtime.run_file import RUN_FILE_VERSION
from meshrt.scenario.definition import load_scenario

from small_scenario import write_scenario


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small run with checkpoints, copied by each test before it edits it."""
    folder = tmp_path_factory.mktemp("compat")
    out = folder / "run"
    assert run(
        load_scenario(write_scenario(folder)), out, options=RunOptions(checkpoint_every=300)
    ).ok
    return out


def copy_of(finished: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(finished, tmp_path / "run"))


def with_version(line: bytes, version: object) -> bytes:
    fields = orjson.loads(line)
    fields["version"] = version
    return orjson.dumps(fields)


def stderr_of(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(args) == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("version", [writer.VERSION - 1, writer.VERSION + 1])
def test_a_replay_log_of_another_version_is_refused_by_the_reader_and_every_command(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], version: int
) -> None:
    out = copy_of(finished, tmp_path)
    log = out / "replay.jsonl"
    header, _, records = log.read_bytes().partition(b"\n")
    log.write_bytes(with_version(header, version) + b"\n" + records)
    line = (
        f"{log}:1: unsupported replay log version {version}: "
        f"this meshrt reads version {writer.VERSION} only"
    )
    with pytest.raises(LogVersionError) as refused:
        ReplayReader(log)
    assert str(refused.value) == line
    assert stderr_of(["replay", str(out)], capsys) == f"meshrt replay: cannot replay: {line}\n"
    assert stderr_of(["trace", str(out), "1"], capsys) == f"meshrt trace: bad replay log: {line}\n"
    assert stderr_of(["tca", str(out)], capsys) == f"meshrt tca: bad replay log: {line}\n"


@pytest.mark.parametrize("version", [checkpoint.VERSION - 1, checkpoint.VERSION + 1])
def test_a_checkpoint_of_another_version_is_refused_by_resume(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], version: int
) -> None:
    out = copy_of(finished, tmp_path)
    for path in checkpoint.all_checkpoints(out):
        header, _, payload = path.read_bytes().partition(b"\n")
        path.write_bytes(with_version(header, version) + b"\n" + payload)
    newest = checkpoint.all_checkpoints(out)[-1]
    assert stderr_of(["run", "--resume", str(out), "--no-progress"], capsys) == (
        f"meshrt run: cannot resume: {newest}: header: checkpoint version {version} is not "
        f"supported (this meshrt reads version {checkpoint.VERSION})\n"
    )


def test_a_run_file_of_another_version_is_refused_by_resume_and_replay(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = copy_of(finished, tmp_path)
    run_file = out / "run.json"
    run_file.write_bytes(with_version(run_file.read_bytes(), RUN_FILE_VERSION - 1))
    line = (
        f"{run_file}: not a meshrt run file of version {RUN_FILE_VERSION} "
        f"(version {RUN_FILE_VERSION - 1}: written by another meshrt)"
    )
    assert stderr_of(["run", "--resume", str(out), "--no-progress"], capsys) == (
        f"meshrt run: cannot resume: {line}\n"
    )
    assert stderr_of(["replay", str(out)], capsys) == f"meshrt replay: cannot replay: {line}\n"
