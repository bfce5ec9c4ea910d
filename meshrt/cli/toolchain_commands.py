"""The ``meshrt build`` and ``meshrt init`` subcommands over meshrt/toolchain/."""

from __future__ import annotations

import argparse
from typing import Any

from meshrt.cli.argtypes import path, refuse
from meshrt.toolchain.build import TARGETS, BuildError, build
from meshrt.toolchain.scaffold import LANGS, ScaffoldError, init_project

EXIT_OK = 0


def add_parsers(commands: Any) -> None:
    """Register the subcommands; each sets ``handler`` so main() can dispatch generically."""
    b = commands.add_parser("build", help="compile a C algo to .wasm and a native library")
    b.add_argument("project", type=path, help="a C algo project folder or a .c file")
    b.add_argument("--out", type=path, help="output folder (default: PROJECT/build)")
    b.add_argument("--target", choices=(*TARGETS, "all"), default="all")
    b.set_defaults(handler=build_main)
    i = commands.add_parser("init", help="scaffold an algo project (algo, scenario, test)")
    i.add_argument("name", help="project name; the folder is created here")
    i.add_argument("--lang", choices=LANGS, default="python")
    i.set_defaults(handler=init_main)


def build_main(args: argparse.Namespace) -> int:
    targets = TARGETS if args.target == "all" else (args.target,)
    try:
        artifacts = build(args.project, args.out, targets)
    except BuildError as exc:
        return refuse("build", f"build failed: {exc}")
    for artifact in artifacts:
        print(f"{artifact.target:6}  {artifact.path}  {artifact.size:,} bytes")
    return EXIT_OK


def init_main(args: argparse.Namespace) -> int:
    try:
        folder = init_project(args.name, args.lang)
    except ScaffoldError as exc:
        return refuse("init", str(exc))
    print(
        f"created {folder}/ ({args.lang}): "
        f"{', '.join(sorted(path.name for path in folder.iterdir()))}"
    )
    if args.lang == "c":
        print(f"next: meshrt build {folder} && meshrt run {folder}/scenario.py")
    else:
        print(f"next: meshrt run {folder}/scenario.py")
    print(f"test: python -m pytest {folder}")
    return EXIT_OK
