"""ktimers.hrtimer_irq -- the clock event device's handlers (hrtimer_interrupt).

The hot half of ktimers.hrtimer_base, kept apart so that it can run as machine
code.  Where the firmware has ktimers' C core, hrtimer_base takes its C twin
(firmware/cmodules/ktimers/hrtimer_irq.c: these statements in C, this module's
globals as the attributes of one object).  Elsewhere `flash` also compiles this
module with `mpy-cross -X emit=native` for the board's arch into
hrtimer_irq_n.mpy (firmware/manifests/native.py freezes it too), and
hrtimer_base imports that, else this pure-Python module (unix sources, a board
profile without an arch, firmware that cannot load native code).
ktimers.init(IRQ_CODE="native-mpy" or "bytecode") picks those.  All three
behave alike; machine code only runs faster.  (No bare `raise` here:
mpy-cross's native emitter does not take it.)

    board profile     mpy_arch    the handlers run as
    mps2-an385        armv7m      C (the emulated firmwares have the C core)
    rp2-pico          armv6m      native (hrtimer_irq_n.mpy), C with the C core
    pyboard           armv7emsp   native, C with the C core
    esp32             xtensawin   native, C with the C core
    unix              x64         bytecode (.py sources)
    generic-machine   -           bytecode

Handlers.  _ce_irq (hard IRQ) serves the HARD head: when the event was
programmed for its own expiry (_sure) the device cannot have fired early, so
its callback is called at once; a counter read against _hs_raw otherwise.
Bookkeeping (next expiry, reprogramming) after the callback, small ints only.
_forward_irq is hrtimer_forward_now from that callback.  _ce_soft (scheduled)
serves the SOFT head the same way, then the rest of HRTIMER_SOFTIRQ.  All of
the state below is set by hrtimer_base (task/softirq context, interrupts off
where the IRQ reads it).
"""

from micropython import const
from . import core
_tr = core.tracer()  # ktimers.trace, or while it is not loaded a stand-in (off)
_pk = __import__("sys").modules["ktimers._printk"]  # printk's state (_cur_module)

_SMALL_MAX = const(0x3FFFFFFF)

_heap = None  # hrtimer_base's sorted list (head last)
_finish = None  # hrtimer_base._finish(t, r)
_hard_head = None  # HARD timer at the head, dispatched from the IRQ
_zombie = None  # hard head whose IRQ callback ended it (still listed)
_hs_raw = 0  # raw counter: the hard head's soft expiry (rounded up)
_ha_raw = 0  # raw counter: its hard expiry (rounded up): the event
_lim_raw = 0  # raw counter: the next other event; past it the IRQ raises HRTIMER_SOFTIRQ
_lim = False
_moved = False  # the IRQ forwarded the hard head
_h_defer = None  # interval the IRQ left to the softirq
_irq_exc = None  # a hard callback's exception, logged by the softirq
_irq_exc_t = None
_irq_badret = None  # hard callback returned neither NORESTART nor RESTART
_irq_run = None  # the hard head while its callback runs (state CALLBACK)
_h_fn = None  # its callback, bound when it became the hard head
_sure = False  # the event was programmed for the hard head's own expiry
_trc = False  # tracing on (mirrors trace.enabled)
_s_head = None  # SOFT head served by _ce_soft
_ss_raw = 0  # raw counter: its soft expiry (rounded up)
_s_fn = None
_s_fast = False  # no owner module, no trace, not a DIRECT backend: the short path
_cs = None  # the backend's counter read
_mask = 0
_half = 0
_npc = 0  # ns per counter cycle
_dmax = 0  # cycles since the epoch whose ns are still a small int
_imax = 0  # largest interval forwarded here: small, and within the device's reach
_rearm = None  # restart the clock event with the same handler
_cmin = 1
_cmax = 1
nr_events = 0
nr_irq_errors = 0


def _ce_irq(_):
    # hrtimer_interrupt, hard half.  Hard IRQ context: small ints only, O(1).
    # Any error still leaves the device programmed or HRTIMER_SOFTIRQ raised.
    global _irq_run, _irq_exc, _irq_exc_t, nr_events, _moved, _irq_badret, nr_irq_errors
    global _hard_head, _zombie, _hs_raw, _ha_raw, _sure
    t = _hard_head
    if t is None:
        nr_events += 1
        core.raise_softirq_irq(2)
        return
    try:
        if _sure or ((_cs() - _hs_raw) & _mask) < _half:
            if _trc:
                _tr.record(6, t.trace_id, _cs(), _hs_raw, 1)
            _irq_run = t  # state CALLBACK (hrtimer._state_of)
            r = _h_fn(t)  # an exception: below, as NORESTART
            _irq_run = None
            nr_events += 1
            if r != 0 and r != 1:
                _irq_badret = t
                r = 0
            if _trc:
                _tr.record(7, t.trace_id, _cs(), r, 0)
            if r != 1 or not _moved or _h_defer is not None:
                if r != 1:
                    t._f &= ~3  # inactive (still listed: _fix drops it)
                    _hard_head = None
                    _zombie = t
                _sure = False
                core.raise_softirq_irq(2)
                return
            _moved = False
            # the forwarded expiry, on raw counter values (small ints, masked)
            er = core._ep_raw
            c = -(-(t._e - t._d) // _npc)
            _hs_raw = core.raw_add(er, c) if c >= 0 else (er + c) & _mask
            _ha_raw = core.raw_add(er, -(-t._e // _npc))
        else:
            nr_events += 1
        # next event: the hard head again, or the next queued event if sooner;
        # once that one is due, only the softirq can serve it (no IRQ storm)
        at = _ha_raw
        sure = True
        if _lim:
            if ((_cs() - _lim_raw) & _mask) < _half:
                core.raise_softirq_irq(2)
            elif ((at - _lim_raw) & _mask) < _half:
                at = _lim_raw
                sure = False
        _sure = sure  # (no other clock event can run before _rearm below)
        d = (at - _cs()) & _mask  # read last: the device counts from when it is started
        if d >= _half or d < _cmin:
            d = _cmin
        elif d > _cmax:
            d = _cmax
            _sure = False
        _rearm(d)
    except BaseException as e:  # noqa: the device must keep firing
        _sure = False
        if _irq_run is not None:  # the callback raised: logged by the softirq, timer ends
            _irq_run = None
            nr_events += 1
            _irq_exc = e
            _irq_exc_t = t
            t._f &= ~3
            _hard_head = None
            _zombie = t
        else:
            nr_irq_errors += 1
        core.raise_softirq_irq(2)


def _program(at, start):
    # Start the clock event for raw counter value `at` (hrtimer_base._reprogram,
    # interrupts off).  The counter is read last and the device started at once:
    # it counts from when it is started, so every instruction in between is
    # lateness (here native code; bytecode took ~2 us more on mps2).  O(1).
    d = (at - _cs()) & _mask
    if d >= _half or d < _cmin:
        start(_cmin)
    elif d > _cmax:
        start(_cmax)
    else:
        start(d)


def _forward_irq(t, interval):
    # hrtimer_forward_now from the hard head's own callback in hard IRQ:
    # hrtimer_base._forward_rel's arithmetic on ns since the epoch, small ints
    # only.  What needs a heap int is left to the softirq (_h_defer).  O(1).
    global _moved, _h_defer
    d = (_cs() - core._ep_raw) & _mask
    if type(interval) is not int or d > _dmax or not 1 <= interval <= _imax:
        # (not an int: the softirq logs the TypeError, as hrtimer.py raises it)
        _h_defer = interval
        _moved = True
        return 1
    now = d * _npc
    delta = now - t._e
    if delta < 0:
        return 0
    if delta > _SMALL_MAX - interval or now > _SMALL_MAX - interval:
        _h_defer = interval
        _moved = True
        return 1
    orun = delta // interval + 1
    t._e += orun * interval
    _moved = True
    return orun


def _ce_soft(_):
    # The clock event delivered through the schedule queue (softirq context).
    # Short path: the attached SOFT head, due on the counter, nothing holding
    # softirqs off or pending before us -> its callback at once; the rest of
    # HRTIMER_SOFTIRQ (requeue, other due timers, reprogramming) after it.
    global nr_events, _s_head
    t = _s_head
    c = core
    if t is not None and _s_fast and ((_cs() - _ss_raw) & _mask) < _half:
        if not (c._softirq or c._bh or c._pending) and _pk._cur_module is None:
            _s_head = None
            _heap.pop()
            t._f ^= 3  # ENQUEUED -> CALLBACK
            c._softirq += 1
            try:
                try:
                    r = _s_fn(t)
                except Exception as e:
                    c.log_callback_error("hrtimer", t, e)
                    r = 0
                _finish(t, r)
            finally:
                c._softirq -= 1
            nr_events += 1
            c._ce_watch = False
            st = c.hw.irq_save()
            c._pending |= 2
            c.hw.irq_restore(st)
            c.run_softirq()
            return
    # long path: HRTIMER_SOFTIRQ, in vector order after a pending TIMER_SOFTIRQ
    nr_events += 1
    if c._direct and ((_cs() - c._tick_raw) & _mask) >= c._tick_cyc:
        c.raise_softirq_irq(2)  # a jiffy is due at this instant: the tick runs first
        return
    st = c.hw.irq_save()
    c._pending |= 2
    c.hw.irq_restore(st)
    c.run_softirq()
