"""Imports run one way: a package imports only packages in layers below its own.

The order (bottom to top) and why each layer sits where it does is docs/design.md's
"Packages" section; ``LAYERS`` is the same list. Every import counts: at module level,
inside a function, under ``TYPE_CHECKING``, in a ``.pyi``, and a ``.pyx``/``.pxd``'s
``import``/``cimport`` lines.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "meshrt"
FACADE = "meshrt"  # meshrt/__init__.py: what ``from meshrt import *`` binds

# bottom to top; the names in one layer are peers and import none of each other
LAYERS: tuple[tuple[str, ...], ...] = (
    ("contract", "console"),  # the data an algo sees; how commands write to the terminal
    ("ledger", "validators"),  # an algo's position and cash; every scenario value's rules
    ("sdk",),  # the Python SDK an algo is written against
    ("venues",),  # the simulated venue and the values it is configured with
    ("scenario",),  # the plain values a scenario file builds
    (FACADE,),  # the public names a scenario file imports: values only
    ("log",),  # the replay log's format, writer, reader; checkpoints
    ("actors",),  # actor shells, mailboxes, the messages between them
    ("loaders",),  # algo slots, implementing the slot an instance actor calls
    ("sequencer",),  # the sequencer's components and its actor shell
    ("runtime",),  # a Scenario turned into actors and run, resumed or verified
    ("jobs",),  # many independent runs: the process pool, the scenario each worker loads
    ("analysis", "soak", "toolchain", "venuesim"),  # read-side tools; many checked runs;
    # building C algos; the local exchange
    ("sweep", "report"),  # many runs over a grid of params; a run drawn (both read with the TCA)
    ("cli", "testing"),  # the meshrt command; the pytest plugin and harness for algo authors
)
# (file, imported module) pairs allowed against the order
ALLOWED: set[tuple[str, str]] = set()  # (file, module): an upward import, with why

RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}
_PYX_IMPORT = re.compile(
    r"^\s*(?:from\s+(meshrt[\w.]*)\s+c?import\b|c?import\s+(meshrt[\w.]*))", re.M
)


def unit_of(module: str) -> str:
    """The layer name of a dotted module: its package under meshrt, or the facade."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else FACADE


def sources() -> Iterator[Path]:
    for suffix in ("py", "pyi", "pyx", "pxd"):
        yield from sorted(PACKAGE.rglob(f"*.{suffix}"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted module) of every meshrt import in a source file."""
    text = path.read_text()
    if path.suffix in (".pyx", ".pxd"):
        for match in _PYX_IMPORT.finditer(text):
            yield text.count("\n", 0, match.start()) + 1, match.group(1) or match.group(2)
        return
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *filter(None, [base])])
            if base == "meshrt":  # ``from meshrt import X``: a package, or a facade name
                for alias in node.names:
                    own = (PACKAGE / alias.name).is_dir() or (PACKAGE / f"{alias.name}.py").exists()
                    yield node.lineno, f"meshrt.{alias.name}" if own else base
            else:
                yield node.lineno, base


def upward_imports() -> list[str]:
    found = []
    for path in sources():
        rel = path.relative_to(ROOT).as_posix()
        here = unit_of(module_name(path))
        for line, module in imports(path):
            if not (module == "meshrt" or module.startswith("meshrt.")):
                continue
            there = unit_of(module)
            if there == here or (rel, module) in ALLOWED:
                continue
            if RANK[there] >= RANK[here]:
                relation = "a peer of" if RANK[there] == RANK[here] else "above"
                found.append(f"{rel}:{line} imports {module} ({there!r} is {relation} {here!r})")
    return found


def test_every_package_has_a_layer() -> None:
    units = {FACADE} | {
        path.stem if path.suffix in (".py", ".pyx") else path.name
        for path in PACKAGE.iterdir()
        if (path.suffix in (".py", ".pyx") and path.name != "__init__.py")
        or (path / "__init__.py").exists()
    }
    assert units == set(RANK), f"place in LAYERS: {sorted(units - set(RANK))}"


def test_imports_only_go_down() -> None:
    offending = upward_imports()
    assert not offending, "imports against the layer order:\n" + "\n".join(offending)


def test_every_allowance_is_still_needed() -> None:
    present = {
        (path.relative_to(ROOT).as_posix(), module)
        for path in sources()
        for _, module in imports(path)
    }
    assert present >= ALLOWED, f"drop from ALLOWED: {sorted(ALLOWED - present)}"


def test_the_command_and_a_simulated_run_start_without_the_live_clients() -> None:
    """The websocket and HTTP clients are a paper run's and ``meshrt record``'s alone: a
    simulated run that imported them would start 0.15 s slower and 5 MiB larger."""
    probe = (
        "import sys, meshrt.cli.main, meshrt.runtime.run; "
        "print(sorted(m for m in ('httpx', 'trio_websocket') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
