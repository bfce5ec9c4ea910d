"""The C algo toolchain: ``meshrt build`` (WASM and native artifacts) and ``meshrt init``."""

from meshrt.toolchain.build import Artifact, BuildError, build, include_dir
from meshrt.toolchain.scaffold import ScaffoldError, init_project

__all__ = ["Artifact", "BuildError", "ScaffoldError", "build", "include_dir", "init_project"]
