# The few types and functions of wasmtime's C API that the dispatcher and the host-call
# trampolines call, and (implemented in _wasmtime.pyx) the table of those functions that
# set_wasm_api fills.
#
# Declared here, not included: the wasmtime wheel ships its shared library but no headers,
# and the dispatcher binds that library's functions by address (set_wasm_api), so nothing
# links against it. Each declaration restates, with the same layout, the one in the C API
# headers of wasmtime 50.0.1 (the release pinned in pyproject.toml, wasmtime>=50,<51),
# https://github.com/bytecodealliance/wasmtime/tree/v50.0.1/crates/c-api/include:
#   wasm.h              wasm_byte_vec_t, wasm_trap_message, wasm_trap_delete,
#                       wasm_byte_vec_delete
#   wasmtime/extern.h   wasmtime_func_t, wasmtime_memory_t
#   wasmtime/val.h      wasmtime_val_raw_t
#   wasmtime/func.h     wasmtime_func_unchecked_callback_t, wasmtime_func_call_unchecked
#   wasmtime/store.h    wasmtime_context_set_fuel
#   wasmtime/memory.h   wasmtime_memory_data, wasmtime_memory_data_size
#   wasmtime/trap.h     wasmtime_trap_code, wasmtime_trap_new, WASMTIME_TRAP_CODE_OUT_OF_FUEL
#   wasmtime/error.h    wasmtime_error_message, wasmtime_error_delete
# The wheel's own ctypes bindings (wasmtime/_bindings.py, generated from those headers)
# and meshrt/loaders/wasmtime_api.py (the cffi side, which asserts the sizes) say the same.
# Those headers are Apache-2.0 WITH LLVM-exception.

from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

# opaque handles, and C's bool (a one-byte return value, not an int)
cdef extern from *:
    """
    #include <stdbool.h>
    typedef struct wasmtime_context wasmtime_context_t;
    typedef struct wasmtime_caller wasmtime_caller_t;
    typedef struct wasmtime_error wasmtime_error_t;
    typedef struct wasm_trap_t wasm_trap_t;
    """
    ctypedef struct wasmtime_context_t
    ctypedef struct wasmtime_caller_t
    ctypedef struct wasmtime_error_t
    ctypedef struct wasm_trap_t
    ctypedef bint c_bool "bool"

ctypedef struct wasm_byte_vec_t:
    size_t size
    char *data

ctypedef struct wasmtime_func_t:  # 16 bytes
    uint64_t store_id
    void *private_

ctypedef struct wasmtime_memory_head:  # the anonymous inner struct of wasmtime_memory_t
    uint64_t store_id
    uint32_t private1

ctypedef struct wasmtime_memory_t:  # 24 bytes
    wasmtime_memory_head head
    uint32_t private2

ctypedef union wasmtime_val_raw_t:  # 16 bytes
    int32_t i32
    int64_t i64
    float f32
    double f64
    uint8_t v128[16]
    uint32_t anyref
    uint32_t externref
    uint32_t exnref
    void *funcref

cdef enum:
    WASMTIME_TRAP_CODE_OUT_OF_FUEL = 11

ctypedef wasm_trap_t *(*wasmtime_func_unchecked_callback_t)(
    void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *args_and_results,
    size_t num_args_and_results) noexcept

# The functions, as pointer types: their addresses come from the loaded library.
ctypedef wasmtime_error_t *(*func_call_unchecked_t)(
    wasmtime_context_t *, const wasmtime_func_t *, wasmtime_val_raw_t *, size_t,
    wasm_trap_t **) noexcept
ctypedef wasmtime_error_t *(*context_set_fuel_t)(wasmtime_context_t *, uint64_t) noexcept
ctypedef uint8_t *(*memory_data_t)(const wasmtime_context_t *,
                                   const wasmtime_memory_t *) noexcept
ctypedef size_t (*memory_data_size_t)(const wasmtime_context_t *,
                                      const wasmtime_memory_t *) noexcept
ctypedef c_bool (*trap_code_t)(const wasm_trap_t *, uint8_t *) noexcept
ctypedef void (*trap_message_t)(const wasm_trap_t *, wasm_byte_vec_t *) noexcept
ctypedef void (*trap_delete_t)(wasm_trap_t *) noexcept
ctypedef wasm_trap_t *(*trap_new_t)(const char *, size_t) noexcept
ctypedef void (*error_message_t)(const wasmtime_error_t *, wasm_byte_vec_t *) noexcept
ctypedef void (*error_delete_t)(wasmtime_error_t *) noexcept
ctypedef void (*byte_vec_delete_t)(wasm_byte_vec_t *) noexcept

ctypedef struct WasmtimeApi:
    func_call_unchecked_t func_call_unchecked  # wasmtime_func_call_unchecked
    context_set_fuel_t context_set_fuel  # wasmtime_context_set_fuel
    memory_data_t memory_data  # wasmtime_memory_data
    memory_data_size_t memory_data_size  # wasmtime_memory_data_size
    trap_code_t trap_code  # wasmtime_trap_code
    trap_message_t trap_message  # wasm_trap_message
    trap_delete_t trap_delete  # wasm_trap_delete
    trap_new_t trap_new  # wasmtime_trap_new
    error_message_t error_message  # wasmtime_error_message
    error_delete_t error_delete  # wasmtime_error_delete
    byte_vec_delete_t byte_vec_delete  # wasm_byte_vec_delete


# The function table, filled once by set_wasm_api. A module that cimports it reads it
# through one pointer Cython imports at module init (__Pyx_ImportVoidPtr).
cdef WasmtimeApi wt

cdef str error_text(wasmtime_error_t *err)
cdef str trap_text(wasm_trap_t *trap)
cdef bint trap_is_out_of_fuel(wasm_trap_t *trap) noexcept
