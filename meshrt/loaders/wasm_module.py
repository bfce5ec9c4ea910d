"""A WebAssembly algo module before it runs: compiled once and cached on disk by content
hash (a restart deserializes, ≈27 µs, instead of compiling, ≈0.5 ms and up), and
inspected against the ABI: only meshrt's host calls imported, the required exports of
the right types, linear memory within the deployment's cap. Running one is wasm.py.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import threading
from pathlib import Path
from typing import Any

import attrs

from meshrt.contract import ABI_VERSION, CALLBACK_NAMES
from meshrt.loaders import wasmtime_api as wt
from meshrt.loaders.errors import (
    AlgoLoadError,
    BadExport,
    ForbiddenImport,
)
from meshrt.loaders.wasm_globals import export_mutable_globals
from meshrt.scenario.limits import SandboxLimits
from meshrt.sdk import OPTIONAL_CALLBACKS

I32, I64 = wt.VAL_I32, wt.VAL_I64
HOST_IMPORTS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "send": ((I32, I32, I32, I32), (I32,)),
    "subscribe": ((I32, I32), (I32,)),
    "unsubscribe": ((I32, I32), (I32,)),
    "symbol": ((I32, I32), (I32,)),
    "position": ((I32,), (I64,)),
    "param": ((I32, I32, I32), (I32,)),
    "set_param": ((I32, I32, I64), (I32,)),
    "log": ((I32, I32), (I32,)),
    "order": ((I64, I32), (I32,)),
}
# export name -> the dispatcher's export index (callbacks first, see contract.CALLBACK_NAMES)
SETUP_EXPORTS = {
    "meshrt_create": 13,
    "meshrt_destroy": 14,
    "meshrt_io": 15,
    "meshrt_abi_version": 16,
}
EXPORT_NAMES = {
    **dict(enumerate(CALLBACK_NAMES)),
    **{index: name for name, index in SETUP_EXPORTS.items()},
}
REQUIRED_EXPORTS = (
    "meshrt_abi_version",
    "meshrt_io",
    "meshrt_create",
    "meshrt_destroy",
    "on_book",
    "on_fill",
    "on_reject",
)
EXPORT_TYPE = ((), (I32,))
WASM_PAGE = 65_536
_KINDS = {0: "func", 1: "global", 2: "table", 3: "memory"}
_VALS = {0: "i32", 1: "i64", 2: "f32", 3: "f64", 4: "v128"}
# the value kinds of the globals a checkpoint saves (as raw bytes): numbers, not references
SAVED_KINDS = frozenset({wt.VAL_I32, wt.VAL_I64, wt.VAL_F32, wt.VAL_F64, wt.VAL_V128})


def _sig(sig: tuple[tuple[int, ...], tuple[int, ...]]) -> str:
    params, results = sig
    return (
        f"({', '.join(_VALS.get(k, '?') for k in params)}) -> "
        f"({', '.join(_VALS.get(k, '?') for k in results)})"
    )


def cache_dir() -> Path:
    """Where compiled modules are kept: $MESHRT_CACHE_DIR, else the user's cache folder."""
    root = os.environ.get("MESHRT_CACHE_DIR")
    if root:
        return Path(root) / "wasm"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "meshrt" / "wasm"


@attrs.frozen(slots=True)
class ModuleInfo:
    path: str
    digest: str
    capabilities: frozenset[str]
    imports: tuple[str, ...]
    memory_minimum: int  # bytes
    from_cache: bool
    # the exported mutable globals a checkpoint saves: (export name, value kind)
    globals: tuple[tuple[str, int], ...] = ()
    # why this module's instances cannot be checkpointed, or None
    unsaveable: str | None = None


@attrs.frozen(slots=True, eq=False)
class CompiledModule:
    info: ModuleInfo
    module: Any  # wasmtime_module_t *, freed by cffi's gc


_modules: dict[str, CompiledModule] = {}


@functools.cache
def _wasmtime_version() -> str:
    return importlib.metadata.version("wasmtime")


_lock = threading.Lock()


def compile_module(path: Path) -> CompiledModule:
    """Compile (or fetch from the caches) and check a module; AlgoLoadError when bad."""
    shown = str(path)
    if not path.is_file():
        raise AlgoLoadError(f"WASM algo {shown!r} does not exist")
    data = path.read_bytes()
    digest = hashlib.sha256(
        data + f"|wasmtime {_wasmtime_version()}|fuel|abi {ABI_VERSION}|globals exported".encode()
    ).hexdigest()
    with _lock:
        found = _modules.get(digest)
        if found is not None:
            return attrs.evolve(found, info=attrs.evolve(found.info, path=shown))
        prepared, out_of_reach = export_mutable_globals(data)
        module, from_cache = _load(prepared, digest, shown)
        info = _inspect(module, shown, digest, from_cache)
        if out_of_reach:
            info = attrs.evolve(
                info,
                unsaveable=(
                    "its global section could not be parsed"
                    if out_of_reach < 0
                    else f"{out_of_reach} mutable global(s) cannot be exported"
                ),
            )
        compiled = CompiledModule(info, module)
        _modules[digest] = compiled
        return compiled


def _load(data: bytes, digest: str, shown: str) -> tuple[Any, bool]:
    lib, ffi = wt.lib(), wt.ffi
    out = ffi.new("wasmtime_module_t **")
    cached = cache_dir() / f"{digest}.cwasm"
    if cached.is_file():
        blob = cached.read_bytes()
        try:
            wt.check(lib.wasmtime_module_deserialize(wt.engine(), blob, len(blob), out))
            return ffi.gc(out[0], lib.wasmtime_module_delete), True
        except wt.WasmtimeError:
            pass  # stale or damaged cache entry: compile again and overwrite it
    if not data.startswith(b"\0asm"):
        raise AlgoLoadError(
            f"WASM algo {shown!r} is not a WebAssembly module (no \\0asm magic number)"
        )
    try:
        wt.check(lib.wasmtime_module_new(wt.engine(), data, len(data), out))
    except wt.WasmtimeError as exc:
        raise AlgoLoadError(
            f"WASM algo {shown!r} is not a valid WebAssembly module: {wt.one_line(str(exc))}"
        ) from None
    module = ffi.gc(out[0], lib.wasmtime_module_delete)
    vec = ffi.new("wasm_byte_vec_t *")
    try:
        wt.check(lib.wasmtime_module_serialize(module, vec))
        blob = ffi.unpack(vec.data, vec.size)
        lib.wasm_byte_vec_delete(vec)
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(blob)
        tmp.replace(cached)
    except (OSError, wt.WasmtimeError):
        pass  # an unwritable cache only costs a recompile next time
    return module, False


def _name(vec: Any) -> str:
    raw: bytes = wt.ffi.unpack(vec.data, vec.size)
    return raw.decode("utf-8", "replace")


def _inspect(module: Any, shown: str, digest: str, from_cache: bool) -> ModuleInfo:
    lib, ffi = wt.lib(), wt.ffi
    imports = ffi.new("wasm_importtype_vec_t *")
    lib.wasmtime_module_imports(module, imports)
    names: list[str] = []
    try:
        for i in range(imports.size):
            item = imports.data[i]
            where, name = (
                _name(lib.wasm_importtype_module(item)),
                _name(lib.wasm_importtype_name(item)),
            )
            ext = lib.wasm_importtype_type(item)
            kind = lib.wasm_externtype_kind(ext)
            if where != "meshrt" or name not in HOST_IMPORTS:
                raise ForbiddenImport(
                    f"WASM algo {shown!r} imports {where}.{name} ({_KINDS.get(kind, kind)}); "
                    f"only meshrt's host calls may be imported: "
                    f"{', '.join('meshrt.' + n for n in HOST_IMPORTS)}"
                )
            sig = wt.signature(lib.wasm_externtype_as_functype_const(ext)) if kind == 0 else None
            if sig != HOST_IMPORTS[name]:
                raise ForbiddenImport(
                    f"WASM algo {shown!r} imports meshrt.{name} with type "
                    f"{_sig(sig) if sig else _KINDS.get(kind, kind)}; expected "
                    f"{_sig(HOST_IMPORTS[name])}"
                )
            names.append(name)
    finally:
        lib.wasm_importtype_vec_delete(imports)
    exports = ffi.new("wasm_exporttype_vec_t *")
    lib.wasmtime_module_exports(module, exports)
    found: dict[str, Any] = {}
    memory_minimum = -1
    mutable: list[tuple[str, int]] = []
    try:
        for i in range(exports.size):
            item = exports.data[i]
            name = _name(lib.wasm_exporttype_name(item))
            ext = lib.wasm_exporttype_type(item)
            kind = lib.wasm_externtype_kind(ext)
            if name == "memory" and kind == wt.EXTERN_MEMORY:
                pages = lib.wasmtime_memorytype_minimum(
                    lib.wasm_externtype_as_memorytype_const(ext)
                )
                memory_minimum = pages * WASM_PAGE
            elif kind == wt.EXTERN_FUNC:
                found[name] = wt.signature(lib.wasm_externtype_as_functype_const(ext))
            elif kind == wt.EXTERN_GLOBAL:
                found[name] = "global"
                gt = lib.wasm_externtype_as_globaltype_const(ext)
                if lib.wasm_globaltype_mutability(gt) == wt.MUTABLE:
                    mutable.append((name, lib.wasm_valtype_kind(lib.wasm_globaltype_content(gt))))
            else:
                found[name] = _KINDS.get(kind, str(kind))
    finally:
        lib.wasm_exporttype_vec_delete(exports)
    if memory_minimum < 0:
        raise BadExport(f"WASM algo {shown!r} does not export its linear memory as 'memory'")
    for name in REQUIRED_EXPORTS:
        if name not in found:
            raise BadExport(
                f"WASM algo {shown!r} is missing the required export {name!r} "
                "(build it with meshrt.h's MESHRT_ALGO)"
            )
    for name in (*REQUIRED_EXPORTS, *OPTIONAL_CALLBACKS):
        sig = found.get(name)
        if sig is not None and sig != EXPORT_TYPE:
            shown_sig = _sig(sig) if isinstance(sig, tuple) else sig
            raise BadExport(
                f"WASM algo {shown!r} exports {name!r} as {shown_sig}; expected {_sig(EXPORT_TYPE)}"
            )
    capabilities = frozenset(name for name in OPTIONAL_CALLBACKS if name in found)
    unsaveable = next(
        (
            f"its mutable global {name!r} holds a {_VALS.get(kind, 'reference')} value"
            for name, kind in mutable
            if kind not in SAVED_KINDS
        ),
        None,
    )
    return ModuleInfo(
        shown,
        digest,
        capabilities,
        tuple(names),
        memory_minimum,
        from_cache,
        tuple(mutable),
        unsaveable,
    )


def inspect_wasm(path: Path, limits: SandboxLimits) -> ModuleInfo:
    """What the compiled module says: its imports, exports and memory."""
    info = compile_module(path).info
    if info.memory_minimum > limits.memory_bytes:
        raise AlgoLoadError(
            f"WASM algo {str(path)!r} needs {info.memory_minimum:,} bytes of linear memory at "
            f"start, over the deployment's cap of {limits.memory_bytes:,} "
            "(raise sandbox.memory_bytes or shrink the module's stack/data)"
        )
    return info
