# The contract's C layout as meshrt/include/meshrt.h defines it (its one definition),
# for the compiled modules that pack or read the algo's I/O area; and the dispatcher's
# own constants: export indices and the fault codes meshrt.loaders.errors.FAULTS reads.

from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

cdef extern from "meshrt.h":
    enum:
        MESHRT_ABI_VERSION
        MR_BOOK_DEPTH
        MR_MAX_ACTIONS
        MR_FOUND
        MR_NOT_FOUND
        MR_BAD_ARG
        MR_ORDER_ACCEPTED
        MR_ORDER_PENDING
        MR_ORDER_HAS_PRICE
    const long long MR_PRICE_SCALE
    const long long MR_SIZE_SCALE

    ctypedef struct mr_level:
        int64_t price
        int64_t size
    ctypedef struct mr_book:
        int64_t ts
        uint16_t symbol, venue, bid_count, ask_count
        mr_level bids[20]
        mr_level asks[20]
    ctypedef struct mr_action:
        uint8_t kind, side, tif
        uint16_t symbol
        uint64_t client_order_id, target_order_id
        int64_t price, size
    ctypedef struct mr_state:
        int64_t now, position, cash, realized_pnl, unrealized_pnl, fees
        uint64_t next_order_id
        uint32_t open_orders, _pad0
    ctypedef struct mr_features:
        int64_t mid, microprice, spread, imbalance, volatility, trade_flow
    ctypedef struct mr_open_order:
        uint64_t order_id
        int64_t price, size, filled
        uint16_t symbol
        uint8_t side, flags
        uint32_t _pad0
    ctypedef struct mr_actions:
        uint32_t count, refused
        mr_action items[16]
    ctypedef struct mr_fill:  # written from Python (meshrt.contract); only their
        pass                  # offsets matter here
    ctypedef struct mr_reject:
        pass
    ctypedef struct mr_nbbo:
        pass
    ctypedef struct mr_message:
        pass
    ctypedef struct mr_io:
        mr_book book
        mr_state state
        mr_features features
        mr_fill fill
        mr_reject reject
        mr_nbbo nbbo
        mr_message message
        uint32_t symbol
        mr_actions actions
    ctypedef struct mr_host:
        uint32_t abi_version
        void *ctx
        int32_t (*send)(void *, const char *, uint32_t, const void *, uint32_t) noexcept
        int32_t (*subscribe)(void *, const char *, uint32_t) noexcept
        int32_t (*unsubscribe)(void *, const char *, uint32_t) noexcept
        int32_t (*symbol)(void *, const char *, uint32_t) noexcept
        int64_t (*position)(void *, uint32_t) noexcept
        int32_t (*param)(void *, const char *, uint32_t, int64_t *) noexcept
        int32_t (*set_param)(void *, const char *, uint32_t, int64_t) noexcept
        int32_t (*log)(void *, const char *, uint32_t) noexcept
        int32_t (*order)(void *, uint64_t, mr_open_order *) noexcept

cdef extern from *:
    ctypedef long long int128 "__int128"  # C's 128-bit int: products of two int64 values

ctypedef int32_t (*native_callback)(void *) noexcept
ctypedef void (*native_destroy)(void *) noexcept
ctypedef void *(*native_create)(const mr_host *, mr_io *) noexcept
ctypedef void *(*native_restore)(const mr_host *, mr_io *, const void *, uint64_t) noexcept
ctypedef int64_t (*native_snapshot)(void *, void *, uint64_t) noexcept

cdef enum:
    N_CALLBACKS = 13  # meshrt.contract.CALLBACK_NAMES
    N_EXPORTS = 17  # the callbacks, then create, destroy, io, abi_version
    CB_ON_BOOK = 0
    CB_ON_FILL = 1
    CB_ON_SHUTDOWN = 12
    # fault codes understood by meshrt.loaders.errors.FAULTS
    F_TRAP = 1
    F_FUEL = 2
    F_MEMORY = 3
    F_ACTION = 4
    F_RETURN = 5
    F_INPUT = 6
