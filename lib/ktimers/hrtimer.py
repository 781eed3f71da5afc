"""ktimers.hrtimer -- high-resolution timers on a one-shot clock event device.

Usage (seed hires_timer):
    def handler(t):
        hrtimer_forward_now(t, ns_to_ktime(delay_ns))
        return HRTIMER_RESTART
    t = hrtimer(); hrtimer_setup(t, handler, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
    hrtimer_start(t, ns_to_ktime(delay_ns), HRTIMER_MODE_REL)

Queue.  Pending timers sit in one binary min-heap keyed on the monotonic hard
expiry (soft expiry + range delta), FIFO among equal keys; start/cancel are
O(log n) with the heap index kept in the timer.  The clock event device is
programmed one-shot for the head's hard expiry, and reprogrammed only when
that expiry changes.  On expiry every timer whose soft expiry has passed runs,
so timers started with hrtimer_start_range_ns() coalesce into one event:

    timer  soft   delta  hard     event programmed at 120 (A's hard expiry):
    A      100    20     120      at 120 A runs, and B runs too (soft 110 <= 120),
    B      110    30     140      C waits (soft 150): two timers, one interrupt.
    C      150    0      150

Contexts (as on PREEMPT_RT): callbacks run in HRTIMER_SOFTIRQ (scheduled)
unless started with HRTIMER_MODE_HARD on a board whose profile allows hard
IRQs.  Hard dispatch allocates nothing: when a HARD timer is the queue head,
its soft expiry is kept as a raw counter value (small int, _h_exp) and the
interrupt compares raw counter values only; hrtimer_forward_now() called from
that callback moves _h_exp in whole counter cycles and counts the cycles in
_h_fwd, which the softirq folds into the 64-bit ns expiry later.  Only one
timer is the hard head at a time, so this state is module-wide, not per timer
(five attributes fewer per hrtimer: ~100 bytes of heap each on a 32-bit board).  If the
forwarded timer is still before the next queued event (_ce_limit), the IRQ
reprograms the clock event itself; otherwise it raises HRTIMER_SOFTIRQ.

Hang protection (hrtimer_interrupt): after 3 passes that still find expired
timers, log "hrtimer: interrupt took N ns", back off min(N, 100 ms), count
nr_hangs.  A callback storm cannot lock the board.
"""

from micropython import const
from . import core
from . import trace as _tr
from . import ktime as _kt
from . import printk as _pk

HRTIMER_MODE_ABS = const(0x00)
HRTIMER_MODE_REL = const(0x01)
HRTIMER_MODE_PINNED = const(0x02)
HRTIMER_MODE_SOFT = const(0x04)
HRTIMER_MODE_HARD = const(0x08)
HRTIMER_MODE_ABS_PINNED = const(0x02)
HRTIMER_MODE_REL_PINNED = const(0x03)
HRTIMER_MODE_ABS_SOFT = const(0x04)
HRTIMER_MODE_REL_SOFT = const(0x05)
HRTIMER_MODE_ABS_PINNED_SOFT = const(0x06)
HRTIMER_MODE_REL_PINNED_SOFT = const(0x07)
HRTIMER_MODE_ABS_HARD = const(0x08)
HRTIMER_MODE_REL_HARD = const(0x09)
HRTIMER_MODE_ABS_PINNED_HARD = const(0x0A)
HRTIMER_MODE_REL_PINNED_HARD = const(0x0B)
HRTIMER_NORESTART = const(0)
HRTIMER_RESTART = const(1)
_ENQUEUED = const(1)
_CALLBACK = const(2)
_KTIME_MAX = const(0x7FFFFFFFFFFFFFFF)
_HANG_MAX_NS = const(100_000_000)
_CLOCKS = (0, 1, 7, 11)  # REALTIME, MONOTONIC, BOOTTIME, TAI

_heap = []
_seq = 0
_tid = 0
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


class hrtimer:
    """struct hrtimer.  `function(timer)` returns HRTIMER_RESTART/NORESTART."""

    def __init__(self):
        global _tid
        self.function = None
        self._softexpires = 0
        self._expires = 0
        self._key = 0
        self._skey = 0
        self._clock = 1
        self._hard = False
        self._state = 0
        self._idx = -1
        self._seq = 0
        self._owner = None
        self._container = None
        _tid = _tid % 0x7FFF + 1
        self.trace_id = 0x7FFF + _tid  # 0x8000..0xFFFE: fits a u16 trace field

    def __repr__(self):
        return "<hrtimer %d expires=%d state=%d>" % (self.trace_id, self._expires, self._state)


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


def _check(fn, t):
    if not isinstance(t, hrtimer):
        raise TypeError("%s: timer must be an hrtimer, got %s" % (fn, type(t).__name__))


def _check_int(fn, name, v):
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError("%s: %s must be int (ktime ns), got %s" % (fn, name, type(v).__name__))


def _check_mode(fn, mode):
    if not isinstance(mode, int) or isinstance(mode, bool) or mode & ~0x0F:
        raise ValueError("%s: mode must be HRTIMER_MODE_* bits, got %r" % (fn, mode))


def hrtimer_setup(timer, function, clock_id, mode):
    """Initialise timer (6.13+).  Unknown clock: WARN, use CLOCK_MONOTONIC; a
    relative CLOCK_REALTIME timer becomes CLOCK_MONOTONIC.  Task context."""
    if not callable(function):
        raise TypeError("hrtimer_setup: function must be callable")
    hrtimer_init(timer, clock_id, mode)
    timer.function = function


def hrtimer_init(timer, clock_id, mode):
    """Initialise timer; set timer.function afterwards (pre-6.15 API)."""
    _check("hrtimer_init", timer)
    _check_mode("hrtimer_init", mode)
    if timer._state & _ENQUEUED:
        hrtimer_cancel(timer)
    if clock_id not in _CLOCKS:
        _pk.WARN(True, "hrtimer_init: unknown clock %r, using CLOCK_MONOTONIC", clock_id)
        clock_id = 1
    if clock_id == 0 and mode & HRTIMER_MODE_REL:
        clock_id = 1
    timer._clock = clock_id
    timer._hard = bool(mode & HRTIMER_MODE_HARD)
    timer._state = 0


# --- heap: O(log n), index kept in the timer --------------------------------


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
    r = HRTIMER_NORESTART
    try:
        r = t.function(t)
    except Exception as e:
        core.log_callback_error("hrtimer", t, e)
        r = HRTIMER_NORESTART
    finally:
        _pk.set_current_module(prev)
    t._state &= ~_CALLBACK
    if r == HRTIMER_RESTART and not t._state & _ENQUEUED:
        _enqueue(t)
    _tr.record(7, t.trace_id, core.hw.cs_read(), 1 if r == HRTIMER_RESTART else 0, 0)


# --- public API --------------------------------------------------------------


def _now_of(clock):
    n = core.ktime_get()
    return n + _kt.clock_offset(clock) if clock != 1 else n


def _hrtimer_start_range_ns(timer, tim, range_ns, mode):
    """(Re)start timer to fire within [tim, tim + range_ns].  REL adds the
    clock's now (saturating at KTIME_MAX).  Task or softirq context (from a
    hard IRQ callback restart with HRTIMER_RESTART instead)."""
    _check("hrtimer_start_range_ns", timer)
    _check_int("hrtimer_start_range_ns", "tim", tim)
    _check_int("hrtimer_start_range_ns", "range_ns", range_ns)
    _check_mode("hrtimer_start_range_ns", mode)
    if range_ns < 0:
        raise ValueError("hrtimer_start_range_ns: range_ns must be >= 0, got %d" % range_ns)
    if timer.function is None:
        raise ValueError("hrtimer_start_range_ns: timer has no function (hrtimer_setup first)")
    if core._hardirq:
        raise RuntimeError("hrtimer_start: not from hard IRQ; return HRTIMER_RESTART")
    _sync()
    if mode & HRTIMER_MODE_REL:
        tim = _kt.ktime_add_safe(_now_of(timer._clock), tim)
    if timer._idx >= 0:
        _heap_remove(timer)
    timer._softexpires = tim
    timer._expires = _kt.ktime_add_safe(tim, range_ns)
    timer._owner = _pk.current_module()
    _enqueue(timer)
    if _tr._on:
        _tr.record(
            5, timer.trace_id, core.hw.cs_read(), core.ns_to_raw(timer._skey), core.ns_to_raw(timer._key)
        )
    _reprogram()


def hrtimer_start_range_ns(timer, tim, range_ns, mode):
    """(Re)start timer to fire within [tim, tim + range_ns].  REL adds the
    clock's now (saturating at KTIME_MAX).  Task or softirq context (from a
    hard IRQ callback restart with HRTIMER_RESTART instead)."""
    core.local_bh_disable()
    try:
        return _hrtimer_start_range_ns(timer, tim, range_ns, mode)
    finally:
        core.local_bh_enable()


def hrtimer_start(timer, tim, mode):
    """hrtimer_start_range_ns(timer, tim, 0, mode)."""
    hrtimer_start_range_ns(timer, tim, 0, mode)


def hrtimer_start_expires(timer, mode):
    """Start with the expiry already set (hrtimer_set_expires*)."""
    _check("hrtimer_start_expires", timer)
    hrtimer_start_range_ns(timer, timer._softexpires, timer._expires - timer._softexpires, mode)


def hrtimer_restart(timer):
    hrtimer_start_expires(timer, HRTIMER_MODE_ABS)


def _hrtimer_try_to_cancel(timer):
    """0 not active, 1 removed, -1 callback running.  Task/softirq context."""
    _check("hrtimer_try_to_cancel", timer)
    _sync()
    if timer._state & _CALLBACK:
        return -1
    if not timer._state & _ENQUEUED:
        return 0
    _heap_remove(timer)
    timer._state = 0
    _tr.record(8, timer.trace_id, core.hw.cs_read(), 0, 0)
    _reprogram()
    return 1


def hrtimer_try_to_cancel(timer):
    """0 not active, 1 removed, -1 callback running.  Task/softirq context."""
    core.local_bh_disable()
    try:
        return _hrtimer_try_to_cancel(timer)
    finally:
        core.local_bh_enable()


def hrtimer_cancel(timer):
    """Cancel and wait for a running callback: 0 / 1.  From the timer's own
    callback this would spin forever: RuntimeError instead."""
    r = hrtimer_try_to_cancel(timer)
    if r < 0:
        raise RuntimeError("hrtimer_cancel: called from the timer's own callback (would spin forever)")
    return r


def hrtimer_forward(timer, now, interval):
    """Push expiry past now in whole intervals; return the overrun count.
    0 if now < expiry; WARN and 0 if queued; interval < hrtimer_resolution is
    raised to it.  Any context for forward_now from its own callback."""
    _check("hrtimer_forward", timer)
    _check_int("hrtimer_forward", "now", now)
    _check_int("hrtimer_forward", "interval", interval)
    delta = now - timer._expires
    if delta < 0:
        return 0
    if timer._state & _ENQUEUED:
        _pk.WARN(True, "hrtimer_forward: timer %d is queued", timer.trace_id)
        return 0
    if interval < hrtimer_resolution:
        interval = hrtimer_resolution
    orun = 1
    if delta >= interval:
        orun = delta // interval
        timer._expires += interval * orun
        timer._softexpires += interval * orun
        if timer._expires > now:
            return orun
        orun += 1
    timer._expires += interval
    timer._softexpires += interval
    return orun


def hrtimer_forward_now(timer, interval):
    """hrtimer_forward(timer, now of its clock, interval).  From a HARD
    callback in hard IRQ it works on raw counter cycles (allocation-free)."""
    if core._hardirq and timer is _hard_head:
        return _forward_irq(timer, interval)
    _check("hrtimer_forward_now", timer)
    return hrtimer_forward(timer, _now_of(timer._clock), interval)


def hrtimer_active(timer):
    _check("hrtimer_active", timer)
    return timer._state != 0


def hrtimer_is_queued(timer):
    _check("hrtimer_is_queued", timer)
    return bool(timer._state & _ENQUEUED)


def hrtimer_callback_running(timer):
    _check("hrtimer_callback_running", timer)
    return bool(timer._state & _CALLBACK)


def _hrtimer_get_expires(timer):
    _check("hrtimer_get_expires", timer)
    _sync()
    return timer._expires


def hrtimer_get_expires(timer):
    core.local_bh_disable()
    try:
        return _hrtimer_get_expires(timer)
    finally:
        core.local_bh_enable()


def _hrtimer_get_softexpires(timer):
    _check("hrtimer_get_softexpires", timer)
    _sync()
    return timer._softexpires


def hrtimer_get_softexpires(timer):
    core.local_bh_disable()
    try:
        return _hrtimer_get_softexpires(timer)
    finally:
        core.local_bh_enable()


def _hrtimer_get_remaining(timer):
    """expires - now of the timer's clock (ns; negative once expired)."""
    _check("hrtimer_get_remaining", timer)
    _sync()
    return timer._expires - _now_of(timer._clock)


def hrtimer_get_remaining(timer):
    """expires - now of the timer's clock (ns; negative once expired)."""
    core.local_bh_disable()
    try:
        return _hrtimer_get_remaining(timer)
    finally:
        core.local_bh_enable()


def __set(fn, timer, soft, hard):
    _check(fn, timer)
    _sync()
    if timer._state & _ENQUEUED:
        _pk.WARN(True, "%s: timer %d is queued, expiry not changed", fn, timer.trace_id)
        return
    timer._softexpires = soft
    timer._expires = hard


def _set(fn, timer, soft, hard):
    core.local_bh_disable()
    try:
        return __set(fn, timer, soft, hard)
    finally:
        core.local_bh_enable()


def hrtimer_set_expires(timer, time):
    _check_int("hrtimer_set_expires", "time", time)
    _set("hrtimer_set_expires", timer, time, time)


def hrtimer_set_expires_range_ns(timer, time, delta):
    _check_int("hrtimer_set_expires_range_ns", "time", time)
    _check_int("hrtimer_set_expires_range_ns", "delta", delta)
    _set("hrtimer_set_expires_range_ns", timer, time, _kt.ktime_add_safe(time, delta))


def hrtimer_add_expires(timer, time):
    _check_int("hrtimer_add_expires", "time", time)
    _check("hrtimer_add_expires", timer)
    _set(
        "hrtimer_add_expires",
        timer,
        _kt.ktime_add_safe(timer._softexpires, time),
        _kt.ktime_add_safe(timer._expires, time),
    )


hrtimer_add_expires_ns = hrtimer_add_expires


def _clock_was_set():
    """Re-key REALTIME/TAI timers after the realtime offset changed."""
    _sync()
    q = [t for t in _heap if t._clock != 1]
    for t in q:
        _heap_remove(t)
        _enqueue(t)
    _reprogram()


def clock_was_set():
    """Re-key REALTIME/TAI timers after the realtime offset changed."""
    core.local_bh_disable()
    try:
        return _clock_was_set()
    finally:
        core.local_bh_enable()


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
