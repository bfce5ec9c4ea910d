/*
 * meshrt.venues._synthetic — the seeded synthetic market-data generator.
 *
 * Why a CPython extension: SyntheticSource.batch is on the hot path of every synthetic
 * run and of the benchmarks; in Python it cost ~0.35 µs per book update, most of it
 * getrandbits calls and int arithmetic. Here a step is a few Mersenne Twister draws and
 * the event tuples it returns.
 *
 * The stream is exactly the one the original Python implementation produced (same
 * tuples, same order, same values for any spec and any sequence of batch(until) calls):
 *
 * - The generator is CPython's MT19937, seeded by random.Random(spec.seed) itself (its
 *   getstate() gives the 624 words and the index), so seeding needs no reimplementation.
 * - getrandbits(k) is reproduced exactly (Modules/_randommodule.c): k <= 32 is one word
 *   shifted down to its top k bits; 32 < k <= 64 is a full word for the low 32 bits,
 *   then a word shifted down to its top k - 32 bits for the high part.
 * - Every draw is an integer scaled as getrandbits(w) * n >> w, in 128-bit arithmetic
 *   where the product can exceed 64 bits.
 *
 * Values live in int64 as the contract says: spec fields that do not fit raise
 * OverflowError when the source is made, and so does a step that would take a price or
 * the clock past 2**63 - 1 (the Python version would have gone on with big ints that no
 * venue can hold).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;

/* event kinds (meshrt.events), the sides (meshrt.contract.Side), random.Random */
static PyObject *FEED_SNAPSHOT, *FEED_DELTA, *FEED_TRADE, *BUY, *SELL, *RandomType;

/* ---- CPython's Mersenne Twister ---------------------------------------------------- */

#define MT_N 624
#define MT_M 397
#define MATRIX_A 0x9908b0dfU
#define UPPER_MASK 0x80000000U
#define LOWER_MASK 0x7fffffffU

#define MOVE_ONE (1 << 30) /* move_probability resolution: a 30-bit draw */
#define MAX_CACHE 512      /* price objects kept: enough for 254 levels a side */

typedef struct {
    PyObject_HEAD
    PyObject *symbol, *spec;
    /* from the spec */
    int64_t tick, levels, total, every;
    int64_t floor;      /* levels * tick: at or below it the mid only moves up */
    int64_t up_limit;   /* highest bid whose up move keeps the deepest ask in int64 */
    int64_t smin;       /* sizes are smin + [0, sspan) */
    uint64_t sspan;
    uint64_t two_levels;
    int size_bits;      /* of a size change's draw: 32..64, 8 bits more than sspan */
    uint32_t p_move;    /* move_probability in 30-bit units */
    u128 lo1, span1, lo4, span4; /* a step of n updates lasts lo_n + [0, span_n) */
    /* the walk */
    int64_t ts, k, next_trade, bid;
    int64_t *bids, *asks; /* sizes best first: bids[i] at bid - i*tick, asks[i] at
                             bid + (i + 1)*tick */
    int64_t bid_tick; /* bid / tick: which cache slot a grid price goes to */
    /* Price objects by grid price, slot (price / tick) & mask: a book event's price is
     * one of the few around the touch, so most events reuse one instead of making it. */
    size_t mask;
    PyObject **prices;
    int64_t *cached;  /* the price each slot's object holds */
    int mti;
    uint32_t mt[MT_N];
} Source;

static inline uint32_t genrand(Source *s) {
    uint32_t y, *mt = s->mt;
    if (s->mti >= MT_N) { /* generate N words at one time */
        static const uint32_t mag01[2] = {0x0U, MATRIX_A};
        int kk;
        for (kk = 0; kk < MT_N - MT_M; kk++) {
            y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
            mt[kk] = mt[kk + MT_M] ^ (y >> 1) ^ mag01[y & 0x1U];
        }
        for (; kk < MT_N - 1; kk++) {
            y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
            mt[kk] = mt[kk + (MT_M - MT_N)] ^ (y >> 1) ^ mag01[y & 0x1U];
        }
        y = (mt[MT_N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
        mt[MT_N - 1] = mt[MT_M - 1] ^ (y >> 1) ^ mag01[y & 0x1U];
        s->mti = 0;
    }
    y = mt[s->mti++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= (y >> 18);
    return y;
}

/* random.getrandbits(k) for 1 <= k <= 64 */
static inline uint64_t getrandbits(Source *s, int k) {
    if (k <= 32) return genrand(s) >> (32 - k);
    uint64_t low = genrand(s);
    uint64_t high = genrand(s) >> (64 - k);
    return low | high << 32;
}

/* ---- the generator ----------------------------------------------------------------- */

/*
 * Seeded random-walk book: one snapshot, then ``updates - 1`` deltas with trades.
 *
 * The book is a contiguous tick grid, ``levels`` per side, one tick wide: the best bid
 * is ``start_price`` rounded down to the tick, the best ask one tick above. Each *step*
 * happens at one timestamp and is one of
 *
 * - a size change: one level gets a fresh size (1 update);
 * - a mid move, one tick up or down (4 updates, ordered so no intermediate book is
 *   crossed or deeper than ``levels``): remove the touch on one side, add a new deepest
 *   level there, remove the deepest level on the other side, add the new touch on that
 *   side;
 * - a trade: a print at the best bid (aggressor SELL) or ask (aggressor BUY), size in
 *   [1, level size], then the delta that reduces the level (1 update), or, if it took
 *   the whole level, the mid move it causes (4 updates, the first removes the level).
 *
 * A trade step comes first after the update count reaches each multiple of
 * ``trade_every``; prints share the timestamp of the delta(s) they cause. Moves and
 * sweeps start only with at least five updates left, so every step finishes, the book
 * holds exactly ``levels`` per side between steps, and a due trade always has room.
 *
 * Draws, in the order a step makes them (the stream depends on this order):
 * - the book's initial sizes: getrandbits(64) each, bids best first, then asks;
 * - a due trade: getrandbits(1) picks the side tried first (1: a buyer lifts the ask),
 *   then getrandbits(64) for the print's size; the other side is tried, with a draw of
 *   its own, only when the first holds one unit it may not sweep. A trade that fits on
 *   neither side leaves the step, at the same timestamp, to a move or a size change;
 * - with at least five updates left, getrandbits(30) < round(move_probability * 2**30)
 *   (Python's round, half to even) makes a mid move, then getrandbits(1) its direction
 *   (1: up; always up with the bid at or below levels * tick);
 * - a size change: getrandbits(24) picks one of the 2 * levels levels (bids best
 *   first, then asks), getrandbits(size_bits) its new size;
 * - a new level in a mid move: getrandbits(64) for its size (deepest level first);
 * - last in every step, getrandbits(16) for its duration.
 * Integer draws only: getrandbits(w) * n >> w is cheaper than int(random() * n) and the
 * same on every platform.
 */

static int overflow(const char *what) {
    PyErr_Format(PyExc_OverflowError, "synthetic source: %s beyond 64-bit fixed point", what);
    return -1;
}

/* a fresh level size: smin + [0, sspan) from a 64-bit draw */
static inline int64_t draw_size(Source *s) {
    return s->smin + (int64_t)(((u128)getrandbits(s, 64) * s->sspan) >> 64);
}

/* the clock after a step of lo + [0, span), 0.5x..1.5x the interval per update */
static inline int advance(Source *s, int64_t *ts, u128 lo, u128 span) {
    __int128 t = (__int128)*ts + (__int128)(lo + ((getrandbits(s, 16) * span) >> 16));
    if (t > INT64_MAX) return overflow("the clock");
    *ts = (int64_t)t;
    return 0;
}

static inline PyObject *pair(int64_t price, int64_t size) {
    PyObject *p = PyLong_FromLongLong(price), *q = PyLong_FromLongLong(size);
    if (p == NULL || q == NULL) {
        Py_XDECREF(p);
        Py_XDECREF(q);
        return NULL;
    }
    PyObject *t = PyTuple_New(2);
    if (t == NULL) {
        Py_DECREF(p);
        Py_DECREF(q);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, p);
    PyTuple_SET_ITEM(t, 1, q);
    return t;
}

/* a new reference to the price ``ticks`` grid steps above the best bid */
static inline PyObject *price_at(Source *s, int64_t ticks) {
    int64_t price = s->bid + ticks * s->tick;
    size_t slot = (size_t)(s->bid_tick + ticks) & s->mask;
    PyObject *p = s->prices[slot];
    if (p == NULL || s->cached[slot] != price) {
        p = PyLong_FromLongLong(price);
        if (p == NULL) return NULL;
        Py_XSETREF(s->prices[slot], p);
        s->cached[slot] = price;
    }
    Py_INCREF(p);
    return p;
}

/* append (when, kind, side, price, size) at the price ``ticks`` grid steps above the
 * best bid; when, kind and side are borrowed */
static inline int emit(Source *s, PyObject *out, PyObject *when, PyObject *kind,
                       PyObject *side, int64_t ticks, int64_t size) {
    PyObject *t = PyTuple_New(5);
    if (t == NULL) return -1;
    PyObject *p = price_at(s, ticks), *q = PyLong_FromLongLong(size);
    Py_INCREF(when);
    Py_INCREF(kind);
    Py_INCREF(side);
    PyTuple_SET_ITEM(t, 0, when);
    PyTuple_SET_ITEM(t, 1, kind);
    PyTuple_SET_ITEM(t, 2, side);
    PyTuple_SET_ITEM(t, 3, p); /* a NULL item is fine for Py_DECREF of the tuple */
    PyTuple_SET_ITEM(t, 4, q);
    int r = (p == NULL || q == NULL) ? -1 : PyList_Append(out, t);
    Py_DECREF(t);
    return r;
}

/* (ts, FEED_SNAPSHOT, bids, asks) with (price, size) levels best first */
static PyObject *snapshot(Source *s, int64_t ts) {
    Py_ssize_t n = (Py_ssize_t)s->levels;
    PyObject *bids = PyTuple_New(n), *asks = PyTuple_New(n);
    if (bids == NULL || asks == NULL) goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *b = pair(s->bid - i * s->tick, s->bids[i]);
        if (b == NULL) goto fail;
        PyTuple_SET_ITEM(bids, i, b);
        PyObject *a = pair(s->bid + (i + 1) * s->tick, s->asks[i]);
        if (a == NULL) goto fail;
        PyTuple_SET_ITEM(asks, i, a);
    }
    PyObject *when = PyLong_FromLongLong(ts);
    if (when == NULL) goto fail;
    PyObject *event = PyTuple_Pack(4, when, FEED_SNAPSHOT, bids, asks);
    Py_DECREF(when);
    Py_DECREF(bids);
    Py_DECREF(asks);
    return event;
fail:
    Py_XDECREF(bids);
    Py_XDECREF(asks);
    return NULL;
}

/* Shift the book one tick as four deltas; the first removes the touch. */
static int move(Source *s, PyObject *out, PyObject *when, int up) {
    int64_t n = s->levels, *bids = s->bids, *asks = s->asks;
    size_t shift = (size_t)(n - 1) * sizeof(int64_t);
    /* prices in ticks above the best bid before the move: the ask is 1 */
    if (up) {
        if (s->bid > s->up_limit) return overflow("a price");
        if (emit(s, out, when, FEED_DELTA, SELL, 1, 0) < 0) return -1;
        memmove(asks, asks + 1, shift);
        asks[n - 1] = draw_size(s);
        if (emit(s, out, when, FEED_DELTA, SELL, n + 1, asks[n - 1]) < 0) return -1;
        if (emit(s, out, when, FEED_DELTA, BUY, -(n - 1), 0) < 0) return -1;
        memmove(bids + 1, bids, shift);
        bids[0] = draw_size(s);
        if (emit(s, out, when, FEED_DELTA, BUY, 1, bids[0]) < 0) return -1;
        s->bid += s->tick;
        s->bid_tick += 1;
    } else {
        if (emit(s, out, when, FEED_DELTA, BUY, 0, 0) < 0) return -1;
        memmove(bids, bids + 1, shift);
        bids[n - 1] = draw_size(s);
        if (emit(s, out, when, FEED_DELTA, BUY, -n, bids[n - 1]) < 0) return -1;
        if (emit(s, out, when, FEED_DELTA, SELL, n, 0) < 0) return -1;
        memmove(asks + 1, asks, shift);
        asks[0] = draw_size(s);
        if (emit(s, out, when, FEED_DELTA, SELL, 0, asks[0]) < 0) return -1;
        s->bid -= s->tick;
        s->bid_tick -= 1;
    }
    return 0;
}

/*
 * Print a trade at the touch and emit what it does to the book.
 *
 * Returns the book updates emitted: 1 (level reduced), 4 (level taken, mid moved) or 0
 * when no print fits: both touches hold a single unit (1e-8), which only a sweep could
 * take, and fewer than five updates remain. -1 on error.
 */
static int trade(Source *s, PyObject *out, PyObject *when, int64_t room) {
    int first = getrandbits(s, 1) == 1, buyer = first;
    int64_t level, qty;
    for (int tried = 0;; tried++) {
        if (tried == 2) return 0;
        buyer = tried ? !first : first;
        level = buyer ? s->asks[0] : s->bids[0];
        qty = 1 + (int64_t)(((u128)getrandbits(s, 64) * (uint64_t)level) >> 64);
        if (qty == level && (room < 5 || !(buyer || s->bid > s->floor)))
            qty -= 1; /* a sweep would not fit: leave one unit */
        if (qty) break;
    }
    /* at the ask (1 tick above the bid) for a buyer, else at the bid */
    if (emit(s, out, when, FEED_TRADE, buyer ? BUY : SELL, buyer, qty) < 0) return -1;
    if (qty == level) return move(s, out, when, buyer) < 0 ? -1 : 4;
    if (buyer) {
        s->asks[0] = level - qty;
        if (emit(s, out, when, FEED_DELTA, SELL, 1, level - qty) < 0) return -1;
    } else {
        s->bids[0] = level - qty;
        if (emit(s, out, when, FEED_DELTA, BUY, 0, level - qty) < 0) return -1;
    }
    return 1;
}

/* batch(until): every remaining event with ts < until, in order */
static PyObject *Source_batch(Source *s, PyObject *arg) {
    int over;
    long long until = PyLong_AsLongLongAndOverflow(arg, &over);
    if (until == -1 && PyErr_Occurred()) return NULL;
    /* nothing precedes an until at or below INT64_MIN; otherwise emit up to ts == last */
    int none = over < 0 || (!over && until == INT64_MIN);
    int64_t last = over > 0 ? INT64_MAX : none ? INT64_MIN : until - 1;
    int64_t ts = s->ts, k = s->k, total = s->total, next_trade = s->next_trade;
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    if (none || k >= total || ts > last) return out;
    const int64_t levels = s->levels, every = s->every, smin = s->smin;
    const uint64_t two_levels = s->two_levels, sspan = s->sspan;
    const int size_bits = s->size_bits;
    const uint32_t p_move = s->p_move;
    int64_t *bids = s->bids, *asks = s->asks;
    PyObject *when = NULL;
    if (k == 0) {
        PyObject *event = snapshot(s, ts);
        if (event == NULL || PyList_Append(out, event) < 0) {
            Py_XDECREF(event);
            goto fail;
        }
        Py_DECREF(event);
        k = 1;
        if (advance(s, &ts, s->lo1, s->span1) < 0) goto fail;
    }
    /* One iteration is one step at one timestamp; its events share the ts object. */
    while (ts <= last && k < total) {
        int64_t room = total - k;
        when = PyLong_FromLongLong(ts);
        if (when == NULL) goto fail;
        if (k >= next_trade) {
            __int128 next = ((__int128)(k / every) + 1) * every;
            next_trade = next > INT64_MAX ? INT64_MAX : (int64_t)next;
            int n = trade(s, out, when, room);
            if (n < 0) goto fail;
            if (n) {
                Py_CLEAR(when);
                k += n;
                if (advance(s, &ts, n == 1 ? s->lo1 : s->lo4, n == 1 ? s->span1 : s->span4) < 0)
                    goto fail;
                continue;
            }
        }
        if (room >= 5 && getrandbits(s, 30) < p_move) {
            int up = getrandbits(s, 1) == 1 || s->bid <= s->floor;
            if (move(s, out, when, up) < 0) goto fail;
            Py_CLEAR(when);
            k += 4;
            if (advance(s, &ts, s->lo4, s->span4) < 0) goto fail;
            continue;
        }
        uint64_t i = (uint64_t)(((u128)getrandbits(s, 24) * two_levels) >> 24);
        int64_t size = smin + (int64_t)(((u128)getrandbits(s, size_bits) * sspan) >> size_bits);
        int r;
        if (i < (uint64_t)levels) {
            bids[i] = size;
            r = emit(s, out, when, FEED_DELTA, BUY, -(int64_t)i, size);
        } else {
            i -= levels;
            asks[i] = size;
            r = emit(s, out, when, FEED_DELTA, SELL, (int64_t)i + 1, size);
        }
        Py_CLEAR(when);
        if (r < 0) goto fail;
        k += 1;
        if (advance(s, &ts, s->lo1, s->span1) < 0) goto fail;
    }
    s->ts = ts;
    s->k = k;
    s->next_trade = next_trade;
    return out;
fail:
    Py_XDECREF(when);
    Py_DECREF(out);
    s->ts = ts;
    s->k = k;
    s->next_trade = next_trade;
    return NULL;
}

static PyObject *Source_peek_time(Source *s, PyObject *Py_UNUSED(ignored)) {
    if (s->k >= s->total) Py_RETURN_NONE;
    return PyLong_FromLongLong(s->ts);
}

static PyObject *Source_exhausted(Source *s, void *Py_UNUSED(closure)) {
    return PyBool_FromLong(s->k >= s->total);
}

/* ---- construction ------------------------------------------------------------------ */

/* an int attribute of the spec as int64; OverflowError names the field */
static int spec_int(PyObject *spec, const char *name, int64_t *out) {
    PyObject *v = PyObject_GetAttrString(spec, name);
    if (v == NULL) return -1;
    int over;
    long long x = PyLong_AsLongLongAndOverflow(v, &over);
    Py_DECREF(v);
    if (x == -1 && PyErr_Occurred()) return -1;
    if (over) {
        PyErr_Format(PyExc_OverflowError, "synthetic source: %s does not fit 64 bits", name);
        return -1;
    }
    *out = x;
    return 0;
}

/* the MT state from random.Random's internal state tuple: 624 words, then the index */
static int set_mt(Source *s, PyObject *state) {
    if (!PyTuple_Check(state) || PyTuple_GET_SIZE(state) != MT_N + 1) {
        PyErr_SetString(PyExc_ValueError, "bad Mersenne Twister state");
        return -1;
    }
    for (int i = 0; i < MT_N; i++) {
        unsigned long w = PyLong_AsUnsignedLong(PyTuple_GET_ITEM(state, i));
        if (w == (unsigned long)-1 && PyErr_Occurred()) return -1;
        if (w > UINT32_MAX) {
            PyErr_SetString(PyExc_ValueError, "bad Mersenne Twister state");
            return -1;
        }
        s->mt[i] = (uint32_t)w;
    }
    long index = PyLong_AsLong(PyTuple_GET_ITEM(state, MT_N));
    if (index == -1 && PyErr_Occurred()) return -1;
    if (index < 0 || index > MT_N) {
        PyErr_SetString(PyExc_ValueError, "bad Mersenne Twister state");
        return -1;
    }
    s->mti = (int)index;
    return 0;
}

static PyObject *get_mt(Source *s) {
    PyObject *state = PyTuple_New(MT_N + 1);
    if (state == NULL) return NULL;
    for (int i = 0; i <= MT_N; i++) {
        PyObject *w = i < MT_N ? PyLong_FromUnsignedLong(s->mt[i]) : PyLong_FromLong(s->mti);
        if (w == NULL) {
            Py_DECREF(state);
            return NULL;
        }
        PyTuple_SET_ITEM(state, i, w);
    }
    return state;
}

/* the generator of random.Random(seed), so seeding is CPython's own */
static int seed_mt(Source *s, PyObject *spec) {
    PyObject *seed = PyObject_GetAttrString(spec, "seed");
    if (seed == NULL) return -1;
    PyObject *rng = PyObject_CallOneArg(RandomType, seed);
    Py_DECREF(seed);
    if (rng == NULL) return -1;
    PyObject *state = PyObject_CallMethod(rng, "getstate", NULL);
    Py_DECREF(rng);
    if (state == NULL) return -1;
    int r = -1;
    if (PyTuple_Check(state) && PyTuple_GET_SIZE(state) == 3)
        r = set_mt(s, PyTuple_GET_ITEM(state, 1)); /* (version 3, internal state, gauss) */
    else
        PyErr_SetString(PyExc_ValueError, "unexpected random.Random state");
    Py_DECREF(state);
    return r;
}

/* round(move_probability * 2**30), by Python's own arithmetic (round half to even) */
static int move_threshold(PyObject *spec, uint32_t *out) {
    PyObject *p = PyObject_GetAttrString(spec, "move_probability");
    if (p == NULL) return -1;
    PyObject *one = PyLong_FromLong(MOVE_ONE);
    PyObject *scaled = one ? PyNumber_Multiply(p, one) : NULL;
    Py_DECREF(p);
    Py_XDECREF(one);
    if (scaled == NULL) return -1;
    PyObject *rounded = PyObject_CallMethod(scaled, "__round__", NULL);
    Py_DECREF(scaled);
    if (rounded == NULL) return -1;
    long v = PyLong_AsLong(rounded);
    Py_DECREF(rounded);
    if (v == -1 && PyErr_Occurred()) return -1;
    if (v < 0 || v > MOVE_ONE) {
        PyErr_SetString(PyExc_ValueError, "move_probability must be in [0, 1]");
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int Source_init(Source *s, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"spec", "start_ns", NULL};
    PyObject *spec, *level_size = NULL, *symbol;
    long long start_ns = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|L:SyntheticSource", names, &spec,
                                     &start_ns))
        return -1;
    if (s->spec != NULL || s->bids != NULL || s->prices != NULL) {
        PyErr_SetString(PyExc_TypeError, "SyntheticSource is already initialized");
        return -1;
    }
    int64_t start_price, interval, smin, smax, trade_every;
    if (spec_int(spec, "tick", &s->tick) < 0 || spec_int(spec, "levels", &s->levels) < 0 ||
        spec_int(spec, "start_price", &start_price) < 0 ||
        spec_int(spec, "interval_ns", &interval) < 0 ||
        spec_int(spec, "updates", &s->total) < 0 ||
        spec_int(spec, "trade_every", &trade_every) < 0 ||
        move_threshold(spec, &s->p_move) < 0)
        return -1;
    if (s->tick < 1 || s->levels < 1 || start_price < 1 || interval < 1 || s->total < 1 ||
        trade_every < 0) {
        PyErr_SetString(PyExc_ValueError, "not a valid SyntheticSpec (see its validation)");
        return -1;
    }
    level_size = PyObject_GetAttrString(spec, "level_size");
    if (level_size == NULL) return -1;
    if (!PyTuple_Check(level_size) || PyTuple_GET_SIZE(level_size) != 2) {
        Py_DECREF(level_size);
        PyErr_SetString(PyExc_ValueError, "level_size must be (min, max)");
        return -1;
    }
    smin = PyLong_AsLongLong(PyTuple_GET_ITEM(level_size, 0));
    smax = PyLong_AsLongLong(PyTuple_GET_ITEM(level_size, 1));
    Py_DECREF(level_size);
    if ((smin == -1 || smax == -1) && PyErr_Occurred()) return -1;
    if (smin < 1 || smax < smin) {
        PyErr_SetString(PyExc_ValueError, "level_size must be (min, max) with 1 <= min <= max");
        return -1;
    }
    int64_t bid = start_price / s->tick * s->tick;
    __int128 span_ticks = (__int128)(s->levels + 1) * s->tick; /* touch to deepest ask */
    if ((__int128)bid + span_ticks - s->tick > INT64_MAX)
        return overflow("the book's deepest ask");
    if ((__int128)bid - (__int128)(s->levels - 1) * s->tick <= 0) {
        PyErr_SetString(PyExc_ValueError, "start_price leaves no room for the bid levels");
        return -1;
    }
    s->floor = s->levels * s->tick;
    s->up_limit = span_ticks > INT64_MAX ? -1 : INT64_MAX - (int64_t)span_ticks;
    s->smin = smin;
    s->sspan = (uint64_t)(smax - smin) + 1;
    int bit_length = 64 - __builtin_clzll(s->sspan);
    s->size_bits = bit_length + 8 < 32 ? 32 : bit_length + 8 > 64 ? 64 : bit_length + 8;
    s->two_levels = 2 * (uint64_t)s->levels;
    s->every = trade_every ? trade_every : 1;
    /* with no trades the first is due after the last update: never */
    s->next_trade = trade_every ? trade_every : INT64_MAX;
    s->lo1 = (u128)((interval + 1) / 2);
    s->span1 = (u128)interval;
    s->lo4 = 4 * s->lo1;
    s->span4 = 4 * s->span1;
    if (s->levels > PY_SSIZE_T_MAX / 2 / (Py_ssize_t)sizeof(int64_t)) {
        PyErr_NoMemory();
        return -1;
    }
    s->bids = PyMem_Calloc((size_t)s->levels, sizeof(int64_t));
    s->asks = PyMem_Calloc((size_t)s->levels, sizeof(int64_t));
    size_t slots = 8; /* a power of two above the 2 * levels + 2 prices a step can touch */
    while (slots < MAX_CACHE && slots < 2 * (size_t)s->levels + 4) slots *= 2;
    s->mask = slots - 1;
    s->prices = PyMem_Calloc(slots, sizeof(PyObject *));
    s->cached = PyMem_Calloc(slots, sizeof(int64_t));
    if (s->bids == NULL || s->asks == NULL || s->prices == NULL || s->cached == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (seed_mt(s, spec) < 0) return -1;
    s->bid = bid;
    s->bid_tick = bid / s->tick;
    for (int64_t i = 0; i < s->levels; i++) s->bids[i] = draw_size(s);
    for (int64_t i = 0; i < s->levels; i++) s->asks[i] = draw_size(s);
    s->ts = start_ns;
    s->k = 0; /* book updates emitted so far; the snapshot (made by the first batch) is one */
    symbol = PyObject_GetAttrString(spec, "symbol");
    if (symbol == NULL) return -1;
    s->symbol = symbol;
    Py_INCREF(spec);
    s->spec = spec;
    return 0;
}

static void Source_dealloc(Source *s) {
    Py_XDECREF(s->symbol);
    Py_XDECREF(s->spec);
    PyMem_Free(s->bids);
    PyMem_Free(s->asks);
    if (s->prices != NULL)
        for (size_t i = 0; i <= s->mask; i++) Py_XDECREF(s->prices[i]);
    PyMem_Free(s->prices);
    PyMem_Free(s->cached);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

/* ---- pickling: the spec rebuilds the constants, the state continues the walk ------- */

static PyObject *sizes(const int64_t *v, int64_t n) {
    PyObject *t = PyTuple_New((Py_ssize_t)n);
    if (t == NULL) return NULL;
    for (int64_t i = 0; i < n; i++) {
        PyObject *x = PyLong_FromLongLong(v[i]);
        if (x == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, (Py_ssize_t)i, x);
    }
    return t;
}

static int set_sizes(int64_t *v, int64_t n, PyObject *t) {
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != (Py_ssize_t)n) {
        PyErr_SetString(PyExc_ValueError, "SyntheticSource state: wrong number of levels");
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        long long x = PyLong_AsLongLong(PyTuple_GET_ITEM(t, (Py_ssize_t)i));
        if (x == -1 && PyErr_Occurred()) return -1;
        if (x < 1) {
            PyErr_SetString(PyExc_ValueError, "SyntheticSource state: a level size below 1");
            return -1;
        }
        v[i] = x;
    }
    return 0;
}

static PyObject *Source_reduce(Source *s, PyObject *Py_UNUSED(ignored)) {
    if (s->spec == NULL) {
        PyErr_SetString(PyExc_TypeError, "SyntheticSource is not initialized");
        return NULL;
    }
    PyObject *bids = sizes(s->bids, s->levels), *asks = sizes(s->asks, s->levels);
    PyObject *mt = get_mt(s);
    PyObject *r = NULL;
    if (bids != NULL && asks != NULL && mt != NULL)
        r = Py_BuildValue("O(O)(LLLLOOO)", (PyObject *)Py_TYPE(s), s->spec, (long long)s->ts,
                          (long long)s->k, (long long)s->next_trade, (long long)s->bid, bids,
                          asks, mt);
    Py_XDECREF(bids);
    Py_XDECREF(asks);
    Py_XDECREF(mt);
    return r;
}

static PyObject *Source_setstate(Source *s, PyObject *state) {
    long long ts, k, next_trade, bid;
    PyObject *bids, *asks, *mt;
    if (s->spec == NULL) {
        PyErr_SetString(PyExc_TypeError, "SyntheticSource is not initialized");
        return NULL;
    }
    if (!PyTuple_Check(state) ||
        !PyArg_ParseTuple(state, "LLLLOOO:__setstate__", &ts, &k, &next_trade, &bid, &bids,
                          &asks, &mt))
        return NULL;
    if (k < 0 || k > s->total || next_trade < 1 ||
        (__int128)bid - (__int128)(s->levels - 1) * s->tick <= 0 ||
        (__int128)bid + (__int128)s->levels * s->tick > INT64_MAX) {
        PyErr_SetString(PyExc_ValueError, "SyntheticSource state out of range");
        return NULL;
    }
    if (set_sizes(s->bids, s->levels, bids) < 0 || set_sizes(s->asks, s->levels, asks) < 0 ||
        set_mt(s, mt) < 0)
        return NULL;
    s->ts = ts;
    s->k = k;
    s->next_trade = next_trade;
    s->bid = bid;
    s->bid_tick = bid / s->tick;
    Py_RETURN_NONE;
}

/* ---- the type ---------------------------------------------------------------------- */

static PyMethodDef Source_methods[] = {
    {"batch", (PyCFunction)Source_batch, METH_O,
     "batch($self, until, /)\n--\n\n"
     "Every remaining event with ``ts < until``, in order; a later call continues."},
    {"peek_time", (PyCFunction)Source_peek_time, METH_NOARGS,
     "peek_time($self, /)\n--\n\nTime of the next event, ``None`` once exhausted."},
    {"__reduce__", (PyCFunction)Source_reduce, METH_NOARGS,
     "Pickle as the spec and the walk's state (generator, book, clock, counts)."},
    {"__setstate__", (PyCFunction)Source_setstate, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Source_members[] = {
    {"symbol", T_OBJECT_EX, offsetof(Source, symbol), READONLY, NULL},
    {"spec", T_OBJECT_EX, offsetof(Source, spec), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef Source_getset[] = {
    {"exhausted", (getter)Source_exhausted, NULL, "Every update has been returned.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

/* named as its public home (like CPython's _datetime types), which pickles refer to */
static PyTypeObject SourceType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "meshrt.venues.sources.SyntheticSource",
    .tp_basicsize = sizeof(Source),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "SyntheticSource(spec, start_ns=0)\n--\n\n"
              "Seeded random-walk book: one snapshot, then ``updates - 1`` deltas with "
              "trades.\n\n"
              "The book is a contiguous tick grid, ``levels`` per side; each step, at one "
              "timestamp, is a size change (1 update), a one-tick mid move (4 updates) or, "
              "every ``trade_every`` updates, a trade at the touch with the delta or mid "
              "move it causes. The algorithm is described in meshrt/venues/_synthetic.c.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Source_init,
    .tp_dealloc = (destructor)Source_dealloc,
    .tp_methods = Source_methods,
    .tp_members = Source_members,
    .tp_getset = Source_getset,
};

/* ---- module ------------------------------------------------------------------------ */

static PyObject *attr_of(const char *module, const char *name) {
    PyObject *m = PyImport_ImportModule(module);
    if (m == NULL) return NULL;
    PyObject *v = PyObject_GetAttrString(m, name);
    Py_DECREF(m);
    return v;
}

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "meshrt.venues._synthetic",
    "The seeded synthetic market-data generator (meshrt.venues.sources.SyntheticSource).",
    -1, NULL,
};

PyMODINIT_FUNC PyInit__synthetic(void) {
    if (FEED_SNAPSHOT == NULL) {
        PyObject *side = attr_of("meshrt.contract", "Side");
        if (side == NULL) return NULL;
        BUY = PyObject_GetAttrString(side, "BUY");
        SELL = PyObject_GetAttrString(side, "SELL");
        Py_DECREF(side);
        FEED_SNAPSHOT = attr_of("meshrt.events", "FEED_SNAPSHOT");
        FEED_DELTA = attr_of("meshrt.events", "FEED_DELTA");
        FEED_TRADE = attr_of("meshrt.events", "FEED_TRADE");
        RandomType = attr_of("random", "Random");
        if (BUY == NULL || SELL == NULL || FEED_SNAPSHOT == NULL || FEED_DELTA == NULL ||
            FEED_TRADE == NULL || RandomType == NULL)
            return NULL;
    }
    if (PyType_Ready(&SourceType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&SourceType);
    if (PyModule_AddObject(m, "SyntheticSource", (PyObject *)&SourceType) < 0) {
        Py_DECREF(&SourceType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
