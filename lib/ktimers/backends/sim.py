"""ktimers.backends.sim -- a virtual clock that tests advance explicitly.

Nothing happens until advance(ns) or idle() is called: the counter jumps to
each pending event (tick or clock event) in time order, calls its handler as
the hardware would (HARD_IRQ True by default, so the hard-IRQ paths run), then
runs the raised softirqs at once (DIRECT).  Runs are exactly repeatable.

The counter is CS_HZ (default 1 MHz) and wraps at CS_MASK + 1 (default 2**24,
about 16.8 s of virtual time) so tests cross many wraps quickly.

    import ktimers; hw = ktimers.init("sim", hz=1000)
    hw.advance(5_000_000)      # 5 ms of virtual time, firing what falls due
"""


class ClockHw:
    NAME = "sim"
    DIRECT = True
    CE_SOFT = True

    def __init__(self, **cfg):
        self.CS_HZ = cfg.get("CS_HZ", 1_000_000)
        bits = cfg.get("CS_BITS", 24)
        if not 8 <= bits <= 30:
            raise ValueError("sim: CS_BITS must be in 8..30, got %r" % (bits,))
        self.CS_MASK = (1 << bits) - 1
        self.CS_NS_PER_CYC = 1_000_000_000 // self.CS_HZ if 1_000_000_000 % self.CS_HZ == 0 else 0
        self.CE_MIN_CYC = cfg.get("CE_MIN_CYC", 1)
        self.CE_MAX_CYC = self.CS_MASK >> 2
        self.HARD_IRQ = cfg.get("HARD_IRQ", True)
        self.now = cfg.get("START", 0)  # virtual cycles, unbounded
        self._tick_h = None
        self._tick_period = 0
        self._tick_next = None
        self._ce_h = None
        self._ce_at = None
        self.irqs = 0

    def cs_read(self):
        return self.now & self.CS_MASK

    def tick_start(self, hz, handler):
        if self.CS_HZ % hz:
            raise ValueError("sim: CS_HZ must be a multiple of hz")
        self._tick_period = self.CS_HZ // hz
        self._tick_next = self.now + self._tick_period
        self._tick_h = handler

    def tick_stop(self):
        self._tick_h = None
        self._tick_next = None

    def ce_set_next(self, cyc, handler, hard=True):
        # handlers run in the main context either way (CE_SOFT)
        self._ce_h = handler
        self._ce_at = self.now + cyc

    def ce_stop(self):
        self._ce_at = None

    def irq_save(self):
        return 0

    def irq_restore(self, state):
        pass

    def deinit(self):
        self.tick_stop()
        self.ce_stop()

    def _next_event(self):
        n = self._tick_next
        c = self._ce_at
        if c is not None and (n is None or c < n):
            return c
        return n

    def _fire_due(self):
        from .. import core

        # clock event first at a shared instant: hrtimers are the finer clock
        if self._ce_at is not None and self._ce_at <= self.now:
            self._ce_at = None
            self.irqs += 1
            self._ce_h(None)
        if self._tick_next is not None and self._tick_next <= self.now:
            self._tick_next += self._tick_period
            self.irqs += 1
            self._tick_h(None)
        core.run_softirq()

    def advance(self, ns):
        """Let ns of virtual time pass, firing every event that falls due."""
        if ns < 0:
            raise ValueError("sim.advance: ns must be >= 0, got %r" % (ns,))
        end = self.now + -(-ns * self.CS_HZ // 1_000_000_000)
        while True:
            e = self._next_event()
            if e is None or e > end:
                break
            if e > self.now:
                self.now = e
            self._fire_due()
        self.now = end

    def cpu_relax(self, cycles):
        """Busy-wait stand-in: time passes while ndelay/udelay spin."""
        self.advance(-(-cycles * 1_000_000_000 // self.CS_HZ))

    def idle(self):
        e = self._next_event()
        if e is None:
            raise RuntimeError("sim: idle with nothing pending would sleep forever")
        if e > self.now:
            self.now = e
        self._fire_due()
