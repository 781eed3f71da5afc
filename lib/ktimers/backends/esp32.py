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

Critical sections never enter the port: on esp32 machine.disable_irq() is
portENTER_CRITICAL, and Timer.init inside it would free and allocate an
interrupt (esp_intr_free/esp_intr_alloc) and malloc -- forbidden in a
critical section.  Since every handler here is a scheduled callback, not an
IRQ, irq_save/irq_restore are a mask kept by this backend (O(1), no port
call): a tick or clock event delivered while the mask is held is recorded and
replayed by the irq_restore that drops it, exactly as a held-off interrupt
would be taken when interrupts come back on (every held tick counts).

CE_MIN_CYC = 50 us, CE_MAX_CYC = 2**28 us.
"""

from micropython import const
from ._timerpair import TimerPairHw

_US = const(1_000_000)


class ClockHw(TimerPairHw):
    NAME = "esp32"
    CE_MIN_CYC = 50

    def __init__(self, **cfg):
        tid = cfg.get("TICK_TIMER", 0)
        cid = cfg.get("CE_TIMER", 1)
        if tid == cid:
            raise ValueError("esp32: TICK_TIMER and CE_TIMER must differ")
        super().__init__(tid, cid)
        self._mask = 0  # irq_save depth; never machine.disable_irq (portENTER_CRITICAL)
        self._held_ticks = 0  # ticks delivered while masked (each one is a jiffy)
        self._held_ce = False  # clock event delivered while masked
        self._tick_h = None
        self._tick_cb = self._tick_fire  # bound once

    def tick_start(self, hz, handler):
        if _US % hz:
            raise ValueError("esp32: HZ must divide 1000000, got %d" % hz)
        self._tick_h = handler
        self._tick.init(mode=self._PER, period=_US // hz, tick_hz=_US, callback=self._tick_cb)

    def _tick_fire(self, t):
        # scheduled context
        if self._mask:
            self._held_ticks += 1
        else:
            self._tick_h(t)

    def _ce_fire(self, t):
        if self._mask:
            self._held_ce = True
        elif self._armed:
            self._armed = False
            self._ce_h(t)

    def irq_save(self):
        s = self._mask
        self._mask = s + 1
        return s

    def irq_restore(self, state):
        self._mask = state
        if state:
            return
        while self._held_ticks:
            self._held_ticks -= 1
            self._tick_h(None)
        if self._held_ce:
            self._held_ce = False
            self._ce_fire(None)

    def ce_set_next(self, cyc, handler):
        self._ce_h = handler
        self._armed = True
        self._ce.init(mode=self._ONE, period=cyc, tick_hz=_US, callback=self._ce_cb)
