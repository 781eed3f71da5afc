"""ktimers.backends.esp32 -- ESP32 family, hardware GPTimers.

Peripheral mapping:
    clocksource  time.ticks_us() (esp_timer, 1 MHz), masked to 30 bits
    tick         machine.Timer(TICK_TIMER, default 0) PERIODIC,
                 period=10**6 // HZ with tick_hz=1_000_000.  The port runs the
                 GPTimer at APB/8 = 10 MHz and converts period * 10 MHz //
                 tick_hz, so 1 us periods are exact; auto-reload keeps the
                 tick free of drift.  HZ must divide 10**6.
    clock event  machine.Timer(CE_TIMER, default 1) ONE_SHOT, period=cyc with
                 tick_hz=1_000_000 (1 us resolution); init() restarts the
                 counter from 0, so the event is cyc us after the call.
Timer ids are 0..3 on the ESP32 (two groups of two; fewer on C3/S2/S3 variants).

Contexts: the port's timer ISR always hands the callback to mp_sched_schedule
(1.25 has no `hard=`; later firmware raises ValueError for hard=True), so
tick and clock-event handlers run scheduled: HARD_IRQ is False whatever the
board file says, and HRTIMER_MODE_HARD timers run in softirq.  Timer.init
re-allocates the interrupt (esp_intr_alloc) each time: fine in scheduled
context, which is the only context it is called from here.

CE_MIN_CYC = 50 us, CE_MAX_CYC = 2**28 us.  irq_save = machine.disable_irq().
"""

from micropython import const

_MASK = const(0x3FFFFFFF)
_US = const(1_000_000)


class ClockHw:
    NAME = "esp32"
    CS_HZ = 1_000_000
    CS_MASK = _MASK
    CS_NS_PER_CYC = 1000
    CE_MIN_CYC = 50
    CE_MAX_CYC = 1 << 28
    HARD_IRQ = False

    def __init__(self, **cfg):
        import machine
        import time

        tid = cfg.get("TICK_TIMER", 0)
        cid = cfg.get("CE_TIMER", 1)
        if tid == cid:
            raise ValueError("esp32: TICK_TIMER and CE_TIMER must differ")
        self._us = time.ticks_us
        self._dis = machine.disable_irq
        self._en = machine.enable_irq
        self._idle = machine.idle
        T = machine.Timer
        self._ONE = T.ONE_SHOT
        self._PER = T.PERIODIC
        self._tick = T(tid)
        self._ce = T(cid)
        self._ce_h = None
        self._armed = False
        self._ce_cb = self._ce_fire

    def cs_read(self):
        return self._us() & _MASK

    def tick_start(self, hz, handler):
        if _US % hz:
            raise ValueError("esp32: HZ must divide 1000000, got %d" % hz)
        self._tick.init(mode=self._PER, period=_US // hz, tick_hz=_US, callback=handler)

    def tick_stop(self):
        self._tick.deinit()

    def ce_set_next(self, cyc, handler):
        self._ce_h = handler
        self._armed = True
        self._ce.init(mode=self._ONE, period=cyc, tick_hz=_US, callback=self._ce_cb)

    def _ce_fire(self, t):
        # scheduled context; ignores an event stopped after it was queued
        if self._armed:
            self._armed = False
            self._ce_h(t)

    def ce_stop(self):
        self._armed = False
        self._ce.deinit()

    def irq_save(self):
        return self._dis()

    def irq_restore(self, state):
        self._en(state)

    def idle(self):
        self._idle()

    def deinit(self):
        self._armed = False
        self._tick.deinit()
        self._ce.deinit()
