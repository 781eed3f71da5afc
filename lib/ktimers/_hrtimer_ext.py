"""ktimers._hrtimer_ext -- the rarely used hrtimer calls, loaded on first use
through the package (or ktimers.hrtimer's __getattr__): the pre-6.15
hrtimer_init, hrtimer_start_expires/hrtimer_restart, the expiry setters and
getters beyond hrtimer_get_expires, hrtimer_is_queued,
hrtimer_callback_running and clock_was_set.  Task/softirq context.

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
_ENQUEUED = const(1)
_CALLBACK = const(2)


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
    """Re-key REALTIME/TAI timers after the realtime offset changed."""
    core.local_bh_disable()
    try:
        return _H._b._clock_was_set()
    finally:
        core.local_bh_enable()
