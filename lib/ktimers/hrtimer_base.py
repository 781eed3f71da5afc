"""ktimers.hrtimer_base -- the hrtimer queue and the clock event device
(struct hrtimer_cpu_base / hrtimer_clock_base, hrtimer_interrupt).

Queue.  Pending timers sit in one list sorted on the monotonic hard expiry
(soft expiry + range delta), then clock base, latest first: the next timer
to expire is the last element, so taking it is list.pop() and a restart
inserts it back (binary search, O(log n) compares plus a C memmove).  Among
equal keys a new timer goes before the older ones: FIFO, with no sequence
number.  The clock event device is programmed one-shot for the head's hard
expiry and reprogrammed only when that changes.  On expiry every timer whose
soft expiry has passed runs, so timers started with hrtimer_start_range_ns()
coalesce into one event:

    timer  soft   delta  hard     event programmed at 120 (A's hard expiry):
    A      100    20     120      at 120 A runs, and B runs too (soft 110 <= 120),
    B      110    30     140      C waits (soft 150): two timers, one interrupt.
    C      150    0      150

Small ints.  A timer keeps its hard expiry as _e ns since epoch _p (see
ktimers.core: the softirq moves the epoch every ~268 ms and _rebase() shifts
every queued _e by the same ns, so the queue compares plain small ints and
one periodic expiry allocates nothing).  _d is hard - soft (class default 0),
_o the clock's offset from MONOTONIC when queued (0 for MONOTONIC), and the
public expiry is _e + _p * core._EP_NS + _o: exact ns (hrtimer_resolution
1 ns).  A timer not queued keeps its own _p, so its expiry stays valid when
the epoch moves.  State, HARD mode, clock base and trace id share one small
int _f.  Per queued timer: the instance (16 B), a 4-entry attribute table
(function, _e, _f, _p: 32 B) and its list slot.

    key _e (ns since epoch)   after _rebase(268435440)   public expiry
    1000000                   -267435440                 unchanged

Dispatch.  A HARD timer at the head (on a board with hard IRQs) is served by
the clock event's hard IRQ itself, _ce_irq: one counter read against the
precomputed raw counter value of its soft expiry (_hs_raw, wrap-safe), then
the callback; bookkeeping after it.  hrtimer_forward_now() from that
callback adds intervals to _e on small ints (_forward_irq); an interval it
cannot add without a heap int is left to the softirq (_h_defer).  A SOFT
head on a backend that can deliver the clock event through the schedule
queue (CE_SOFT) is served by _ce_soft: the scheduled handler runs the due
head at once, then the rest of HRTIMER_SOFTIRQ.  A dropped delivery (full
schedule queue) is caught by the tick (core._ce_watch).  Any other event
raises HRTIMER_SOFTIRQ (_run_softirq).  Task/softirq code first takes the
hard head out of IRQ dispatch (_fix, with interrupts off) and _reprogram()
puts it back.

All-or-nothing.  Every queue operation computes what may allocate (64-bit ns
arithmetic, list growth) before it changes anything.  queue_check() verifies
order, states and the hard head.

Hang protection (hrtimer_interrupt): after 3 passes that still find expired
timers, log "hrtimer: interrupt took N ns", back off min(N, 100 ms), count
nr_hangs.  A callback storm cannot lock the board.

Contexts: _ce_irq and _forward_irq run in hard IRQ; _ce_soft and _run_softirq
in HRTIMER_SOFTIRQ; the rest in task/softirq context with softirqs held off
by the caller (ktimers.hrtimer wraps every queue operation in local_bh_disable).
"""

from micropython import const
from . import core
from . import trace as _tr
from . import ktime as _kt
from . import printk as _pk
from . import bug as _bug

_ENQUEUED = const(1)
_CALLBACK = const(2)
_HARD = const(4)
_RANKS = const(0x18)  # clock base order << 3: MONOTONIC 0, REALTIME, BOOTTIME, TAI
_HANG_MAX_NS = const(100_000_000)
_SMALL_MAX = const(0x3FFFFFFF)

_heap = []  # sorted, latest first: the head is _heap[-1]
_expires_next = None  # key the clock event is programmed for
_ce_mode = None  # handler it was programmed with
_hard_head = None  # HARD timer at the head, dispatched from the IRQ
_zombie = None  # hard head whose IRQ callback ended it (still listed)
_hs_raw = 0  # raw counter: the hard head's soft expiry (rounded up)
_ha_raw = 0  # raw counter: its hard expiry (rounded up): the event
_lim_raw = 0  # raw counter: the next other event; past it the IRQ raises HRTIMER_SOFTIRQ
_lim = False
_moved = False  # the IRQ forwarded the hard head
_h_defer = None  # interval the IRQ left to the softirq
_irq_exc = None
_irq_exc_t = None
_irq_badret = None  # hard callback returned neither NORESTART nor RESTART
_in_run = False
_irq_run = None  # the hard head while its callback runs in hard IRQ (state CALLBACK)
_h_fn = None  # its callback, bound when it became the hard head
_sure = False  # the event was programmed for the hard head's own expiry: due on arrival
_trc = False  # tracing on (mirrors trace.enabled, read in hard IRQ)
_s_head = None  # SOFT head served by _ce_soft
_ss_raw = 0  # raw counter: its soft expiry (rounded up)
_s_fn = None
_s_fast = False  # no owner module, no trace, not a DIRECT backend: the short path
_scratch = []  # _rebase: far keys (heap ints) computed before the commit
# bound by _reset: what the IRQ paths read (module globals, no attribute chains)
_cs = None
_mask = 0
_half = 0
_npc = 0
_dmax = 0
_hard_ok = False
_soft_ok = False
_rearm = None  # restart the clock event with the same handler (hard IRQ)
_rearm_any = None  # the backend's own (ce_rearm), else None
_cmin = 1
_cmax = 1
_cmax_ns = -1
nr_events = 0
nr_retries = 0
nr_hangs = 0
nr_reprograms = 0
nr_irq_errors = 0
max_hang_time = 0
hrtimer_resolution = 1  # ns: exact arithmetic (high-resolution mode)
_RANK = {1: 0, 0: 1, 7: 2, 11: 3}  # base order: MONOTONIC, REALTIME, BOOTTIME, TAI
_CLOCK_OF = (1, 0, 7, 11)


def _reset():
    global _heap, _expires_next, _hard_head, _zombie, _h_defer, _irq_exc, _irq_exc_t, _irq_badret
    global _cs, _mask, _half, _npc, _dmax, _hard_ok, _soft_ok, _ce_mode, _rearm, _cmin, _cmax
    global _irq_run, _s_head, _sure, _trc, _rearm_any, _cmax_ns
    for t in _heap:
        t._f &= ~3
    _heap = []
    _expires_next = _ce_mode = None
    _hard_head = _zombie = _h_defer = _irq_run = _s_head = None
    _sure = False
    _trc = _tr.enabled
    _irq_exc = _irq_exc_t = _irq_badret = None
    hw = core.hw
    _cs = hw.cs_read
    _mask = core.CS_MASK
    _half = core._HALF
    _npc = core.NS_PER_CYC
    _dmax = _SMALL_MAX // _npc if _npc else 0
    _hard_ok = bool(hw.HARD_IRQ and _npc)
    _soft_ok = bool(getattr(hw, "CE_SOFT", False))
    _cmin, _cmax = hw.CE_MIN_CYC, hw.CE_MAX_CYC
    _cmax_ns = _cmax * _npc if _npc else -1  # (a heap int, made once)
    _rearm_any = _rearm = getattr(hw, "ce_rearm", None)
    if _rearm is None:

        def _rearm(c):  # a closure, made once: calling it allocates nothing
            hw.ce_set_next(c, _ce_irq)

    core._ce_watch = False


def _trace_changed(on):
    # trace.enable()/disable(): the IRQ paths pick it up (the short SOFT path
    # has no trace points: off until the next reprogram)
    global _trc, _s_fast
    _trc = on
    _s_fast = False


# --- the sorted list ----------------------------------------------------------


def _le(a, b):
    # a's key <= b's: hard expiry, then clock base (equal expiries run base by base)
    if a._e != b._e:
        return a._e < b._e
    return a._f & _RANKS <= b._f & _RANKS


def _pos(t, hi):
    # first index below hi whose key <= t's (latest first).  O(log n), no allocation
    h = _heap
    lo = 0
    while lo < hi:
        m = (lo + hi) >> 1
        if _le(h[m], t):
            hi = m
        else:
            lo = m + 1
    return lo


def _insert(t):
    # list growth is the one allocation, done by insert before it moves anything
    _heap.insert(_pos(t, len(_heap)), t)


def _remove(t):
    # allocation-free: a shrink leaves room for the next insert (alloc/2 > len)
    global _s_head
    if t is _s_head:
        _s_head = None
    h = _heap
    i = _pos(t, len(h))
    while h[i] is not t:
        i += 1
    del h[i]


def _settle():
    # the head's key grew (forwarded in IRQ): move it left to its place.  O(k)
    h = _heap
    i = len(h) - 1
    t = h[i]
    while i and _le(h[i - 1], t):
        h[i] = h[i - 1]
        i -= 1
    h[i] = t


def _fix():
    """Take the hard head out of IRQ dispatch and fold what its IRQ did back
    into the queue.  Task/softirq context; every queue operation starts here."""
    global _hard_head, _zombie, _h_defer, _irq_exc, _irq_exc_t, _irq_badret, _moved
    t = _hard_head
    z = _zombie
    if t is not None or z is not None:
        hw = core.hw
        st = hw.irq_save()
        _hard_head = _zombie = None
        iv = _h_defer
        _h_defer = None
        _moved = False
        hw.irq_restore(st)
        h = _heap
        if z is not None and h and h[-1] is z and not z._f & 3:
            h.pop()  # its IRQ callback returned NORESTART
        elif t is not None and h and h[-1] is t:
            _settle()  # its IRQ may have forwarded it past others: O(1) if not
            if iv is not None and t._f & _ENQUEUED:  # the IRQ left this forward to us
                _remove(t)
                try:
                    _forward_abs(t, _abs_now(t), iv)
                finally:
                    _insert(t)
    if _irq_exc is not None:
        e, et = _irq_exc, _irq_exc_t
        _irq_exc = _irq_exc_t = None
        core.log_callback_error("hrtimer (hard)", et, e)
    if _irq_badret is not None:
        bt = _irq_badret
        _irq_badret = None
        _warn_ret(bt, "not 0/1 (hard)")


_sync = _fix  # older name (ktimers.proc)


def _warn_ret(t, r):
    _bug.WARN_ONCE(True, "hrtimer: callback of timer %d returned %s, not HRTIMER_NORESTART/RESTART", t.trace_id, r)


def _rebase(shift, ep):
    """The epoch moves by shift ns to epoch ep: every queued key moves with it.
    All-or-nothing: keys that would leave the small-int range (far timers)
    are computed into _scratch first (the only allocation).  O(n)."""
    global _expires_next
    _fix()
    h = _heap
    lo = -_SMALL_MAX + shift if shift <= _SMALL_MAX else None
    k = 0
    for t in h:
        e = t._e
        if lo is None or not lo <= e <= _SMALL_MAX:
            if k == len(_scratch):
                _scratch.append(None)
            _scratch[k] = e - shift
            k += 1
    k = 0
    for t in h:
        e = t._e
        if lo is None or not lo <= e <= _SMALL_MAX:
            t._e = _scratch[k]
            _scratch[k] = None
            k += 1
        else:
            t._e = e - shift
        t._p = ep
    _expires_next = None  # core reprograms once the epoch has moved


# --- exact ns -----------------------------------------------------------------


def _base(t):
    # ns of the timer's clock at its epoch (heap int)
    return t._p * core._EP_NS + t._o


def _abs_now(t):
    # now on the timer's clock, in ns.  Allocates
    c = _CLOCK_OF[(t._f & _RANKS) >> 3]
    n = core.ktime_get()
    return n + _kt.clock_offset(c) if c != 1 else n


def _set_abs(t, soft, hard):
    """Store expiries given in ns of the timer's clock (not queued).  Allocates
    first, then assigns."""
    ep = core._ep
    e = hard - ep * core._EP_NS - t._o
    d = hard - soft
    t._p = ep
    t._e = e
    if t._d != d:
        t._d = d


def _forward_abs(t, now, interval):
    """hrtimer_forward on ns of the timer's clock; saturates at KTIME_MAX.
    Returns the overrun count.  Allocates."""
    base = _base(t)
    hard = t._e + base
    delta = now - hard
    if delta < 0:
        return 0
    if interval < 1:
        interval = 1
    soft = hard - t._d
    add = _kt.ktime_add_safe
    orun = 1
    if delta >= interval:
        orun = delta // interval
        inc = interval * orun
        hard = add(hard, inc)
        soft = add(soft, inc)
        if hard > now:
            _set_abs(t, soft, hard)
            return orun
        orun += 1
    _set_abs(t, add(soft, interval), add(hard, interval))
    return orun


def _forward_rel(t, now, interval):
    """hrtimer_forward with now in the timer's own frame (ns since its epoch,
    its offset): small ints, allocation-free while they stay small."""
    delta = now - t._e
    if delta < 0:
        return 0
    if interval < 1:
        interval = 1
    if delta > _SMALL_MAX - interval or now > _SMALL_MAX - interval:
        return _forward_abs(t, now + _base(t), interval)  # large: exact, saturating
    orun = delta // interval + 1
    t._e += orun * interval
    return orun


# --- the clock event device ------------------------------------------------------


def _clamp_cyc(c):
    hw = core.hw
    if c < hw.CE_MIN_CYC:
        return hw.CE_MIN_CYC
    if c > hw.CE_MAX_CYC:
        return hw.CE_MAX_CYC
    return c


def _raw_at(ns):
    # raw counter at ns since the epoch, rounded up (never early); task/softirq
    c = core.ns_to_cycles_up(ns)
    if c < 0:  # before the epoch (an overdue timer): small ints
        return (core._ep_raw + c) & _mask
    return core.raw_add(core._ep_raw, c & _mask)


def _reprogram(force=False):
    """Program the clock event device for the head (tick_program_event), with
    the handler that serves it: _ce_irq for a HARD head (dispatched in hard
    IRQ), _ce_soft for a SOFT head where the backend delivers scheduled,
    else _ce_irq raising HRTIMER_SOFTIRQ.  Everything that allocates comes
    before the commit, which runs with interrupts off."""
    global _expires_next, _hard_head, _hs_raw, _ha_raw, _lim_raw, _lim, _moved, _h_defer
    global nr_reprograms, _ce_mode, _h_fn, _sure, _trc, _s_head, _ss_raw, _s_fn, _s_fast
    if _in_run:
        return  # _run_softirq reprograms once at the end
    hw = core.hw
    if _hard_head is not None or _zombie is not None:
        _fix()
    h = _heap
    if not h:
        _s_head = None
        if _expires_next is not None:
            st = hw.irq_save()
            hw.ce_stop()
            core._ce_watch = False
            hw.irq_restore(st)
            _expires_next = None
        return
    t = h[-1]
    hh = t if _hard_ok and t._f & _HARD and t._d // _npc <= _mask >> 2 else None
    fn = _ce_irq if hh is not None or not _soft_ok else _ce_soft
    if hh is None and t._e == _expires_next and fn is _ce_mode and not force and _s_head is t:
        return
    _trc = _tr.enabled
    d = t._e - core.now_rel()
    sure = d <= _cmax_ns
    at = _raw_at(t._e)  # the event: the head's hard expiry, rounded up
    if hh is not None:
        hs = _raw_at(t._e - t._d)
        ha = at
        lim = len(h) > 1
        lr = _raw_at(h[-2]._e) if lim else 0
        hf = t.function
    else:
        ss = _raw_at(t._e - t._d)
        sf = t.function
        fast = t._owner is None and not core._direct and not _trc
        wat = core.raw_add(at, core._tick_cyc)
    st = hw.irq_save()
    if hh is not None:
        _hs_raw = hs  # one by one: a 4+ target unpacking builds a tuple
        _ha_raw = ha
        _lim = lim
        _lim_raw = lr
        _h_fn = hf
        _sure = sure
        _moved = False
        _h_defer = None
        _s_head = None
        core._ce_watch = False
    else:
        _s_head = t
        _ss_raw = ss
        _s_fn = sf
        _s_fast = fast
        core._ce_watch_at = wat
        core._ce_watch = fn is _ce_soft
    _hard_head = hh
    # the counter is read last: the device counts from when it is started, so
    # every instruction between the read and the start is lateness
    if fn is _ce_mode and _rearm_any is not None:
        d = (at - hw.cs_read()) & _mask
        _rearm_any(_cmin if d >= _half or d < _cmin else _cmax if d > _cmax else d)
    else:
        d = (at - hw.cs_read()) & _mask
        cyc = _cmin if d >= _half or d < _cmin else _cmax if d > _cmax else d
        if fn is _ce_soft:
            hw.ce_set_next(cyc, fn, False)
        else:
            hw.ce_set_next(cyc, fn)
    hw.irq_restore(st)
    _ce_mode = fn
    _expires_next = t._e
    nr_reprograms += 1


def _ce_irq(_):
    # hrtimer_interrupt, hard half.  Hard IRQ context: small ints only.  The due
    # head's callback comes first (its lateness is read at its first statement):
    # when the event was programmed for its own expiry (_sure) the device cannot
    # have fired early, so not even the counter is read before the call.
    # Bookkeeping after it.  Any error still leaves the device programmed or
    # HRTIMER_SOFTIRQ raised.
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
            _irq_run = t  # state CALLBACK (see hrtimer._state_of)
            try:
                r = _h_fn(t)
            except Exception as e:
                _irq_exc = e
                _irq_exc_t = t
                r = 0
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
        d = (at - _cs()) & _mask  # read last: the device counts from when it is started
        if d >= _half or d < _cmin:
            d = _cmin
        elif d > _cmax:
            d = _cmax
            sure = False
        _sure = sure
        _rearm(d)
    except BaseException:  # noqa: the device must keep firing
        nr_irq_errors += 1
        _irq_run = None
        _sure = False
        core.raise_softirq_irq(2)


def _forward_irq(t, interval):
    # hrtimer_forward_now from the hard head's own callback in hard IRQ: the
    # same arithmetic as _forward_rel on ns since the epoch, small ints only.
    # What needs a heap int is left to the softirq (_h_defer).  O(1).
    global _moved, _h_defer
    d = (_cs() - core._ep_raw) & _mask
    if d > _dmax or not 1 <= interval <= _SMALL_MAX:
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


# --- HRTIMER_SOFTIRQ ---------------------------------------------------------------


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


def _run_softirq():
    # HRTIMER_SOFTIRQ: run expired timers, then reprogram.  Softirq context.
    global _in_run
    _fix()
    _in_run = True
    try:
        hang = _run_queues()
    finally:
        _in_run = False
    if not hang:
        _reprogram(True)


def _run_queues():
    global nr_retries, nr_hangs, max_hang_time, _expires_next, _s_head, _ce_mode
    _s_head = None
    start = now = core.now_rel()
    passes = 0
    h = _heap
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
                _pk.printk("\x014hrtimer: interrupt took %d ns", took)
            delay = took if took < _HANG_MAX_NS else _HANG_MAX_NS
            core.hw.ce_set_next(_clamp_cyc(core.ns_to_cycles_up(delay)), _ce_irq)
            _ce_mode = _ce_irq
            _expires_next = None
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
        _tr.record(6, t.trace_id, core.hw.cs_read(), _raw_at(t._e - t._d), 0)
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
        _warn_ret(t, repr(r))
        r = 0
    if f & _ENQUEUED:  # restarted by hrtimer_start from the callback
        t._f = f & ~_CALLBACK
    elif r == 1:
        try:
            _insert(t)
        except MemoryError:
            t._f = f & ~3
            raise
        t._f = f ^ 3  # CALLBACK -> ENQUEUED
    else:
        t._f = f & ~3
    if _tr.enabled:
        _tr.record(7, t.trace_id, core.hw.cs_read(), r, 0)


def _pending_of(owner):
    return [("hrtimer", t) for t in _heap if t._owner == owner and t._f & _ENQUEUED]


def queue_check(*timers):
    """Invariant check for tests: order, epochs and states; the hard head (if
    any) is at the head; each timer given is queued exactly when it says so.
    Returns the queue length; raises AssertionError if broken."""
    h = _heap
    ep = core._ep
    for i, t in enumerate(h):
        assert t._f & _ENQUEUED or t is _zombie, "hrtimer %d in queue but not ENQUEUED" % t.trace_id
        assert t._p == ep, "hrtimer %d keyed to epoch %d, not %d" % (t.trace_id, t._p, ep)
        if i and not (i == len(h) - 1 and t is _hard_head):
            assert _le(t, h[i - 1]), "queue order broken at %d" % i
    for t in timers:
        q = bool(t._f & _ENQUEUED)
        inq = 0 < h.count(t) if h else False
        assert q == inq, "hrtimer %d: ENQUEUED=%r but in queue=%r" % (t.trace_id, q, inq)
    if _hard_head is not None and _hard_head._f & _ENQUEUED:
        assert h and h[-1] is _hard_head, "hard head %d not at the head" % _hard_head.trace_id
    return len(h)


def _clock_was_set():
    """Re-key REALTIME/BOOTTIME/TAI timers after their offset changed
    (clock_was_set -> hrtimer retrigger).  All-or-nothing: the new keys are
    computed first, then each timer moves (stable insertion sort: FIFO kept)."""
    _fix()
    off = _kt.clock_offset
    moves = []
    for t in _heap:
        if t._f & _RANKS:
            o = off(_CLOCK_OF[(t._f & _RANKS) >> 3])
            if o != t._o:
                moves.append((t, t._e + t._o - o, o))
    for t, e, o in moves:
        t._e = e
        t._o = o
    h = _heap
    for i in range(len(h) - 2, -1, -1):  # latest first: sink each into the sorted tail
        t = h[i]
        j = i
        while j + 1 < len(h) and not _le(h[j + 1], t):
            h[j] = h[j + 1]
            j += 1
        h[j] = t
    _reprogram(True)
