"""Build meshrt's compiled extensions; metadata is in pyproject.toml.

Hot loops are Cython (``.pyx``, compiled to C at build time); the modules still written
in C are listed with their ``.c`` file until they are ported.

- meshrt.loaders._dispatch: the WASM/native loaders' per-callback dispatcher
- meshrt.venues._book: the venue's displayed L2 book and its feed hot loop
- meshrt.venues._synthetic: the seeded synthetic market-data generator (xoshiro256**), the
  compiled mirror of meshrt/venues/synthetic.py
- meshrt.actors._commit: the sequencer's commit loop for venue feed events
- meshrt.actors._deliver: the algo instance's book delivery loop
"""

from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

FLAGS = ["-O2", "-std=gnu11", "-Wall", "-Wno-unused-function"]
CYTHON_DIRECTIVES = {"language_level": "3", "boundscheck": False, "wraparound": False,
                     "cdivision": True, "embedsignature": True}


def extension(name: str, **kwargs: object) -> Extension:
    """The module's ``.pyx`` when it has one, else its hand-written ``.c``."""
    stem = name.replace(".", "/")
    source = stem + ".pyx" if Path(stem + ".pyx").exists() else stem + ".c"
    return Extension(name, sources=[source], extra_compile_args=FLAGS, **kwargs)


EXTENSIONS = [
    extension("meshrt.loaders._dispatch",
              depends=["meshrt/include/meshrt.h", "meshrt/_cpython.h"]),
    extension("meshrt.venues._book"),
    extension("meshrt.venues._synthetic"),
    extension("meshrt.actors._commit", depends=["meshrt/_cpython.h"]),
    extension("meshrt.actors._deliver"),
]


def is_cython(ext: Extension) -> bool:
    return ext.sources[0].endswith(".pyx")


setup(
    ext_modules=[ext for ext in EXTENSIONS if not is_cython(ext)] + cythonize(
        [ext for ext in EXTENSIONS if is_cython(ext)],
        compiler_directives=CYTHON_DIRECTIVES,
        build_dir="build/cython",  # generated C stays out of the source tree
    )
)
