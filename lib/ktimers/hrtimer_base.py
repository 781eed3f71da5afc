"""ktimers.hrtimer_base -- the hrtimer queue and the clock event device
(struct hrtimer_cpu_base / hrtimer_clock_base, hrtimer_interrupt).

Queue.  Pending timers sit in one binary min-heap keyed on the monotonic hard
expiry (soft expiry + range delta), FIFO among equal keys; enqueue/remove are
O(log n) with the heap index kept in the timer.  The clock event device is
programmed one-shot for the head's hard expiry, and reprogrammed only when
that expiry changes.  On expiry every timer whose soft expiry has passed runs,
so timers started with hrtimer_start_range_ns() coalesce into one event:

    timer  soft   delta  hard     event programmed at 120 (A's hard expiry):
    A      100    20     120      at 120 A runs, and B runs too (soft 110 <= 120),
    B      110    30     140      C waits (soft 150): two timers, one interrupt.
    C      150    0      150

Hard dispatch allocates nothing: when a HARD timer is the queue head (and the
board allows hard IRQs) its soft expiry is kept as a raw counter value (small
int, _h_exp) and _ce_irq compares raw counter values only; a
hrtimer_forward_now() from that callback moves _h_exp in whole counter cycles
and counts them in _h_fwd, which _sync() folds into the 64-bit ns expiry in
softirq/task context.  If the forwarded timer is still before the next queued
event (_ce_limit), the IRQ reprograms the clock event itself; otherwise it
raises HRTIMER_SOFTIRQ.  Only one timer is the hard head at a time, so this
state is module-wide, not per timer.

Hang protection (hrtimer_interrupt): after 3 passes that still find expired
timers, log "hrtimer: interrupt took N ns", back off min(N, 100 ms), count
nr_hangs.  A callback storm cannot lock the board.

Contexts: _ce_irq and _forward_irq run in hard IRQ; _run_softirq in
HRTIMER_SOFTIRQ; the rest in task/softirq context with softirqs held off by
the caller (ktimers.hrtimer wraps every queue operation in local_bh_disable).
"""

from micropython import const
from . import core
from . import trace as _tr
from . import ktime as _kt
from . import printk as _pk

_ENQUEUED = const(1)
_CALLBACK = const(2)
_RESTART = const(1)
_HANG_MAX_NS = const(100_000_000)

_heap = []
_seq = 0
_expires_next = None
_hard_head = None  # HARD timer at the head, dispatched from the IRQ
_ce_limit = 0  # raw counter: next other event; IRQ-side restarts must stay before it
_irq_exc = None
_irq_exc_t = None
_in_run = False
# hard head, in raw counter cycles (small ints): soft expiry floor, its ns
# remainder, hard-soft delta, cycles forwarded in IRQ, forwarded this IRQ
_h_exp = 0
_h_rem = 0
_h_delta = 0
_h_fwd = 0
_h_moved = False
nr_events = 0
nr_retries = 0
nr_hangs = 0
nr_reprograms = 0
max_hang_time = 0
hrtimer_resolution = 1



def _reset():
    global _heap, _expires_next, _hard_head, hrtimer_resolution
    for t in _heap:
        t._state = 0
        t._idx = -1
    _heap = []
    _expires_next = None
    _hard_head = None
    npc = core.NS_PER_CYC
    hrtimer_resolution = npc if npc else -(-1_000_000_000 // core.CS_HZ)


def _less(a, b):
    return a._key < b._key or (a._key == b._key and a._seq < b._seq)


def _up(i):
    h = _heap
    t = h[i]
    while i:
        p = (i - 1) >> 1
        if not _less(t, h[p]):
            break
        h[i] = h[p]
        h[i]._idx = i
        i = p
    h[i] = t
    t._idx = i


def _down(i):
    h = _heap
    n = len(h)
    t = h[i]
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and _less(h[c + 1], h[c]):
            c += 1
        if not _less(h[c], t):
            break
        h[i] = h[c]
        h[i]._idx = i
        i = c
    h[i] = t
    t._idx = i


def _heap_remove(t):
    i = t._idx
    last = _heap.pop()
    if last is not t:
        _heap[i] = last
        last._idx = i
        _down(i)
        _up(last._idx)
    t._idx = -1


def _enqueue(t):
    global _seq
    off = _kt.clock_offset(t._clock) if t._clock != 1 else 0
    t._key = t._expires - off
    t._skey = t._softexpires - off
    _seq += 1
    t._seq = _seq
    t._state |= _ENQUEUED
    _heap.append(t)
    _up(len(_heap) - 1)


def _sync():
    """Fold what the hard IRQ did to the head HARD timer back into the queue.
    Task/softirq context; every queue operation starts here."""
    global _hard_head, _irq_exc, _irq_exc_t, _h_fwd
    t = _hard_head
    if t is not None:
        st = core.hw.irq_save()
        _hard_head = None
        c = _h_fwd
        _h_fwd = 0
        core.hw.irq_restore(st)
        if c:
            ns = c * core.NS_PER_CYC
            t._softexpires += ns
            t._expires += ns
            t._skey += ns
            t._key += ns
        if t._idx >= 0:
            if not t._state & _ENQUEUED:
                _heap_remove(t)
            elif c:
                _down(t._idx)
    if _irq_exc is not None:
        e, et = _irq_exc, _irq_exc_t
        _irq_exc = _irq_exc_t = None
        core.log_callback_error("hrtimer (hard)", et, e)


def _clamp_cyc(c):
    hw = core.hw
    if c < hw.CE_MIN_CYC:
        return hw.CE_MIN_CYC
    if c > hw.CE_MAX_CYC:
        return hw.CE_MAX_CYC
    return c


def _reprogram(force=False):
    """Program the clock event device for the head (tick_program_event)."""
    global _expires_next, _hard_head, _ce_limit, nr_reprograms, _h_exp, _h_rem, _h_delta, _h_fwd
    if _in_run:
        return  # _run_softirq reprograms once at the end
    hw = core.hw
    if not _heap:
        if _expires_next is not None:
            hw.ce_stop()
            _expires_next = None
        return
    t = _heap[0]
    hh = t if (t._hard and hw.HARD_IRQ and core.NS_PER_CYC) else None
    if t._key == _expires_next and hh is _hard_head and not force:
        return
    now = core.ktime_get()
    d = t._key - now
    cyc = _clamp_cyc(core.ns_to_cycles_up(d) if d > 0 else 0)
    if hh is not None:
        npc = core.NS_PER_CYC
        c = t._skey // npc
        _h_exp = (c + core._raw0) & core.CS_MASK
        _h_rem = t._skey - c * npc
        _h_delta = -(-(t._key - t._skey) // npc)
        _h_fwd = 0
        if len(_heap) > 1:
            o = _heap[1] if len(_heap) == 2 or _less(_heap[1], _heap[2]) else _heap[2]
            _ce_limit = core.ns_to_raw(o._key)
        else:
            _ce_limit = (hw.cs_read() + hw.CE_MAX_CYC) & core.CS_MASK
    st = hw.irq_save()
    _hard_head = hh
    hw.ce_set_next(cyc, _ce_irq)
    hw.irq_restore(st)
    _expires_next = t._key
    nr_reprograms += 1


def _ce_irq(_):
    # hrtimer_interrupt, hard half.  Hard IRQ context: small ints only.
    global _irq_exc, _irq_exc_t, nr_events, _h_moved
    t = _hard_head
    hw = core.hw
    nr_events += 1
    if t is None:
        core.raise_softirq_irq(2)
        return
    now = hw.cs_read()
    mask = core.CS_MASK
    target = (_h_exp + (1 if _h_rem else 0)) & mask
    d = core.raw_diff(now, target)
    if d < 0:  # clamped to max delta: not there yet
        hw.ce_set_next(_clamp_cyc(-d), _ce_irq)
        return
    core._hardirq += 1
    t._state = _CALLBACK
    _h_moved = False
    _tr.record(6, t.trace_id, now, target, 1)
    r = 0
    try:
        r = t.function(t)
    except Exception as e:
        _irq_exc = e
        _irq_exc_t = t
    core._hardirq -= 1
    _tr.record(7, t.trace_id, hw.cs_read(), 1 if r == 1 else 0, 0)
    if r == 1:
        t._state = _ENQUEUED
        if _h_moved:
            target = (_h_exp + (1 if _h_rem else 0) + _h_delta) & mask
            if core.raw_diff(target, _ce_limit) < 0:
                now = hw.cs_read()
                hw.ce_set_next(_clamp_cyc(core.raw_diff(target, now)), _ce_irq)
                return
    else:
        t._state = 0
    core.raise_softirq_irq(2)


def _forward_irq(t, interval):
    # hrtimer_forward_now from the timer's own hard IRQ callback: raw cycles.
    global _h_exp, _h_fwd, _h_moved
    npc = core.NS_PER_CYC
    if interval < hrtimer_resolution:
        interval = hrtimer_resolution
    ivc = -(-interval // npc)
    if ivc < core.hw.CE_MIN_CYC:
        ivc = core.hw.CE_MIN_CYC
    now = core.hw.cs_read()
    dh = core.raw_diff(now, (_h_exp + _h_delta) & core.CS_MASK)
    if dh < 0:
        return 0
    orun = dh // ivc + 1
    _h_exp = (_h_exp + orun * ivc) & core.CS_MASK
    _h_fwd += orun * ivc
    _h_moved = True
    return orun


def _run_softirq():
    # HRTIMER_SOFTIRQ: run expired timers, then reprogram.  Softirq context.
    global _in_run
    _sync()
    _in_run = True
    try:
        hang = _run_queues()
    finally:
        _in_run = False
    if not hang:
        _reprogram(True)


def _run_queues():
    global nr_retries, nr_hangs, max_hang_time, _expires_next
    start = now = core.ktime_get()
    passes = 0
    while True:
        budget = len(_heap)
        while _heap and budget:
            t = _heap[0]
            if t._skey > now:
                break
            budget -= 1
            _heap_remove(t)
            _run_one(t)
        passes += 1
        now = core.ktime_get()
        if not _heap or _heap[0]._skey > now:
            break
        nr_retries += 1
        if passes >= 3:
            took = now - start
            nr_hangs += 1
            if took > max_hang_time:
                max_hang_time = took
            if nr_hangs == 1:
                _pk.printk("\x014hrtimer: interrupt took %d ns", took)
            delay = took if took < _HANG_MAX_NS else _HANG_MAX_NS
            core.hw.ce_set_next(_clamp_cyc(core.ns_to_cycles_up(delay)), _ce_irq)
            _expires_next = None
            return True
    return False


def _run_one(t):
    t._state = _CALLBACK
    prev = _pk.set_current_module(t._owner)
    _tr.record(6, t.trace_id, core.hw.cs_read(), core.ns_to_raw(t._skey), 0)
    r = 0
    try:
        r = t.function(t)
    except Exception as e:
        core.log_callback_error("hrtimer", t, e)
        r = 0
    finally:
        _pk.set_current_module(prev)
    t._state &= ~_CALLBACK
    if r == _RESTART and not t._state & _ENQUEUED:
        _enqueue(t)
    _tr.record(7, t.trace_id, core.hw.cs_read(), 1 if r == _RESTART else 0, 0)


def _pending_of(owner):
    return [("hrtimer", t) for t in _heap if t._owner == owner and t._state & _ENQUEUED]


def queue_check():
    """Invariant check for tests: heap order and indexes.  Returns the count."""
    for i, t in enumerate(_heap):
        assert t._idx == i, "hrtimer %d at %d says %d" % (t.trace_id, i, t._idx)
        assert t._state & _ENQUEUED, "hrtimer %d in queue but not ENQUEUED" % t.trace_id
        if i:
            assert not _less(t, _heap[(i - 1) >> 1]), "heap order broken at %d" % i
    return len(_heap)


def _clock_was_set():
    """Re-key REALTIME/TAI timers after the realtime offset changed."""
    _sync()
    q = [t for t in _heap if t._clock != 1]
    for t in q:
        _heap_remove(t)
        _enqueue(t)
    _reprogram()
