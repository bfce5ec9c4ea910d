"""Load a Python algo: a subclass of ``meshrt.Algo``, given as a class or a reference.

A reference is ``"package.module:Class"`` or ``"path/to/file.py:Class"`` (relative to
the scenario file's folder).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
import traceback
from pathlib import Path
from typing import Any

import orjson

from meshrt.loaders.errors import AlgoLoadError
from meshrt.sdk import REQUIRED_CALLBACKS, Algo, missing_required

__all__ = ["AlgoLoadError", "PythonSlot", "resolve_algo_class"]


def resolve_algo_class(ref: type[Algo] | str, base_dir: Path | None = None) -> type[Algo]:
    """Turn a class or a ``module:Class`` / ``file.py:Class`` reference into a checked class."""
    cls = ref if isinstance(ref, type) else _import_ref(ref, base_dir)
    if not isinstance(cls, type) or not issubclass(cls, Algo):
        raise AlgoLoadError(f"algo {ref!r} is not a subclass of meshrt.Algo")
    missing = missing_required(cls)
    if missing:
        raise AlgoLoadError(
            f"algo {cls.__qualname__} does not implement required callback(s): "
            + ", ".join(missing)
        )
    for name in (*REQUIRED_CALLBACKS, *sorted(cls.capabilities)):
        _check_signature(cls, name)
    return cls


def _check_signature(cls: type[Algo], name: str) -> None:
    """A callback that cannot take the SDK's arguments would crash at its first call."""
    method = getattr(cls, name)
    wanted = tuple(inspect.signature(getattr(Algo, name)).parameters)
    where = f"algo {cls.__qualname__}.{name}"
    if not callable(method):
        raise AlgoLoadError(f"{where} is {type(method).__name__}, not a method")
    try:
        inspect.signature(method).bind(*wanted)
    except ValueError:
        return  # no signature to read (a builtin): its first call will tell
    except TypeError as exc:
        raise AlgoLoadError(
            f"{where} cannot be called as {name}({', '.join(wanted)}): {exc}"
        ) from None


def _import_ref(ref: str, base_dir: Path | None) -> Any:
    module_part, sep, name = ref.partition(":")
    if not sep or not name:
        raise AlgoLoadError(
            f"algo reference {ref!r} must look like 'module:Class' or 'file.py:Class'"
        )
    if module_part.endswith(".py"):
        path = Path(module_part)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise AlgoLoadError(f"algo file {str(path)!r} does not exist")
        module = _exec_file(path)
    else:
        try:
            module = importlib.import_module(module_part)
        except ImportError as exc:
            raise AlgoLoadError(f"algo module {module_part!r} cannot be imported: {exc}") from None
    try:
        return getattr(module, name)
    except AttributeError:
        raise AlgoLoadError(f"algo module {module_part!r} has no attribute {name!r}") from None


def _exec_file(path: Path) -> Any:
    """Import an algo file as its own module; its folder is importable while it loads,
    so an algo can import a sibling module (``from market_maker import MarketMaker``)."""
    resolved = path.resolve()
    module_name = "meshrt_algo_" + hashlib.sha1(str(resolved).encode()).hexdigest()[:12]
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, resolved)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(resolved.parent))
    try:
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - report any error in user code, named
        del sys.modules[module_name]
        frames = [
            f
            for f in traceback.extract_tb(exc.__traceback__)
            if Path(f.filename).resolve() == resolved
        ]
        where = f"{path}:{frames[-1].lineno}" if frames else str(path)
        raise AlgoLoadError(f"algo file {where}: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.remove(str(resolved.parent))
    return module


class PythonSlot:
    """One loaded Python algo instance with its callbacks bound once (a getattr per call
    doubles the cost)."""

    kind = "python"

    def __init__(self, cls: type[Algo], host: Any, params: dict[str, Any]) -> None:
        self.name = cls.__qualname__
        self.algo = cls(host, params)
        self.capabilities = cls.capabilities
        self.on_book = self.algo.on_book
        self.on_fill = self.algo.on_fill
        self.on_reject = self.algo.on_reject

    def report(self) -> dict[str, Any] | None:
        """The algo's ``report()``, refused (TypeError) unless it survives JSON unchanged."""
        value = self.algo.report()
        if value is None:
            return None
        if not isinstance(value, dict):
            raise TypeError(f"report() returned a {type(value).__name__}, not a dict")
        try:
            same = orjson.loads(orjson.dumps(value)) == value
        except TypeError as exc:  # orjson.JSONEncodeError too
            raise TypeError(f"report() is not JSON: {exc}") from None
        if not same:
            raise TypeError("report() does not survive JSON unchanged (a tuple, NaN or infinity?)")
        return value

    def optional(self, name: str) -> Any:
        """The bound optional callback, or None when the algo does not declare it."""
        return getattr(self.algo, name) if name in self.capabilities else None

    def close(self) -> None:
        self.algo = None  # type: ignore[assignment]
