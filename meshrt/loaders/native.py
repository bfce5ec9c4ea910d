"""Load a native algo (cffi): a shared library exporting ``meshrt_algo()``.

``meshrt_algo`` returns a C-ABI vtable (see ``mr_vtable`` in meshrt.h): ABI version,
capability bits, the size of the I/O area, create/destroy and the callbacks. A version
mismatch, a missing symbol or a null required callback is refused at load time. Native
code is trusted, first-party code: it runs in-process without fuel or memory limits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import cffi

from meshrt.contract import ABI_VERSION, CALLBACK_NAMES, IO_SIZE
from meshrt.loaders.compiled import CompiledSlot, SlotContext
from meshrt.loaders.errors import AbiMismatch, AlgoLoadError, BadExport
from meshrt.sdk import OPTIONAL_CALLBACKS, REQUIRED_CALLBACKS

SYMBOL = "meshrt_algo"

ffi = cffi.FFI()
ffi.cdef(
    "typedef struct {\n"
    "    uint32_t abi_version, capabilities, io_size, _pad0;\n"
    "    void *create;\n"
    "    void *destroy;\n"
    + "".join(f"    void *{name};\n" for name in CALLBACK_NAMES)
    + "} mr_vtable;\n"
    f"const mr_vtable *{SYMBOL}(void);\n"
)


@attrs.frozen(slots=True)
class LibraryInfo:
    path: str
    capabilities: frozenset[str]


def open_library(path: Path) -> tuple[Any, Any, LibraryInfo]:
    """dlopen a library and check its vtable: (library, vtable, info), or AlgoLoadError."""
    shown = str(path)
    if not path.is_file():
        raise AlgoLoadError(f"native algo {shown!r} does not exist")
    try:
        lib = ffi.dlopen(str(path.resolve()))
    except OSError as exc:
        raise AlgoLoadError(f"native algo {shown!r} cannot be loaded: {exc}") from None
    try:
        try:
            entry = getattr(lib, SYMBOL)
        except AttributeError:
            raise BadExport(f"native algo {shown!r} does not export the symbol {SYMBOL!r} "
                            "(build it with meshrt.h's MESHRT_ALGO)") from None
        vt = entry()
        if vt == ffi.NULL:
            raise BadExport(f"native algo {shown!r}: {SYMBOL}() returned NULL")
        if vt.abi_version != ABI_VERSION:
            raise AbiMismatch(f"native algo {shown!r} was built for ABI version "
                              f"{vt.abi_version}; this meshrt speaks ABI version {ABI_VERSION}")
        if vt.io_size != IO_SIZE:
            raise AbiMismatch(f"native algo {shown!r} has an I/O area of {vt.io_size} bytes; "
                              f"ABI version {ABI_VERSION} has {IO_SIZE}")
        for name in ("create", "destroy", *REQUIRED_CALLBACKS):
            if getattr(vt, name) == ffi.NULL:
                raise BadExport(f"native algo {shown!r}: required callback {name!r} is NULL "
                                "in its vtable")
        unknown = vt.capabilities >> len(OPTIONAL_CALLBACKS)
        if unknown:
            raise AbiMismatch(f"native algo {shown!r} declares unknown capability bits "
                              f"{unknown << len(OPTIONAL_CALLBACKS):#x}")
        capabilities = frozenset(name for bit, name in enumerate(OPTIONAL_CALLBACKS)
                                 if vt.capabilities >> bit & 1)
        for name in capabilities:
            if getattr(vt, name) == ffi.NULL:
                raise BadExport(f"native algo {shown!r} declares {name!r} but its vtable "
                                "entry is NULL")
    except Exception:
        ffi.dlclose(lib)
        raise
    return lib, vt, LibraryInfo(shown, capabilities)


def inspect_native(path: Path) -> LibraryInfo:
    lib, _, info = open_library(path)
    ffi.dlclose(lib)
    return info


def _address(pointer: Any) -> int:
    return int(ffi.cast("uintptr_t", pointer))


class NativeSlot(CompiledSlot):
    """One native algo instance; its library stays loaded until close()."""

    kind = "native"

    def __init__(self, path: Path, host: Any, context: SlotContext) -> None:
        lib, vt, info = open_library(path)
        try:
            super().__init__(Path(path).name, host, context, wasm=False)
            self.info = info
            self.capabilities = info.capabilities
            # undeclared optional callbacks are never called: their inputs are never prepared
            callbacks = tuple(
                _address(getattr(vt, name))
                if name in REQUIRED_CALLBACKS or name in info.capabilities else 0
                for name in CALLBACK_NAMES
            )
            created = self.dispatcher.bind_native(_address(vt.create), _address(vt.destroy),
                                                  callbacks)
        except Exception:
            ffi.dlclose(lib)
            raise
        if not created:
            ffi.dlclose(lib)
            raise AlgoLoadError(f"native algo {str(path)!r}: create returned NULL (see its "
                                "log)")
        self._lib = lib

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
