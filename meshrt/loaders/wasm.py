"""Run a WebAssembly algo (wasmtime): one instance in its own store, a sandbox with fuel
and a memory cap.

The module was compiled, cached and checked against the ABI by wasm_module.py (only
meshrt's host calls imported; ``memory``, ``meshrt_abi_version``, ``meshrt_io``,
``meshrt_create``, ``meshrt_destroy``, ``on_book``, ``on_fill`` and ``on_reject``
exported, each function taking nothing and returning i32; optional callbacks found from
its exports). Here it is instantiated with the host calls and driven by the dispatcher.

A slot can be pickled (checkpoints): the pickle holds the module's path and digest, the
linear memory and every mutable global (see wasm_globals), plus the ids the slot keeps
in Python. Unpickling instantiates the (cached) compiled module again, without running
``meshrt_create``, and writes memory and globals back.
"""

from __future__ import annotations

import contextlib
import zlib
from pathlib import Path
from typing import Any

from meshrt.contract import ABI_VERSION, CALLBACK_NAMES
from meshrt.loaders import wasmtime_api as wt
from meshrt.loaders.compiled import INDEX, CompiledSlot, MutedHost, SlotContext
from meshrt.loaders.errors import (
    FAULTS,
    AbiMismatch,
    AlgoFault,
    AlgoLoadError,
    BadExport,
    FuelExhausted,
)
from meshrt.loaders.wasm_module import (
    EXPORT_NAMES,
    HOST_IMPORTS,
    SAVED_KINDS,
    SETUP_EXPORTS,
    WASM_PAGE,
    CompiledModule,
    ModuleInfo,
    compile_module,
    inspect_wasm,
)
from meshrt.scenario.limits import SandboxLimits
from meshrt.sdk import OPTIONAL_CALLBACKS


def check_wasm(path: Path, limits: SandboxLimits) -> ModuleInfo:
    """Everything checkable before a run: inspect_wasm, then one instance made in a
    throwaway store with a muted host, for what only running the module can tell (its
    start function, the ABI version it was built for, where its I/O area is)."""
    info = inspect_wasm(path, limits)
    WasmSlot(path, MutedHost(), SlotContext(), limits, create=False).close()
    return info


class WasmSlot(CompiledSlot):
    """One WASM algo instance in its own store."""

    kind = "wasm"

    def __init__(
        self,
        path: Path,
        host: Any,
        context: SlotContext,
        limits: SandboxLimits = SandboxLimits(),
        create: bool = True,
    ) -> None:
        info = inspect_wasm(path, limits)
        super().__init__(Path(path).name, host, context, wasm=True)
        self.info = info
        self.capabilities = info.capabilities
        self.limits = limits
        self._instantiate(compile_module(path))
        if not create:
            return
        if self.dispatcher.invoke(SETUP_EXPORTS["meshrt_create"]) != 0:
            raise AlgoLoadError(
                f"WASM algo {str(path)!r}: create failed (meshrt_create "
                "returned nonzero; see its log)"
            )
        self._created = True

    def _instantiate(
        self,
        compiled: CompiledModule,
        image: tuple[bytes, tuple[tuple[str, int, bytes], ...]] | None = None,
    ) -> None:
        """A new store and instance of the module, bound to the dispatcher. ``image``
        (memory, globals) is a checkpoint's state, written in before anything is called."""
        shown = compiled.info.path
        lib, ffi = wt.lib(), wt.ffi
        self._created = False
        self._module = compiled.module
        self._store = ffi.gc(
            lib.wasmtime_store_new(wt.engine(), ffi.NULL, ffi.NULL), lib.wasmtime_store_delete
        )
        # one page of headroom: a grow past the cap succeeds once, and the dispatcher then
        # terminates the instance naming the cap (wasmtime cannot trap on a refused grow)
        lib.wasmtime_store_limiter(self._store, self.limits.memory_bytes + 65_536, -1, -1, -1, -1)
        ctx = lib.wasmtime_store_context(self._store)
        # instantiating runs code too (initializers, a start function): one callback's fuel
        wt.check(lib.wasmtime_context_set_fuel(ctx, self.limits.fuel_per_callback))
        externs = self._host_functions(ctx, compiled.info.imports)
        instance = ffi.new("wasmtime_instance_t *")
        trap = ffi.new("wasm_trap_t **")
        try:
            wt.check(
                lib.wasmtime_instance_new(
                    ctx, self._module, externs, len(compiled.info.imports), instance, trap
                )
            )
        except wt.WasmtimeError as exc:
            raise AlgoLoadError(
                f"WASM algo {shown!r} cannot be instantiated: {wt.one_line(str(exc))}"
            ) from None
        if trap[0] != ffi.NULL:
            raise AlgoLoadError(
                f"WASM algo {shown!r} trapped while starting: {wt.one_line(wt.trap_text(trap[0]))}"
            )
        self._ctx, self._instance = ctx, instance
        funcs, memory = self._exports(ctx, instance)
        if image is not None:
            self._write_image(*image)
        self.dispatcher.bind_wasm(
            int(ffi.cast("uintptr_t", ctx)),
            funcs,
            memory,
            self.limits.fuel_per_callback,
            self.limits.memory_bytes,
        )
        invoke = self.dispatcher.invoke
        version = invoke(SETUP_EXPORTS["meshrt_abi_version"])
        if version != ABI_VERSION:
            raise AbiMismatch(
                f"WASM algo {shown!r} was built for ABI version {version}; "
                f"this meshrt speaks ABI version {ABI_VERSION}"
            )
        try:
            self.dispatcher.set_io(invoke(SETUP_EXPORTS["meshrt_io"]))
        except ValueError as exc:
            raise BadExport(f"WASM algo {shown!r}: meshrt_io: {exc}") from None

    def _fault(self, code: int, detail: str, index: int | None = None) -> AlgoFault:
        """A trap as one line naming the export that ran; wasmtime's whole text (its wasm
        backtrace) stays on the exception as a note, so the crash traceback keeps it."""
        if index is None:  # a host call's fault: already one line of ours
            return super()._fault(code, detail)
        fault, export = FAULTS[code], EXPORT_NAMES.get(index, f"export #{index}")
        if fault is FuelExhausted:
            reason = f"fuel exhausted in {export} (limit {self.limits.fuel_per_callback:,})"
        else:
            reason = f"trap in {export}: {wt.one_line(detail)}"
        exc = fault(f"{self.kind} algo {self.name}: {reason}")
        exc.add_note(detail.rstrip())
        return exc

    # -- checkpoints: module reference, linear memory, mutable globals ------------------

    def __getstate__(self) -> dict[str, Any]:
        if self.info.unsaveable is not None:
            raise self._unsaveable(self.info.unsaveable)
        if self._store is None:
            raise self._unsaveable("the instance is closed")
        memory, globals_ = self._read_image()
        state = self._pickled()
        state.update(
            limits=self.limits,
            module=(self.info.path, self.info.digest),
            memory=zlib.compress(memory, 1),
            globals=globals_,
        )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        path, digest = state.pop("module")
        memory = zlib.decompress(state.pop("memory"))
        globals_ = state.pop("globals")
        self.__dict__.update(state)
        self._store = None
        self._created = False
        compiled = compile_module(Path(path))
        if compiled.info.digest != digest:
            raise AlgoLoadError(
                f"WASM algo {path!r} is not the module the checkpoint was "
                "taken from (its content changed)"
            )
        self._bind_dispatcher(wasm=True)
        with self._muted():  # a start function's host calls: its effects are in the image
            self._instantiate(compiled, (memory, globals_))
        self._created = True  # meshrt_create ran in the original instance, not again

    def _extern(self, name: str) -> Any:
        lib, ffi = wt.lib(), wt.ffi
        ext = ffi.new("wasmtime_extern_t *")
        key = name.encode()
        if not lib.wasmtime_instance_export_get(self._ctx, self._instance, key, len(key), ext):
            raise AlgoLoadError(f"WASM algo {self.info.path!r} has no export {name!r}")
        return ext

    def _read_image(self) -> tuple[bytes, tuple[tuple[str, int, bytes], ...]]:
        """The instance's linear memory and its mutable globals as (name, kind, raw value)."""
        lib, ffi = wt.lib(), wt.ffi
        ctx = self._ctx
        ext = self._extern("memory")  # kept alive while pointers into it are used
        memory = ffi.addressof(ext.of, "memory")
        size = lib.wasmtime_memory_data_size(ctx, memory)
        data = ffi.buffer(lib.wasmtime_memory_data(ctx, memory), size)[:]
        values = []
        value = ffi.new("wasmtime_val_t *")
        for name, _ in self.info.globals:
            ext = self._extern(name)
            lib.wasmtime_global_get(ctx, ffi.addressof(ext.of, "global"), value)
            if value.kind not in SAVED_KINDS:  # checked at load; a changed module, say
                raise self._unsaveable(f"its mutable global {name!r} is not a number")
            values.append((name, value.kind, ffi.buffer(ffi.addressof(value, "of"), 16)[:]))
        return data, tuple(values)

    def _write_image(self, data: bytes, globals_: tuple[tuple[str, int, bytes], ...]) -> None:
        lib, ffi = wt.lib(), wt.ffi
        ctx = self._ctx
        ext = self._extern("memory")  # kept alive while pointers into it are used
        memory = ffi.addressof(ext.of, "memory")
        have = lib.wasmtime_memory_data_size(ctx, memory)
        if len(data) < have or len(data) % WASM_PAGE:
            raise AlgoLoadError(
                f"WASM algo {self.info.path!r}: a memory image of {len(data):,} "
                f"bytes does not fit its memory of {have:,} bytes"
            )
        if len(data) > have:
            previous = ffi.new("uint64_t *")
            try:
                wt.check(
                    lib.wasmtime_memory_grow(ctx, memory, (len(data) - have) // WASM_PAGE, previous)
                )
            except wt.WasmtimeError as exc:
                raise AlgoLoadError(
                    f"WASM algo {self.info.path!r}: cannot grow its memory to "
                    f"{len(data):,} bytes: {wt.one_line(str(exc))}"
                ) from None
        ffi.memmove(lib.wasmtime_memory_data(ctx, memory), data, len(data))
        value = ffi.new("wasmtime_val_t *")
        for name, kind, raw in globals_:
            value.kind = kind
            ffi.memmove(ffi.addressof(value, "of"), raw, len(raw))
            ext = self._extern(name)
            try:
                wt.check(lib.wasmtime_global_set(ctx, ffi.addressof(ext.of, "global"), value))
            except wt.WasmtimeError as exc:
                raise AlgoLoadError(
                    f"WASM algo {self.info.path!r}: cannot set global "
                    f"{name!r}: {wt.one_line(str(exc))}"
                ) from None

    def _host_functions(self, ctx: Any, imports: tuple[str, ...]) -> Any:
        lib, ffi = wt.lib(), wt.ffi
        trampolines = _trampolines()
        externs = ffi.new("wasmtime_extern_t[]", max(1, len(imports)))
        env = ffi.cast("void *", id(self.dispatcher))  # the slot keeps the dispatcher alive
        for i, name in enumerate(imports):
            params, results = HOST_IMPORTS[name]
            ft = wt.functype(params, results)
            try:
                externs[i].kind = wt.EXTERN_FUNC
                lib.wasmtime_func_new_unchecked(
                    ctx, ft, trampolines[name], env, ffi.NULL, ffi.addressof(externs[i].of, "func")
                )
            finally:
                lib.wasm_functype_delete(ft)
        return externs

    def _exports(self, ctx: Any, instance: Any) -> tuple[dict[int, bytes], bytes]:
        lib, ffi = wt.lib(), wt.ffi
        ext = ffi.new("wasmtime_extern_t *")
        funcs: dict[int, bytes] = {}
        names = {**{name: i for i, name in enumerate(CALLBACK_NAMES)}, **SETUP_EXPORTS}
        for name, index in names.items():
            if name in OPTIONAL_CALLBACKS and name not in self.capabilities:
                continue
            key = name.encode()
            if lib.wasmtime_instance_export_get(ctx, instance, key, len(key), ext):
                funcs[index] = bytes(ffi.buffer(ffi.addressof(ext.of, "func")))
        if not lib.wasmtime_instance_export_get(ctx, instance, b"memory", 6, ext):
            raise BadExport(f"WASM algo {self.info.path!r} does not export 'memory'")
        return funcs, bytes(ffi.buffer(ffi.addressof(ext.of, "memory")))

    def close(self) -> None:
        """Run the module's destroy, then drop the store (and every host function in it)."""
        if getattr(self, "_created", False):
            self._created = False
            with contextlib.suppress(Exception):  # a trapping destroy must not stop the release
                self.dispatcher.invoke(SETUP_EXPORTS["meshrt_destroy"])
        self.dispatcher.close()
        self._store = None


_trampoline_cache: dict[str, Any] = {}


def _trampolines() -> dict[str, Any]:
    if not _trampoline_cache:
        from meshrt.loaders import _host, _wasmtime

        _wasmtime.set_wasm_api(wt.hot_addresses())
        for name, addr in _host.trampolines().items():
            _trampoline_cache[name] = wt.ffi.cast("wasmtime_func_unchecked_callback_t", addr)
    return _trampoline_cache


assert set(INDEX) == set(CALLBACK_NAMES)
