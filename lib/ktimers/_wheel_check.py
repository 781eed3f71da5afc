"""ktimers._wheel_check -- wheel_check(), the timer wheel's invariant check
(for tests and after fault injection).  Loaded on first use through the
package (ktimers.wheel_check); task context; allocates freely.

    from ktimers import *
    n = wheel_check(t1, t2)   # number of pending timers, or AssertionError
"""

import sys

# timer.py's state word (its const()s are not module attributes)
_Q = 0x3FF
_QC = 600


def wheel_check(*timers):
    """Invariant check for tests: every pending timer is in the bucket (or
    expiry list) its state word says, counts match, next_expiry is not after
    any bucket's expiry and not before clk, and each timer given is pending
    exactly when it is linked.  Returns the number of pending timers; raises
    AssertionError.  O(pending + buckets)."""
    w = sys.modules["ktimers.timer"]
    depth = w._depth
    clk = w._clk
    ne = w._next_expiry
    n = 0
    counts = [0] * depth
    seen = set()
    heads = [(i + 1, w._buckets[i]) for i in range(len(w._buckets))]
    heads += [(_QC + k, w._coll[k]) for k in range(depth)]
    assert 0 <= clk <= 0x3FFFFFFF, "clk %r not a 30-bit value" % (clk,)
    for q, t in heads:
        prev = None
        while t is not None:
            tq = t._s & _Q
            assert tq == q, "timer %d in queue %d says %d" % (t.trace_id, q, tq)
            assert t._prev is prev, "broken back link at timer %d" % t.trace_id
            assert id(t) not in seen, "timer %d linked twice" % t.trace_id
            assert 0 <= t._e <= 0x3FFFFFFF, "timer %d: expires low bits %r" % (t.trace_id, t._e)
            seen.add(id(t))
            if q < _QC:
                idx = q - 1
                counts[idx >> 6] += 1
                sh = 3 * (idx >> 6)
                m = 0x3FFFFFFF >> sh
                e = w._add30(clk, (1 << sh) - 1) >> sh
                # the bucket's expiry is >= clk: next_expiry is not after it
                be = ((e + ((idx & 63) - (e & 63)) % 64) & m) << sh
                assert ne is not None and w._off(ne) <= w._off(be), "next_expiry %r after bucket %d" % (
                    ne,
                    idx,
                )
            n += 1
            prev = t
            t = t._next
    assert counts == w._lvl_count, "level counts %r != %r" % (counts, w._lvl_count)
    for t in timers:
        pending = t._s & _Q != 0
        assert pending == (id(t) in seen), "timer %d: queue %d but linked=%r" % (
            t.trace_id,
            t._s & _Q,
            id(t) in seen,
        )
    return n
