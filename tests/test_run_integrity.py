"""What resume and replay check before trusting a run folder: the log before the
checkpoint (its sha256 in the checkpoint), the evaluated scenario value and the data
files the run read (the digest in run.json)."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from meshrt.log.checkpoint import CheckpointError, all_checkpoints, read_header
from meshrt.runtime.replay import verify
from meshrt.runtime.run import RunOptions, resume, run
from meshrt.scenario.definition import load_scenario

from small_scenario import write_scenario


def checkpointed(tmp_path: Path, recorded: bool = False) -> Path:
    out = tmp_path / "run"
    result = run(
        load_scenario(write_scenario(tmp_path, recorded=recorded)),
        out,
        options=RunOptions(checkpoint_every=300),
    )
    assert result.ok
    return out


def test_resume_checks_the_log_prefix_against_the_checkpoint(tmp_path: Path) -> None:
    out = checkpointed(tmp_path)
    log = out / "replay.jsonl"
    whole = log.read_bytes()
    header, _ = read_header(all_checkpoints(out)[-1])
    assert header["log_offset"] < len(whole)
    resume(out)  # an intact prefix resumes to the same log
    assert log.read_bytes() == whole

    data = bytearray(whole)
    at = whole.index(b"\n", 2000) + 5  # 16 bytes early in the log, inside one record
    line = whole[:at].count(b"\n") + 1
    data[at : at + 16] = bytes(b ^ 0xFF for b in data[at : at + 16])
    log.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=f"{log}: line {line}: not a JSON record"):
        resume(out)
    assert log.read_bytes() == bytes(data)  # refused before anything was cut or written


def test_a_prefix_edit_that_still_parses_is_refused_too(tmp_path: Path) -> None:
    out = checkpointed(tmp_path)
    log = out / "replay.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    record = orjson.loads(lines[3])
    record[1] += 1  # an event time, still a valid record
    lines[3] = orjson.dumps(record) + b"\n"
    log.write_bytes(b"".join(lines))
    with pytest.raises(
        CheckpointError,
        match=r"replay.jsonl: the first \d+ lines differ from "
        r"what the checkpoint recorded \(log_sha256\)",
    ):
        resume(out)


def test_the_meshrt_environment_is_recorded_and_any_other_is_part_of_the_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run.json records the MESHRT_* variables: a resume or replay loads the file with
    the recorded ones, whatever is set now. A value the file takes from any other variable
    is still caught by the digest when it changed."""
    monkeypatch.setenv("MESHRT_TEST_SEED", "7")
    out = checkpointed(tmp_path)
    monkeypatch.setenv("MESHRT_TEST_SEED", "8")  # would evaluate the file to another seed
    assert verify(out).ok  # loaded with the recorded 7
    monkeypatch.delenv("MESHRT_TEST_SEED")
    assert verify(out).ok
    scenario = tmp_path / "scenario.py"
    scenario.write_text(scenario.read_text().replace("MESHRT_TEST_SEED", "OTHER_TEST_SEED"))
    other = tmp_path / "other"
    monkeypatch.setenv("OTHER_TEST_SEED", "7")
    assert run(load_scenario(scenario), other, options=RunOptions(checkpoint_every=300)).ok
    monkeypatch.setenv("OTHER_TEST_SEED", "8")
    with pytest.raises(CheckpointError, match="scenario_sha256: the scenario changed"):
        resume(other)
    with pytest.raises(CheckpointError, match="scenario_sha256: the scenario changed"):
        verify(other)
    monkeypatch.setenv("OTHER_TEST_SEED", "7")
    assert verify(other).ok


def test_an_edited_data_file_is_refused(tmp_path: Path) -> None:
    out = checkpointed(tmp_path, recorded=True)
    assert verify(out).ok
    data = tmp_path / "data.jsonl"
    data.write_text(data.read_text().replace('"size": "2"', '"size": "4"'))
    with pytest.raises(CheckpointError, match="a data file it reads"):
        verify(out)


def test_a_data_files_digest_is_cached_by_size_and_mtime(tmp_path: Path) -> None:
    out = checkpointed(tmp_path, recorded=True)
    data = tmp_path / "data.jsonl"
    info = orjson.loads((out / "run.json").read_bytes())
    entry = info["data_files"][str(data)]
    stat = data.stat()
    assert (entry["size"], entry["mtime_ns"]) == (stat.st_size, stat.st_mtime_ns)
    entry["sha256"] = "0" * 64  # a cached digest is trusted while size and mtime hold...
    (out / "run.json").write_bytes(orjson.dumps(info))
    with pytest.raises(CheckpointError, match="scenario_sha256"):
        verify(out)
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # ...and re-read after
    assert verify(out).ok
