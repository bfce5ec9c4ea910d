"""Build meshrt's C extensions; metadata is in pyproject.toml.

- meshrt.loaders._dispatch: the WASM/native loaders' per-callback dispatcher
- meshrt.venues._book: the venue's displayed L2 book and its feed hot loop
- meshrt.venues._synthetic: the seeded synthetic market-data generator
- meshrt.actors._commit: the sequencer's commit loop for venue feed events
- meshrt.actors._deliver: the algo instance's book delivery loop
"""

from setuptools import Extension, setup

FLAGS = ["-O2", "-std=gnu11", "-Wall", "-Wno-unused-function"]


def extension(name: str, **kwargs: object) -> Extension:
    return Extension(name, sources=[name.replace(".", "/") + ".c"],
                     extra_compile_args=FLAGS, **kwargs)


setup(
    ext_modules=[
        extension("meshrt.loaders._dispatch",
                  depends=["meshrt/include/meshrt.h", "meshrt/_cpython.h"]),
        extension("meshrt.venues._book"),
        extension("meshrt.venues._synthetic"),
        extension("meshrt.actors._commit", depends=["meshrt/_cpython.h"]),
        extension("meshrt.actors._deliver"),
    ]
)
