"""ktimers._hrtimer_ext -- the rarely used hrtimer calls, loaded on first use
through the package (or ktimers.hrtimer's __getattr__): the pre-6.15
hrtimer_init, hrtimer_start_expires/hrtimer_restart, the expiry setters and
getters beyond hrtimer_get_expires, hrtimer_is_queued,
hrtimer_callback_running and clock_was_set; and the queue's invariant check
(ktimers.hrtimer_base.queue_check, through that module's __getattr__).
Task/softirq context.

    from ktimers import *
    t = hrtimer()
    hrtimer_init(t, CLOCK_MONOTONIC, HRTIMER_MODE_REL)   # seed hires_timer's API
    t.function = handler
    hrtimer_set_expires(t, ktime_add_ns(ktime_get(), 1000000))
    hrtimer_restart(t)
"""

from micropython import const
import sys
from . import core
from . import ktime as _kt
from . import bug as _bug
from .defs import HRTIMER_MODE_ABS

_H = sys.modules["ktimers"]._mod("hrtimer")
_b = _H._b
_ENQUEUED = const(1)
_CALLBACK = const(2)
_RANKS = const(0x18)


def hrtimer_init(timer, clock_id, mode):
    """Initialise timer; set timer.function afterwards (pre-6.15 API)."""
    _H._hrtimer_init(timer, clock_id, mode)


def hrtimer_start_expires(timer, mode):
    """Start with the expiry already set (hrtimer_set_expires*)."""
    _H._check("hrtimer_start_expires", timer)
    e = _H._expires_of(timer)
    _H.hrtimer_start_range_ns(timer, e - timer._d, timer._d, mode)


def hrtimer_restart(timer):
    hrtimer_start_expires(timer, HRTIMER_MODE_ABS)


def hrtimer_is_queued(timer):
    _H._check("hrtimer_is_queued", timer)
    return bool(_H._state_of(timer) & _ENQUEUED)


def hrtimer_callback_running(timer):
    _H._check("hrtimer_callback_running", timer)
    return bool(_H._state_of(timer) & _CALLBACK)


def hrtimer_get_softexpires(timer):
    """The soft expiry, ns of the timer's clock.  Task/softirq context."""
    _H._check("hrtimer_get_softexpires", timer)
    return _H._locked("hrtimer_get_softexpires", timer) - timer._d


def hrtimer_get_remaining(timer):
    """expires - now of the timer's clock (ns; negative once expired)."""
    _H._check("hrtimer_get_remaining", timer)
    return _H._locked("hrtimer_get_remaining", timer) - _H._now_of(timer._clock)


def _set(fn, timer, soft, hard):
    core.local_bh_disable()
    try:
        _H._check(fn, timer)
        if timer._f & _ENQUEUED:
            _bug.WARN(True, "%s: timer %d is queued, expiry not changed", fn, timer.trace_id)
            return
        _H._b._set_abs(timer, soft, hard)
    finally:
        core.local_bh_enable()


def hrtimer_set_expires(timer, time):
    _H._check_int("hrtimer_set_expires", "time", time)
    _set("hrtimer_set_expires", timer, time, time)


def hrtimer_set_expires_range_ns(timer, time, delta):
    _H._check_int("hrtimer_set_expires_range_ns", "time", time)
    _H._check_int("hrtimer_set_expires_range_ns", "delta", delta)
    _set("hrtimer_set_expires_range_ns", timer, time, _kt.ktime_add_safe(time, delta))


def hrtimer_add_expires(timer, time):
    _H._check_int("hrtimer_add_expires", "time", time)
    _H._check("hrtimer_add_expires", timer)
    e = _H._expires_of(timer)
    _set(
        "hrtimer_add_expires",
        timer,
        _kt.ktime_add_safe(e - timer._d, time),
        _kt.ktime_add_safe(e, time),
    )


hrtimer_add_expires_ns = hrtimer_add_expires


def clock_was_set():
    """Re-key REALTIME/BOOTTIME/TAI timers after their offset changed
    (clock_was_set -> hrtimer retrigger).  All-or-nothing: the new keys are
    computed first, then each timer moves (stable insertion sort: FIFO kept).
    Task context."""
    core.local_bh_disable()
    try:
        _b._fix()
        off = _kt.clock_offset
        moves = []
        for t in _b._heap:
            if t._f & _RANKS:
                o = off(_b._CLOCK_OF[(t._f & _RANKS) >> 3])
                if o != t._o:
                    moves.append((t, t._e + t._o - o, o))
        for t, e, o in moves:
            t._e = e
            t._o = o
        h = _b._heap
        le = _b._le
        for i in range(len(h) - 2, -1, -1):  # latest first: sink each into the sorted tail
            t = h[i]
            j = i
            while j + 1 < len(h) and not le(h[j + 1], t):
                h[j] = h[j + 1]
                j += 1
            h[j] = t
        _b._reprogram(True)
    finally:
        core.local_bh_enable()


def queue_check(*timers):
    """Invariant check for tests (ktimers.hrtimer_base.queue_check): order,
    epochs and states; the hard head (if any) is at the head; each timer given
    is queued exactly when it says so.  Returns the queue length; raises
    AssertionError if broken."""
    h = _b._heap
    i_ = _b._i
    ep = core._ep
    for i, t in enumerate(h):
        assert t._f & _ENQUEUED or t is i_._zombie, "hrtimer %d in queue but not ENQUEUED" % t.trace_id
        assert t._p == ep, "hrtimer %d keyed to epoch %d, not %d" % (t.trace_id, t._p, ep)
        if i and not (i == len(h) - 1 and t is i_._hard_head):
            assert _b._le(t, h[i - 1]), "queue order broken at %d" % i
    for t in timers:
        q = bool(t._f & _ENQUEUED)
        inq = 0 < h.count(t) if h else False
        assert q == inq, "hrtimer %d: ENQUEUED=%r but in queue=%r" % (t.trace_id, q, inq)
    hh = i_._hard_head
    if hh is not None and hh._f & _ENQUEUED:
        assert h and h[-1] is hh, "hard head %d not at the head" % hh.trace_id
    return len(h)
