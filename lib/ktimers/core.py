"""ktimers.core -- clocksource, clock event device, periodic tick and softirqs.

The Blackfin shape: one free-running counter is the clocksource, one timer
peripheral gives the periodic tick, another is the one-shot clock event device.
A backend (ktimers.backends.*) owns the three pieces of hardware; this module
turns them into kernel time:

    counter (raw, wraps at CS_MASK+1)  -> cycles since the epoch (small int)
    epoch: _ep steps of _EP_C cycles = _EP_NS ns (exact), advanced by the softirq
    _ep * _EP_NS + cycles since epoch * ns/cycle     ->  ktime_get() ns, monotonic
    tick IRQ: _tick_pending += 1                     ->  TIMER_SOFTIRQ folds it into jiffies_64
                                                         (_jhi << 30 | _jlo: two small ints)
    tick IRQ: whole tick periods since _tick_raw       ->  _tick_pending (tick_do_update_jiffies64)
    clock event IRQ (hrtimer_interrupt)              ->  HRTIMER_SOFTIRQ or hard dispatch

jiffies come from the clocksource, as tick_do_update_jiffies64() does on a
tickless kernel: the tick IRQ adds (now - _tick_raw) // _tick_cyc, so a late,
merged or lost tick interrupt is caught up by the next one, and jiffies() in
task context adds the periods the IRQ has not counted yet (it never lags the
clocksource).  Jiffy k begins at counter value _raw0 + k * _tick_cyc.  The
softirq folds counted ticks into the 64-bit jiffies_64 all-or-nothing: the
new value is computed first (a heap int on 32-bit boards: a MemoryError
there loses nothing), then the count is taken with interrupts off.

    tick IRQ at     raw - _tick_raw    _tick_cyc   counted   _tick_raw after
    10000 (on time) 10000              10000       1         10000
    35000 (late)    25000              10000       2         30000
    39990 (early)   9990               10000       0         30000

Worked example (sim backend, CS_MASK = 2**24-1, 1 MHz counter):

    raw read     last raw    delta = (raw-last) & mask   cycles      ktime ns
    16777000     0           16777000                    16777000    16777000000
    200          16777000    416  (wrapped)              16777416    16777416000
    16777100     200         16776900                    33554316    33554316000

The epoch.  ns since init reach 2**30 (a heap int on 32-bit boards) after
1.07 s, so the hot paths work in ns since a moving epoch instead: now_rel()
is (counter - _ep_raw) * ns/cycle, a small int while the epoch is less than
~1 s old.  The softirq moves the epoch forward by whole steps (_EP_C cycles,
exactly _EP_NS ns, about 2**28 ns and at most a quarter counter period) and
rebases the queued hrtimers by the same ns (hrtimer_base._rebase, O(n),
allocation-free for near timers).  _ep counts steps (small int), so moving
it allocates nothing; the public ktime_get() builds _ep * _EP_NS + now_rel()
(a heap int) only when called.

    mps2 (25 MHz, 40 ns/cycle):  _EP_C = 6710886 cycles, _EP_NS = 268435440 ns
    counter - _ep_raw = 7000000  -> rel 280000000 >= a step: rebase by 268435440,
                                    _ep += 1, _ep_raw += 6710886 (rel 11564560)

A counter whose ns per cycle is not an integer (sim at 32768 Hz) takes a
slower path: now_rel() multiplies by 10**9 // gcd and may build heap ints.
The counter must be read at least once per half period, and the epoch moved
before ns since it leave the small ints; the tick guarantees both
(TIMER_SOFTIRQ runs at least every min(HZ, one epoch step) ticks, a step being
at most a quarter counter period: _budget_max, Linux's clocksource max_idle_ns).

Contexts.  hard IRQ: _tick_irq, _ce_irq (hrtimer.py) -- small ints only, no
allocation.  softirq: run_softirq(), entered through micropython.schedule (one
pending flag, so the schedule queue holds at most one entry of ours; a full
queue is retried on the next tick, and ticks counted in the IRQ are never lost).
task: everything else.

The C twin.  Where the firmware has ktimers' C core, this file is the
reference and the fallback: firmware/cmodules/ktimers/core.c makes
ktimers.core (the package's first statement) as a module whose functions are
these, in flash, and whose globals dict holds this module's state, so code
that reads or sets core._ep, core._softirq ... works on either.

Usage:
    import ktimers.core as core
    core.init("sim", hz=1000)   # normally done by `import ktimers`
    core.ktime_get(); core.jiffies()
"""

import sys
import micropython
from . import jiffies as _jf

_TIMER_SOFTIRQ = const(1)
_HRTIMER_SOFTIRQ = const(2)
_NSEC_PER_SEC = const(1_000_000_000)

hw = None  # the ClockHw of the running backend
HZ = 250
CS_HZ = 1
CS_MASK = 1
_HALF = 0
NS_PER_CYC = 0  # exact ns per counter cycle, or 0
_raw0 = 0  # raw counter at init (cycles 0)
_ep = 0  # epoch: steps since init (small int)
_ep_raw = 0  # raw counter at the epoch (small int)
_EP_C = 1  # cycles per epoch step
_EP_NS = 1  # ns per epoch step (exact)
_ns_num = 1  # ns per cycle = _ns_num / _ns_den (reduced; _ns_den 1: integer)
_ns_den = 1

# jiffies_64 = (_jhi << 30) + _jlo, kept as two small ints so that the softirq's fold
# and the wheel (which runs on 30-bit jiffies) allocate nothing on 32-bit boards
_jlo = 0  # jiffies_64 & 0x3FFFFFFF, counted ticks folded
_jhi = 0  # jiffies_64 >> 30 (a small int for 2**60 jiffies)
_now_hi = 0  # jiffies_64 >> 30 of the value jiffies_lo() returned last
_HI32 = (0, 0x40000000, 0x80000000, 0xC0000000)  # bits 30..31 of a 32-bit jiffies value
_tick_pending = 0  # ticks counted in hard IRQ, not yet in _jlo/_jhi (small int)
_tick_budget = 0  # ticks until TIMER_SOFTIRQ is needed (small int, set in softirq/task)
_tick_raw = 0  # raw counter where the first uncounted jiffy began (small int)
_tick_cyc = 1  # counter cycles per jiffy, rounded up (never early)
_budget_max = 1  # ticks between softirqs at most: HZ, or one epoch step (max_idle)
nr_softirq_errors = 0  # softirq passes cut short by MemoryError (retried next tick)
_pending = 0  # raised softirq vectors
_armed = False  # our entry is in micropython.schedule's queue
_direct = False  # backend runs softirqs itself (sim): no micropython.schedule
_hardirq = 0  # > 0 while in hard IRQ context
_softirq = 0  # > 0 while running softirqs
_bh = 0  # > 0 while task context holds the timer bases (local_bh_disable)
_timer_mod = None  # ktimers.timer once loaded (attach)
_hrtimer_mod = None  # ktimers.hrtimer_base once loaded (attach)
_ce_watch = False  # a scheduled (soft) clock event is due by _ce_watch_at (raw)
_ce_watch_at = 0
# the clock offsets from CLOCK_MONOTONIC in ns, read by ktimers.ktime, set by ktimers._ktime:
# [BOOTTIME (0: no suspend here), REALTIME (do_settimeofday64), TAI - UTC (37 s)]
_offs = [0, 0, 37 * _NSEC_PER_SEC]


def init(backend=None, hz=None, **cfg):
    """(Re)start the time subsystem on a backend.  Task context.

    backend: "unix", "sim", "mps2", "rp2", "esp32", "pyb", "machine" or None
    (board file ktimers_board.py, else autodetect by sys.platform).  hz: tick
    rate (default: board file, else 250).  cfg: the board file's keys, e.g.
    IRQ_CODE: the clock event handlers -- "native" (default: the firmware's C
    core, else mpy-cross's native module, else bytecode), "native-mpy" (the
    native module even where the C core is) or "bytecode".  Pending timers
    are dropped.  The work is ktimers._core_init's, loaded for the call and
    dropped after it (_once).  Returns the ClockHw instance."""
    return _once("_core_init", sys.modules[__name__], backend, hz, cfg)


def _once(part, *args):
    """ktimers.<part>.run(*args), the part loaded for the call and dropped after it
    with the board file and ktimers.backends, which only init reads (set-up code a
    running board never needs again: from a filesystem it would stay on the heap,
    where every gc.collect() scans it).  Task context.  Returns what run returns."""
    m = sys.modules
    __import__("ktimers." + part)
    try:
        return m["ktimers." + part].run(*args)
    finally:
        pkg = m.get("ktimers")
        for n in (part, "backends"):
            m.pop("ktimers." + n, None)
            if pkg is not None:
                pkg.__dict__.pop(n, None)
        m.pop("ktimers_board", None)


def tracer():
    """What the timer code calls `_tr`: ktimers.trace once it is loaded, else the C
    core's stand-in (a ROM module whose `enabled` is False: tracing off costs no heap;
    trace.enable() rebinds the real module), else the real module.  Task context."""
    t = sys.modules.get("ktimers.trace")
    if t is None:
        try:
            from _ktimers import trace_off as t
        except ImportError:
            from . import trace as t
    return t


def attach(mod):
    """A timer module loaded on first use joins the running core: the wheel
    (ktimers.timer) starts at the current jiffies, the hrtimer queue
    (ktimers.hrtimer_base) empty on the clock event.  Each module calls this
    at the end of its import.  Task context."""
    global _timer_mod, _hrtimer_mod
    if mod.__name__ == "ktimers.timer":
        if hw is not None:
            mod._reset(_jlo)  # clk <= jiffies: the softirq forwards it
        _timer_mod = mod
    else:
        if hw is not None:
            mod._reset()
        _hrtimer_mod = mod


def deinit():
    """Stop tick and clock event; drop pending timers.  Task context."""
    global hw
    h = hw
    if h is not None:
        h.tick_stop()  # first: a tick IRQ taken before this line still finds hw
        h.ce_stop()
        hw = None
        h.deinit()


# --- clocksource ----------------------------------------------------------


def _ep_read():
    # (_ep, cycles since it): consistent although a softirq (between bytecodes)
    # may move the epoch meanwhile
    while True:
        e = _ep
        d = (hw.cs_read() - _ep_raw) & CS_MASK
        if e == _ep:
            return e, d


def now_rel():
    """ns since the epoch (hrtimer queue time): a small int while the epoch is
    under ~1 s old.  Task/softirq context.  O(1)."""
    d = (hw.cs_read() - _ep_raw) & CS_MASK
    if _ns_den == 1:
        return d * _ns_num
    return d * _ns_num // _ns_den  # may build heap ints (non-integer ns/cycle)


def ep_advance():
    """Move the epoch to the last whole step before now, rebasing the hrtimer
    queue first (all-or-nothing: a MemoryError there changes nothing).
    Softirq context.  O(1), O(n queued) when a step is taken (every ~268 ms)."""
    global _ep, _ep_raw
    d = (hw.cs_read() - _ep_raw) & CS_MASK
    if d < _EP_C:
        return
    n = d // _EP_C
    shift = n * _EP_NS
    hm = _hrtimer_mod
    hh = hm._rebase(shift, _ep + n) if hm is not None else None  # MemoryError: nothing changed
    st = hw.irq_save()
    _ep += n
    _ep_raw = raw_add(_ep_raw, n * _EP_C)
    if hh is not None:  # the hard head, which its IRQ reads against _ep_raw: small ints
        hh._e -= shift
        hh._p = _ep
    hw.irq_restore(st)
    if hh is None and hm is not None:
        hm._reprogram(True)


def cycles_to_ns(c):
    """Cycles -> ns, rounded down.  Task/softirq context."""
    if NS_PER_CYC:
        return c * NS_PER_CYC
    return c * _NSEC_PER_SEC // CS_HZ


def ns_to_cycles_up(ns):
    """ns -> cycles, rounded up (so an expiry is never early).  Task/softirq."""
    if NS_PER_CYC:
        return -(-ns // NS_PER_CYC)
    return -(-ns * CS_HZ // _NSEC_PER_SEC)


def ns_to_raw(ns):
    """Monotonic ns -> raw counter value at that instant, rounded up."""
    return (ns_to_cycles_up(ns) + _raw0) & CS_MASK


def ktime_get():
    """Monotonic time in ns since init (ktime_t).  Task or softirq context;
    never from hard IRQ on 32-bit boards (the result is a heap int)."""
    e, d = _ep_read()
    return e * _EP_NS + d * _ns_num // _ns_den


def raw_add(a, b):
    """(a + b) & CS_MASK for raw counter values 0 <= a, b <= CS_MASK, without
    ever forming a + b (>= 2**30 would be a heap int).  Any context."""
    d = CS_MASK - a
    return b - d - 1 if b > d else a + b


def raw_diff(a, b):
    """Signed a - b of two raw counter values.  Any context (small ints)."""
    d = (a - b) & CS_MASK
    return d - CS_MASK - 1 if d >= _HALF else d


# --- jiffies --------------------------------------------------------------


def _ticks_unfolded():
    # ticks counted by the IRQ plus whole periods it has not counted yet
    if hw is None:
        return _tick_pending
    st = hw.irq_save()
    n = _tick_pending + ((hw.cs_read() - _tick_raw) & CS_MASK) // _tick_cyc
    hw.irq_restore(st)
    return n


def jiffies_lo():
    """jiffies now (ticks not yet folded included), low 30 bits: a small int.
    Sets _now_hi to the bits above (jiffies_64 >> 30) of the same value.  Task
    or softirq context; allocates nothing (the wheel's clock)."""
    global _now_hi
    lo = _jlo  # before the unfolded ticks, as jiffies() always read them
    hi = _jhi
    n = _ticks_unfolded()
    r = 0x3FFFFFFF - lo
    if n > r:  # never form lo + n >= 2**30 (a heap int on 32-bit boards)
        lo = n - r - 1
        hi += 1
    else:
        lo += n
    _now_hi = hi
    return lo


def jiffies_counted():
    """jiffies_64 counted so far (folded + counted by the tick IRQ, without
    the periods the IRQ has not seen yet).  Task context (a heap int)."""
    return (_jhi << 30) + _jlo + _tick_pending


def get_jiffies_64():
    """jiffies_64 as the clocksource says now (ticks not yet folded by the
    softirq included).  Task/softirq context."""
    lo = jiffies_lo()
    return (_now_hi << 30) + lo


def jiffies():
    """32-bit jiffies (unsigned long on a 32-bit kernel): wraps 5 minutes
    after init (INITIAL_JIFFIES).  Derived from the clocksource: never lags it.
    Task/softirq context; one heap int on 32-bit boards while jiffies >= 2**30."""
    lo = jiffies_lo()
    return _HI32[_now_hi & 3] + lo


def jiffy_start_raw(j):
    """Raw counter value at which 32-bit jiffy j began (j within ~half the
    counter period of now).  Task/softirq context."""
    st = hw.irq_save()
    base = (_jlo + _tick_pending) & 0x3FFFFFFF
    r = _tick_raw
    hw.irq_restore(st)
    d = ((j & 0x3FFFFFFF) - base) & 0x3FFFFFFF
    if d >= 0x20000000:
        d -= 0x40000000
    return (r + d * _tick_cyc) & CS_MASK


def _hard():
    # hard IRQ context: a counted handler, or a HARD hrtimer callback (which
    # ktimers.hrtimer_base marks with one global store, not a counter here)
    return _hardirq > 0 or (_hrtimer_mod is not None and _hrtimer_mod._i._irq_run is not None)


def in_hardirq():
    return _hard()


def in_softirq():
    return _softirq > 0


def in_interrupt():
    return _softirq > 0 or _hard()


# --- tick and softirqs ------------------------------------------------------


def _tick_irq(_):
    # Hard IRQ (or scheduled on backends without hard IRQs).  Allocates nothing:
    # small-int counters only (d < 2**30, n * _tick_cyc <= d).  O(1).
    # tick_do_update_jiffies64: count every whole period since _tick_raw, so a
    # late or merged interrupt catches up and an early one counts nothing.
    global _tick_pending, _tick_budget, _tick_raw
    h = hw
    if h is None:  # a tick delivered through the schedule queue after deinit()
        return
    raw = h.cs_read()
    d = (raw - _tick_raw) & CS_MASK
    if d >= _tick_cyc:
        n = d // _tick_cyc
        _tick_raw = raw_add(_tick_raw, n * _tick_cyc)
        _tick_pending += n
        _tick_budget -= n
    if _tick_budget <= 0:
        raise_softirq_irq(_TIMER_SOFTIRQ)
    if _ce_watch and ((raw - _ce_watch_at) & CS_MASK) < _HALF:
        # a clock event delivered through the schedule queue is overdue (a
        # full queue drops it): the softirq serves the hrtimer queue instead
        raise_softirq_irq(_HRTIMER_SOFTIRQ)


def raise_softirq_irq(nr):
    """Mark softirq `nr` pending and make sure it runs.  Any context; allocates
    nothing.  A full schedule queue is retried at the next tick."""
    global _pending, _armed, _tick_budget
    _pending |= nr
    if _direct or _armed:
        return
    try:
        micropython.schedule(_softirq_entry, 0)
        _armed = True
    except RuntimeError:  # the schedule queue is full
        _tick_budget = 0  # next tick raises again


def _softirq_entry(_):
    global _armed
    _armed = False
    if _pending:  # a clock event served meanwhile may have left nothing to do
        run_softirq()


def _softirq_failed():
    # a MemoryError cut a softirq short: its vector stays pending and the
    # next tick runs it again.  Nothing counted is lost.
    global nr_softirq_errors, _tick_budget
    nr_softirq_errors += 1
    _tick_budget = 0


def run_softirq():
    """Run pending softirqs (do_softirq) in vector order: TIMER_SOFTIRQ, then
    HRTIMER_SOFTIRQ.  Scheduled context; unix and sim call it directly.
    Timer callbacks run from here.  A vector is cleared only once it ran, and
    counted ticks are folded all-or-nothing: a MemoryError (heap locked by the
    task) loses nothing, the next tick retries."""
    global _pending, _tick_pending, _jlo, _jhi, _softirq
    if _softirq or _bh or hw is None:
        return  # nested, or task context holds the bases: local_bh_enable runs it
    _softirq += 1
    try:
        ep_advance()
        tp = _pending & _TIMER_SOFTIRQ or not _pending & _HRTIMER_SOFTIRQ
        if tp:  # an HRTIMER_SOFTIRQ alone leaves the wheel and jiffies alone
            n = _tick_pending  # small-int read: atomic
            lo = _jlo  # small ints throughout: no allocation
            hi = _jhi
            r = 0x3FFFFFFF - lo
            if n > r:
                lo = n - r - 1
                hi += 1
            else:
                lo += n
            st = hw.irq_save()
            _tick_pending -= n  # the IRQ may have counted more meanwhile: keep them
            _jlo = lo
            _jhi = hi
            hw.irq_restore(st)
            if _timer_mod is not None:
                _timer_mod._run_timers(lo)
        if _pending & _HRTIMER_SOFTIRQ:
            st = hw.irq_save()
            _pending &= ~_HRTIMER_SOFTIRQ
            hw.irq_restore(st)
            try:
                if _hrtimer_mod is not None:  # raised only once it is loaded
                    _hrtimer_mod._run_softirq()
            except MemoryError:
                st = hw.irq_save()
                _pending |= _HRTIMER_SOFTIRQ  # the next tick runs it again
                hw.irq_restore(st)
                raise
        if tp:
            st = hw.irq_save()
            _pending &= ~_TIMER_SOFTIRQ
            hw.irq_restore(st)
            update_tick_budget()
    except MemoryError:
        _softirq_failed()
    finally:
        _softirq -= 1


def local_bh_disable():
    """Keep softirqs (scheduled between bytecodes) out while task context
    edits the wheel or the hrtimer queue -- Linux's base lock.  O(1)."""
    global _bh
    _bh += 1


def local_bh_enable():
    """Undo local_bh_disable(); run softirqs that were held back."""
    global _bh
    _bh -= 1
    if not _bh and _pending and not _softirq and not _hard() and hw is not None:
        run_softirq()


def update_tick_budget():
    """Recompute after the wheel's next expiry changed.  Task/softirq context."""
    global _tick_budget
    tm = _timer_mod
    nxt = tm._next_delta((_jlo + _tick_pending) & 0x3FFFFFFF) if tm is not None else None
    # the counter must be folded (an epoch step) within half its period: never
    # let more than _budget_max ticks pass without a softirq
    b = _budget_max if nxt is None or nxt > _budget_max else nxt
    st = hw.irq_save()
    _tick_budget = b if b > 0 else 0
    if _tick_budget == 0:
        raise_softirq_irq(_TIMER_SOFTIRQ)
    hw.irq_restore(st)


def idle():
    """Let time pass: wait for an interrupt while scheduled work runs.  Task
    context only (sleeping in softirq is 'scheduling while atomic')."""
    if _softirq or _hard():
        raise RuntimeError("BUG: scheduling while atomic (sleep in timer callback)")
    hw.idle()
    if _pending and (_direct or not _armed):
        run_softirq()


def pending_timers_of(owner):
    """[(kind, timer)] for pending timer_list/hrtimers armed by module owner."""
    r = _timer_mod._pending_of(owner) if _timer_mod is not None else []
    return r + _hrtimer_mod._pending_of(owner) if _hrtimer_mod is not None else r


def log_callback_error(kind, t, e):
    """Log a raising callback to dmesg with its traceback.  Softirq context."""
    sys.modules["ktimers.printk"].print_exception_to_dmesg(e, "%s %s" % (kind, getattr(t, "trace_id", "?")))
