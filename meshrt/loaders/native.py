"""Load a native algo (cffi): a shared library exporting ``meshrt_algo()``.

``meshrt_algo`` returns a C-ABI vtable (see ``mr_vtable`` in meshrt.h): ABI version,
capability bits, the size of the I/O area, create/destroy and the callbacks. A version
mismatch, a missing symbol or a null required callback is refused at load time. Native
code is trusted, first-party code: it runs in-process without fuel or memory limits.

Checkpoints are opt-in: the vtable may end with ``snapshot`` and ``restore`` entries
(read only when its ``vtable_size`` says they are there, so libraries built before they
existed still load). With them, a slot pickles as the library's path and digest plus the
bytes ``snapshot`` wrote and the I/O area; unpickling loads the library and makes the
instance with ``restore`` instead of ``create``. Without them, pickling a slot raises
CheckpointUnsupported naming the algo, and the run goes on without checkpoints.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import attrs
import cffi

from meshrt.contract import ABI_VERSION, CALLBACK_NAMES, IO_SIZE
from meshrt.loaders.compiled import CompiledSlot, SlotContext
from meshrt.loaders.elf import elf_problem
from meshrt.loaders.errors import AbiMismatch, AlgoLoadError, BadExport
from meshrt.sdk import OPTIONAL_CALLBACKS, REQUIRED_CALLBACKS

SYMBOL = "meshrt_algo"

ffi = cffi.FFI()
ffi.cdef(
    "typedef struct {\n"
    "    uint32_t abi_version, capabilities, io_size, vtable_size;\n"
    "    void *create;\n"
    "    void *destroy;\n"
    + "".join(f"    void *{name};\n" for name in CALLBACK_NAMES)
    + "    void *snapshot;\n"
    "    void *restore;\n"
    "} mr_vtable;\n"
    f"const mr_vtable *{SYMBOL}(void);\n"
)
# a vtable_size at least this large has the snapshot and restore entries
SNAPSHOT_ENTRIES_END = ffi.offsetof("mr_vtable", "restore") + ffi.sizeof("void *")
NO_SNAPSHOT = (
    "its library has no snapshot/restore entries (list 'snapshot' in MESHRT_ALGO "
    "and define PREFIX_snapshot and PREFIX_restore; see docs/algos.md, "
    "Checkpoints)"
)


@attrs.frozen(slots=True)
class LibraryInfo:
    path: str
    capabilities: frozenset[str]
    snapshot: bool = False  # the vtable has snapshot and restore (checkpoints)


def open_library(path: Path) -> tuple[Any, Any, LibraryInfo]:
    """dlopen a library and check its vtable: (library, vtable, info), or AlgoLoadError."""
    shown = str(path)
    if not path.is_file():
        raise AlgoLoadError(f"native algo {shown!r} does not exist")
    if sys.platform.startswith("linux"):
        problem = elf_problem(path.read_bytes())
        if problem is not None:
            raise AlgoLoadError(f"native algo {shown!r} is not a valid shared library: {problem}")
    try:
        lib = ffi.dlopen(str(path.resolve()))
    except OSError as exc:
        raise AlgoLoadError(
            f"native algo {shown!r} cannot be loaded: {_dlopen_reason(exc, path)}"
        ) from None
    try:
        try:
            entry = getattr(lib, SYMBOL)
        except AttributeError:
            raise BadExport(
                f"native algo {shown!r} does not export the symbol {SYMBOL!r} "
                "(build it with meshrt.h's MESHRT_ALGO)"
            ) from None
        vt = entry()
        if vt == ffi.NULL:
            raise BadExport(f"native algo {shown!r}: {SYMBOL}() returned NULL")
        if vt.abi_version != ABI_VERSION:
            raise AbiMismatch(
                f"native algo {shown!r} was built for ABI version "
                f"{vt.abi_version}; this meshrt speaks ABI version {ABI_VERSION}"
            )
        if vt.io_size != IO_SIZE:
            raise AbiMismatch(
                f"native algo {shown!r} has an I/O area of {vt.io_size} bytes; "
                f"ABI version {ABI_VERSION} has {IO_SIZE}"
            )
        for name in ("create", "destroy", *REQUIRED_CALLBACKS):
            if getattr(vt, name) == ffi.NULL:
                raise BadExport(
                    f"native algo {shown!r}: required callback {name!r} is NULL in its vtable"
                )
        unknown = vt.capabilities >> len(OPTIONAL_CALLBACKS)
        if unknown:
            raise AbiMismatch(
                f"native algo {shown!r} declares unknown capability bits "
                f"{unknown << len(OPTIONAL_CALLBACKS):#x}"
            )
        capabilities = frozenset(
            name for bit, name in enumerate(OPTIONAL_CALLBACKS) if vt.capabilities >> bit & 1
        )
        for name in capabilities:
            if getattr(vt, name) == ffi.NULL:
                raise BadExport(
                    f"native algo {shown!r} declares {name!r} but its vtable entry is NULL"
                )
        snapshot = False
        if vt.vtable_size >= SNAPSHOT_ENTRIES_END:
            has = {name: getattr(vt, name) != ffi.NULL for name in ("snapshot", "restore")}
            if has["snapshot"] != has["restore"]:
                present, absent = (
                    ("snapshot", "restore") if has["snapshot"] else ("restore", "snapshot")
                )
                raise BadExport(
                    f"native algo {shown!r} has a {present!r} vtable entry but "
                    f"no {absent!r}: checkpoints need both"
                )
            snapshot = has["snapshot"]
    except Exception:
        ffi.dlclose(lib)
        raise
    return lib, vt, LibraryInfo(shown, capabilities, snapshot)


def _dlopen_reason(exc: OSError, path: Path) -> str:
    """The loader's own reason, without cffi's wrapping and its find_library advice."""
    text = str(exc).split("  Additionally,")[0].strip()
    for prefix in (f"cannot load library '{path.resolve()}': ", f"{path.resolve()}: "):
        text = text.removeprefix(prefix)
    return " ".join(text.split())


def inspect_native(path: Path) -> LibraryInfo:
    lib, _, info = open_library(path)
    ffi.dlclose(lib)
    return info


def _address(pointer: Any) -> int:
    return int(ffi.cast("uintptr_t", pointer))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class NativeSlot(CompiledSlot):
    """One native algo instance; its library stays loaded until close()."""

    kind = "native"

    def __init__(self, path: Path, host: Any, context: SlotContext) -> None:
        lib, vt, info = open_library(path)
        try:
            super().__init__(Path(path).name, host, context, wasm=False)
            self.info = info
            self.capabilities = info.capabilities
            created = self.dispatcher.bind_native(
                _address(vt.create), _address(vt.destroy), self._callbacks(vt)
            )
            # a checkpoint must restore into the very library it was taken from
            self._digest = _digest(Path(path)) if info.snapshot else None
        except Exception:
            ffi.dlclose(lib)
            raise
        if not created:
            ffi.dlclose(lib)
            raise AlgoLoadError(f"native algo {str(path)!r}: create returned NULL (see its log)")
        self._lib = lib
        self._snapshot = _address(vt.snapshot) if info.snapshot else 0

    def _callbacks(self, vt: Any) -> tuple[int, ...]:
        # undeclared optional callbacks are never called: their inputs are never prepared
        return tuple(
            _address(getattr(vt, name))
            if name in REQUIRED_CALLBACKS or name in self.info.capabilities
            else 0
            for name in CALLBACK_NAMES
        )

    # -- checkpoints (opt-in): library path and digest, snapshot bytes, I/O area ---------

    def __getstate__(self) -> dict[str, Any]:
        if not self.info.snapshot:
            raise self._unsaveable(NO_SNAPSHOT)
        if getattr(self, "_lib", None) is None:
            raise self._unsaveable("the instance is closed")
        try:
            data = self.dispatcher.snapshot_native(self._snapshot)
        except RuntimeError as exc:
            raise self._unsaveable(str(exc)) from None
        state = self._pickled()
        state.update(
            library=(self.info.path, self._digest),
            snapshot=data,
            io=bytes(self.dispatcher.io_view()),
        )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        path, digest = state.pop("library")
        data, io = state.pop("snapshot"), state.pop("io")
        self.__dict__.update(state)
        self._lib = None
        lib, vt, info = open_library(Path(path))
        try:
            if not info.snapshot:
                raise AlgoLoadError(f"native algo {path!r} no longer has snapshot/restore entries")
            if _digest(Path(path)) != digest:
                raise AlgoLoadError(
                    f"native algo {path!r} is not the library the checkpoint "
                    "was taken from (its content changed)"
                )
            self.info = info
            self._digest = digest
            self._bind_dispatcher(wasm=False)
            with self._muted():  # restore's host calls: the snapshot already has their effects
                created = self.dispatcher.bind_native(
                    _address(vt.create),
                    _address(vt.destroy),
                    self._callbacks(vt),
                    _address(vt.restore),
                    data,
                    io,
                )
        except Exception:
            ffi.dlclose(lib)
            raise
        if not created:
            ffi.dlclose(lib)
            raise AlgoLoadError(
                f"native algo {path!r}: restore returned NULL for a snapshot of {len(data):,} bytes"
            )
        self._lib = lib
        self._snapshot = _address(vt.snapshot)

    def __del__(self) -> None:
        self.close()  # never let the library go before the instance is destroyed

    def close(self) -> None:
        """Destroy the instance, then release the library."""
        dispatcher = getattr(self, "dispatcher", None)
        if dispatcher is not None:
            dispatcher.close()
        lib, self._lib = getattr(self, "_lib", None), None
        if lib is not None:
            ffi.dlclose(lib)
