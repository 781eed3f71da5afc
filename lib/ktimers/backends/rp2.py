"""ktimers.backends.rp2 -- Raspberry Pi Pico / Pico 2 (RP2040, RP2350).

Peripheral mapping:
    clocksource  time.ticks_us(): the 1 MHz 64-bit hardware TIMER, masked to
                 30 bits (small int)
    tick         machine.Timer(-1) PERIODIC, period=10**6 // HZ with
                 tick_hz=1_000_000 (an alarm of the SDK's default alarm pool;
                 it re-arms from its previous target, so the tick does not
                 drift).  HZ must divide 10**6.
    clock event  a second machine.Timer(-1), ONE_SHOT, period=cyc with
                 tick_hz=1_000_000: the port computes delta_us = period *
                 10**6 // tick_hz, so the alarm has 1 us resolution (freq= would
                 go through a float and truncate).  The same Timer object is
                 re-initialised on every ce_set_next.

rp2's machine.Timer only accepts id -1 (ValueError "Timer doesn't exist").

Contexts: MicroPython 1.25 schedules every Timer callback
(mp_sched_schedule from the alarm IRQ); 1.26 added `hard=`.  __init__ probes
`hard=True` once: accepted -> HARD_IRQ = cfg HARD_IRQ (default True) and the
tick/clock-event handlers run in the TIMER alarm IRQ with the heap locked;
TypeError (older firmware) -> HARD_IRQ False, handlers run scheduled.

Hard-IRQ paths allocate nothing: cs_read is one builtin call and a mask;
ce_set_next calls Timer.init with keyword args (parsed on the C stack) and a
bound method created once in __init__.

CE_MIN_CYC = 10 us (the SDK fires an alarm already in the past at once),
CE_MAX_CYC = 2**28 us.  irq_save = machine.disable_irq().
"""

from micropython import const
from ._timerpair import TimerPairHw

_US = const(1_000_000)


class ClockHw(TimerPairHw):
    NAME = "rp2"
    CE_MIN_CYC = 10

    def __init__(self, **cfg):
        super().__init__(-1, -1)
        want = bool(cfg.get("HARD_IRQ", True))
        self._hard = False
        if want:
            try:  # probe: `hard=` exists since MicroPython 1.26
                self._ce.init(mode=self._ONE, period=_US, tick_hz=_US, callback=self._ce_cb, hard=True)
                self._hard = True
            except TypeError:
                pass
            self._ce.deinit()
        self.HARD_IRQ = self._hard

    def tick_start(self, hz, handler):
        if _US % hz:
            raise ValueError("rp2: HZ must divide 1000000, got %d" % hz)
        if self._hard:
            self._tick.init(mode=self._PER, period=_US // hz, tick_hz=_US, callback=handler, hard=True)
        else:
            self._tick.init(mode=self._PER, period=_US // hz, tick_hz=_US, callback=handler)

    def ce_set_next(self, cyc, handler):
        # any context; allocates nothing (cyc is a small int)
        self._ce_h = handler
        self._armed = True
        if self._hard:
            self._ce.init(mode=self._ONE, period=cyc, tick_hz=_US, callback=self._ce_cb, hard=True)
        else:
            self._ce.init(mode=self._ONE, period=cyc, tick_hz=_US, callback=self._ce_cb)
