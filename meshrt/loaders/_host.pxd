# Host: the part of a compiled algo instance's dispatcher that the algo calls back into.
#
# The fields the host calls and WASM trampolines (_host.pyx) read, declared here so that
# _pack.pyx and _dispatch.pyx subclass Host and read them as plain struct members.

cimport cython
from libc.stdint cimport uint8_t

from meshrt.loaders._meshrt_h cimport mr_host
from meshrt.loaders._wasmtime cimport wasmtime_context_t, wasmtime_memory_t

# a name cache's value before any name is seen: matches no name
cdef object UNSET


cdef class Host:
    cdef bint wasm
    cdef mr_host host  # the native host table; its ctx is this object
    cdef wasmtime_context_t *context  # wasm: the store's context (NULL once closed)
    cdef wasmtime_memory_t memory  # wasm: the instance's linear memory
    cdef uint8_t *mem_base
    cdef size_t mem_size
    cdef dict symbols  # name -> id
    cdef object osym_obj  # the last symbol name the order() host call looked up
    cdef long osym_id
    cdef object host_call, fault
    cdef object open_orders  # during a call: state.open_orders, for the order() host call
    cdef object pending  # an exception a host call raised during the algo call

    @cython.final  # direct calls from the trampolines
    cdef void refresh_memory(self) noexcept
    cdef long name_id(self, dict ids, object name, bint register) except? -1
