/*
 * meshrt.h — the meshrt C SDK, ABI version 1.
 *
 * One C source compiles to a sandboxed WebAssembly module (wasm32, freestanding) or to a
 * native shared library; MESHRT_ALGO at the end of the source produces the WASM exports
 * or the native vtable. Every struct below mirrors meshrt/contract/__init__.py byte for
 * byte (tests/test_c_header.py compiles this header and checks every size and offset).
 *
 * Units: prices in 1e-9 quote units, sizes in 1e-8 base units, times in ns.
 * See docs/algos.md for a walk-through.
 */
#ifndef MESHRT_H
#define MESHRT_H

#include <stddef.h>
#include <stdint.h>

#define MESHRT_ABI_VERSION 1

#define MR_BOOK_DEPTH 20
#define MR_MAX_ACTIONS 16
#define MR_MAX_MESSAGES 16
#define MR_MAX_PAYLOAD 256
#define MR_MAX_LABEL 64
#define MR_MAX_NBBO_VENUES 8
#define MR_PRICE_SCALE 1000000000LL
#define MR_SIZE_SCALE 100000000LL

/* sides, action kinds, time in force, liquidity */
enum { MR_BUY = 1, MR_SELL = 2 };
enum { MR_LIMIT = 1, MR_MARKET = 2, MR_CANCEL = 3, MR_REPLACE = 4, MR_CANCEL_ALL = 5 };
enum { MR_GTC = 0, MR_IOC = 1, MR_POST_ONLY = 2 };
enum { MR_MAKER = 1, MR_TAKER = 2 };

/* reject reasons (contract.RejectReason) */
enum {
    MR_REJECT_INVALID_SIZE = 1, MR_REJECT_INVALID_PRICE = 2, MR_REJECT_UNKNOWN_SYMBOL = 3,
    MR_REJECT_UNKNOWN_ORDER = 4, MR_REJECT_DUPLICATE_ORDER_ID = 5,
    MR_REJECT_ILLEGAL_TRANSITION = 6, MR_REJECT_NOT_RUNNING = 7,
    MR_REJECT_POST_ONLY_WOULD_CROSS = 8, MR_REJECT_NO_LIQUIDITY = 9,
    MR_REJECT_RISK_MAX_ORDER_SIZE = 10, MR_REJECT_RISK_MAX_POSITION = 11,
    MR_REJECT_RISK_MAX_NOTIONAL = 12, MR_REJECT_RISK_MAX_OPEN_ORDERS = 13,
    MR_REJECT_RISK_ORDER_RATE = 14, MR_REJECT_INVALID_ACTION = 15
};

/* symbol ids: 0 is the deployment's first symbol; MR_SYMBOL_ALL means every symbol */
#define MR_SYMBOL_DEFAULT 0
#define MR_SYMBOL_ALL 0xFFFF

/* mr_open_order.flags */
#define MR_ORDER_ACCEPTED 1u /* the venue's acknowledgement has reached the algo */
#define MR_ORDER_PENDING 2u  /* a cancel or replace the algo asked for is unanswered */
#define MR_ORDER_HAS_PRICE 4u /* a limit order (a market order has no price) */

/* host call results */
#define MR_OK 0
#define MR_FOUND 1
#define MR_NOT_FOUND 0
#define MR_REFUSED (-1) /* a contract limit refused it (size, count); it was counted */
#define MR_BAD_ARG (-2) /* an argument was malformed (not UTF-8, out of bounds) */

/* capability bits: bit i is optional callback i (meshrt.sdk.OPTIONAL_CALLBACKS order) */
#define MR_CAP_on_nbbo (1u << 0)
#define MR_CAP_on_message (1u << 1)
#define MR_CAP_on_heartbeat (1u << 2)
#define MR_CAP_on_start (1u << 3)
#define MR_CAP_on_stop (1u << 4)
#define MR_CAP_on_pause (1u << 5)
#define MR_CAP_on_resume (1u << 6)
#define MR_CAP_on_subscribed (1u << 7)
#define MR_CAP_on_unsubscribed (1u << 8)
#define MR_CAP_on_shutdown (1u << 9)

/* ---- contract structs (little-endian, explicit padding) ------------------------- */

typedef struct mr_level { int64_t price; int64_t size; } mr_level;

typedef struct mr_book {
    int64_t ts;
    uint16_t symbol, venue, bid_count, ask_count;
    mr_level bids[MR_BOOK_DEPTH]; /* best first; only bid_count are valid */
    mr_level asks[MR_BOOK_DEPTH];
} mr_book;

typedef struct mr_action {
    uint8_t kind, side, tif, _pad0;
    uint16_t symbol, _pad1;
    uint64_t client_order_id, target_order_id;
    int64_t price, size;
} mr_action;

typedef struct mr_fill {
    int64_t ts;
    uint64_t order_id;
    uint16_t symbol, venue;
    uint8_t side, liquidity;
    uint16_t _pad0;
    int64_t price, size, fee, remaining;
} mr_fill;

typedef struct mr_reject {
    int64_t ts;
    uint64_t order_id;
    uint16_t reason;
    uint8_t action, _pad0;
    uint32_t _pad1;
} mr_reject;

typedef struct mr_state {
    int64_t now, position, cash, realized_pnl, unrealized_pnl, fees;
    uint64_t next_order_id;
    uint32_t open_orders, _pad0;
} mr_state;

typedef struct mr_features {
    int64_t mid, microprice, spread, imbalance, volatility, trade_flow;
} mr_features;

typedef struct mr_nbbo_venue {
    uint16_t venue, _pad0;
    uint32_t _pad1;
    int64_t bid_price, bid_size, ask_price, ask_size;
} mr_nbbo_venue;

typedef struct mr_nbbo {
    int64_t ts;
    uint16_t symbol, venue_count, bid_venue, ask_venue;
    int64_t bid_price, bid_size, ask_price, ask_size;
    mr_nbbo_venue venues[MR_MAX_NBBO_VENUES];
} mr_nbbo;

typedef struct mr_message {
    int64_t ts;
    uint16_t sender_len, payload_len;
    uint32_t _pad0;
    char sender[MR_MAX_LABEL];
    uint8_t payload[MR_MAX_PAYLOAD];
} mr_message;

typedef struct mr_open_order {
    uint64_t order_id;
    int64_t price, size, filled;
    uint16_t symbol;
    uint8_t side, flags;
    uint32_t _pad0;
} mr_open_order;

typedef struct mr_actions {
    uint32_t count, refused;
    mr_action items[MR_MAX_ACTIONS];
} mr_actions;

/* The area the host writes each callback's inputs into and reads actions back from. */
typedef struct mr_io {
    mr_book book;
    mr_state state;
    mr_features features;
    mr_fill fill;
    mr_reject reject;
    mr_nbbo nbbo;
    mr_message message;
    uint32_t symbol, _pad0;
    mr_actions actions;
} mr_io;

_Static_assert(sizeof(mr_book) == 656, "mr_book is 656 bytes");
_Static_assert(sizeof(mr_action) == 40, "mr_action is 40 bytes");
_Static_assert(sizeof(mr_fill) == 56, "mr_fill is 56 bytes");
_Static_assert(sizeof(mr_reject) == 24, "mr_reject is 24 bytes");
_Static_assert(sizeof(mr_state) == 64, "mr_state is 64 bytes");
_Static_assert(sizeof(mr_features) == 48, "mr_features is 48 bytes");
_Static_assert(sizeof(mr_nbbo) == 368, "mr_nbbo is 368 bytes");
_Static_assert(sizeof(mr_message) == 336, "mr_message is 336 bytes");
_Static_assert(sizeof(mr_open_order) == 40, "mr_open_order is 40 bytes");
_Static_assert(sizeof(mr_actions) == 648, "mr_actions is 648 bytes");
_Static_assert(sizeof(mr_io) == 2208, "mr_io is 2208 bytes");

/* ---- host calls -------------------------------------------------------------------- */

/* Native algos reach the host through this table (WASM algos import the same calls from
 * module "meshrt"). Strings are (pointer, byte length), UTF-8, not NUL-terminated. */
typedef struct mr_host {
    uint32_t abi_version, _pad0;
    void *ctx;
    int32_t (*send)(void *ctx, const char *label, uint32_t label_len, const void *payload,
                    uint32_t payload_len);
    int32_t (*subscribe)(void *ctx, const char *symbol, uint32_t symbol_len);
    int32_t (*unsubscribe)(void *ctx, const char *symbol, uint32_t symbol_len);
    int32_t (*symbol)(void *ctx, const char *symbol, uint32_t symbol_len);
    int64_t (*position)(void *ctx, uint32_t symbol);
    int32_t (*param)(void *ctx, const char *name, uint32_t name_len, int64_t *out);
    int32_t (*set_param)(void *ctx, const char *name, uint32_t name_len, int64_t value);
    int32_t (*log)(void *ctx, const char *message, uint32_t message_len);
    int32_t (*order)(void *ctx, uint64_t order_id, mr_open_order *out);
} mr_host;

/* What every callback gets besides its input: its state, its action buffer, the host. */
typedef struct mr_ctx {
    mr_state *state;
    mr_actions *actions;
    const mr_host *host; /* NULL in WASM: host calls are imports there */
} mr_ctx;

/* The native vtable returned by the one exported symbol, meshrt_algo(). Callbacks take
 * the instance pointer create() returned; their inputs are in the mr_io given to create.
 * A callback returns 0, or a nonzero code that terminates the instance. */
typedef struct mr_vtable {
    uint32_t abi_version;
    uint32_t capabilities; /* MR_CAP_* bits of the optional callbacks present */
    uint32_t io_size;      /* sizeof(mr_io), checked by the host */
    uint32_t vtable_size;  /* sizeof(mr_vtable) as built; the host reads the optional
                              entries at the end only when this covers them (0 in
                              libraries built before they existed: it was padding) */
    void *(*create)(const mr_host *host, mr_io *io);
    void (*destroy)(void *instance);
    int32_t (*on_book)(void *instance);
    int32_t (*on_fill)(void *instance);
    int32_t (*on_reject)(void *instance);
    int32_t (*on_nbbo)(void *instance);
    int32_t (*on_message)(void *instance);
    int32_t (*on_heartbeat)(void *instance);
    int32_t (*on_start)(void *instance);
    int32_t (*on_stop)(void *instance);
    int32_t (*on_pause)(void *instance);
    int32_t (*on_resume)(void *instance);
    int32_t (*on_subscribed)(void *instance);
    int32_t (*on_unsubscribed)(void *instance);
    int32_t (*on_shutdown)(void *instance);
    /* Optional, appended within ABI version 1 (both or neither; see docs/algos.md,
     * Checkpoints). snapshot returns the size of the instance's state in bytes and, when
     * it fits in `capacity`, writes it to `buffer` (the host calls it with NULL, 0 first);
     * negative is an error. restore makes a new instance from those bytes, in place of
     * create, and returns it (NULL fails); its host calls are ignored. */
    int64_t (*snapshot)(void *instance, void *buffer, uint64_t capacity);
    void *(*restore)(const mr_host *host, mr_io *io, const void *data, uint64_t size);
} mr_vtable;

static inline uint32_t mr_strlen(const char *s) {
    uint32_t n = 0;
    while (s[n]) n++;
    return n;
}

#if defined(__wasm__)
#define MR__IMPORT(name) __attribute__((import_module("meshrt"), import_name(#name)))
MR__IMPORT(send) int32_t mr__send(const char *, uint32_t, const void *, uint32_t);
MR__IMPORT(subscribe) int32_t mr__subscribe(const char *, uint32_t);
MR__IMPORT(unsubscribe) int32_t mr__unsubscribe(const char *, uint32_t);
MR__IMPORT(symbol) int32_t mr__symbol(const char *, uint32_t);
MR__IMPORT(position) int64_t mr__position(uint32_t);
MR__IMPORT(param) int32_t mr__param(const char *, uint32_t, int64_t *);
MR__IMPORT(set_param) int32_t mr__set_param(const char *, uint32_t, int64_t);
MR__IMPORT(log) int32_t mr__log(const char *, uint32_t);
MR__IMPORT(order) int32_t mr__order(uint64_t, mr_open_order *);
#define MR__HOST(cx, name, ...) ((void)(cx), mr__##name(__VA_ARGS__))
#else
#define MR__HOST(cx, name, ...) ((cx)->host->name((cx)->host->ctx, __VA_ARGS__))
#endif

/* Send a mesh message (payload at most MR_MAX_PAYLOAD bytes, MR_MAX_MESSAGES per callback):
 * MR_OK, or MR_REFUSED when a limit refused it (counted, and logged by the host). */
static inline int32_t mr_send(mr_ctx *cx, const char *label, const void *payload, uint32_t len) {
    return MR__HOST(cx, send, label, mr_strlen(label), payload, len);
}
/* Subscribe to / unsubscribe from a symbol of this venue; returns its symbol id. */
static inline int32_t mr_subscribe(mr_ctx *cx, const char *symbol) {
    return MR__HOST(cx, subscribe, symbol, mr_strlen(symbol));
}
static inline int32_t mr_unsubscribe(mr_ctx *cx, const char *symbol) {
    return MR__HOST(cx, unsubscribe, symbol, mr_strlen(symbol));
}
/* The id of a symbol name (ids are per instance; 0 is the deployment's first symbol). */
static inline int32_t mr_symbol(mr_ctx *cx, const char *symbol) {
    return MR__HOST(cx, symbol, symbol, mr_strlen(symbol));
}
/* Position (1e-8) in a symbol, by id. */
static inline int64_t mr_position(mr_ctx *cx, uint32_t symbol) {
    return MR__HOST(cx, position, symbol);
}
/* An integer deployment parameter, or `fallback` when absent or not an integer. */
static inline int64_t mr_param_i64(mr_ctx *cx, const char *name, int64_t fallback) {
    int64_t value = fallback;
    return MR__HOST(cx, param, name, mr_strlen(name), &value) == MR_FOUND ? value : fallback;
}
/* Write a persistent integer parameter (recorded in the replay log). */
static inline int32_t mr_set_param_i64(mr_ctx *cx, const char *name, int64_t value) {
    return MR__HOST(cx, set_param, name, mr_strlen(name), value);
}
static inline int32_t mr_log(mr_ctx *cx, const char *message) {
    return MR__HOST(cx, log, message, mr_strlen(message));
}
/* Look up one of the algo's open orders by client order id, as the Python SDK's
 * state.open_orders does: MR_FOUND and *out filled, or MR_NOT_FOUND. Orders placed in
 * the current callback become visible once the callback has returned. */
static inline int32_t mr_order(mr_ctx *cx, uint64_t order_id, mr_open_order *out) {
    return MR__HOST(cx, order, order_id, out);
}

/* ---- actions: at most MR_MAX_ACTIONS per callback ------------------------------------ */
/* Client order ids come from state->next_order_id in call order, as in the Python SDK.
 * A call past the limit places nothing, is counted as refused, and returns 0. */

static inline mr_action *mr__push(mr_ctx *cx, uint8_t kind) {
    mr_actions *a = cx->actions;
    if (a->count >= MR_MAX_ACTIONS) {
        a->refused++;
        return (mr_action *)0;
    }
    mr_action *x = &a->items[a->count++];
    x->kind = kind;
    x->side = 0;
    x->tif = 0;
    x->_pad0 = 0;
    x->symbol = MR_SYMBOL_DEFAULT;
    x->_pad1 = 0;
    x->client_order_id = 0;
    x->target_order_id = 0;
    x->price = 0;
    x->size = 0;
    return x;
}

static inline uint64_t mr_limit_on(mr_ctx *cx, uint16_t symbol, uint8_t side, int64_t price,
                                   int64_t size, uint8_t tif) {
    mr_action *x = mr__push(cx, MR_LIMIT);
    if (!x) return 0;
    x->side = side;
    x->tif = tif;
    x->symbol = symbol;
    x->price = price;
    x->size = size;
    return x->client_order_id = cx->state->next_order_id++;
}
static inline uint64_t mr_limit(mr_ctx *cx, uint8_t side, int64_t price, int64_t size,
                                uint8_t tif) {
    return mr_limit_on(cx, MR_SYMBOL_DEFAULT, side, price, size, tif);
}
static inline uint64_t mr_market_on(mr_ctx *cx, uint16_t symbol, uint8_t side, int64_t size) {
    mr_action *x = mr__push(cx, MR_MARKET);
    if (!x) return 0;
    x->side = side;
    x->tif = MR_IOC;
    x->symbol = symbol;
    x->size = size;
    return x->client_order_id = cx->state->next_order_id++;
}
static inline uint64_t mr_market(mr_ctx *cx, uint8_t side, int64_t size) {
    return mr_market_on(cx, MR_SYMBOL_DEFAULT, side, size);
}
static inline uint64_t mr_cancel(mr_ctx *cx, uint64_t order_id) {
    mr_action *x = mr__push(cx, MR_CANCEL);
    if (!x) return 0;
    x->client_order_id = x->target_order_id = order_id;
    return order_id;
}
/* Change an open order's price and total size (queue priority may be lost). */
static inline uint64_t mr_replace(mr_ctx *cx, uint64_t order_id, int64_t price, int64_t size) {
    mr_action *x = mr__push(cx, MR_REPLACE);
    if (!x) return 0;
    x->client_order_id = x->target_order_id = order_id;
    x->price = price;
    x->size = size;
    return order_id;
}
/* Cancel every open order of one symbol id, or of all with MR_SYMBOL_ALL. */
static inline int mr_cancel_all(mr_ctx *cx, uint16_t symbol) {
    mr_action *x = mr__push(cx, MR_CANCEL_ALL);
    if (!x) return 0;
    x->symbol = symbol;
    return 1;
}

/* Python's floor division, so C algos round exactly as Python ones do. */
static inline int64_t mr_floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (q * b != a && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* ---- memory: zeroed allocation (a bump allocator in WASM, calloc natively) ---------- */

#if defined(__wasm__)
extern unsigned char __heap_base;
__attribute__((weak)) uintptr_t mr__heap_top;
static inline void *mr_alloc(size_t size) {
    if (!mr__heap_top) mr__heap_top = (uintptr_t)&__heap_base;
    uintptr_t at = (mr__heap_top + 15u) & ~(uintptr_t)15u;
    uintptr_t end = at + size;
    uintptr_t have = (uintptr_t)__builtin_wasm_memory_size(0) * 65536u;
    if (end > have &&
        __builtin_wasm_memory_grow(0, (end - have + 65535u) / 65536u) == (size_t)-1)
        return (void *)0; /* over the sandbox's memory cap */
    mr__heap_top = end;
    return (void *)at; /* fresh linear memory is zero */
}
static inline void mr_free(void *p) { (void)p; }
#else
#include <stdlib.h>
static inline void *mr_alloc(size_t size) { return calloc(1, size); }
static inline void mr_free(void *p) { free(p); }
#endif

/* ---- MESHRT_ALGO(prefix, optional callbacks...) ------------------------------------ *
 * Expects these functions (each returning 0, or nonzero to fail the instance):
 *   void *PREFIX_create(mr_ctx *cx);            NULL fails the load
 *   void  PREFIX_destroy(void *self);
 *   int   PREFIX_on_book(void *self, mr_ctx *cx, const mr_book *book, const mr_features *f);
 *   int   PREFIX_on_fill(void *self, mr_ctx *cx, const mr_fill *fill);
 *   int   PREFIX_on_reject(void *self, mr_ctx *cx, const mr_reject *reject);
 * and one per optional callback named after the prefix:
 *   on_nbbo(self, cx, const mr_nbbo *), on_message(self, cx, const mr_message *),
 *   on_subscribed / on_unsubscribed(self, cx, uint16_t symbol),
 *   on_heartbeat / on_start / on_stop / on_pause / on_resume / on_shutdown(self, cx).
 * Listing `snapshot` opts a native build into checkpoints; it expects
 *   int64_t PREFIX_snapshot(void *self, void *buffer, uint64_t capacity);
 *       the state's size in bytes; writes it to buffer when capacity is enough
 *   void   *PREFIX_restore(mr_ctx *cx, const void *data, uint64_t size);
 *       a new self from those bytes (as create would make one), NULL on failure
 * A WASM build ignores it: the host saves a module's linear memory and globals itself.
 * Example: MESHRT_ALGO(mm, on_start, on_stop, snapshot)
 */

#define MR__CAT(a, b) MR__CAT_(a, b)
#define MR__CAT_(a, b) a##b
#define MR__NARGS(...) MR__NARGS_(__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define MR__NARGS_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, N, ...) N
#define MR__HEAD(p, ...) p
#define MESHRT_ALGO(...) MR__ALGO_(MR__HEAD(__VA_ARGS__, ~), __VA_ARGS__)
#define MR__ALGO_(p, ...) MR__ALGO(p, __VA_ARGS__)
#define MR__EACH(M, ...) MR__CAT(MR__EACH_, MR__NARGS(__VA_ARGS__))(M, __VA_ARGS__)
#define MR__EACH_1(M, p)
#define MR__EACH_2(M, p, a) M(p, a)
#define MR__EACH_3(M, p, a, ...) M(p, a) MR__EACH_2(M, p, __VA_ARGS__)
#define MR__EACH_4(M, p, a, ...) M(p, a) MR__EACH_3(M, p, __VA_ARGS__)
#define MR__EACH_5(M, p, a, ...) M(p, a) MR__EACH_4(M, p, __VA_ARGS__)
#define MR__EACH_6(M, p, a, ...) M(p, a) MR__EACH_5(M, p, __VA_ARGS__)
#define MR__EACH_7(M, p, a, ...) M(p, a) MR__EACH_6(M, p, __VA_ARGS__)
#define MR__EACH_8(M, p, a, ...) M(p, a) MR__EACH_7(M, p, __VA_ARGS__)
#define MR__EACH_9(M, p, a, ...) M(p, a) MR__EACH_8(M, p, __VA_ARGS__)
#define MR__EACH_10(M, p, a, ...) M(p, a) MR__EACH_9(M, p, __VA_ARGS__)
#define MR__EACH_11(M, p, a, ...) M(p, a) MR__EACH_10(M, p, __VA_ARGS__)
#define MR__EACH_12(M, p, a, ...) M(p, a) MR__EACH_11(M, p, __VA_ARGS__)

/* what each name listed in MESHRT_ALGO is: a callback (CB) or the checkpoint opt-in (SNAP) */
#define MR__KIND_on_nbbo CB
#define MR__KIND_on_message CB
#define MR__KIND_on_heartbeat CB
#define MR__KIND_on_start CB
#define MR__KIND_on_stop CB
#define MR__KIND_on_pause CB
#define MR__KIND_on_resume CB
#define MR__KIND_on_subscribed CB
#define MR__KIND_on_unsubscribed CB
#define MR__KIND_on_shutdown CB
#define MR__KIND_snapshot SNAP
#define MR__BY_KIND(what, p, name) MR__CAT(what, MR__KIND_##name)(p, name)

/* how each optional callback's input is handed to the user's function */
#define MR__ARGS_on_nbbo(io) , &(io)->nbbo
#define MR__ARGS_on_message(io) , &(io)->message
#define MR__ARGS_on_heartbeat(io)
#define MR__ARGS_on_start(io)
#define MR__ARGS_on_stop(io)
#define MR__ARGS_on_pause(io)
#define MR__ARGS_on_resume(io)
#define MR__ARGS_on_subscribed(io) , (uint16_t)(io)->symbol
#define MR__ARGS_on_unsubscribed(io) , (uint16_t)(io)->symbol
#define MR__ARGS_on_shutdown(io)

#define MR__CAP(p, name) MR__BY_KIND(MR__CAP_, p, name)
#define MR__CAP_CB(p, name) | MR_CAP_##name
#define MR__CAP_SNAP(p, name)

#if defined(__wasm__)

typedef struct mr__instance { void *self; mr_ctx cx; } mr__instance;

#define MR__EXPORT_OPT(p, name) MR__BY_KIND(MR__EXPORT_, p, name)
#define MR__EXPORT_CB(p, name)                                                          \
    __attribute__((export_name(#name))) int32_t mr__export_##name(void) {               \
        return p##_##name(mr__the.self, &mr__the.cx MR__ARGS_##name(&mr__io));          \
    }
#define MR__EXPORT_SNAP(p, name) /* the host saves linear memory and globals itself */

#define MR__ALGO(p, ...)                                                                \
    static mr_io mr__io;                                                                \
    static mr__instance mr__the;                                                        \
    __attribute__((export_name("meshrt_abi_version"))) int32_t mr__abi_version(void) {  \
        return MESHRT_ABI_VERSION;                                                      \
    }                                                                                   \
    __attribute__((export_name("meshrt_io"))) int32_t mr__io_offset(void) {             \
        return (int32_t)(uintptr_t)&mr__io;                                             \
    }                                                                                   \
    __attribute__((export_name("meshrt_create"))) int32_t mr__create(void) {            \
        mr__the.cx.state = &mr__io.state;                                               \
        mr__the.cx.actions = &mr__io.actions;                                           \
        mr__the.cx.host = (const mr_host *)0;                                           \
        mr__the.self = p##_create(&mr__the.cx);                                         \
        return mr__the.self ? 0 : 1;                                                    \
    }                                                                                   \
    __attribute__((export_name("meshrt_destroy"))) int32_t mr__destroy(void) {          \
        p##_destroy(mr__the.self);                                                      \
        mr__the.self = (void *)0;                                                       \
        return 0;                                                                       \
    }                                                                                   \
    __attribute__((export_name("on_book"))) int32_t mr__on_book(void) {                 \
        return p##_on_book(mr__the.self, &mr__the.cx, &mr__io.book, &mr__io.features);  \
    }                                                                                   \
    __attribute__((export_name("on_fill"))) int32_t mr__on_fill(void) {                 \
        return p##_on_fill(mr__the.self, &mr__the.cx, &mr__io.fill);                    \
    }                                                                                   \
    __attribute__((export_name("on_reject"))) int32_t mr__on_reject(void) {             \
        return p##_on_reject(mr__the.self, &mr__the.cx, &mr__io.reject);                \
    }                                                                                   \
    MR__EACH(MR__EXPORT_OPT, __VA_ARGS__)

#else /* native */

#if defined(_WIN32)
#define MR__VISIBLE __declspec(dllexport)
#else
#define MR__VISIBLE __attribute__((visibility("default")))
#endif

typedef struct mr__instance { void *self; mr_ctx cx; mr_io *io; } mr__instance;

static inline mr__instance *mr__native_new(const mr_host *host, mr_io *io) {
    mr__instance *i = (mr__instance *)calloc(1, sizeof(mr__instance));
    if (!i) return (mr__instance *)0;
    i->io = io;
    i->cx.state = &io->state;
    i->cx.actions = &io->actions;
    i->cx.host = host;
    return i;
}

#define MR__NATIVE_OPT(p, name) MR__BY_KIND(MR__NATIVE_, p, name)
#define MR__NATIVE_CB(p, name)                                                          \
    static int32_t mr__native_##name(void *instance) {                                  \
        mr__instance *i = (mr__instance *)instance;                                     \
        return p##_##name(i->self, &i->cx MR__ARGS_##name(i->io));                      \
    }
#define MR__NATIVE_SNAP(p, name)                                                        \
    static int64_t mr__native_snapshot(void *instance, void *buffer, uint64_t capacity) { \
        return p##_snapshot(((mr__instance *)instance)->self, buffer, capacity);        \
    }                                                                                   \
    static void *mr__native_restore(const mr_host *host, mr_io *io, const void *data,   \
                                    uint64_t size) {                                    \
        mr__instance *i = mr__native_new(host, io);                                     \
        if (!i) return (void *)0;                                                       \
        i->self = p##_restore(&i->cx, data, size);                                      \
        if (!i->self) {                                                                 \
            free(i);                                                                    \
            return (void *)0;                                                           \
        }                                                                               \
        return i;                                                                       \
    }
#define MR__SLOT_OPT(p, name) MR__BY_KIND(MR__SLOT_, p, name)
#define MR__SLOT_CB(p, name) vt.name = mr__native_##name;
#define MR__SLOT_SNAP(p, name)                                                          \
    vt.snapshot = mr__native_snapshot;                                                  \
    vt.restore = mr__native_restore;

#define MR__ALGO(p, ...)                                                                \
    static void *mr__native_create(const mr_host *host, mr_io *io) {                    \
        mr__instance *i = mr__native_new(host, io);                                     \
        if (!i) return (void *)0;                                                       \
        i->self = p##_create(&i->cx);                                                   \
        if (!i->self) {                                                                 \
            free(i);                                                                    \
            return (void *)0;                                                           \
        }                                                                               \
        return i;                                                                       \
    }                                                                                   \
    static void mr__native_destroy(void *instance) {                                    \
        mr__instance *i = (mr__instance *)instance;                                     \
        p##_destroy(i->self);                                                           \
        free(i);                                                                        \
    }                                                                                   \
    static int32_t mr__native_on_book(void *instance) {                                 \
        mr__instance *i = (mr__instance *)instance;                                     \
        return p##_on_book(i->self, &i->cx, &i->io->book, &i->io->features);            \
    }                                                                                   \
    static int32_t mr__native_on_fill(void *instance) {                                 \
        mr__instance *i = (mr__instance *)instance;                                     \
        return p##_on_fill(i->self, &i->cx, &i->io->fill);                              \
    }                                                                                   \
    static int32_t mr__native_on_reject(void *instance) {                               \
        mr__instance *i = (mr__instance *)instance;                                     \
        return p##_on_reject(i->self, &i->cx, &i->io->reject);                          \
    }                                                                                   \
    MR__EACH(MR__NATIVE_OPT, __VA_ARGS__)                                               \
    MR__VISIBLE const mr_vtable *meshrt_algo(void) {                                    \
        static mr_vtable vt;                                                            \
        if (!vt.abi_version) {                                                          \
            vt.capabilities = 0u MR__EACH(MR__CAP, __VA_ARGS__);                        \
            vt.io_size = (uint32_t)sizeof(mr_io);                                       \
            vt.vtable_size = (uint32_t)sizeof(mr_vtable);                               \
            vt.create = mr__native_create;                                              \
            vt.destroy = mr__native_destroy;                                            \
            vt.on_book = mr__native_on_book;                                            \
            vt.on_fill = mr__native_on_fill;                                            \
            vt.on_reject = mr__native_on_reject;                                        \
            MR__EACH(MR__SLOT_OPT, __VA_ARGS__)                                         \
            vt.abi_version = MESHRT_ABI_VERSION;                                        \
        }                                                                               \
        return &vt;                                                                     \
    }

#endif /* __wasm__ */

#endif /* MESHRT_H */
