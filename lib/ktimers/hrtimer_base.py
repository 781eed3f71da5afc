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

Exact time.  Expiries are plain ns (hrtimer_resolution = 1 ns, as in
high-resolution mode); the counter's granularity enters only when the clock
event device is programmed, rounded up so nothing fires early.

Hard dispatch allocates nothing: when a HARD timer is the queue head (and the
board allows hard IRQs) its soft expiry is kept as a raw counter value plus
an ns remainder (small ints _h_exp, _h_rem: expiry ns = cycles * NS_PER_CYC +
rem) and _ce_irq compares raw counter values only.  hrtimer_forward_now()
from that callback adds whole intervals in (cycles, ns remainder) form, so a
1500 ns period on a 1 MHz counter keeps its fractional cycles; every raw sum
goes through core.raw_add() (masked before it could reach 2**30, a heap int
on 32-bit boards).  The cycles forwarded in IRQ (_h_fwd) are folded into the
64-bit ns expiry by _sync() in softirq/task context.  The IRQ reprograms the
clock event for the hard head itself; when the next queued event (_ce_limit)
is due it raises HRTIMER_SOFTIRQ too.  An interval it cannot split without
allocating (>= 2**30 ns, or under one counter cycle) is handed to the softirq
(_h_defer), which forwards in ns and caches the split for the next IRQ.
Only one timer is the hard head at a time, so this state is module-wide.
Task code that only reads the queue keeps the hard head; an operation on the
hard head itself takes it out of IRQ dispatch with interrupts off and
_reprogram() puts the new head back.

    1 MHz counter, period 1500 ns:  (cycles, rem) 1000,0 -> 1001,500 -> 1003,0
    the IRQ targets ceil: 1000, 1002, 1003 -- each >= the exact ns expiry.

All-or-nothing.  Every queue operation computes what may allocate (64-bit ns
arithmetic, list growth) before it changes anything; what follows only moves
references and small ints.  queue_check() verifies heap order, indexes,
states and the hard head.

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
from . import bug as _bug

_ENQUEUED = const(1)
_CALLBACK = const(2)
_RESTART = const(1)
_HANG_MAX_NS = const(100_000_000)
_SEQ_MASK = const(0x3FFFFFFF)
_SMALL_MAX = const(0x3FFFFFFF)

_heap = []
_seq = 0
_expires_next = None
_hard_head = None  # HARD timer at the head, dispatched from the IRQ
_ce_limit = 0  # raw counter: next other event; past it the IRQ raises HRTIMER_SOFTIRQ
_limit_key = None  # that event's monotonic ns expiry (None: none queued)
_irq_exc = None
_irq_exc_t = None
_irq_badret = None  # hard callback returned neither NORESTART nor RESTART
_in_run = False
# hard head (small ints): soft expiry = _h_exp cycles (raw) + _h_rem ns; hard -
# soft = _h_dc cycles + _h_dr ns; _h_fwd cycles forwarded in IRQ since the last
# _sync (modulo the counter), _h_rem0 the remainder then
_h_exp = 0
_h_rem = 0
_h_dc = 0
_h_dr = 0
_h_fwd = 0
_h_rem0 = 0
_h_moved = False
_h_defer = None  # interval the IRQ left to the softirq
_h_iv = None  # last interval split for the IRQ: _h_ivc cycles + _h_ivr ns
_h_ivc = 0
_h_ivr = 0
nr_events = 0
nr_retries = 0
nr_hangs = 0
nr_reprograms = 0
nr_irq_errors = 0
max_hang_time = 0
hrtimer_resolution = 1  # ns: exact arithmetic (high-resolution mode)
_RANK = {1: 0, 0: 1, 7: 2, 11: 3}  # base order: MONOTONIC, REALTIME, BOOTTIME, TAI


def _reset():
    global _heap, _expires_next, _hard_head, _h_defer, _h_iv, _irq_exc, _irq_exc_t, _irq_badret
    for t in _heap:
        t._state = 0
        t._idx = -1
    _heap = []
    _expires_next = None
    _hard_head = None
    _h_defer = _h_iv = None
    _irq_exc = _irq_exc_t = _irq_badret = None


def _less(a, b):
    # hard expiry, then clock base (equal expiries run base by base), then FIFO
    if a._key != b._key:
        return a._key < b._key
    if a._rank != b._rank:
        return a._rank < b._rank
    return ((a._seq - b._seq) & _SEQ_MASK) > (_SEQ_MASK >> 1)


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
    # allocation-free (pop only shrinks)
    i = t._idx
    last = _heap.pop()
    if last is not t:
        _heap[i] = last
        last._idx = i
        _down(i)
        _up(last._idx)
    t._idx = -1


def _keys(t, soft, hard):
    """(soft key, hard key): the expiries on the monotonic clock.  Allocates."""
    off = _kt.clock_offset(t._clock) if t._clock != 1 else 0
    return soft - off, hard - off


def _requeue(t, soft, hard, skey, key):
    """Queue t (or move it) with these expiries: the commit step.  The one
    allocation (growing the list for a timer not yet queued) comes first."""
    global _seq
    if t._idx < 0:
        _heap.append(t)  # MemoryError here: nothing changed
        t._idx = len(_heap) - 1
    _seq = (_seq + 1) & _SEQ_MASK
    t._seq = _seq
    t._softexpires = soft
    t._expires = hard
    t._skey = skey
    t._key = key
    t._state |= _ENQUEUED
    _up(t._idx)
    _down(t._idx)


def _enqueue(t):
    s, k = _keys(t, t._softexpires, t._expires)
    _requeue(t, t._softexpires, t._expires, s, k)


def _demote(t):
    """Take t out of IRQ dispatch before task/softirq code changes it."""
    global _hard_head
    if t is _hard_head:
        _sync()
        st = core.hw.irq_save()
        _hard_head = None
        core.hw.irq_restore(st)


def _sync(detach=False):
    """Fold what the hard IRQ did to the head HARD timer back into the queue.
    Task/softirq context; every queue operation starts here.  detach=True
    also takes the head out of IRQ dispatch (the softirq run does)."""
    global _hard_head, _irq_exc, _irq_exc_t, _h_fwd, _h_rem0, _h_defer, _irq_badret
    global _h_iv, _h_ivc, _h_ivr
    t = _hard_head
    if t is not None:
        hw = core.hw
        npc = core.NS_PER_CYC
        while True:  # until no IRQ forwarded between the snapshot and the commit
            st = hw.irq_save()
            c, r1, r0, iv = _h_fwd, _h_rem, _h_rem0, _h_defer
            hw.irq_restore(st)
            if c or r1 != r0:
                ns = c * npc + r1 - r0  # heap ints: may raise, nothing changed yet
                s2, e2, sk2, k2 = t._softexpires + ns, t._expires + ns, t._skey + ns, t._key + ns
            st = hw.irq_save()
            if _h_fwd == c and _h_rem == r1 and _h_defer is iv:
                _h_fwd = 0
                _h_rem0 = r1
                _h_defer = None
                gone = not t._state & _ENQUEUED
                if detach or gone:
                    _hard_head = None
                hw.irq_restore(st)
                break
            hw.irq_restore(st)
        if c or r1 != r0:
            t._softexpires, t._expires, t._skey, t._key = s2, e2, sk2, k2
        if t._idx >= 0:
            if gone:
                _heap_remove(t)
            else:
                _down(t._idx)
                if iv is not None:  # the IRQ left this forward to us
                    _forward_ns(t, core.ktime_get() + (t._expires - t._key), iv)
                    _down(t._idx)
                    if iv >= npc:
                        _h_iv, _h_ivc, _h_ivr = iv, iv // npc, iv % npc
    if _irq_exc is not None:
        e, et = _irq_exc, _irq_exc_t
        _irq_exc = _irq_exc_t = None
        core.log_callback_error("hrtimer (hard)", et, e)
    if _irq_badret is not None:
        bt = _irq_badret
        _irq_badret = None
        _warn_ret(bt, "not 0/1 (hard)")


def _warn_ret(t, r):
    _bug.WARN_ONCE(True, "hrtimer: callback of timer %d returned %s, not HRTIMER_NORESTART/RESTART", t.trace_id, r)


def _forward_ns(t, now, interval):
    """hrtimer_forward on the timer's fields, no queued check.  Returns the
    overrun count; saturates at KTIME_MAX.  Allocates (64-bit ns)."""
    delta = now - t._expires
    if delta < 0:
        return 0
    if interval < 1:
        interval = 1
    orun = 1
    if delta >= interval:
        orun = delta // interval
        inc = interval * orun
        t._expires = _kt.ktime_add_safe(t._expires, inc)
        t._softexpires = _kt.ktime_add_safe(t._softexpires, inc)
        t._key = _kt.ktime_add_safe(t._key, inc)
        t._skey = _kt.ktime_add_safe(t._skey, inc)
        if t._expires > now:
            return orun
        orun += 1
    t._expires = _kt.ktime_add_safe(t._expires, interval)
    t._softexpires = _kt.ktime_add_safe(t._softexpires, interval)
    t._key = _kt.ktime_add_safe(t._key, interval)
    t._skey = _kt.ktime_add_safe(t._skey, interval)
    return orun


def _clamp_cyc(c):
    hw = core.hw
    if c < hw.CE_MIN_CYC:
        return hw.CE_MIN_CYC
    if c > hw.CE_MAX_CYC:
        return hw.CE_MAX_CYC
    return c


def _head():
    # (head, hard head candidate, next other queued timer) of the queue
    t = _heap[0]
    hw = core.hw
    hh = t if (t._hard and hw.HARD_IRQ and core.NS_PER_CYC) else None
    o = None  # the next queued event: the hard head's IRQ must stop before it
    if hh is not None and len(_heap) > 1:
        o = _heap[1] if len(_heap) == 2 or _less(_heap[1], _heap[2]) else _heap[2]
    return t, hh, o


def _reprogram(force=False):
    """Program the clock event device for the head (tick_program_event).
    Everything that allocates is computed before anything changes; a hard
    head in IRQ dispatch is first folded and taken out of it atomically
    (_sync(True)), so no forward done by its IRQ meanwhile is lost."""
    global _expires_next, _hard_head, _ce_limit, nr_reprograms
    global _h_exp, _h_rem, _h_dc, _h_dr, _h_fwd, _h_rem0, _h_moved, _h_defer, _limit_key
    if _in_run:
        return  # _run_softirq reprograms once at the end
    hw = core.hw
    if _heap:
        t, hh, o = _head()
        okey = o._key if o is not None else None
        if t._key == _expires_next and hh is _hard_head and not force and (hh is None or okey == _limit_key):
            return
    if _hard_head is not None:
        _sync(True)
    if not _heap:
        if _expires_next is not None:
            st = hw.irq_save()
            hw.ce_stop()
            hw.irq_restore(st)
            _expires_next = None
        return
    t, hh, o = _head()
    okey = o._key if o is not None else None
    npc = core.NS_PER_CYC
    d = t._key - core.ktime_get()
    cyc = _clamp_cyc(core.ns_to_cycles_up(d) if d > 0 else 0)
    if hh is not None:
        c = t._skey // npc
        exp = (c + core._raw0) & core.CS_MASK
        rem = t._skey - c * npc
        dl = t._key - t._skey
        dc = dl // npc
        if dc > core.CS_MASK >> 2:
            hh = None  # a range this wide: dispatch from the softirq
        else:
            dr = dl - dc * npc
            if o is not None:
                lim = core.ns_to_raw(okey)
            else:
                lim = (hw.cs_read() + hw.CE_MAX_CYC) & core.CS_MASK
    st = hw.irq_save()
    if hh is not None:
        _h_exp, _h_rem, _h_dc, _h_dr, _ce_limit = exp, rem, dc, dr, lim
        _limit_key = okey
        _h_fwd = 0
        _h_rem0 = rem
        _h_defer = None
    _hard_head = hh
    hw.ce_set_next(cyc, _ce_irq)
    hw.irq_restore(st)
    _expires_next = t._key
    nr_reprograms += 1


def _ce_irq(_):
    # hrtimer_interrupt, hard half.  Hard IRQ context: small ints only.  Any
    # error still leaves the device programmed or HRTIMER_SOFTIRQ raised.
    global _irq_exc, _irq_exc_t, nr_events, _h_moved, _irq_badret, nr_irq_errors
    t = _hard_head
    hw = core.hw
    nr_events += 1
    if t is None:
        core.raise_softirq_irq(2)
        return
    try:
        raw_add = core.raw_add
        raw_diff = core.raw_diff
        now = hw.cs_read()
        target = raw_add(_h_exp, 1 if _h_rem else 0)
        if raw_diff(now, target) >= 0:
            _tr.record(6, t.trace_id, now, target, 1)  # before any state changes
            t._state = _CALLBACK
            _h_moved = False
            core._hardirq += 1
            r = 0
            try:
                r = t.function(t)
            except Exception as e:
                _irq_exc = e
                _irq_exc_t = t
            finally:
                core._hardirq -= 1
            if r != 0 and r != 1:
                _irq_badret = t
                r = 0
            t._state = _ENQUEUED if r == 1 else 0
            _tr.record(7, t.trace_id, hw.cs_read(), r, 0)
            if r != 1 or not _h_moved or _h_defer is not None:
                core.raise_softirq_irq(2)
                return
            target = raw_add(_h_exp, 1 if _h_rem else 0)
        # next event: the hard head again, or the next queued event if sooner;
        # once that one is due, only the softirq can serve it (no IRQ storm)
        now = hw.cs_read()
        if raw_diff(now, _ce_limit) >= 0:
            at = target
            core.raise_softirq_irq(2)
        elif raw_diff(target, _ce_limit) < 0:
            at = target
        else:
            at = _ce_limit
        now = hw.cs_read()  # read last: the device counts from when it is programmed
        hw.ce_set_next(_clamp_cyc(raw_diff(at, now)), _ce_irq)
    except BaseException:  # noqa: the device must keep firing
        nr_irq_errors += 1
        if t._state & _CALLBACK:
            t._state = _ENQUEUED  # did not run: the softirq runs it at its expiry
        core.raise_softirq_irq(2)


def _hard_behind(now):
    # cycles by which now is past the hard expiry (>= 0: expired), else -1
    npc = core.NS_PER_CYC
    hr = _h_rem + _h_dr
    hc = core.raw_add(_h_exp, _h_dc)
    if hr >= npc:
        hc = core.raw_add(hc, 1)
        hr -= npc
    d = core.raw_diff(now, hc)
    if d < 0 or (d == 0 and hr):
        return -1
    return d


def _forward_irq(t, interval):
    # hrtimer_forward_now from the timer's own hard IRQ callback: (cycles, ns
    # remainder) arithmetic on small ints, every raw sum masked.  Each pass adds
    # k < (time past expiry) / interval whole intervals, at least 1: O(1)
    # when on time, O(log) after a long stall.
    global _h_exp, _h_rem, _h_fwd, _h_moved, _h_defer
    npc = core.NS_PER_CYC
    if interval is _h_iv:
        ivc = _h_ivc
        ivr = _h_ivr
    elif npc <= interval <= _SMALL_MAX:
        ivc = interval // npc
        ivr = interval - ivc * npc
    else:  # needs a heap int or a huge loop: the softirq forwards it
        _h_defer = interval
        _h_moved = True
        return 1
    raw_add = core.raw_add
    now = core.hw.cs_read()
    orun = 0
    while True:
        dc = _hard_behind(now)
        if dc < 0:
            break
        k = (dc - 1) // (ivc + 1) if dc > 1 else 0
        if k < 1:
            k = 1
        a = k // npc
        r = _h_rem + (k - a * npc) * ivr
        addc = k * ivc + a * ivr + r // npc
        _h_rem = r % npc
        _h_exp = raw_add(_h_exp, addc)
        _h_fwd = raw_add(_h_fwd, addc)
        orun += k
    if orun:
        _h_moved = True
    return orun


def _run_softirq():
    # HRTIMER_SOFTIRQ: run expired timers, then reprogram.  Softirq context.
    global _in_run
    _sync(True)
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
    # __run_hrtimer: dequeue, run, requeue on RESTART.  Softirq context.
    a = core.ns_to_raw(t._skey)  # allocates: before anything changes
    _heap_remove(t)
    t._state = _CALLBACK
    prev = _pk.set_current_module(t._owner)
    _tr.record(6, t.trace_id, core.hw.cs_read(), a, 0)
    r = 0
    try:
        r = t.function(t)
    except Exception as e:
        core.log_callback_error("hrtimer", t, e)
        r = 0
    finally:
        _pk.set_current_module(prev)
        t._state &= ~_CALLBACK
    if r != 0 and r != _RESTART:
        _warn_ret(t, repr(r))
        r = 0
    if r == _RESTART and not t._state & _ENQUEUED:
        _enqueue(t)
    _tr.record(7, t.trace_id, core.hw.cs_read(), r, 0)


def _pending_of(owner):
    return [("hrtimer", t) for t in _heap if t._owner == owner and t._state & _ENQUEUED]


def queue_check(*timers):
    """Invariant check for tests: heap order, indexes and states; the hard
    head (if any) is at the head; each timer given is queued exactly when it
    says so.  Returns the queue length; raises AssertionError if broken."""
    for i, t in enumerate(_heap):
        assert t._idx == i, "hrtimer %d at %d says %d" % (t.trace_id, i, t._idx)
        assert t._state & _ENQUEUED, "hrtimer %d in queue but not ENQUEUED" % t.trace_id
        if i:
            assert not _less(t, _heap[(i - 1) >> 1]), "heap order broken at %d" % i
    for t in timers:
        q = bool(t._state & _ENQUEUED)
        inq = 0 <= t._idx < len(_heap) and _heap[t._idx] is t
        assert q == inq, "hrtimer %d: ENQUEUED=%r but in queue=%r" % (t.trace_id, q, inq)
        assert inq or t._idx == -1, "hrtimer %d: stale index %d" % (t.trace_id, t._idx)
    if _hard_head is not None and _hard_head._state & _ENQUEUED:
        assert _heap and _heap[0] is _hard_head, "hard head %d not at the head" % _hard_head.trace_id
    return len(_heap)


def _clock_was_set():
    """Re-key REALTIME/BOOTTIME/TAI timers after their offset changed
    (clock_was_set -> hrtimer retrigger).  All-or-nothing: the new keys are
    computed first, then each timer moves in place."""
    _sync()
    if _hard_head is not None and _hard_head._clock != 1:
        _demote(_hard_head)
    moves = [(t,) + _keys(t, t._softexpires, t._expires) for t in _heap if t._clock != 1]
    for t, sk, k in moves:
        _requeue(t, t._softexpires, t._expires, sk, k)
    _reprogram(True)
