"""ktimers._hrtimer_calls -- the hrtimer calls (hrtimer.h) in pure Python.

ktimers.hrtimer keeps the hrtimer class and binds these names: from here on
firmware without ktimers' C core, else from _ktimers.hrtimer_calls
(firmware/cmodules/ktimers/hrtimer.c, these statements in C: nothing on the
heap).  The queue, the clock event programming, hard dispatch and hang
protection are ktimers.hrtimer_base's (algorithm notes there).  Every queue
operation here holds softirqs off (local_bh_disable), the base lock, and
computes what may allocate (64-bit ns, list growth) before it changes anything.

    call                      context            cost
    hrtimer_setup             task               O(1)
    hrtimer_start(_range_ns)  task, softirq      O(log n); MONOTONIC REL under ~1 s:
                                                 no allocation on a started list
    hrtimer_(try_to_)cancel   task, softirq      O(log n)
    hrtimer_forward_now       softirq, its own   O(1); small ints: no allocation
                              HARD callback
"""

from micropython import const
from . import core
_tr = core.tracer()  # ktimers.trace, or while it is not loaded a stand-in (off)
from . import bug as _bug
from . import hrtimer_base as _b

_H = _b._H  # ktimers.hrtimer (loading): the class, and ktime (_kt) and printk (_pk) as it binds them

_i = _b._i  # the IRQ side (rebound with it: ktimers._hrtimer_setup)
from .defs import HRTIMER_MODE_REL, HRTIMER_MODE_HARD

_ENQUEUED = const(1)
_CALLBACK = const(2)
_HARD = const(4)
_RANKS = const(0x18)
_SMALL_MAX = const(0x3FFFFFFF)
_CLOCKS = (0, 1, 7, 11)  # REALTIME, MONOTONIC, BOOTTIME, TAI


def _state_of(t):
    # ENQUEUED / CALLBACK bits; a hard head keeps ENQUEUED while its callback
    # runs in hard IRQ (_irq_run), where the kernel says CALLBACK
    return _CALLBACK if t is _i._irq_run else t._f & 3


def _expires_of(t):
    # _e and _p read together (a softirq between them could rebase); the hard
    # head stays in IRQ dispatch (its IRQ updates _e in place)
    core.local_bh_disable()
    try:
        return t._e + t._p * core._EP_NS + t._o
    finally:
        core.local_bh_enable()


def _check(fn, t):
    if not isinstance(t, _H.hrtimer):
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
    _hrtimer_init(timer, clock_id, mode)
    timer.function = function


def _hrtimer_init(timer, clock_id, mode):
    # hrtimer_init's work (hrtimer_setup's too; hrtimer_init itself is in _hrtimer_ext)
    _check("hrtimer_init", timer)
    _check_mode("hrtimer_init", mode)
    if timer._f & _ENQUEUED:
        hrtimer_cancel(timer)
    if clock_id not in _CLOCKS:
        _bug.WARN(True, "hrtimer_init: unknown clock %r, using CLOCK_MONOTONIC", clock_id)
        clock_id = 1
    if clock_id == 0 and mode & HRTIMER_MODE_REL:
        clock_id = 1
    timer._f = timer._f & ~0xFF | _b._RANK[clock_id] << 3 | (_HARD if mode & HRTIMER_MODE_HARD else 0)


def _now_of(clock):
    n = core.ktime_get()
    return n + _H._kt.clock_offset(clock) if clock != 1 else n


def _hrtimer_start_range_ns(timer, tim, range_ns, mode):
    _check("hrtimer_start_range_ns", timer)
    _check_int("hrtimer_start_range_ns", "tim", tim)
    _check_int("hrtimer_start_range_ns", "range_ns", range_ns)
    _check_mode("hrtimer_start_range_ns", mode)
    if range_ns < 0:
        raise ValueError("hrtimer_start_range_ns: range_ns must be >= 0, got %d" % range_ns)
    if timer.function is None:
        raise ValueError("hrtimer_start_range_ns: timer has no function (hrtimer_setup first)")
    if core.in_hardirq():
        raise RuntimeError("hrtimer_start: not from hard IRQ; return HRTIMER_RESTART")
    _b._fix()
    # everything that allocates first (64-bit ns), then the commit
    f = timer._f
    ep = core._ep
    if not f & _RANKS and mode & HRTIMER_MODE_REL and 0 <= tim <= _SMALL_MAX and range_ns <= _SMALL_MAX:
        o = 0  # MONOTONIC, relative, near: small ints (ns since the epoch)
        s = core.now_rel() + tim
        e = s + range_ns
    else:
        c = _b._CLOCK_OF[(f & _RANKS) >> 3]
        o = _H._kt.clock_offset(c) if c != 1 else 0
        if mode & HRTIMER_MODE_REL:
            tim = _H._kt.ktime_add_safe(_now_of(c), tim)
        hard = _H._kt.ktime_add_safe(tim, range_ns)
        base = ep * core._EP_NS + o
        s = tim - base
        e = hard - base
    owner = _H._pk.current_module()
    if _tr.enabled:
        ra, rb = _b._raw_at(s), _b._raw_at(e)
    q = _b._heap
    oe = timer._e  # for the undo (one by one: a 5-tuple would allocate)
    op = timer._p
    od = timer._d
    oo = timer._o
    ow = timer._owner
    if f & _ENQUEUED:
        _b._remove(timer)  # a shrink leaves room: the insert below cannot grow the list
    else:
        q.append(None)  # room for the insert (MemoryError here: nothing changed)
        q.pop()  # (never shrinks right after a growth)
    timer._e = e
    timer._p = ep
    d = e - s
    if timer._d != d:
        timer._d = d
    if timer._o != o:
        timer._o = o
    _b._insert(timer)
    timer._f = f | _ENQUEUED
    if timer._owner is not owner:
        timer._owner = owner
    try:
        _b._reprogram()
    except MemoryError:  # undo: the queue and the device as before
        _b._remove(timer)
        timer._e = oe
        timer._p = op
        timer._d = od
        timer._o = oo
        timer._owner = ow
        timer._f = f
        if f & _ENQUEUED:
            _b._insert(timer)  # its old slot: no growth
        _b._reprogram(True)
        raise
    if _tr.enabled:
        _tr.record(5, timer.trace_id, core.hw.cs_read(), ra, rb)


def hrtimer_start_range_ns(timer, tim, range_ns, mode):
    """(Re)start timer to fire within [tim, tim + range_ns].  REL adds the
    clock's now (saturating at KTIME_MAX).  Task or softirq context (from a
    hard IRQ callback restart with HRTIMER_RESTART instead).  O(log n);
    allocation-free for a MONOTONIC REL start under ~1 s on a started list."""
    core.local_bh_disable()
    try:
        return _hrtimer_start_range_ns(timer, tim, range_ns, mode)
    finally:
        core.local_bh_enable()


def hrtimer_start(timer, tim, mode):
    """hrtimer_start_range_ns(timer, tim, 0, mode)."""
    hrtimer_start_range_ns(timer, tim, 0, mode)


def _hrtimer_try_to_cancel(timer):
    """0 not active, 1 removed, -1 callback running.  Task/softirq context."""
    _check("hrtimer_try_to_cancel", timer)
    f = _state_of(timer)  # the state alone: the hard head stays in IRQ dispatch
    if f & _CALLBACK:
        return -1
    if not f & _ENQUEUED:
        return 0
    _b._fix()
    f = timer._f
    _b._remove(timer)
    timer._f = f & ~3
    try:
        _b._reprogram()
    except MemoryError:  # undo
        timer._f = f
        _b._insert(timer)
        _b._reprogram(True)
        raise
    if _tr.enabled:
        _tr.record(8, timer.trace_id, core.hw.cs_read(), 0, 0)
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
    0 if now < expiry; WARN and 0 if queued; interval < hrtimer_resolution
    (1 ns) is raised to it; the expiry saturates at KTIME_MAX.  Exact ns:
    expires 5, now 12, interval 2 -> expires 13, returns 4.  Task/softirq
    context (forward_now also from its own hard callback)."""
    _check("hrtimer_forward", timer)
    _check_int("hrtimer_forward", "now", now)
    _check_int("hrtimer_forward", "interval", interval)
    if now - _expires_of(timer) < 0:
        return 0
    if _state_of(timer) & _ENQUEUED:
        _bug.WARN(True, "hrtimer_forward: timer %d is queued", timer.trace_id)
        return 0
    return _b._forward_abs(timer, now, interval)


def hrtimer_forward_now(timer, interval):
    """hrtimer_forward(timer, now of its clock, interval).  From its own HARD
    callback in hard IRQ, or a MONOTONIC timer's callback in softirq with a
    small interval, it works on small ints: allocation-free.  O(1)."""
    if timer is _i._irq_run:  # its own hard callback, in hard IRQ
        return _i._forward_irq(timer, interval)
    _check("hrtimer_forward_now", timer)
    _check_int("hrtimer_forward_now", "interval", interval)
    if not timer._f & (_RANKS | _ENQUEUED) and timer._p == core._ep:
        return _b._forward_rel(timer, core.now_rel(), interval)
    return hrtimer_forward(timer, _now_of(_b._CLOCK_OF[(timer._f & _RANKS) >> 3]), interval)


def hrtimer_active(timer):
    _check("hrtimer_active", timer)
    return _state_of(timer) != 0


def _locked(fn, timer):
    core.local_bh_disable()
    try:
        return _expires_of(timer)
    finally:
        core.local_bh_enable()


def hrtimer_get_expires(timer):
    """The hard expiry, ns of the timer's clock.  Task/softirq context."""
    _check("hrtimer_get_expires", timer)
    return _locked("hrtimer_get_expires", timer)
