"""ktimers.hrtimer_softirq -- HRTIMER_SOFTIRQ: __hrtimer_run_queues, the
callback run (__run_hrtimer) and hang protection (hrtimer_interrupt's).

Runs every queued hrtimer whose soft expiry has passed, head first (the
queue's last element), each taken off the list before its callback and put
back on HRTIMER_RESTART into the slot it left (allocation-free); then
reprograms the clock event once.  Hang protection: after 3 passes that still
find expired timers, log "hrtimer: interrupt took N ns", back off min(N,
100 ms), count nr_hangs.  A callback storm cannot lock the board.

    pass  expired at start   ran   still expired after   action
    1     A, B               A, B  A (restarted, overdue) pass again
    3     A                  A     A                     hang: back off

Softirq context; the queue itself is ktimers.hrtimer_base's.  Where the C
core's clock event handlers run, their object runs this too (_run_softirq,
_finish in firmware/cmodules/ktimers/hrtimer_irq.c) and this module does not
load.
"""

from micropython import const
from . import core
_tr = core.tracer()  # ktimers.trace, or while it is not loaded a stand-in (off)
_pk = __import__("sys").modules["ktimers._printk"]  # printk's state and engine
from . import hrtimer_base as _b

_ENQUEUED = const(1)
_CALLBACK = const(2)
_HANG_MAX_NS = const(100_000_000)

_i = _b._i
nr_retries = 0
nr_hangs = 0
max_hang_time = 0


def _run_softirq():
    # HRTIMER_SOFTIRQ: run expired timers, then reprogram.  Softirq context.
    _b._fix()
    _b._in_run = True
    try:
        hang = _run_queues()
    finally:
        _b._in_run = False
    if not hang:
        _b._reprogram(True)


def _run_queues():
    global nr_retries, nr_hangs, max_hang_time
    _i._s_head = None
    start = now = core.now_rel()
    passes = 0
    h = _b._heap
    while True:
        budget = len(h)
        while h and budget:
            t = h[-1]
            if t._e - t._d > now:
                break
            budget -= 1
            h.pop()
            _run_one(t)
        passes += 1
        now = core.now_rel()
        if not h or h[-1]._e - h[-1]._d > now:
            break
        nr_retries += 1
        if passes >= 3:
            took = now - start
            nr_hangs += 1
            if took > max_hang_time:
                max_hang_time = took
            if nr_hangs == 1:
                _pk._log(4, "hrtimer: interrupt took %d ns", (took,), False)
            delay = took if took < _HANG_MAX_NS else _HANG_MAX_NS
            core.hw.ce_set_next(_b._clamp_cyc(core.ns_to_cycles_up(delay)), _i._ce_irq)
            _b._ce_mode = _i._ce_irq
            _b._expires_next = None
            return True
    return False


def _run_one(t):
    # __run_hrtimer: t is already off the list; run it, requeue on RESTART.
    # Softirq context.
    t._f = t._f & ~3 | _CALLBACK
    ow = t._owner
    prev = _pk._cur_module
    if ow is not prev:
        _pk._cur_module = ow
    if _tr.enabled:
        _tr.record(6, t.trace_id, core.hw.cs_read(), _b._raw_at(t._e - t._d), 0)
    try:
        r = t.function(t)
    except Exception as e:
        core.log_callback_error("hrtimer", t, e)
        r = 0
    finally:
        if ow is not prev:
            _pk._cur_module = prev
    _finish(t, r)


def _finish(t, r):
    # after the callback: the state, and the requeue on RESTART (its list slot
    # was freed by the pop: no growth, allocation-free)
    f = t._f
    if r != 0 and r != 1:
        _b._warn_ret(t, repr(r))
        r = 0
    if f & _ENQUEUED:  # restarted by hrtimer_start from the callback
        t._f = f & ~_CALLBACK
    elif r == 1:
        try:
            _b._insert(t)
        except MemoryError:
            t._f = f & ~3
            raise
        t._f = f ^ 3  # CALLBACK -> ENQUEUED
    else:
        t._f = f & ~3
    if _tr.enabled:
        _tr.record(7, t.trace_id, core.hw.cs_read(), r, 0)
