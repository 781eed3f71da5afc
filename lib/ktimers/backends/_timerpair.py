"""ktimers.backends._timerpair -- shared base of the timer-pair backends.

The machine, rp2, esp32 and pyb backends all drive the same shape of
hardware: a 1 MHz counter masked to 30 bits as clocksource, one periodic
timer for the tick and one re-initialised timer for the clock event.
TimerPairHw holds what they do alike; each backend module subclasses it as
ClockHw and keeps its own tick_start, ce_set_next and port mapping.

  __init__(tick_id, ce_id)  machine.Timer backends: ticks_us clocksource,
                            ONE_SHOT/PERIODIC, Timer(tick_id), Timer(ce_id)
  _pair(tick, ce)           the rest, for any timer objects (pyb calls it
                            directly with pyb.Timer objects and sets _us)
  cs_read, tick_stop, _ce_fire, ce_stop, irq_save, irq_restore, idle, deinit

`machine` and `time` are looked up in __init__ (never at import), so a test
can substitute both modules (tests/device/standins/).  Hard-IRQ paths
allocate nothing: _us and _ce_cb are bound once here.
"""

from micropython import const

_MASK = const(0x3FFFFFFF)


class TimerPairHw:
    CS_HZ = 1_000_000
    CS_MASK = _MASK
    CS_NS_PER_CYC = 1000
    CE_MAX_CYC = 1 << 28
    HARD_IRQ = False

    def __init__(self, tick_id, ce_id):
        import machine
        import time

        self._us = time.ticks_us
        T = machine.Timer
        self._ONE = T.ONE_SHOT
        self._PER = T.PERIODIC
        self._pair(T(tick_id), T(ce_id))

    def _pair(self, tick, ce):
        import machine

        self._dis = machine.disable_irq
        self._en = machine.enable_irq
        self._idle = getattr(machine, "idle", None)
        self._tick = tick
        self._ce = ce
        self._ce_h = None
        self._armed = False
        self._ce_cb = self._ce_fire  # bound once: no allocation per event

    def cs_read(self):
        return self._us() & _MASK

    def tick_stop(self):
        self._tick.deinit()

    def _ce_fire(self, t):
        # hard IRQ or scheduled; an event stopped after it was queued is ignored
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
