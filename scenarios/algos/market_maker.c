/*
 * The bundled market maker in C: the same decisions as scenarios/algos/market_maker.py,
 * so the WASM, native and Python builds give identical orders, fills and PnL.
 *
 * Joins the best bid and ask with post-only quotes, moves them with the book by
 * replacing them, leans against its position, and stops quoting the side that would
 * take its inventory past max_inventory.
 */
#include <meshrt.h>

/* what on_book last decided on: the touch and both orders as the algo saw them */
typedef struct seen {
    int64_t best_bid, best_ask;
    int32_t has_bid, has_ask;
    mr_open_order bid, ask;
} seen;

typedef struct mm {
    int64_t size, tick, max_inventory, skew_ticks;
    uint64_t bid_id, ask_id; /* 0: none */
    int has_seen;
    seen last;
    int64_t fills, rejects;
} mm;

void *mm_create(mr_ctx *cx) {
    mm *self = (mm *)mr_alloc(sizeof(mm));
    if (!self) return 0;
    self->size = mr_param_i64(cx, "size", 0);
    self->tick = mr_param_i64(cx, "tick", 0);
    self->max_inventory = mr_param_i64(cx, "max_inventory", 0);
    self->skew_ticks = mr_param_i64(cx, "skew_ticks", 1);
    if (self->size <= 0 || self->tick <= 0) {
        mr_log(cx, "market_maker: params size and tick must be positive integers");
        return 0;
    }
    return self;
}

void mm_destroy(void *self) { mr_free(self); }

static uint64_t quote(mm *self, mr_ctx *cx, uint64_t order_id, uint8_t side, int64_t price,
                      int allowed) {
    mr_open_order order;
    if (order_id == 0 || mr_order(cx, order_id, &order) != MR_FOUND) {
        if (!allowed) return 0;
        return mr_limit(cx, side, price, self->size, MR_POST_ONLY);
    }
    if (!(order.flags & MR_ORDER_ACCEPTED) || (order.flags & MR_ORDER_PENDING))
        return order_id; /* wait for the venue's answer before touching it again */
    if (!allowed)
        mr_cancel(cx, order_id);
    else if (!(order.flags & MR_ORDER_HAS_PRICE) || order.price != price)
        mr_replace(cx, order_id, price, order.filled + self->size);
    return order_id;
}

static int same_order(int has_a, const mr_open_order *a, int has_b, const mr_open_order *b) {
    if (has_a != has_b) return 0;
    if (!has_a) return 1;
    return a->order_id == b->order_id && a->price == b->price && a->size == b->size &&
           a->filled == b->filled && a->symbol == b->symbol && a->side == b->side &&
           a->flags == b->flags;
}

int mm_on_book(void *p, mr_ctx *cx, const mr_book *book, const mr_features *features) {
    mm *self = (mm *)p;
    (void)features;
    if (book->bid_count == 0 || book->ask_count == 0) return 0;
    int64_t best_bid = book->bids[0].price, best_ask = book->asks[0].price;
    /* most updates change neither the touch nor our orders: nothing to decide then */
    seen now = {0};
    now.best_bid = best_bid;
    now.best_ask = best_ask;
    now.has_bid = self->bid_id && mr_order(cx, self->bid_id, &now.bid) == MR_FOUND;
    now.has_ask = self->ask_id && mr_order(cx, self->ask_id, &now.ask) == MR_FOUND;
    if (self->has_seen && now.best_bid == self->last.best_bid &&
        now.best_ask == self->last.best_ask &&
        same_order(now.has_bid, &now.bid, self->last.has_bid, &self->last.bid) &&
        same_order(now.has_ask, &now.ask, self->last.has_ask, &self->last.ask))
        return 0;
    self->has_seen = 1;
    self->last = now;
    int64_t position = cx->state->position;
    int64_t lean = mr_floordiv(position * self->skew_ticks, self->size) * self->tick;
    int64_t bid = best_bid - lean, ask = best_ask - lean;
    if (bid >= best_ask) bid = best_ask - self->tick;
    if (ask <= best_bid) ask = best_bid + self->tick;
    self->bid_id = quote(self, cx, self->bid_id, MR_BUY, bid,
                         position + self->size <= self->max_inventory);
    self->ask_id = quote(self, cx, self->ask_id, MR_SELL, ask,
                         position - self->size >= -self->max_inventory);
    return 0;
}

int mm_on_stop(void *p, mr_ctx *cx) {
    (void)p;
    mr_cancel_all(cx, MR_SYMBOL_ALL); /* a stopped maker should not leave quotes behind */
    return 0;
}

int mm_on_fill(void *p, mr_ctx *cx, const mr_fill *fill) {
    (void)cx, (void)fill;
    ((mm *)p)->fills++;
    return 0;
}

int mm_on_reject(void *p, mr_ctx *cx, const mr_reject *reject) {
    (void)cx, (void)reject;
    ((mm *)p)->rejects++;
    return 0;
}

/* Checkpoints. A native build opts in with these two (listed as `snapshot` below); a WASM
 * build needs nothing, as the host saves the module's memory. The whole state is the
 * struct, and it holds no pointers, so its bytes are the snapshot. */
int64_t mm_snapshot(void *p, void *buffer, uint64_t capacity) {
    if (capacity >= sizeof(mm)) __builtin_memcpy(buffer, p, sizeof(mm));
    return (int64_t)sizeof(mm);
}

void *mm_restore(mr_ctx *cx, const void *data, uint64_t size) {
    (void)cx;
    if (size != sizeof(mm)) return 0; /* not a snapshot of this build */
    mm *self = (mm *)mr_alloc(sizeof(mm));
    if (self) __builtin_memcpy(self, data, sizeof(mm));
    return self;
}

MESHRT_ALGO(mm, on_stop, snapshot)
