"""ktimers.backends.mps2 -- the emulated Arm MPS2-AN385 board (firmware/port-mps2).

Blackfin shape on CMSDK peripherals, all clocked at SYSCLK 25 MHz:
- clocksource: the dual timer's module 1, free running, read by mps2.counter() as a
  30-bit up-counter (a small int, allocation-free);
- tick: APB timer TICK_TIMER (default 0, IRQ 8), periodic at HZ;
- clock events: APB timer CE_TIMER (default 1, IRQ 9), one-shot, reprogrammed from
  its own interrupt with Timer.start(cyc) (allocation-free).

Handlers run in hard IRQ context (heap locked) unless the board config says
HARD_IRQ = False; then the firmware delivers them with micropython.schedule.
Board keys: HARD_IRQ, TICK_TIMER, CE_TIMER.  Test options (soaks that must
cross counter wraps in CI time; users run the default 30-bit path):
CS_BITS narrows the clocksource mask (the low CS_BITS bits of the counter,
e.g. 22 bits wrap every 168 ms); CS_WRAP_IN moves the counter forward so its
30-bit wrap comes that many cycles after init (as INITIAL_JIFFIES does for
jiffies).
"""

import machine
import mps2
from micropython import const

_CS_MASK = const(0x3FFFFFFF)
_DT1_LOAD = const(0x40002000)
_DT1_VALUE = const(0x40002004)
_CS_HZ = const(25_000_000)
_ONE_SHOT = const(0)
_PERIODIC = const(1)

_disable_irq = machine.disable_irq
_enable_irq = machine.enable_irq
_idle = machine.idle


def _narrow(m):
    c = mps2.counter

    def cs_read():  # a closure: calling it allocates nothing
        return c() & m

    return cs_read


def _counter_wrap_in(lead):
    # Test option: jump the free-running dual timer forward (time only moves
    # forward) so its 30-bit view wraps `lead` cycles from now.  Writing LOAD
    # reloads VALUE at once; the counter counts down, counter() = ~VALUE.
    if not 1000 <= lead < 1 << 29:
        raise ValueError("mps2: CS_WRAP_IN must be in 1000..2**29, got %r" % (lead,))
    mem = machine.mem32
    while True:
        st = _disable_irq()
        v = mem[_DT1_VALUE] & 0xFFFFFFFF
        skip = ((1 << 30) - lead - (~v & _CS_MASK)) & _CS_MASK
        if v > skip + 100_000:  # never across the 32-bit wrap (the firmware counts those)
            mem[_DT1_LOAD] = v - skip
            _enable_irq(st)
            return
        _enable_irq(st)
        mem[_DT1_LOAD] = 50_000  # let the 32-bit wrap happen first (2 ms)
        c = mps2.counter()
        while ((mps2.counter() - c) & _CS_MASK) < 100_000:
            pass


class ClockHw:
    NAME = "mps2"
    CS_HZ = _CS_HZ
    CS_MASK = _CS_MASK
    CS_NS_PER_CYC = 40
    CE_MIN_CYC = 50  # 2 us
    CE_MAX_CYC = 1 << 28  # 10.7 s
    HARD_IRQ = True
    CE_SOFT = True  # ce_set_next(..., hard=False) delivers scheduled

    def __init__(self, **cfg):
        tick_id = cfg.get("TICK_TIMER", 0)
        ce_id = cfg.get("CE_TIMER", 1)
        if tick_id == ce_id:
            raise ValueError("mps2: TICK_TIMER and CE_TIMER must differ")
        self.HARD_IRQ = bool(cfg.get("HARD_IRQ", True))
        self._tick = mps2.Timer(tick_id)
        self._ce = mps2.Timer(ce_id)
        self._tick.deinit()
        self._ce.deinit()
        # Everything the IRQ paths call is looked up now: calling a stored builtin
        # (or bound method) allocates nothing, creating one would.
        self.cs_read = mps2.counter  # instance attribute: no bound method per call
        lead = cfg.get("CS_WRAP_IN")
        if lead:
            _counter_wrap_in(lead)
        bits = cfg.get("CS_BITS", 30)
        if bits != 30:
            if not 16 <= bits < 30:
                raise ValueError("mps2: CS_BITS must be in 16..30, got %r" % (bits,))
            self.CS_MASK = (1 << bits) - 1
            self.CE_MAX_CYC = self.CS_MASK >> 2
            self.cs_read = _narrow(self.CS_MASK)
        self._ce_start = self._ce.start
        # restart the clock event with the handler and mode it has (a bound
        # builtin: calling it allocates nothing, and no Python frame delays it)
        self.ce_rearm = self._ce.start
        self._ce_stop = self._ce.stop
        self._ce_init = self._ce.init
        self._ce_h = None
        self._ce_hard = None
        self._tick_h = None

    def cs_read(self):  # replaced per instance by mps2.counter (same result)
        return mps2.counter()

    def tick_start(self, hz, handler):
        period = _CS_HZ // hz
        self._tick_h = handler
        self._tick.init(mode=_PERIODIC, period=period, callback=handler, hard=self.HARD_IRQ)

    def tick_stop(self):
        self._tick.deinit()
        self._tick_h = None

    def ce_set_next(self, cyc, handler, hard=True):
        # any context; caller clamps cyc to [CE_MIN_CYC, CE_MAX_CYC].  hard=False:
        # the firmware delivers the event through the schedule queue (CE_SOFT);
        # switching modes (init) is for task/softirq context only
        hard = hard and self.HARD_IRQ
        if handler is self._ce_h and hard is self._ce_hard:
            self._ce_start(cyc)
        else:
            self._ce_h = handler
            self._ce_hard = hard
            self._ce_init(mode=_ONE_SHOT, period=cyc, callback=handler, hard=hard)

    def ce_stop(self):
        self._ce_stop()

    def irq_save(self):
        return _disable_irq()

    def irq_restore(self, state):
        _enable_irq(state)

    def idle(self):
        _idle()

    def deinit(self):
        self._tick.deinit()
        self._ce.deinit()
        self._tick_h = None
        self._ce_h = None
