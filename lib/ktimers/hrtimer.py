"""ktimers.hrtimer -- high-resolution timers (hrtimer.h).

Usage (seed hires_timer):
    def handler(t):
        hrtimer_forward_now(t, ns_to_ktime(delay_ns))
        return HRTIMER_RESTART
    t = hrtimer(); hrtimer_setup(t, handler, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
    hrtimer_start(t, ns_to_ktime(delay_ns), HRTIMER_MODE_REL)

Contexts (as on PREEMPT_RT): callbacks run in HRTIMER_SOFTIRQ (scheduled)
unless started with HRTIMER_MODE_HARD on a board whose profile allows hard
IRQs; then they run in the clock event's interrupt, where the callback must
allocate nothing and may restart itself with hrtimer_forward_now() +
HRTIMER_RESTART.  A hard callback should reach its data through the timer
(container_of) or through globals bound before it starts: creating new globals
while it runs can resize the dict it is reading.  The queue, the clock event programming, hard dispatch and
hang protection are in ktimers.hrtimer_base (algorithm notes there).  Every
queue operation here holds softirqs off (local_bh_disable), the base lock.
"""

from micropython import const
from . import core
from . import trace as _tr
from . import ktime as _kt
from . import printk as _pk
from . import bug as _bug
from . import hrtimer_base as _b


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
_CLOCKS = (0, 1, 7, 11)  # REALTIME, MONOTONIC, BOOTTIME, TAI

_tid = 0


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
        self._rank = 0  # clock base order (MONOTONIC first)
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
        _bug.WARN(True, "hrtimer_init: unknown clock %r, using CLOCK_MONOTONIC", clock_id)
        clock_id = 1
    if clock_id == 0 and mode & HRTIMER_MODE_REL:
        clock_id = 1
    timer._clock = clock_id
    timer._rank = _b._RANK[clock_id]
    timer._hard = bool(mode & HRTIMER_MODE_HARD)
    timer._state = 0


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
    _b._sync()
    # everything that allocates first (64-bit ns), then the commit
    if mode & HRTIMER_MODE_REL:
        tim = _kt.ktime_add_safe(_now_of(timer._clock), tim)
    hard = _kt.ktime_add_safe(tim, range_ns)
    skey, key = _b._keys(timer, tim, hard)
    owner = _pk.current_module()
    rec = _tr._on
    if rec:
        ra, rb = core.ns_to_raw(skey), core.ns_to_raw(key)
    _b._demote(timer)  # out of IRQ dispatch (consistent even if we stop here)
    old = (timer._idx, timer._softexpires, timer._expires, timer._skey, timer._key, timer._state, timer._owner)
    _b._requeue(timer, tim, hard, skey, key)
    timer._owner = owner
    try:
        _b._reprogram()
    except MemoryError:  # undo: the queue and the device as before
        _undo_start(timer, old)
        raise
    if rec:
        _tr.record(5, timer.trace_id, core.hw.cs_read(), ra, rb)


def _undo_start(timer, old):
    idx, s, e, sk, k, st, ow = old
    timer._softexpires, timer._expires, timer._skey, timer._key = s, e, sk, k
    if idx < 0:
        _b._heap_remove(timer)
        timer._state = st
    else:
        _b._up(timer._idx)
        _b._down(timer._idx)
    timer._owner = ow
    _b._reprogram(True)


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
    _b._sync()
    if timer._state & _CALLBACK:
        return -1
    if not timer._state & _ENQUEUED:
        return 0
    _b._demote(timer)
    _b._heap_remove(timer)
    timer._state = 0
    _tr.record(8, timer.trace_id, core.hw.cs_read(), 0, 0)
    _b._reprogram()
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
    if now - timer._expires < 0:
        return 0
    if timer._state & _ENQUEUED:
        _bug.WARN(True, "hrtimer_forward: timer %d is queued", timer.trace_id)
        return 0
    # exact ns (hrtimer_resolution 1 ns); saturates at KTIME_MAX
    return _b._forward_ns(timer, now, interval)


def hrtimer_forward_now(timer, interval):
    """hrtimer_forward(timer, now of its clock, interval).  From a HARD
    callback in hard IRQ it works on raw counter cycles (allocation-free)."""
    if core._hardirq and timer is _b._hard_head:
        return _b._forward_irq(timer, interval)
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
    _b._sync()
    return timer._expires


def hrtimer_get_expires(timer):
    core.local_bh_disable()
    try:
        return _hrtimer_get_expires(timer)
    finally:
        core.local_bh_enable()


def _hrtimer_get_softexpires(timer):
    _check("hrtimer_get_softexpires", timer)
    _b._sync()
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
    _b._sync()
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
    _b._sync()
    if timer._state & _ENQUEUED:
        _bug.WARN(True, "%s: timer %d is queued, expiry not changed", fn, timer.trace_id)
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


def clock_was_set():
    """Re-key REALTIME/TAI timers after the realtime offset changed."""
    core.local_bh_disable()
    try:
        return _b._clock_was_set()
    finally:
        core.local_bh_enable()
