"""Algo loaders: Python classes, WASM modules (wasmtime) and native libraries (cffi).

``Deployment.algo`` picks the loader: a class or a ``"module:Class"`` /
``"file.py:Class"`` reference is Python; a path ending in ``.wasm`` is WebAssembly; one
ending in ``.so`` (``.dylib``, ``.dll``) is native. Paths are relative to the scenario's
folder. Every loader returns a slot with the same interface (see ``PythonSlot``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meshrt.loaders.errors import (
    AbiMismatch,
    AlgoFault,
    AlgoLoadError,
    BadAction,
    BadExport,
    BadInput,
    CallbackFailed,
    ForbiddenImport,
    FuelExhausted,
    MemoryCapExceeded,
    SandboxTrap,
)
from meshrt.scenario.limits import SandboxLimits

NATIVE_SUFFIXES = (".so", ".dylib", ".dll")

__all__ = [
    "AbiMismatch",
    "AlgoFault",
    "AlgoLoadError",
    "BadAction",
    "BadExport",
    "BadInput",
    "CallbackFailed",
    "ForbiddenImport",
    "FuelExhausted",
    "MemoryCapExceeded",
    "SandboxLimits",
    "SandboxTrap",
    "algo_kind",
    "check_algo",
    "load_slot",
    "slot_context",
]


def algo_kind(ref: Any) -> str:
    """'python', 'wasm' or 'native' for a Deployment.algo value."""
    if isinstance(ref, str):
        if ref.endswith(".wasm"):
            return "wasm"
        if ref.endswith(NATIVE_SUFFIXES):
            return "native"
    return "python"


def algo_path(ref: str, base_dir: Path | None) -> Path:
    path = Path(ref)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def check_algo(ref: Any, base_dir: Path | None, limits: SandboxLimits = SandboxLimits()) -> None:
    """Everything that can be checked before a run; AlgoLoadError naming the file and reason."""
    kind = algo_kind(ref)
    if kind == "wasm":
        from meshrt.loaders.wasm import check_wasm

        check_wasm(algo_path(ref, base_dir), limits)
    elif kind == "native":
        from meshrt.loaders.native import inspect_native

        inspect_native(algo_path(ref, base_dir))
    else:
        from meshrt.loaders.python import resolve_algo_class

        resolve_algo_class(ref, base_dir)


def slot_context(scenario: Any, deployment: Any) -> Any:
    """The ids a compiled algo of this deployment sees (see compiled.SlotContext)."""
    from meshrt.loaders.compiled import SlotContext

    venue = next(v for v in scenario.venues if v.name == deployment.venue)
    return SlotContext(
        tuple(v.name for v in scenario.venues), (*deployment.symbols, *venue.symbols)
    )


def load_slot(
    deployment: Any, base_dir: Path | None, host: Any, params: dict[str, Any], context: Any = None
) -> Any:
    """Load one instance of a deployment's algo as a slot the instance actor can call."""
    ref = deployment.algo
    kind = algo_kind(ref)
    if kind == "python":
        from meshrt.loaders.python import PythonSlot, resolve_algo_class

        return PythonSlot(resolve_algo_class(ref, base_dir), host, params)
    from meshrt.loaders.compiled import SlotContext

    context = context or SlotContext((deployment.venue,), tuple(deployment.symbols))
    path = algo_path(ref, base_dir)
    if kind == "wasm":
        from meshrt.loaders.wasm import WasmSlot

        return WasmSlot(path, host, context, getattr(deployment, "sandbox", SandboxLimits()))
    from meshrt.loaders.native import NativeSlot

    return NativeSlot(path, host, context)
