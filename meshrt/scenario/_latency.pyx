"""The delivery times of one ordered stream (a feed or an order session), compiled: see
meshrt/scenario/latency.py for the rule. Every order an algo sends and every report and
book it is shown draws one, so the intent desk and report ingress call it in C; the rule
itself is ``deliver_at`` in _latency.pxd, shared with the feed commit."""

import random


cdef class LatencyStream:
    """LatencyStream(latency, seed): delivery times from one seeded random source."""

    def __init__(self, latency, seed):
        self.base = latency.base_ns
        self.span = latency.jitter_ns + 1 if latency.jitter_ns else 0
        self.last = 0
        # random() is an IEEE double from a seeded Mersenne Twister: the same on every
        # platform, and ~4x cheaper than randint on this path
        self.draw = random.Random(seed).random

    cpdef int64_t deliver_at(self, int64_t ts, int64_t extra=0) except? -1:
        """When a message sent at ``ts`` arrives; ``extra`` is added before the FIFO rule,
        so a delayed message holds back the ones behind it (head of line)."""
        cdef int64_t base
        if add_overflow(self.base, extra, &base):
            raise OverflowError("delivery time beyond 64 bits")
        self.last = deliver_at(ts, base, self.span, self.draw, self.last)
        return self.last
