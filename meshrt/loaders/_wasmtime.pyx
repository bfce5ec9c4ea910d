"""wasmtime's C functions as the dispatcher calls them: the table bound by address, and
the text of its errors and traps.

The wasmtime wheel ships a shared library but no headers, so nothing links against it:
``set_wasm_api`` takes each function's address in that library (found by
meshrt/loaders/wasmtime_api.py) into ``wt``, which _host.pyx and _dispatch.pyx cimport.
"""

from cpython.long cimport PyLong_AsVoidPtr

# the declarations are _wasmtime.pxd's, in scope here as this module's own


cdef void *api_address(dict api, str name) except? NULL:
    if name not in api:
        raise KeyError(f"missing {name}")
    return PyLong_AsVoidPtr(api[name])


def set_wasm_api(dict api not None) -> None:
    """Bind the wasmtime functions the dispatcher calls: a dict name -> address."""
    wt.func_call_unchecked = <func_call_unchecked_t>api_address(api, "wasmtime_func_call_unchecked")
    wt.context_set_fuel = <context_set_fuel_t>api_address(api, "wasmtime_context_set_fuel")
    wt.memory_data = <memory_data_t>api_address(api, "wasmtime_memory_data")
    wt.memory_data_size = <memory_data_size_t>api_address(api, "wasmtime_memory_data_size")
    wt.trap_code = <trap_code_t>api_address(api, "wasmtime_trap_code")
    wt.trap_message = <trap_message_t>api_address(api, "wasm_trap_message")
    wt.trap_delete = <trap_delete_t>api_address(api, "wasm_trap_delete")
    wt.error_message = <error_message_t>api_address(api, "wasmtime_error_message")
    wt.error_delete = <error_delete_t>api_address(api, "wasmtime_error_delete")
    wt.byte_vec_delete = <byte_vec_delete_t>api_address(api, "wasm_byte_vec_delete")
    wt.trap_new = <trap_new_t>api_address(api, "wasmtime_trap_new")


cdef str vec_text(wasm_byte_vec_t *vec):
    """A message vector as text (trailing NULs dropped); the vector is freed."""
    cdef Py_ssize_t n = vec.size
    while n > 0 and vec.data[n - 1] == 0:
        n -= 1
    try:
        return vec.data[:n].decode("utf-8", "replace")
    finally:
        wt.byte_vec_delete(vec)


cdef str error_text(wasmtime_error_t *err):
    """wasmtime's message of an error; the error is freed."""
    cdef wasm_byte_vec_t vec
    vec.size, vec.data = 0, NULL
    wt.error_message(err, &vec)
    wt.error_delete(err)
    return vec_text(&vec)


cdef bint trap_is_out_of_fuel(wasm_trap_t *trap) noexcept:
    cdef uint8_t code = 255
    return wt.trap_code(trap, &code) and code == WASMTIME_TRAP_CODE_OUT_OF_FUEL


cdef str trap_text(wasm_trap_t *trap):
    """wasmtime's message of a trap; the trap is freed."""
    cdef wasm_byte_vec_t vec
    vec.size, vec.data = 0, NULL
    wt.trap_message(trap, &vec)
    wt.trap_delete(trap)
    return vec_text(&vec)
