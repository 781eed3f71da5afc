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

Not every port's machine.Timer is the generic one.  nrf (1.25) has its own:
hardware ids 0..4, ONESHOT (not ONE_SHOT), no init(), period in us, callbacks
called straight from the TIMER IRQ without the heap locked.  This backend
refuses it (NotImplementedError naming the port) rather than drive it wrongly.

Everything the backend calls is looked up from `machine` and `time` in
__init__, so a test can substitute both modules (tests/device/standins/).
"""

from ._timerpair import TimerPairHw


class ClockHw(TimerPairHw):
    NAME = "machine"
    CE_MIN_CYC = 1000

    def __init__(self, **cfg):
        import time
        import machine

        T = machine.Timer
        if not hasattr(T, "ONE_SHOT") and hasattr(T, "ONESHOT"):
            raise NotImplementedError(
                "machine: this is the nrf port's machine.Timer (ids 0..4, ONESHOT, no init(), period in us, "
                "callbacks straight from the IRQ): the generic machine backend cannot drive it"
            )
        self._sleep_ms = time.sleep_ms
        super().__init__(cfg.get("TICK_TIMER", -1), cfg.get("CE_TIMER", -1))

    def tick_start(self, hz, handler):
        if 1000 % hz:
            raise ValueError("machine: HZ must divide 1000 (ms soft timers), got %d" % hz)
        self._tick.init(mode=self._PER, period=1000 // hz, callback=handler)

    def ce_set_next(self, cyc, handler):
        self._ce_h = handler
        self._armed = True
        # ceil(cyc / 1000) + 1 ms: the first ms of a soft timer may be partial
        self._ce.init(mode=self._ONE, period=(cyc + 999) // 1000 + 1, callback=self._ce_cb)

    def idle(self):
        if self._idle is not None:
            self._idle()
        else:
            self._sleep_ms(1)
