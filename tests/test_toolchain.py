"""`meshrt build` and `meshrt init`: artifacts with their sizes, scaffolds that pass as made."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from c_algos import ROOT

BIN = Path(sys.executable).parent


def meshrt(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [sys.executable, "-m", "meshrt.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def test_build_writes_both_artifacts_and_reports_path_and_size(tmp_path: Path) -> None:
    done = meshrt(
        "build",
        str(ROOT / "scenarios" / "algos" / "market_maker.c"),
        "--out",
        str(tmp_path),
        cwd=tmp_path,
    )
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
    assert {p.name for p in project.iterdir()} >= {
        "scenario.py",
        "test_demo_algo.py",
        "algo.py" if lang == "python" else "algo.c",
    }
    if lang == "c":
        built = meshrt("build", "demo-algo", cwd=tmp_path)
        assert built.returncode == 0, built.stderr
        for artifact in ("build/algo.wasm", "build/algo.so"):
            assert (project / artifact).is_file()
            assert (
                f"writes {artifact}" in (project / "algo.c").read_text()
                or f"and {artifact}" in (project / "algo.c").read_text()
            ), "the comment says so"
    ran = meshrt(
        "run",
        "demo-algo/scenario.py",
        "--no-progress",
        "--out",
        str(tmp_path / "run"),
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stderr
    assert "status ok" in ran.stdout
    projects = ["demo-algo"]
    if lang == "python":  # two scaffolds tested in one pytest run must not collide
        assert meshrt("init", "second", cwd=tmp_path).returncode == 0
        projects.append("second")
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *projects],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # each project's harness test and scenario test
    assert f"{2 * len(projects)} passed" in tested.stdout


def test_init_refuses_an_existing_folder_and_a_bad_name(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    assert "already exists" in meshrt("init", "taken", cwd=tmp_path).stderr
    bad = meshrt("init", "9lives", cwd=tmp_path)
    assert bad.returncode == 2 and "project name '9lives'" in bad.stderr


@pytest.mark.parametrize(
    ("name", "shadowed"),
    [
        ("meshrt", "the installed module 'meshrt'"),
        ("pytest", "the installed module 'pytest'"),
        ("json", "the standard library's module 'json'"),
    ],
)
def test_init_refuses_a_name_that_shadows_a_module(
    tmp_path: Path, name: str, shadowed: str
) -> None:
    done = meshrt("init", name, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"meshrt init: project name {name!r} would shadow {shadowed}"), (
        done.stderr
    )
    assert "choose another name" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("lang", ["python", "c"])
def test_the_starters_quote_both_sides_within_their_limit(tmp_path: Path, lang: str) -> None:
    """An example people copy: both sides fill, the position ends within max_position."""
    from meshrt.runtime.run import run
    from meshrt.scenario.definition import load_scenario
    from meshrt.toolchain import build, init_project

    project = init_project("starter", lang, tmp_path)
    if lang == "c":
        build(project)
    scenario = load_scenario(project / "scenario.py")
    summary = run(scenario).summary["deployments"][0]
    limit = scenario.deployments[0].params["max_position"]
    assert summary["crashed"] is None and summary["fills"] > 0
    assert abs(summary["position"]["XYZ"]) <= limit
    assert summary["realized_pnl"] != 0, "it sold what it bought: both sides filled"


def test_the_c_starters_native_build_is_checkpointable(tmp_path: Path) -> None:
    assert meshrt("init", "saved", "--lang", "c", cwd=tmp_path).returncode == 0
    assert meshrt("build", "saved", cwd=tmp_path).returncode == 0
    scenario = tmp_path / "saved" / "scenario.py"
    text = scenario.read_text()
    assert "ALGO = 'build/algo.wasm'" in text
    scenario.write_text(text.replace("ALGO = 'build/algo.wasm'", "ALGO = 'build/algo.so'"))
    ran = meshrt(
        "run",
        str(scenario),
        "--no-progress",
        "--out",
        str(tmp_path / "run"),
        "--checkpoint-every",
        "5000",
        cwd=tmp_path,
    )
    assert ran.returncode == 0 and ran.stderr == "", ran.stderr
    metrics = orjson.loads((tmp_path / "run" / "metrics.json").read_bytes())
    assert metrics["checkpoints"]["unavailable"] is None
    assert list((tmp_path / "run" / "checkpoints").glob("*.bin"))


def test_help_is_plain_text_and_version_is_the_packages() -> None:
    import meshrt

    assert meshrt.__version__ == importlib.metadata.version("meshrt")
    shown = meshrt_cli("--help")
    assert shown.returncode == 0 and "``" not in shown.stdout, shown.stdout
    version = meshrt_cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"meshrt {meshrt.__version__}"


def meshrt_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return meshrt(*args, cwd=ROOT)
