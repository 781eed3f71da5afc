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
while it runs can resize the dict it is reading.

This module is the hrtimer class; the calls are the C core's
(_ktimers.hrtimer_calls) where the firmware has it, else their pure-Python
reference ktimers._hrtimer_calls (contexts and costs there).  The queue, the
clock event programming, hard dispatch and hang protection are in
ktimers.hrtimer_base (algorithm notes there).
"""

from micropython import const
from . import core

try:  # the C core: the queue's functions in flash, its state a module dict (hrtimer_base.c)
    from _ktimers import hrtimer_base as _b

    _b = _b()  # ktimers.hrtimer_base, made and attached to the running core (once)
except ImportError:
    from . import hrtimer_base as _b
from . import defs as _defs  # the modes (HRTIMER_* also through __getattr__ below)
import sys as _sys

# what the calls reach through this module (so a test can stand in for them): ktime's
# clock offsets and saturating add, printk's current module, the tracer
_tr = core.tracer()  # ktimers.trace, or while it is not loaded a stand-in (off)
from . import ktime as _kt
_pk = _sys.modules["ktimers.printk"]  # not `from .`: the package binds printk() there

_ENQUEUED = const(1)
_HARD = const(4)
_RANKS = const(0x18)

_tid = 0


class hrtimer:
    """struct hrtimer.  `function(timer)` returns HRTIMER_RESTART/NORESTART.

    Memory: class attributes are defaults shared by every instance; an
    instance stores only what differs (function, _e, _f, _p: a 4-entry
    attribute table).  _f packs state (bits 0-1), HARD (bit 2), clock base
    (bits 3-4) and trace_id (bits 8-23); see ktimers.hrtimer_base."""

    function = None
    _e = 0  # hard expiry, ns since epoch _p (the queue key while queued)
    _p = 0  # epoch of _e
    _d = 0  # hard - soft expiry (range), ns
    _o = 0  # clock offset from MONOTONIC applied to _e
    _f = 0
    _owner = None
    _container = None

    def __init__(self):
        global _tid
        _tid = _tid % 0x7FFF + 1
        self._f = (0x7FFF + _tid) << 8  # trace_id 0x8000..0xFFFE: a u16 trace field

    def __getattr__(self, name):
        # Views computed on a miss only: no property on the class, so storing
        # the hot attributes stays a plain instance store.  Setting trace_id
        # stores a real attribute that then wins.
        if name == "trace_id":
            return self._f >> 8
        if name == "_state":  # the kernel's state bits
            return _state_of(self)
        if name == "_hard":
            return bool(self._f & _HARD)
        if name == "_clock":
            return _b._CLOCK_OF[(self._f & _RANKS) >> 3]
        if name == "_expires":
            return _expires_of(self)
        if name == "_softexpires":
            return _expires_of(self) - self._d
        if name == "_key":  # monotonic hard expiry
            return self._e + self._p * core._EP_NS
        if name == "_skey":
            return self._e - self._d + self._p * core._EP_NS
        if name == "_seq":  # FIFO rank among equal keys (list position, head last)
            return -_b._heap.index(self) if self._f & _ENQUEUED else 0
        raise AttributeError(name)

    def __repr__(self):
        return "<hrtimer %d expires=%d state=%d>" % (self.trace_id, _expires_of(self), _state_of(self))


_b._H = _sys.modules[__name__]  # the calls find the class, _kt and _pk here

# The calls: the C core's (flash, no heap) where the firmware has it, else their
# pure-Python reference, ktimers._hrtimer_calls
try:
    from _ktimers import hrtimer_calls as _f

    _f = _f()
except ImportError:
    from . import _hrtimer_calls as _f

hrtimer_setup = _f.hrtimer_setup
hrtimer_start_range_ns = _f.hrtimer_start_range_ns
hrtimer_start = _f.hrtimer_start
hrtimer_try_to_cancel = _f.hrtimer_try_to_cancel
hrtimer_cancel = _f.hrtimer_cancel
hrtimer_forward = _f.hrtimer_forward
hrtimer_forward_now = _f.hrtimer_forward_now
hrtimer_active = _f.hrtimer_active
hrtimer_get_expires = _f.hrtimer_get_expires
# for ktimers._hrtimer_ext and sleep
_hrtimer_init = _f._hrtimer_init
_hrtimer_start_range_ns = _f._hrtimer_start_range_ns
_hrtimer_try_to_cancel = _f._hrtimer_try_to_cancel
_state_of = _f._state_of
_expires_of = _f._expires_of
_check = _f._check
_check_int = _f._check_int
_check_mode = _f._check_mode
_locked = _f._locked
_now_of = _f._now_of


def __getattr__(name):
    # the rarely used calls load on first use (ktimers._hrtimer_ext: hrtimer_init,
    # *_expires*, hrtimer_restart, hrtimer_get_remaining, clock_was_set ...), and the
    # modes and restart values come from ktimers.defs
    if name.startswith("HRTIMER_"):
        return getattr(_defs, name)
    m = _sys.modules.get("ktimers._hrtimer_ext")
    if m is None:
        __import__("ktimers._hrtimer_ext")
        m = _sys.modules["ktimers._hrtimer_ext"]
    return getattr(m, name)

