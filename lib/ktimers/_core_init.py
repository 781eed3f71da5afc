"""ktimers._core_init -- core.init()'s work: the backend, the clock's constants, the tick.

Loaded by ktimers.core.init() for the call and dropped after it (with the board file
and ktimers.backends, which only init reads): a running board never needs its 1.5 KB
of bytecode again, and from a filesystem every byte of loaded bytecode stays on the
heap, where every gc.collect() scans it.  Task context.

    core.init("mps2", 250)  ->  _core_init.run(core, "mps2", 250, {})   (core._once)
                                sets core's globals, starts the tick; returns the ClockHw

The clock's constants (see ktimers.core for what they mean), mps2 at HZ=250:

    CS_HZ 25000000   ns/cycle 40 (_ns_num 40, _ns_den 1)   _tick_cyc 100000
    _EP_C 6710886    _EP_NS 268435440                      _budget_max 67
"""

import sys
import micropython

_NSEC_PER_SEC = const(1_000_000_000)


def run(c, backend, hz, cfg):
    # c: ktimers.core.  Everything that can fail (arguments, the backend's import and
    # constructor) comes before the running subsystem stops.
    if backend is not None and not isinstance(backend, str):
        raise TypeError("init: backend must be str or None")
    if hz is not None and (not isinstance(hz, int) or isinstance(hz, bool) or not 1 <= hz <= 10000):
        raise ValueError("init: hz must be an int in 1..10000, got %r" % (hz,))
    from . import backends  # the board file and the backends: init only

    conf = backends.board_config()
    if backend is not None and backend != conf.get("BACKEND"):
        # another backend than the board file's (init("sim") in tests): the board's
        # timer keys and HARD_IRQ describe other hardware; only its HZ carries over
        conf = {"HZ": conf["HZ"]} if "HZ" in conf else {}
    conf.update(cfg)
    irq = conf.get("IRQ_CODE", "native")
    if irq not in ("native", "native-mpy", "bytecode"):
        raise ValueError("init: IRQ_CODE must be 'native', 'native-mpy' or 'bytecode', got %r" % (irq,))
    name = backend or conf.get("BACKEND") or backends.autodetect()
    hz = hz or conf.get("HZ") or 250
    conf["HZ"] = hz
    cls = backends.load(name)  # a bad argument raises before the running subsystem stops
    c.deinit()
    h = cls(**conf)
    tm = sys.modules.get("ktimers.timer")  # None until a program uses them
    hm = sys.modules.get("ktimers.hrtimer_base")
    c._timer_mod, c._hrtimer_mod = tm, hm
    c.HZ = hz
    h.IRQ_CODE = irq  # which clock event handlers the hrtimer code loads (hrtimer_base)
    c._jf._set_hz(hz)
    c.CS_HZ, c.CS_MASK = h.CS_HZ, h.CS_MASK
    c._HALF = (h.CS_MASK + 1) >> 1
    c.NS_PER_CYC = h.CS_NS_PER_CYC
    c._direct = getattr(h, "DIRECT", False)
    ij = conf.get("INITIAL_JIFFIES")  # test option: start nearer the 32-bit wrap
    j64 = c._jf.INITIAL_JIFFIES if ij is None else ij & 0xFFFFFFFF
    c._jlo = jlo = j64 & 0x3FFFFFFF
    c._jhi = j64 >> 30
    c._tick_cyc = tc = -(-h.CS_HZ // hz)
    c._tick_pending = 0
    c._tick_budget = 1
    c._pending = 0
    c._armed = False
    g, b = _NSEC_PER_SEC, h.CS_HZ  # gcd
    while b:
        g, b = b, g % b
    num, den = _NSEC_PER_SEC // g, h.CS_HZ // g
    c._ns_num, c._ns_den = num, den
    k = min((1 << 28) * den // num, (h.CS_MASK + 1) >> 2)
    c._EP_C = epc = max(den, k - k % den)  # whole ns per step
    c._EP_NS = epc * num // den
    # a softirq at least once per epoch step (at most a quarter counter period, so the
    # counter is read in time too): the epoch is then under two steps old (~0.54 s on
    # mps2) and a HARD head's IRQ forward stays on small ints (tests/device/test_epoch_budget.py)
    c._budget_max = min(hz, max(1, epc // tc))
    c._ep = 0
    c._raw0 = c._ep_raw = c._tick_raw = h.cs_read()
    c.hw = h
    if tm is not None:
        tm._reset(jlo)
    if hm is not None:
        hm._reset()
    if hasattr(micropython, "alloc_emergency_exception_buf"):
        micropython.alloc_emergency_exception_buf(128)
    h.tick_start(hz, c._tick_irq)
    return h
