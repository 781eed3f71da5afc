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

Contexts, per MicroPython version (read from ports/rp2/machine_timer.c):
    1.25 and older  every Timer callback is scheduled (mp_sched_schedule from
                    the alarm IRQ); `hard=` raises TypeError.
    1.26 and later  `hard=True` runs the callback in the TIMER alarm IRQ with
                    the heap locked.
__init__ finds out at run time, not from the version number: it arms a 200 us
one-shot with hard=True and waits (machine.idle, at most 50 ms) for the
callback, which tries to allocate: MemoryError means it ran in the IRQ with
the heap locked (hard= honoured).  TypeError -> not offered; the callback
allocating fine -> accepted but not honoured.  HARD_IRQ is True only when
honoured (and the board file's HARD_IRQ, default True, allows it); otherwise
handlers run scheduled and HRTIMER_MODE_HARD timers run in softirq.
HARD_INFO says which: "honoured", "not offered", "accepted, not honoured",
"not tried" or "no callback".

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
        self._hard = False
        self.HARD_INFO = "not tried"
        if bool(cfg.get("HARD_IRQ", True)):
            self.HARD_INFO = self._probe_hard()
            self._hard = self.HARD_INFO == "honoured"
        self.HARD_IRQ = self._hard

    def _probe_hard(self):
        # task context, once: does hard=True exist, and does the callback really
        # run in the IRQ (heap locked)?  Allocation here is fine.
        import machine

        res = [0]

        def cb(t):
            try:
                res[0] = len([1, 2]) - 1  # allocates: 1 when the heap is not locked
            except MemoryError:
                res[0] = 2

        try:
            self._ce.init(mode=self._ONE, period=200, tick_hz=_US, callback=cb, hard=True)
        except TypeError:
            return "not offered"
        t0 = self._us()
        while not res[0] and (self._us() - t0) & 0x3FFFFFFF < 50_000:
            machine.idle()
        self._ce.deinit()
        if not res[0]:
            return "no callback"
        return "honoured" if res[0] == 2 else "accepted, not honoured"

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
