"""The digest of what a run is made of, so a resume or a replay never silently runs
something else: the evaluated scenario value, the scenario file, every algo file and
every recorded data file.

The value is serialized canonically (``canonical``): reprs of classes and functions hold
memory addresses, so code is named by ``module:qualname`` plus its file's content
instead. A data file can be large: its digest is cached by path, size and modification
time (``DataFiles``, kept in the run folder's run.json), so it is read once per run
rather than at every resume or replay.
"""

from __future__ import annotations

import enum
import hashlib
import importlib.util
import os
import re
import sys
import types
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import attrs

from meshrt.venues.specs import CaptureSpec, RecordedSpec

if TYPE_CHECKING:
    from meshrt.scenario.definition import Scenario

# path -> {"size": ..., "mtime_ns": ..., "sha256": ...}: a run's data files as hashed
DataFiles = dict[str, dict[str, Any]]
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_CHUNK = 1 << 20


def canonical(value: Any) -> str:
    """A deterministic text for a scenario value: equal values, equal texts, in any
    process (no memory addresses, sets and mappings in sorted order)."""
    if isinstance(value, enum.Enum):
        return f"{_qualname(type(value))}.{value.name}"
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return repr(value)
    if isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return f"<{_qualname(value)} {_code_file_sha256(value)}>"
    if attrs.has(type(value)):
        fields = ",".join(
            f"{f.name}={canonical(getattr(value, f.name))}" for f in attrs.fields(type(value))
        )
        return f"{_qualname(type(value))}({fields})"
    if isinstance(value, (list, tuple)):
        items = ",".join(canonical(item) for item in value)
        return f"[{items}]" if isinstance(value, list) else f"({items})"
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(canonical(item) for item in value)) + "}"
    if isinstance(value, Mapping):
        return (
            "{" + ",".join(sorted(f"{canonical(k)}:{canonical(v)}" for k, v in value.items())) + "}"
        )
    if isinstance(value, PurePath):
        return repr(str(value))
    if type(value).__repr__ is object.__repr__ and hasattr(value, "__dict__"):  # type: ignore[comparison-overlap]
        return f"{_qualname(type(value))}{canonical(vars(value))}"
    return f"{_qualname(type(value))}:{_ADDRESS.sub('', repr(value))}"


def file_sha256(path: Path, known: DataFiles, seen: DataFiles) -> str:
    """A file's sha256, taken from ``known`` when its size and mtime_ns are unchanged;
    what was used is recorded in ``seen`` (the cache to keep)."""
    key = str(path)
    stat = path.stat()
    entry = known.get(key)
    if not (
        isinstance(entry, dict)
        and entry.get("size") == stat.st_size
        and entry.get("mtime_ns") == stat.st_mtime_ns
    ):
        digest = hashlib.sha256()
        with open(path, "rb") as file:
            while chunk := file.read(_CHUNK):
                digest.update(chunk)
        entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest.hexdigest()}
    seen[key] = entry
    return str(entry["sha256"])


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', '?')}"


def _code_file_sha256(obj: Any) -> str:
    """The sha256 of the file a class or function was defined in ('-' if none)."""
    module = sys.modules.get(getattr(obj, "__module__", "") or "")
    origin = getattr(module, "__file__", None)
    if not origin or not os.path.isfile(origin):
        return "-"
    return hashlib.sha256(Path(origin).read_bytes()).hexdigest()


def scenario_sha256(
    scenario: Scenario,
    known: DataFiles | None = None,
) -> tuple[str, DataFiles]:
    """The digest of what a run is made of: the evaluated scenario value
    (its location aside), the scenario file, every algo file it names (Python, WASM,
    native) and every recorded data file; with the data files' digests as used, the cache
    for the next time (``known``: digests from run.json, trusted while size and mtime_ns
    are unchanged)."""
    base_dir = Path(scenario.base_dir)
    digest = hashlib.sha256()
    digest.update(canonical(attrs.evolve(scenario, base_dir=".", source_path=None)).encode())
    path = getattr(scenario, "source_path", None)
    if path:
        digest.update(Path(path).read_bytes())
    for dep in scenario.deployments:
        file = algo_file(dep.algo, base_dir)
        if file is not None and file.is_file():
            digest.update(file.read_bytes())
    seen: DataFiles = {}
    for symbol, name in data_files(scenario):
        data = Path(name)
        data = (data if data.is_absolute() else base_dir / data).absolute()
        digest.update(f"\n{symbol}:{file_sha256(data, known or {}, seen)}".encode())
    return digest.hexdigest(), seen


def data_files(scenario: Scenario) -> list[tuple[str, str]]:
    """Each recorded data file (or capture, and a capture's REST log) a scenario reads:
    (its symbol, its path as named)."""
    return [
        (source.symbol, path)
        for venue in scenario.venues
        for source in venue.sources
        if isinstance(source, (RecordedSpec, CaptureSpec))
        for path in (source.path, getattr(source, "rest_log", None))
        if path is not None
    ]


def algo_file_name(ref: Any) -> str | None:
    """The file an algo reference names by path ("file.py:Class", "algo.wasm",
    "algo.so"), as named; None for a module name ("module:Class") or a class object,
    which are imported by name."""
    if not isinstance(ref, str):
        return None
    module_part, sep, _ = ref.partition(":")
    if sep and not module_part.endswith(".py"):
        return None
    return module_part if sep else ref


def algo_file(ref: Any, base_dir: Path) -> Path | None:
    """The file an algo reference runs: one named by path (``algo_file_name``);
    "module:Class" or a class object by its module's file; None if there is none
    (the loader reports a reference that cannot be loaded)."""
    if isinstance(ref, type):
        module = sys.modules.get(ref.__module__)
        origin = getattr(module, "__file__", None)
        return Path(origin) if origin else None
    if not isinstance(ref, str):
        return None
    name = algo_file_name(ref)
    if name is None:
        try:
            spec = importlib.util.find_spec(ref.partition(":")[0])
        except (ImportError, ValueError):
            return None
        return Path(spec.origin) if spec is not None and spec.origin else None
    file = Path(name)
    return file if file.is_absolute() else base_dir / file
