"""ktimers.backends.pyb -- stm32 boards (pyboard) with pyb.Timer hardware timers.

Peripheral mapping (defaults; board keys TICK_TIMER, CE_TIMER):
    clocksource  time.ticks_us(): the port's µs count (SysTick + uwTick), 1 MHz,
                 wraps at 2**30 (a small int; safe in a hard IRQ).  No timer
                 peripheral: the only 32-bit timers, TIM2 and TIM5, are taken
                 (see below).
    tick         TIM4 (16-bit, APB1 84 MHz), Timer.init(freq=HZ, callback=...):
                 the port picks prescaler/period for an exact HZ (84 MHz / 250).
    clock event  TIM9 (16-bit, APB2 168 MHz) at 1 MHz (prescaler from its own
                 source_freq), period = cyc - 1.  pyb.Timer has no one-shot
                 mode: ce_set_next re-inits the same Timer (HAL base init issues
                 an update event: counter and prescaler restart, so the event is
                 exactly cyc us later) and the callback first calls
                 tim.callback(None), which disables the update interrupt while
                 the counter keeps running.  16 bits cap CE_MAX_CYC at 65536 us;
                 the hrtimer core re-programs longer waits in steps.

Timers the board already uses, refused by name (MicroPython 1.25 sources):
    TIM2  LED(3).intensity() PWM on PYBV10/11 (reprograms it to period 10,000)
    TIM3  LED(4) intensity / internal     TIM5  servo     TIM6  ADC/DAC timed I/O
    TIM7, TIM8  DAC.write_timed
Detection: at init a timer whose counter is already moving is refused (the
program or a board feature owns it); after init the prescaler and period are
read back.  While running, each tick IRQ compares the tick timer's period and
the clock event's prescaler with what was programmed (two register reads,
allocation-free); on a mismatch it schedules a report that logs to dmesg and
raises RuntimeError naming the timer in the main program.

Contexts: pyb.Timer callbacks are hard IRQs (heap and scheduler locked; an
exception disables that callback), so HARD_IRQ is True.  Board key HARD_IRQ =
False relays them with micropython.schedule (a full queue loses that event).
Hard-IRQ paths allocate nothing: Timer.init with keyword args parses them on
the C stack; the callbacks are bound methods made once in __init__.

CE_MIN_CYC = 5 us.  irq_save = machine.disable_irq().  idle = machine.idle().
Source clock frequencies must be whole MHz (they are on all stm32 boards).
"""

from micropython import const
from ._timerpair import TimerPairHw

_TAKEN = {
    2: "LED(3).intensity() PWM on PYBV10/11",
    3: "LED(4) intensity and the firmware",
    5: "the servo driver",
    6: "ADC/DAC timed I/O",
    7: "DAC.write_timed",
    8: "DAC.write_timed",
}


class ClockHw(TimerPairHw):
    NAME = "pyb"
    CE_MIN_CYC = 5
    CE_MAX_CYC = 0x10000
    HARD_IRQ = True

    def __init__(self, **cfg):
        import pyb
        import time
        import micropython

        if cfg.get("CS_TIMER") is not None:
            raise ValueError("pyb: CS_TIMER is gone: the clocksource is time.ticks_us (TIM2 and TIM5 are taken)")
        tid = cfg.get("TICK_TIMER", 4)
        cid = cfg.get("CE_TIMER", 9)
        if tid == cid:
            raise ValueError("pyb: TICK_TIMER and CE_TIMER must differ")
        for key, i in (("TICK_TIMER", tid), ("CE_TIMER", cid)):
            if i in _TAKEN:
                raise ValueError("pyb: %s=%d: TIM%d is used by %s" % (key, i, i, _TAKEN[i]))
        self._sched = micropython.schedule
        self._us = time.ticks_us
        self._sleep_us = time.sleep_us
        T = pyb.Timer
        tick, ce = T(tid), T(cid)
        for i, tim in ((tid, tick), (cid, ce)):
            if self._moving(tim):
                raise RuntimeError("pyb: TIM%d is already running: the program or a board feature uses it" % i)
        self._pair(tick, ce)
        self._ids = (tid, cid)
        self._ce_psc = self._psc(ce)
        self._tick_h = None
        self._tick_arr = -1
        self.bad = 0  # id of a timer found reconfigured under us, else 0
        self.HARD_IRQ = bool(cfg.get("HARD_IRQ", True))
        self._tick_cb = self._tick_hw
        self._tick_relay = self._tick_soft
        self._ce_relay = self._ce_soft
        self._report_cb = self._report

    def _moving(self, tim):
        # a 16-bit timer counts at >= source/65536 (1.3 kHz): 1 ms shows any running one
        c = tim.counter()
        for _ in range(20):
            self._sleep_us(50)
            if tim.counter() != c:
                return True
        return False

    @staticmethod
    def _psc(tim):
        src = tim.source_freq()
        if src % 1_000_000:
            raise ValueError("pyb: timer source clock %d Hz is not whole MHz" % src)
        return src // 1_000_000 - 1

    def tick_start(self, hz, handler):
        self._tick_h = handler
        self._tick.init(freq=hz, callback=self._tick_cb)
        self._tick_arr = self._tick.period()
        if not self._moving(self._tick):
            raise RuntimeError("pyb: TIM%d does not count after init (read back period %d)" % (self._ids[0], self._tick_arr))

    def _tick_hw(self, t):
        # hard IRQ: is our hardware still ours?  Two register reads, no allocation.
        if not self.bad:
            if t.period() != self._tick_arr:
                self._hijacked(self._ids[0])
            elif self._armed and self._ce.prescaler() != self._ce_psc:
                self._hijacked(self._ids[1])
        if self.HARD_IRQ:
            self._tick_h(t)
        else:
            try:
                self._sched(self._tick_relay, t)
            except RuntimeError:
                pass

    def _hijacked(self, i):
        self.bad = i
        try:
            self._sched(self._report_cb, i)
        except RuntimeError:
            pass  # check() still says so

    def check(self):
        """None, or what was found reconfigured under us.  Task context."""
        if self.bad:
            return "pyb: TIM%d was reconfigured under ktimers (another user of the timer: see the pyb backend's table)" % self.bad
        return None

    def _report(self, i):
        msg = self.check()
        from ..printk import printk

        printk("\x013%s\n", msg)
        raise RuntimeError(msg)

    def _tick_soft(self, t):
        self._tick_h(t)

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
