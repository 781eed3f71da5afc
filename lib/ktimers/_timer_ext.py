"""ktimers._timer_ext -- the rarely used timer_list calls, loaded on first
use through the package (or ktimers.timer's __getattr__): the legacy
(pre-4.15) init_timer/setup_timer, DEFINE_TIMER, add_timer_on, the
timer_shutdown pair and timer_delete_sync_try.  Task context.

    from ktimers import *
    t = timer_list()
    setup_timer(t, fn, 1234)      # legacy: fn(1234) runs on expiry
    t.expires = jiffies() + HZ
    add_timer(t)
"""

import sys

_T = sys.modules["ktimers"]._mod("timer")
# timer.py's state word (its const()s are not module attributes)
_Q = 0x3FF
_RUN = 0x400
_LEGACY = 0x800


def DEFINE_TIMER(callback, flags=0):
    """Return a timer_list set up with callback (DEFINE_TIMER(name, fn))."""
    t = _T.timer_list()
    _T.timer_setup(t, callback, flags)
    return t


def init_timer(timer):
    """Legacy (pre-4.15): initialise; set .function, .data, .expires after."""
    _T._check_timer("init_timer", timer)
    if timer._s & _Q:
        _T._detach(timer)
    timer._s |= _LEGACY


def setup_timer(timer, function, data=0):
    """Legacy: function(data) runs on expiry."""
    init_timer(timer)
    if not callable(function):
        raise TypeError("setup_timer: function must be callable")
    timer.function = function
    timer.data = data


def add_timer_on(timer, cpu):
    """add_timer on CPU `cpu`: this is a uniprocessor, only cpu 0 exists."""
    if cpu != 0:
        raise ValueError("add_timer_on: cpu must be 0 (uniprocessor), got %r" % (cpu,))
    _T.add_timer(timer)


def timer_delete_sync_try(timer):
    """-1 if the callback is running, else as timer_delete()."""
    _T._check_timer("timer_delete_sync_try", timer)
    if timer._s & _RUN:
        return -1
    return _T.timer_delete(timer)


def timer_shutdown(timer):
    """Deactivate and set function to None: later arms are ignored until
    timer_setup() again.  Returns as timer_delete()."""
    r = _T.timer_delete(timer)
    timer.function = None
    return r


def timer_shutdown_sync(timer):
    r = _T.timer_delete_sync(timer)
    timer.function = None
    return r


try_to_del_timer_sync = timer_delete_sync_try
