"""ktimers.backends.unix -- the host unix port as a board.

The unix port has no timer peripherals, so a thread stands in for both: it
sleeps until the next tick or clock-event deadline and delivers the handler
with micropython.schedule(), i.e. in the main context between bytecodes (and
while the REPL waits for a key).  The clocksource is time.ticks_us()
(CLOCK_MONOTONIC, 1 MHz), masked to 30 bits like a 32-bit port's ticks.

HARD_IRQ is False: HRTIMER_MODE_HARD timers run in softirq context here.
The thread sleeps in slices of at most _SLICE_US so a clock event programmed
while it sleeps is seen within that slice.
"""

import time
import _thread
import micropython
from micropython import const

_SLICE_US = const(200)
_MASK = const(0x3FFFFFFF)


class ClockHw:
    NAME = "unix"
    CS_HZ = 1_000_000
    CS_MASK = _MASK
    CS_NS_PER_CYC = 1000
    CE_MIN_CYC = 1
    CE_MAX_CYC = 1 << 28
    HARD_IRQ = False

    def __init__(self, **cfg):
        self._run = True
        self._tick_h = None
        self._tick_period = 0
        self._tick_next = 0
        self._ce_h = None
        self._ce_at = -1  # raw deadline, -1 = none
        self._lock = _thread.allocate_lock()
        self._alive = False

    def cs_read(self):
        return time.ticks_us() & _MASK

    def tick_start(self, hz, handler):
        self._tick_period = 1_000_000 // hz
        self._tick_next = (self.cs_read() + self._tick_period) & _MASK
        self._tick_h = handler
        if not self._alive:
            self._alive = True
            _thread.start_new_thread(self._thread, ())

    def tick_stop(self):
        self._tick_h = None

    def ce_set_next(self, cyc, handler):
        self._ce_h = handler
        self._ce_at = (self.cs_read() + cyc) & _MASK

    def ce_stop(self):
        self._ce_at = -1

    def irq_save(self):
        return 0

    def irq_restore(self, state):
        pass

    def idle(self):
        time.sleep_us(100)

    def deinit(self):
        self._run = False
        self._tick_h = None
        self._ce_at = -1

    @staticmethod
    def _until(now, at):
        d = (at - now) & _MASK
        return d - _MASK - 1 if d > (_MASK >> 1) else d

    def _deliver(self, h):
        try:
            micropython.schedule(h, 0)
            return True
        except RuntimeError:  # queue full: try again on the next pass
            return False

    def _thread(self):
        while self._run:
            now = self.cs_read()
            wait = _SLICE_US
            h = self._tick_h
            if h is not None:
                d = self._until(now, self._tick_next)
                if d <= 0:
                    if self._deliver(h):
                        self._tick_next = (self._tick_next + self._tick_period) & _MASK
                        if self._until(now, self._tick_next) < -100 * self._tick_period:
                            self._tick_next = (now + self._tick_period) & _MASK  # resync
                    d = 0
                wait = min(wait, d)
            at = self._ce_at
            if at >= 0:
                d = self._until(now, at)
                if d <= 0:
                    if self._ce_at == at and self._deliver(self._ce_h):
                        if self._ce_at == at:
                            self._ce_at = -1
                    d = 0
                wait = min(wait, d)
            if wait > 0:
                time.sleep_us(wait)
        self._alive = False
