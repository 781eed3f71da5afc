"""ktimers.trace -- a preallocated ring of timer events (like the kernel's
timer:* and hrtimer:* tracepoints), stamped with the raw clocksource counter.

Usage:
    import ktimers.trace as trace
    trace.enable(4096)          # preallocate 4096 records, clear
    ...                         # run timers
    cs_hz, cs_mask, hz, count, dropped = trace.meta()
    for code, tid, ts, a, b in trace.records(): ...

Record (5 int32 words): code, timer trace_id, ts (raw counter), a, b.

    code  event                  a                         b
    1     timer_start            expires & 0x3FFFFFFF      jiffies & 0x3FFFFFFF
    2     timer_expire_entry     expires & 0x3FFFFFFF      jiffies & 0x3FFFFFFF
    3     timer_expire_exit      0                         0
    4     timer_cancel           0                         0
    5     hrtimer_start          soft expiry (raw, ceil)   hard expiry (raw, ceil)
    6     hrtimer_expire_entry   soft expiry (raw, ceil)   1 if in hard IRQ
    7     hrtimer_expire_exit    restart (0/1)             0
    8     hrtimer_cancel         0                         0

record() is called from hard IRQ: it stores small ints into a preallocated
array('i') and touches module globals only, so it allocates nothing.  O(1).
When the ring is full the oldest record is overwritten and `dropped` counts it.
It writes a record with interrupts off (the backend's irq_save): a record made
in task or softirq context that a hard IRQ interrupted to record its own
would otherwise share a slot with it (a torn record) and skip the next one (a
stale record from the ring's previous lap).

Tracing off costs nothing: `enabled` is a plain module global (a bool), True
only between enable() and disable().  Call sites test it before building
the record, so an expiry with tracing off makes no call at all (not even the
counter read for the timestamp):

    from . import trace as _tr
    ...
    if _tr.enabled:
        _tr.record(_tr.HRTIMER_EXPIRE_ENTRY, t.trace_id, hw.cs_read(), a, b)

(one module-attribute load and a branch; record() keeps its own check, so
an unguarded call site stays correct, only slower).
"""

from array import array
from . import core as _core  # core imports only jiffies: no cycle

TIMER_START = 1
TIMER_EXPIRE_ENTRY = 2
TIMER_EXPIRE_EXIT = 3
TIMER_CANCEL = 4
HRTIMER_START = 5
HRTIMER_EXPIRE_ENTRY = 6
HRTIMER_EXPIRE_EXIT = 7
HRTIMER_CANCEL = 8
NAMES = (
    None,
    "timer_start",
    "timer_expire_entry",
    "timer_expire_exit",
    "timer_cancel",
    "hrtimer_start",
    "hrtimer_expire_entry",
    "hrtimer_expire_exit",
    "hrtimer_cancel",
)

_buf = array("i")
_n = 0
_head = 0
_count = 0
_dropped = 0
_on = False
enabled = False  # public: test before calling record() (see the docstring)
_mask = 0  # event codes to record (bit per code), 0 = all


def enable(n=1024, events=None):
    """Preallocate n records, clear, start recording.  Task context.
    events: optional iterable of codes to record (default all)."""
    global _buf, _n, _head, _count, _dropped, _on, _mask, enabled
    if not isinstance(n, int) or n <= 0:
        raise ValueError("trace.enable: n must be a positive int, got %r" % (n,))
    _on = enabled = False
    _buf = None
    _buf = array("i", bytearray(20 * n))
    _n = n
    _head = _count = _dropped = 0
    _mask = 0
    if events is not None:
        for c in events:
            _mask |= 1 << c
    _on = enabled = True
    _changed(True)


def _changed(on):
    # The timer code loaded before this module holds the C core's stand-in as _tr
    # (core.tracer): bind this module there.  The hrtimer IRQ paths keep their own copy
    # of `enabled` (a hard-IRQ global).
    import sys

    me = sys.modules[__name__]
    for n in ("timer", "hrtimer", "_hrtimer_calls", "hrtimer_base", "hrtimer_softirq", "hrtimer_irq", "hrtimer_irq_n"):
        m = sys.modules.get("ktimers." + n)
        if m is not None:
            m._tr = me
    hb = sys.modules.get("ktimers.hrtimer_base")
    if hb is not None:
        hb._i._tr = me
        hb._trace_changed(on)


def disable():
    """Stop recording; records stay readable."""
    global _on, enabled
    _on = enabled = False
    _changed(False)


def clear():
    global _head, _count, _dropped
    _head = _count = _dropped = 0


def record(code, tid, ts, a, b):
    # Any context, allocation-free (see module docstring).
    global _head, _count, _dropped
    if not _on or (_mask and not (_mask >> code) & 1):
        return
    hw = _core.hw
    st = hw.irq_save()  # a hard IRQ recording in between would tear this record
    i = _head * 5
    buf = _buf
    buf[i] = code
    buf[i + 1] = tid
    buf[i + 2] = ts
    buf[i + 3] = a
    buf[i + 4] = b
    _head += 1
    if _head == _n:
        _head = 0
    if _count < _n:
        _count += 1
    else:
        _dropped += 1
    hw.irq_restore(st)


def meta():
    """(cs_hz, cs_mask, hz, count, dropped)."""
    return _core.CS_HZ, _core.CS_MASK, _core.HZ, _count, _dropped


def records():
    """Iterate (code, id, ts, a, b) oldest first.  Task context."""
    start = (_head - _count) % _n if _n else 0
    for k in range(_count):
        i = ((start + k) % _n) * 5
        yield _buf[i], _buf[i + 1], _buf[i + 2], _buf[i + 3], _buf[i + 4]


def raw():
    """(array, first index, count): the ring itself, for fast dumpers."""
    start = (_head - _count) % _n if _n else 0
    return _buf, start, _count
