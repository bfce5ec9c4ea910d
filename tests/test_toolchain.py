"""`meshrt build` and `meshrt init`: artifacts with their sizes, scaffolds that pass as made."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from c_algos import ROOT

BIN = Path(sys.executable).parent


def meshrt(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([sys.executable, "-m", "meshrt.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)


def test_build_writes_both_artifacts_and_reports_path_and_size(tmp_path: Path) -> None:
    done = meshrt("build", str(ROOT / "scenarios" / "algos" / "market_maker.c"), "--out",
                  str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for target, name in (("wasm", "market_maker.wasm"), ("native", "market_maker.so")):
        path = tmp_path / name
        assert path.is_file()
        assert f"{target:6}  {path}  {path.stat().st_size:,} bytes" in lines
    assert (tmp_path / "market_maker.wasm").read_bytes()[:4] == b"\0asm"


def test_a_compile_error_is_reported_with_the_compiler_output(tmp_path: Path) -> None:
    (tmp_path / "broken.c").write_text("#include <meshrt.h>\nint oops( {\n")
    done = meshrt("build", str(tmp_path / "broken.c"), "--target", "native", cwd=tmp_path)
    assert done.returncode == 2
    assert "native build of" in done.stderr and "broken.c" in done.stderr
    assert "error" in done.stderr


@pytest.mark.parametrize("lang", ["python", "c"])
def test_init_scaffolds_a_project_that_builds_runs_and_passes(tmp_path: Path, lang: str) -> None:
    done = meshrt("init", "demo-algo", "--lang", lang, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    project = tmp_path / "demo-algo"
    assert {p.name for p in project.iterdir()} >= {"scenario.py", "test_algo.py",
                                                  "algo.py" if lang == "python" else "algo.c"}
    if lang == "c":
        built = meshrt("build", "demo-algo", cwd=tmp_path)
        assert built.returncode == 0, built.stderr
        assert (project / "build" / "algo.wasm").is_file()
        assert (project / "build" / "algo.so").is_file()
    ran = meshrt("run", "demo-algo/scenario.py", "--no-progress", "--out", str(tmp_path / "run"),
                 cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "status ok" in ran.stdout
    tested = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "demo-algo"], capture_output=True, text=True, cwd=tmp_path,
                            timeout=300)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 passed" in tested.stdout


def test_init_refuses_an_existing_folder_and_a_bad_name(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    assert "already exists" in meshrt("init", "taken", cwd=tmp_path).stderr
    bad = meshrt("init", "9lives", cwd=tmp_path)
    assert bad.returncode == 2 and "project name '9lives'" in bad.stderr
