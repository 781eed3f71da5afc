"""ktimers.backends.machine -- any port with the standard machine.Timer API.

Peripheral mapping (Blackfin shape):
    clocksource  time.ticks_us(), 1 MHz, masked to 30 bits (TICKS_PERIOD is
                 2**30 on 32-bit ports, so the mask only matters on 64-bit ones)
    tick         machine.Timer(TICK_TIMER, default -1), PERIODIC, period
                 1000 // HZ ms (HZ must divide 1000: the soft-timer unit is the
                 ms and freq= would truncate 1000/HZ and make jiffies drift)
    clock event  machine.Timer(CE_TIMER, default -1), ONE_SHOT, period in ms,
                 re-initialised in place on every ce_set_next (no new objects)

Contexts: the generic machine.Timer (extmod/machine_timer.c over
shared/runtime/softtimer.c) delivers callbacks with mp_sched_schedule, so the
tick and clock-event handlers run *scheduled* (main context, between
bytecodes): HARD_IRQ is False and HRTIMER_MODE_HARD timers run in softirq.
The port drops a callback when the schedule queue is full; a dropped tick is
a lost jiffy on these ports.

Resolution: soft timers count whole ms and expire at a ms-counter boundary
(expiry_ms = ticks_ms() + period), so a period of d ms can end only
(d-1) ms + a little after the call.  To never fire early ce_set_next programs
d = ceil(cyc / 1000) + 1 ms, i.e. hrtimers get ms granularity here and land
1..2 ms after their expiry (plus scheduling latency).  CE_MIN_CYC = 1000.

irq_save/irq_restore = machine.disable_irq()/enable_irq(state).
idle = machine.idle() (else time.sleep_ms(1)).

Everything the backend calls is looked up from `machine` and `time` in
__init__, so a test can substitute both modules (tests/device/standins/).
"""

from micropython import const

_MASK = const(0x3FFFFFFF)


class ClockHw:
    NAME = "machine"
    CS_HZ = 1_000_000
    CS_MASK = _MASK
    CS_NS_PER_CYC = 1000
    CE_MIN_CYC = 1000
    CE_MAX_CYC = 1 << 28
    HARD_IRQ = False

    def __init__(self, **cfg):
        import machine
        import time

        self._us = time.ticks_us
        self._dis = machine.disable_irq
        self._en = machine.enable_irq
        self._idle = getattr(machine, "idle", None)
        self._sleep_ms = time.sleep_ms
        T = machine.Timer
        self._ONE = T.ONE_SHOT
        self._PER = T.PERIODIC
        self._tick = T(cfg.get("TICK_TIMER", -1))
        self._ce = T(cfg.get("CE_TIMER", -1))
        self._ce_h = None
        self._armed = False
        self._ce_cb = self._ce_fire  # bound once: no allocation per event

    def cs_read(self):
        return self._us() & _MASK

    def tick_start(self, hz, handler):
        if 1000 % hz:
            raise ValueError("machine: HZ must divide 1000 (ms soft timers), got %d" % hz)
        self._tick.init(mode=self._PER, period=1000 // hz, callback=handler)

    def tick_stop(self):
        self._tick.deinit()

    def ce_set_next(self, cyc, handler):
        self._ce_h = handler
        self._armed = True
        # ceil(cyc / 1000) + 1 ms: the first ms of a soft timer may be partial
        self._ce.init(mode=self._ONE, period=(cyc + 999) // 1000 + 1, callback=self._ce_cb)

    def _ce_fire(self, t):
        # scheduled context; a callback already queued when ce_stop() ran is ignored
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
        if self._idle is not None:
            self._idle()
        else:
            self._sleep_ms(1)

    def deinit(self):
        self._armed = False
        self._tick.deinit()
        self._ce.deinit()
