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
import os
import re
import sys
import types
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

import attrs

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
