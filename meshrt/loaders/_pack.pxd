# Packer: the inputs a compiled algo is handed, packed into the contract's structs.

cimport cython
from libc.stdint cimport int64_t, uint16_t

from meshrt.loaders._host cimport Host
from meshrt.loaders._meshrt_h cimport mr_book, mr_features, mr_io, mr_state


cdef class Packer(Host):
    cdef dict venues  # name -> id
    cdef object sym_obj, venue_obj  # the last names looked up, by identity
    cdef long sym_id, venue_id
    cdef object ledger_fn
    cdef object ledger  # the ledger the cached figures belong to
    cdef bint ledger_dirty
    cdef int64_t l_position, l_cash, l_realized, l_fees
    cdef tuple holdings  # (symbol, position, cost basis) of each held symbol
    cdef mr_book book  # packed shadow of the last book
    cdef object bid_prices, bid_sizes, ask_prices, ask_sizes  # what the shadow holds

    # final: called directly inside _pack (the C compiler may inline them); the
    # dispatcher makes one call per callback (pack_inputs, or pack_state)
    @cython.final
    cdef int pack_side(self, object values, int64_t *out, uint16_t *count) except -1
    @cython.final
    cdef int pack_book(self, object book) except -1
    @cython.final
    cdef int pack_features(self, object features, mr_features *f) except -1
    @cython.final
    cdef int refresh_ledger(self, object state, object ledger) except -1
    @cython.final
    cdef int64_t unrealized(self, object state) except? -1
    @cython.final
    cdef int pack_state(self, object state, mr_state *s) except -1
    cdef int pack_inputs(self, object book, object state, object features, mr_io *io) except -1
