"""Build the loaders' compiled dispatcher (meshrt.loaders._dispatch); metadata is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "meshrt.loaders._dispatch",
            sources=["meshrt/loaders/_dispatch.c"],
            include_dirs=["meshrt/include"],
            depends=["meshrt/include/meshrt.h"],
            extra_compile_args=["-O2", "-std=gnu11", "-Wall", "-Wno-unused-function"],
        )
    ]
)
