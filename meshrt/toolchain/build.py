"""Compile a C algo to a sandboxed .wasm (``zig cc``, wasm32 freestanding) and a native .so.

The WASM build uses the ``ziglang`` package from PyPI (``pip install 'meshrt[wasm]'``):
no libc and no WASI, so the module can import nothing but meshrt's host calls. The
native build uses the system C compiler ($CC, else ``cc``). Both compile the same
sources against the SDK header shipped in the package (``meshrt/include/meshrt.h``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import attrs

TARGETS = ("wasm", "native")
WASM_STACK = 65_536  # bytes of shadow stack; with data, the module starts near 128 KiB
NATIVE_SUFFIX = ".dylib" if sys.platform == "darwin" else ".so"


class BuildError(Exception):
    """A build could not run or the compiler failed; the message has its output."""


@attrs.frozen(slots=True)
class Artifact:
    target: str
    path: Path

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def include_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "include"


def sources_of(project: Path) -> tuple[str, list[Path]]:
    """(artifact name, C sources): a .c file, or every .c file directly in a folder."""
    if project.is_file() and project.suffix == ".c":
        return project.stem, [project]
    if not project.is_dir():
        raise BuildError(f"{project}: not a C file or a project folder")
    sources = sorted(project.glob("*.c"))
    if not sources:
        raise BuildError(f"{project}: no .c files to build")
    name = sources[0].stem if len(sources) == 1 else project.resolve().name
    return name, sources


def wasm_command(sources: list[Path], out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ziglang",
        "cc",
        "--target=wasm32-freestanding",
        "-O2",
        "-std=c11",
        "-nostdlib",
        "-Wall",
        "-Wextra",
        "-Werror=implicit-function-declaration",
        "-I",
        str(include_dir()),
        "-Wl,--no-entry",
        f"-Wl,-z,stack-size={WASM_STACK}",
        "-Wl,--strip-all",
        "-o",
        str(out),
        *map(str, sources),
    ]


def native_command(sources: list[Path], out: Path) -> list[str]:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or "cc"
    return [
        cc,
        "-O2",
        "-std=c11",
        "-fPIC",
        "-shared",
        "-fvisibility=hidden",
        "-Wall",
        "-Wextra",
        "-Werror=implicit-function-declaration",
        "-I",
        str(include_dir()),
        "-o",
        str(out),
        *map(str, sources),
    ]


def _zig_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("ziglang") is not None


def build(
    project: Path, out_dir: Path | None = None, targets: tuple[str, ...] = TARGETS
) -> list[Artifact]:
    """Build the targets of a C algo project; returns the artifacts written."""
    project = Path(project)
    name, sources = sources_of(project)
    out_dir = (
        Path(out_dir)
        if out_dir is not None
        else (project if project.is_dir() else project.parent) / "build"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    artifacts = []
    for target in targets:
        if target == "wasm":
            if not _zig_available():
                raise BuildError(
                    "the WASM build needs zig: pip install 'meshrt[wasm]' (the ziglang package)"
                )
            out = out_dir / f"{name}.wasm"
            command = wasm_command(sources, out)
        elif target == "native":
            out = out_dir / f"{name}{NATIVE_SUFFIX}"
            command = native_command(sources, out)
        else:
            raise BuildError(f"unknown target {target!r} (have {', '.join(TARGETS)})")
        try:
            done = subprocess.run(command, capture_output=True, text=True)
        except FileNotFoundError:
            raise BuildError(
                f"{target} build: compiler {command[0]!r} not found (set $CC)"
            ) from None
        if done.returncode != 0:
            raise BuildError(
                f"{target} build of {project} failed:\n{done.stderr.strip() or done.stdout.strip()}"
            )
        artifacts.append(Artifact(target, out))
    return artifacts
