"""ktimers.backends.pyb -- stm32 boards (pyboard) with pyb.Timer hardware timers.

Peripheral mapping (defaults; board keys CS_TIMER, TICK_TIMER, CE_TIMER):
    clocksource  TIM2 (32-bit), prescaler = source_freq // 1 MHz - 1,
                 period 0x3FFFFFFF: free-running 1 MHz up-counter that wraps at
                 2**30, read with counter() (always a small int).  Must be a
                 32-bit timer (TIM2 or TIM5).
    tick         TIM7 (basic, 16-bit), Timer.init(freq=HZ, callback=handler):
                 the port picks prescaler/period for an exact HZ when the
                 source clock allows (84 MHz / 250 is exact).
    clock event  TIM8 (16-bit) at 1 MHz (prescaler from its own source_freq,
                 168 MHz on APB2), period = cyc - 1.  pyb.Timer has no one-shot
                 mode: ce_set_next re-inits the same Timer (HAL base init
                 issues an update event: counter and prescaler restart, so the
                 event is exactly cyc us later) and the callback first calls
                 tim.callback(None), which disables the update interrupt
                 while the counter keeps running.  A 16-bit CE caps
                 CE_MAX_CYC at 65536 us; the hrtimer core re-programs longer
                 waits in steps.  A 32-bit CE timer gets 2**28.
TIM3 (LED), TIM5 (servo) and TIM6 (ADC/DAC timed I/O) are used by the firmware;
this backend refuses them.  All three must be different timers.

Contexts: pyb.Timer callbacks are hard IRQs (the port locks the heap and the
scheduler around them; an exception disables that callback), so HARD_IRQ is
True: tick and clock-event handlers run in the timer's IRQ.  Board key
HARD_IRQ = False instead relays them with micropython.schedule (a full queue
then loses that event).  Hard-IRQ paths allocate nothing: counter() of a
value < 2**30 is a small int; Timer.init with keyword args parses them on the
C stack; the callbacks are bound methods made once in __init__.

CE_MIN_CYC = 5 us.  irq_save = machine.disable_irq().  idle = machine.idle()
(WFI).  Source clock frequencies must be whole MHz (they are on all stm32
boards MicroPython ships).
"""

from micropython import const
from ._timerpair import TimerPairHw

_MASK = const(0x3FFFFFFF)
_RESERVED = (3, 5, 6)


class ClockHw(TimerPairHw):
    NAME = "pyb"
    CE_MIN_CYC = 5
    CE_MAX_CYC = 0x10000
    HARD_IRQ = True

    def __init__(self, **cfg):
        import pyb
        import micropython

        sid = cfg.get("CS_TIMER", 2)
        tid = cfg.get("TICK_TIMER", 7)
        cid = cfg.get("CE_TIMER", 8)
        if sid == tid or sid == cid or tid == cid:
            raise ValueError("pyb: CS_TIMER, TICK_TIMER, CE_TIMER must differ")
        for i in (sid, tid, cid):
            if i in _RESERVED:
                raise ValueError("pyb: TIM%d is used by the firmware (3 LED, 5 servo, 6 ADC/DAC)" % i)
        if sid not in (2, 5):
            raise ValueError("pyb: CS_TIMER must be a 32-bit timer (2), got %d" % sid)
        self._sched = micropython.schedule
        T = pyb.Timer
        self._cs = T(sid)
        self._cs.init(prescaler=self._psc(self._cs), period=_MASK)
        self._us = self._cs.counter  # bound once; cs_read masks it
        self._pair(T(tid), T(cid))
        self._ce_psc = self._psc(self._ce)
        if cid in (2, 5):
            self.CE_MAX_CYC = 1 << 28
        self._tick_h = None
        self.HARD_IRQ = bool(cfg.get("HARD_IRQ", True))
        self._tick_relay = self._tick_soft
        self._ce_relay = self._ce_soft

    @staticmethod
    def _psc(tim):
        src = tim.source_freq()
        if src % 1_000_000:
            raise ValueError("pyb: timer source clock %d Hz is not whole MHz" % src)
        return src // 1_000_000 - 1

    def tick_start(self, hz, handler):
        self._tick_h = handler
        self._tick.init(freq=hz, callback=handler if self.HARD_IRQ else self._tick_relay)

    def _tick_soft(self, t):
        try:
            self._sched(self._tick_h, t)
        except RuntimeError:
            pass

    def ce_set_next(self, cyc, handler):
        # any context (hard IRQ included); allocates nothing
        self._ce_h = handler
        self._armed = True
        self._ce.init(prescaler=self._ce_psc, period=cyc - 1, callback=self._ce_cb)

    def _ce_fire(self, tim):
        # hard IRQ of the CE timer: make it one-shot, then run the handler
        tim.callback(None)
        if self._armed:
            self._armed = False
            if self.HARD_IRQ:
                self._ce_h(tim)
            else:
                try:
                    self._sched(self._ce_relay, tim)
                except RuntimeError:
                    pass

    def _ce_soft(self, t):
        self._ce_h(t)

    def ce_stop(self):
        self._armed = False
        self._ce.callback(None)

    def deinit(self):
        super().deinit()
        self._cs.deinit()
