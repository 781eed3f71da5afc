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

Dispatch (_i: the C core's _ktimers.hrtimer_irq object where the firmware has
it, else ktimers.hrtimer_irq as native code where the board loads it, else as
bytecode; init(IRQ_CODE="native-mpy" or "bytecode") picks the latter two).
A HARD timer at the head (board with hard IRQs, within the device's reach)
is served by the clock event's hard IRQ itself, _i._ce_irq: its callback
first, bookkeeping after; hrtimer_forward_now() from that callback adds
intervals to _e on small ints (_i._forward_irq), or leaves them to the
softirq (_h_defer).  A SOFT head on a backend that delivers the clock event
scheduled (CE_SOFT) is served by _i._ce_soft: the due head's callback, then
the rest of HRTIMER_SOFTIRQ.  A dropped delivery (full schedule queue) is
caught by the tick (core._ce_watch).  Any other event raises HRTIMER_SOFTIRQ.
Task/softirq code first takes the hard head out of IRQ dispatch (_fix, with
interrupts off) and _reprogram() puts it back.  Raw counter values alias past
half the counter period, so those shortcuts serve only a head within
CE_MAX_CYC; a farther head (or next event) gets a check-in at CE_MAX_CYC.

All-or-nothing.  Every queue operation computes what may allocate (64-bit ns
arithmetic, list growth) before it changes anything.  queue_check() verifies
order, states and the hard head (it and clock_was_set's re-keying are
ktimers._hrtimer_ext's, loaded on first use).

The C twin.  Where the firmware has ktimers' C core, ktimers.hrtimer makes
this module from firmware/cmodules/ktimers/hrtimer_base.c instead (these
functions in flash, this module's globals as its dict); this file is their
reference and the fallback.

HRTIMER_SOFTIRQ (the run and hang protection) is ktimers.hrtimer_softirq, or
where the C core's handlers serve the clock event, their object's _run_softirq.

Contexts: _i._ce_irq and _i._forward_irq run in hard IRQ; _i._ce_soft and
_run_softirq in HRTIMER_SOFTIRQ; _rebase in the softirq (core.ep_advance);
the rest in task/softirq context with softirqs held off by the caller
(ktimers.hrtimer wraps every queue operation in local_bh_disable).
"""

from micropython import const
from . import core
_tr = core.tracer()  # ktimers.trace, or while it is not loaded a stand-in (off)
from . import ktime as _kt
from . import bug as _bug
import sys as _sys

_i = None  # the IRQ side: ktimers._hrtimer_setup._load_irq binds it
_code = None  # the IRQ_CODE it was loaded for


_ENQUEUED = const(1)
_CALLBACK = const(2)
_HARD = const(4)
_RANKS = const(0x18)  # clock base order << 3: MONOTONIC 0, REALTIME, BOOTTIME, TAI
_SMALL_MAX = const(0x3FFFFFFF)

_heap = []  # sorted, latest first: the head is _heap[-1]
_expires_next = None  # key the clock event is programmed for
_ce_mode = None  # handler it was programmed with
_in_run = False
_scratch = []  # _rebase: far keys (heap ints) computed before the commit
# the IRQ paths' state lives in ktimers.hrtimer_irq (_i), bound by _reset
_hard_ok = False
_soft_ok = False
_rearm_any = None  # the backend's own (ce_rearm), else None
_hw = None  # the backend the queue was reset for
_cmax_ns = -1
nr_reprograms = 0
hrtimer_resolution = 1  # ns: exact arithmetic (high-resolution mode)
_RANK = {1: 0, 0: 1, 7: 2, 11: 3}  # base order: MONOTONIC, REALTIME, BOOTTIME, TAI
_CLOCK_OF = (1, 0, 7, 11)


def _reset():
    # (re)start on the running core's clock event: empty queue, the IRQ handlers for
    # its IRQ_CODE.  ktimers._hrtimer_setup's work, loaded for the call and dropped
    # after (core.attach, core.init).  Task context
    core._once("_hrtimer_setup", _sys.modules[__name__])


def _rearm_ce(c):
    # the clock event restarted with the same handler, where the backend has no
    # ce_rearm.  Hard IRQ: allocation-free (a method call, no bound method)
    _hw.ce_set_next(c, _i._ce_irq)


def _trace_changed(on):
    # trace.enable()/disable(): the IRQ paths pick it up (the short SOFT path
    # has no trace points: off until the next reprogram)
    _i._trc = on
    _i._s_fast = False


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
    if t is _i._s_head:
        _i._s_head = None
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
    t = _i._hard_head
    z = _i._zombie
    if t is not None or z is not None:
        hw = core.hw
        st = hw.irq_save()
        _i._hard_head = _i._zombie = None
        iv = _i._h_defer
        _i._h_defer = None
        _i._moved = False
        hw.irq_restore(st)
        h = _heap
        if z is not None and h and h[-1] is z and not z._f & 3:
            h.pop()  # its IRQ callback returned NORESTART
        elif t is not None and h and h[-1] is t:
            _settle()  # its IRQ may have forwarded it past others: O(1) if not
            if iv is not None and t._f & _ENQUEUED:  # the IRQ left this forward to us
                _remove(t)
                if not isinstance(iv, int) or isinstance(iv, bool):  # ends, as if it raised
                    t._f &= ~3
                    e = "hrtimer_forward_now: interval must be int (ktime ns), got %s"
                    core.log_callback_error("hrtimer (hard)", t, TypeError(e % type(iv).__name__))
                else:
                    try:
                        _forward_abs(t, _abs_now(t), iv)
                    finally:
                        _insert(t)
    if _i._irq_exc is not None:
        e, et = _i._irq_exc, _i._irq_exc_t
        _i._irq_exc = _i._irq_exc_t = None
        core.log_callback_error("hrtimer (hard)", et, e)
    if _i._irq_badret is not None:
        bt = _i._irq_badret
        _i._irq_badret = None
        _warn_ret(bt, "not 0/1 (hard)")


_sync = _fix  # older name (ktimers.proc)


def __getattr__(name):
    # the IRQ side's and the softirq's state and counters, read through this
    # module (tests, /proc); queue_check() is ktimers._hrtimer_ext's (loaded then)
    if name == "queue_check":
        return _sys.modules["ktimers"]._mod("_hrtimer_ext").queue_check
    try:
        return getattr(_i, name)
    except AttributeError:
        return getattr(_s, name)


def _warn_ret(t, r):
    _bug.WARN_ONCE(True, "hrtimer: callback of timer %d returned %s, not HRTIMER_NORESTART/RESTART", t.trace_id, r)


def _rebase(shift, ep):
    """The epoch moves by shift ns to epoch ep: every queued key moves with it.
    All-or-nothing: keys that would leave the small-int range (far timers)
    are computed into _scratch first (the only allocation).  The hard head
    stays in IRQ dispatch: its IRQ may forward it meanwhile, so its key is
    moved by core.ep_advance together with the epoch, interrupts off (small
    ints: returned here; a head with a heap-int key is taken out of dispatch
    and moved with the rest).  Returns it, or None.  O(n)."""
    global _expires_next
    h = _heap
    lo = -_SMALL_MAX + shift if shift <= _SMALL_MAX else None
    hh = _i._hard_head
    if hh is not None and (lo is None or not lo <= hh._e <= _SMALL_MAX):
        _fix()  # (a forward in IRQ keeps a small key small: checked once)
        hh = None
    k = 0
    for t in h:
        e = t._e
        if t is not hh and (lo is None or not lo <= e <= _SMALL_MAX):
            if k == len(_scratch):
                _scratch.append(None)
            _scratch[k] = e - shift
            k += 1
    k = 0
    for t in h:
        if t is hh:
            continue
        e = t._e
        if lo is None or not lo <= e <= _SMALL_MAX:
            t._e = _scratch[k]
            _scratch[k] = None
            k += 1
        else:
            t._e = e - shift
        t._p = ep
    _expires_next = None  # the next _reprogram recomputes
    return hh


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
        return (core._ep_raw + c) & _i._mask
    return core.raw_add(core._ep_raw, c & _i._mask)


def _reprogram(force=False):
    """Program the clock event device for the head (tick_program_event), with
    the handler that serves it: _i._ce_irq for a HARD head (dispatched in hard
    IRQ), _i._ce_soft for a SOFT head where the backend delivers scheduled,
    else _i._ce_irq raising HRTIMER_SOFTIRQ.  Everything that allocates comes
    before the commit, which runs with interrupts off."""
    global _expires_next
    global nr_reprograms, _ce_mode
    if _in_run:
        return  # _run_softirq reprograms once at the end
    hw = core.hw
    if _i._hard_head is not None or _i._zombie is not None:
        _fix()
    h = _heap
    if not h:
        _i._s_head = None
        core._ce_watch = False  # also after a hang back-off left _expires_next None
        if _expires_next is not None:
            st = hw.irq_save()
            hw.ce_stop()
            hw.irq_restore(st)
            _expires_next = None
        return
    t = h[-1]
    now = core.now_rel()
    # raw counter values alias beyond half the counter period: the IRQ-side
    # shortcuts (raw compares) serve only a head within the device's reach
    near = t._e - now <= _cmax_ns
    hh = t if near and _hard_ok and t._f & _HARD and t._d <= _cmax_ns else None
    fn = _i._ce_irq if hh is not None or not _soft_ok else _i._ce_soft
    s_head = t if near and hh is None else None
    if hh is None and t._e == _expires_next and fn is _ce_mode and not force and _i._s_head is s_head:
        return
    _i._trc = _tr.enabled
    at = _raw_at(t._e) if near else 0  # the event: the head's hard expiry, rounded up
    if hh is not None:
        hs = _raw_at(t._e - t._d)
        lim = len(h) > 1
        if lim:  # the next event, or a check-in within the device's reach
            ln = h[-2]._e
            lr = _raw_at(ln if ln - now <= _cmax_ns else now + _cmax_ns)
        else:
            lr = 0
        hf = t.function
    else:
        ss = _raw_at(t._e - t._d) if near else 0
        sf = t.function
        fast = t._owner is None and not core._direct and not _i._trc
        wat = core.raw_add(at if near else hw.cs_read(), (_i._cmax if not near else 0) + core._tick_cyc)
    st = hw.irq_save()
    if hh is not None:
        _i._hs_raw = hs  # one by one: a 4+ target unpacking builds a tuple
        _i._ha_raw = at
        _i._lim = lim
        _i._lim_raw = lr
        _i._h_fn = hf
        _i._sure = True  # programmed for its own expiry
        _i._moved = False
        _i._h_defer = None
        _i._s_head = None
        core._ce_watch = False
    else:
        _i._s_head = s_head
        _i._ss_raw = ss
        _i._s_fn = sf
        _i._s_fast = fast
        core._ce_watch_at = wat
        core._ce_watch = fn is _i._ce_soft
    _i._hard_head = hh
    # the counter is read last: the device counts from when it is started, so
    # every instruction between the read and the start is lateness
    start = _rearm_any if fn is _ce_mode else None
    if start is None and near and _rearm_any is not None:
        # a new handler or mode: switch the device first (parked at its longest
        # delay), then program the event the fast way (the slow switch between
        # the read and the start made a HARD timer's first expiry 16 us late)
        if fn is _i._ce_soft:
            hw.ce_set_next(_i._cmax, fn, False)
        else:
            hw.ce_set_next(_i._cmax, fn)
        start = _rearm_any
    if near and start is not None:
        _i._program(at, start)  # the steady state: read and start in native code
    else:
        if near:
            d = (at - hw.cs_read()) & _i._mask
            cyc = _i._cmin if d >= _i._half or d < _i._cmin else _i._cmax if d > _i._cmax else d
        else:
            cyc = _i._cmax
        if start is not None:
            start(cyc)
        elif fn is _i._ce_soft:
            hw.ce_set_next(cyc, fn, False)
        else:
            hw.ce_set_next(cyc, fn)
    hw.irq_restore(st)
    _ce_mode = fn
    _expires_next = t._e
    nr_reprograms += 1


def _pending_of(owner):
    return [("hrtimer", t) for t in _heap if t._owner == owner and t._f & _ENQUEUED]


# HRTIMER_SOFTIRQ (_run_softirq, _finish; _s its module): the C core's, else
# ktimers.hrtimer_softirq -- bound with the IRQ handlers (_reset)
_s = _run_softirq = _finish = None

core.attach(_sys.modules[__name__])  # loaded on first use: join the running core
