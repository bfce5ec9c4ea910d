"""cffi (ABI mode) binding of the wasmtime wheel's own ``libwasmtime``, loaded once.

wasmtime-py's objects call through ctypes (≈10-18 µs a call, DESIGN section 5), so the
WASM loader drives the C API directly: setup calls go through this binding, and the hot
call's function addresses are handed to the compiled dispatcher. The declarations follow
the C API of the wasmtime release pinned in pyproject.toml.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import cffi

CDEF = """
typedef struct wasm_engine_t wasm_engine_t;
typedef struct wasm_config_t wasm_config_t;
typedef struct wasmtime_module wasmtime_module_t;
typedef struct wasmtime_store wasmtime_store_t;
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_caller wasmtime_caller_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef struct wasm_trap_t wasm_trap_t;
typedef struct wasm_functype_t wasm_functype_t;
typedef struct wasm_valtype_t wasm_valtype_t;
typedef struct wasm_externtype_t wasm_externtype_t;
typedef struct wasm_importtype_t wasm_importtype_t;
typedef struct wasm_exporttype_t wasm_exporttype_t;
typedef struct wasm_memorytype_t wasm_memorytype_t;
typedef struct wasm_globaltype_t wasm_globaltype_t;

typedef struct { size_t size; char *data; } wasm_byte_vec_t;
typedef struct { size_t size; wasm_valtype_t **data; } wasm_valtype_vec_t;
typedef struct { size_t size; wasm_importtype_t **data; } wasm_importtype_vec_t;
typedef struct { size_t size; wasm_exporttype_t **data; } wasm_exporttype_vec_t;

typedef struct { uint64_t store_id; void *private_; } wasmtime_func_t;
typedef struct { uint64_t store_id; size_t private_; } wasmtime_instance_t;
typedef struct { struct { uint64_t store_id; uint32_t p1; } a; uint32_t p2; } wasmtime_memory_t;
typedef struct { uint64_t store_id; uint32_t p1, p2, p3; } wasmtime_global_t;
typedef union {
    wasmtime_func_t func;
    wasmtime_memory_t memory;
    wasmtime_global_t global;
    uint8_t bytes[24];
} wasmtime_extern_union_t;
typedef struct { uint8_t kind; wasmtime_extern_union_t of; } wasmtime_extern_t;
typedef union {
    int32_t i32; int64_t i64; float f32; double f64; uint8_t v128[16]; uint8_t bytes[24];
} wasmtime_valunion_t;
typedef struct { uint8_t kind; wasmtime_valunion_t of; } wasmtime_val_t;
typedef union { int32_t i32; int64_t i64; uint8_t v128[16]; } wasmtime_val_raw_t;

typedef wasm_trap_t *(*wasmtime_func_unchecked_callback_t)(
    void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *args, size_t nargs);

wasm_config_t *wasm_config_new(void);
void wasmtime_config_consume_fuel_set(wasm_config_t *, bool);
wasm_engine_t *wasm_engine_new_with_config(wasm_config_t *);

wasmtime_error_t *wasmtime_module_new(wasm_engine_t *, const uint8_t *, size_t,
                                      wasmtime_module_t **);
wasmtime_error_t *wasmtime_module_serialize(wasmtime_module_t *, wasm_byte_vec_t *);
wasmtime_error_t *wasmtime_module_deserialize(wasm_engine_t *, const uint8_t *, size_t,
                                              wasmtime_module_t **);
void wasmtime_module_delete(wasmtime_module_t *);
void wasmtime_module_imports(const wasmtime_module_t *, wasm_importtype_vec_t *);
void wasmtime_module_exports(const wasmtime_module_t *, wasm_exporttype_vec_t *);
const wasm_byte_vec_t *wasm_importtype_module(const wasm_importtype_t *);
const wasm_byte_vec_t *wasm_importtype_name(const wasm_importtype_t *);
const wasm_externtype_t *wasm_importtype_type(const wasm_importtype_t *);
void wasm_importtype_vec_delete(wasm_importtype_vec_t *);
const wasm_byte_vec_t *wasm_exporttype_name(const wasm_exporttype_t *);
const wasm_externtype_t *wasm_exporttype_type(const wasm_exporttype_t *);
void wasm_exporttype_vec_delete(wasm_exporttype_vec_t *);
uint8_t wasm_externtype_kind(const wasm_externtype_t *);
const wasm_functype_t *wasm_externtype_as_functype_const(const wasm_externtype_t *);
const wasm_memorytype_t *wasm_externtype_as_memorytype_const(const wasm_externtype_t *);
uint64_t wasmtime_memorytype_minimum(const wasm_memorytype_t *);
const wasm_globaltype_t *wasm_externtype_as_globaltype_const(const wasm_externtype_t *);
const wasm_valtype_t *wasm_globaltype_content(const wasm_globaltype_t *);
uint8_t wasm_globaltype_mutability(const wasm_globaltype_t *);
const wasm_valtype_vec_t *wasm_functype_params(const wasm_functype_t *);
const wasm_valtype_vec_t *wasm_functype_results(const wasm_functype_t *);
uint8_t wasm_valtype_kind(const wasm_valtype_t *);
wasm_valtype_t *wasm_valtype_new(uint8_t);
void wasm_valtype_vec_new(wasm_valtype_vec_t *, size_t, wasm_valtype_t *const *);
wasm_functype_t *wasm_functype_new(wasm_valtype_vec_t *params, wasm_valtype_vec_t *results);
void wasm_functype_delete(wasm_functype_t *);

wasmtime_store_t *wasmtime_store_new(wasm_engine_t *, void *, void (*)(void *));
wasmtime_context_t *wasmtime_store_context(wasmtime_store_t *);
void wasmtime_store_limiter(wasmtime_store_t *, int64_t, int64_t, int64_t, int64_t, int64_t);
void wasmtime_store_delete(wasmtime_store_t *);
wasmtime_error_t *wasmtime_context_set_fuel(wasmtime_context_t *, uint64_t);

void wasmtime_func_new_unchecked(wasmtime_context_t *, const wasm_functype_t *,
                                 wasmtime_func_unchecked_callback_t, void *,
                                 void (*)(void *), wasmtime_func_t *);
wasmtime_error_t *wasmtime_instance_new(wasmtime_context_t *, const wasmtime_module_t *,
                                        const wasmtime_extern_t *, size_t,
                                        wasmtime_instance_t *, wasm_trap_t **);
bool wasmtime_instance_export_get(wasmtime_context_t *, const wasmtime_instance_t *,
                                  const char *, size_t, wasmtime_extern_t *);

wasmtime_error_t *wasmtime_func_call_unchecked(wasmtime_context_t *, const wasmtime_func_t *,
                                               wasmtime_val_raw_t *, size_t, wasm_trap_t **);
uint8_t *wasmtime_memory_data(const wasmtime_context_t *, const wasmtime_memory_t *);
size_t wasmtime_memory_data_size(const wasmtime_context_t *, const wasmtime_memory_t *);
wasmtime_error_t *wasmtime_memory_grow(wasmtime_context_t *, const wasmtime_memory_t *,
                                       uint64_t, uint64_t *);
void wasmtime_global_get(wasmtime_context_t *, const wasmtime_global_t *, wasmtime_val_t *);
wasmtime_error_t *wasmtime_global_set(wasmtime_context_t *, const wasmtime_global_t *,
                                      const wasmtime_val_t *);
bool wasmtime_trap_code(const wasm_trap_t *, uint8_t *);
void wasm_trap_message(const wasm_trap_t *, wasm_byte_vec_t *);
void wasm_trap_delete(wasm_trap_t *);
wasm_trap_t *wasmtime_trap_new(const char *, size_t);
void wasmtime_error_message(const wasmtime_error_t *, wasm_byte_vec_t *);
void wasmtime_error_delete(wasmtime_error_t *);
void wasm_byte_vec_delete(wasm_byte_vec_t *);
"""

EXTERN_FUNC = 0
EXTERN_GLOBAL = 1
EXTERN_MEMORY = 3
VAL_I32, VAL_I64, VAL_F32, VAL_F64, VAL_V128 = 0, 1, 2, 3, 4
MUTABLE = 1  # wasm_mutability_t WASM_VAR

# functions whose addresses the compiled dispatcher calls directly
HOT_FUNCTIONS = (
    "wasmtime_func_call_unchecked",
    "wasmtime_context_set_fuel",
    "wasmtime_memory_data",
    "wasmtime_memory_data_size",
    "wasmtime_trap_code",
    "wasm_trap_message",
    "wasm_trap_delete",
    "wasmtime_error_message",
    "wasmtime_error_delete",
    "wasm_byte_vec_delete",
    "wasmtime_trap_new",
)

ffi = cffi.FFI()
ffi.cdef(CDEF)
assert ffi.sizeof("wasmtime_extern_t") == 32 and ffi.sizeof("wasmtime_memory_t") == 24
assert ffi.sizeof("wasmtime_global_t") == 24 and ffi.sizeof("wasmtime_val_t") == 32


class WasmtimeError(Exception):
    """A wasmtime C API call failed; the message is wasmtime's own."""


def library_path() -> Path:
    """The shared library the wasmtime wheel ships (and wasmtime-py has loaded)."""
    import wasmtime._ffi as wffi  # the wheel locates its own library for this platform

    return Path(wffi.dll._name)


@functools.cache
def lib() -> Any:
    return ffi.dlopen(str(library_path()))


@functools.cache
def engine() -> Any:
    """The process's engine: fuel metering on (fuel is set per callback)."""
    config = lib().wasm_config_new()
    lib().wasmtime_config_consume_fuel_set(config, True)
    return lib().wasm_engine_new_with_config(config)  # takes ownership of config


def address(name: str) -> int:
    return int(ffi.cast("uintptr_t", getattr(lib(), name)))


def hot_addresses() -> dict[str, int]:
    return {name: address(name) for name in HOT_FUNCTIONS}


def text(vec: Any) -> str:
    """A wasm_byte_vec_t as text (trailing NULs dropped); the vector is not freed."""
    raw: bytes = ffi.unpack(vec.data, vec.size)
    return raw.rstrip(b"\0").decode("utf-8", "replace")


def check(error: Any) -> None:
    """Raise WasmtimeError for a non-NULL wasmtime_error_t (and free it)."""
    if error != ffi.NULL:
        vec = ffi.new("wasm_byte_vec_t *")
        lib().wasmtime_error_message(error, vec)
        message = text(vec)
        lib().wasm_byte_vec_delete(vec)
        lib().wasmtime_error_delete(error)
        raise WasmtimeError(message)


def one_line(message: str) -> str:
    """wasmtime's message (a context line, maybe a wasm backtrace, then a "Caused by:"
    block) as one line for a user: the context and each cause joined by ': ', without the
    backtrace, the cause numbering or the "wasm trap: " prefix."""
    head, _, causes = message.partition("\nCaused by:")
    first = head.strip().splitlines()[0] if head.strip() else ""
    parts = [] if first.endswith("wasm backtrace:") else [first]
    for line in causes.splitlines():
        line = re.sub(r"^\d+:\s*", "", line.strip()).removeprefix("wasm trap: ")
        if line:
            parts.append(line)
    return ": ".join(part for part in parts if part) or message.strip()


def trap_text(trap: Any) -> str:
    vec = ffi.new("wasm_byte_vec_t *")
    lib().wasm_trap_message(trap, vec)
    message = text(vec)
    lib().wasm_byte_vec_delete(vec)
    lib().wasm_trap_delete(trap)
    return message


def functype(params: tuple[int, ...], results: tuple[int, ...]) -> Any:
    """A new wasm_functype_t (owned by the caller: wasm_functype_delete)."""
    vecs = []
    for kinds in (params, results):
        vec = ffi.new("wasm_valtype_vec_t *")
        items = ffi.new("wasm_valtype_t *[]", [lib().wasm_valtype_new(k) for k in kinds])
        lib().wasm_valtype_vec_new(vec, len(kinds), items)
        vecs.append(vec)
    return lib().wasm_functype_new(vecs[0], vecs[1])


def signature(ft: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(param kinds, result kinds) of a wasm_functype_t."""

    def kinds(vec: Any) -> tuple[int, ...]:
        return tuple(lib().wasm_valtype_kind(vec.data[i]) for i in range(vec.size))

    return kinds(lib().wasm_functype_params(ft)), kinds(lib().wasm_functype_results(ft))
