/* A do-nothing algo: measures pure dispatch (pack, copy, call, read actions back). */
#include <meshrt.h>

static int64_t token;

void *noop_create(mr_ctx *cx) { (void)cx; return &token; }
void noop_destroy(void *self) { (void)self; }
int noop_on_book(void *self, mr_ctx *cx, const mr_book *book, const mr_features *f) {
    (void)self, (void)cx, (void)book, (void)f;
    return 0;
}
int noop_on_fill(void *self, mr_ctx *cx, const mr_fill *fill) {
    (void)self, (void)cx, (void)fill;
    return 0;
}
int noop_on_reject(void *self, mr_ctx *cx, const mr_reject *reject) {
    (void)self, (void)cx, (void)reject;
    return 0;
}

MESHRT_ALGO(noop)
