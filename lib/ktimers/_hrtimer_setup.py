"""ktimers._hrtimer_setup -- hrtimer_base's (re)start on the running core's clock event.

Loaded by hrtimer_base._reset() for the call and dropped after it (core._once): it runs
when the hrtimer code first loads (core.attach) and at each ktimers.init(), never while
timers run, and from a filesystem its bytecode would otherwise stay on the heap, where
every gc.collect() scans it.  Task context, interrupts on, the clock event stopped.

    run(b)   b: ktimers.hrtimer_base.  Drops the queue (its timers become inactive),
             binds the clock event handlers for core.hw.IRQ_CODE (_load_irq), and
             gives them the backend's constants:

    handler field   what                                      mps2 (25 MHz)
    _cs             the counter read (a bound method, made once)  hw.cs_read
    _npc, _dmax     ns per cycle; cycles whose ns stay small       40, 26843545
    _cmin, _cmax    the clock event's reach in cycles              hw.CE_MIN_CYC, CE_MAX_CYC
    _imax           largest interval the IRQ forwards itself (ns)  min(_cmax * 40, 2**30 - 1)
    _rearm          restart with the same handler                  hw.ce_rearm (else b._rearm_ce)
"""

import sys
from . import core

_SMALL_MAX = const(0x3FFFFFFF)


def _load_irq(b):
    # The clock event handlers for core.hw.IRQ_CODE (init(IRQ_CODE=...)), bound in b and
    # in the modules that keep them (hrtimer, _hrtimer_calls, hrtimer_softirq).  Queue empty
    code = getattr(core.hw, "IRQ_CODE", "native")
    i = None
    if code == "native":
        try:  # the firmware's C core: handlers in flash, their state one small object
            from _ktimers import hrtimer_irq as _irq_c

            i = _irq_c(core, b._tr, sys.modules["ktimers._printk"])
        except ImportError:  # firmware without the C core
            pass
    if i is None and code != "bytecode":
        try:  # the IRQ handlers as native code (flash builds it for the board's arch;
            from . import hrtimer_irq_n as i  # the mps2 frozen firmware holds it too)
        except Exception:  # absent (unix sources, no arch), or not loadable here
            pass
    if i is None:  # or init(IRQ_CODE="bytecode")
        from . import hrtimer_irq as i
    b._i, b._code = i, code
    if hasattr(i, "_run_softirq"):  # the C core runs HRTIMER_SOFTIRQ too
        i._b = b
        s, b._finish = i, i._finish_c
    else:  # hrtimer_softirq.py (it binds b._i as its own _i)
        from . import hrtimer_softirq as s

        b._finish = s._finish
    b._s, b._run_softirq = s, s._run_softirq
    for m in ("ktimers.hrtimer", "ktimers._hrtimer_calls", "ktimers.hrtimer_softirq"):
        m = sys.modules.get(m)
        if m is not None:
            m._i = i


def run(b):
    for t in b._heap:
        t._f &= ~3
    b._heap = h = []
    hw = core.hw
    if b._i is None or getattr(hw, "IRQ_CODE", "native") != b._code:
        _load_irq(b)  # first use, or init(IRQ_CODE=...) chose other handlers
    i = b._i
    b._expires_next = b._ce_mode = None
    i._hard_head = i._zombie = i._h_defer = i._irq_run = i._s_head = None
    i._sure = False
    i._trc = b._tr.enabled
    i._irq_exc = i._irq_exc_t = i._irq_badret = None
    i._cs = hw.cs_read
    i._mask = core.CS_MASK
    i._half = core._HALF
    i._npc = npc = core.NS_PER_CYC
    i._dmax = _SMALL_MAX // npc if npc else 0
    b._hard_ok = bool(hw.HARD_IRQ and npc)
    b._soft_ok = bool(getattr(hw, "CE_SOFT", False))
    i._cmin, i._cmax = hw.CE_MIN_CYC, hw.CE_MAX_CYC
    cmax = hw.CE_MAX_CYC * npc if npc else (hw.CE_MAX_CYC * 1_000_000_000 // core.CS_HZ)
    b._cmax_ns = cmax
    i._imax = cmax if cmax < _SMALL_MAX else _SMALL_MAX
    b._hw = hw
    r = getattr(hw, "ce_rearm", None)
    b._rearm_any = r
    i._rearm = r if r is not None else b._rearm_ce
    i._heap = h
    i._finish = b._finish
    core._ce_watch = False
