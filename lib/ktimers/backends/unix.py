"""ktimers.backends.unix -- the host unix port as a board.

The unix port has no timer peripherals, so a thread stands in for both: it
sleeps until the next tick or clock-event deadline and delivers the handler
with micropython.schedule(), i.e. in the main context between bytecodes.
The thread counts ticks itself and hands them over in one scheduled call when
the core's tick budget is spent (so an idle board schedules about once a
second, not HZ times), and runs the raised softirqs in the same call (DIRECT):
MicroPython runs one scheduled callback per wake-up of a blocked read().  The unix REPL waits in a blocking read() that only a
signal interrupts; a delivery not run within _KICK_US triggers gc.collect() in
the thread, whose SIGUSR1 to the main thread lets the REPL run it -- so timers
fire while the prompt waits for a key.  The clocksource is time.ticks_us()
(CLOCK_MONOTONIC, 1 MHz), masked to 30 bits like a 32-bit port's ticks.

HARD_IRQ is False: HRTIMER_MODE_HARD timers run in softirq context here.
The thread sleeps in slices of at most _SLICE_US so a clock event programmed
while it sleeps is seen within that slice.
"""

import gc
import time
import _thread
import micropython
from micropython import const

_SLICE_US = const(200)
_KICK_US = const(1000)
_MASK = const(0x3FFFFFFF)


class ClockHw:
    NAME = "unix"
    CS_HZ = 1_000_000
    CS_MASK = _MASK
    CS_NS_PER_CYC = 1000
    CE_MIN_CYC = 1
    CE_MAX_CYC = 1 << 28
    HARD_IRQ = False
    DIRECT = True  # handlers run in the main context: softirqs run right after them
    CE_SOFT = True

    def __init__(self, **cfg):
        bits = cfg.get("CS_BITS", 30)  # test option: a narrower counter wraps sooner
        if not 16 <= bits <= 30:
            raise ValueError("unix: CS_BITS must be in 16..30, got %r" % (bits,))
        self.CS_MASK = (1 << bits) - 1
        self.CE_MAX_CYC = min(1 << 28, self.CS_MASK >> 2)
        self._run = True
        self._tick_h = None
        self._tick_period = 0
        self._tick_next = 0
        self._owed = 0  # ticks counted by the thread (written by the thread only)
        self._taken = 0  # ticks handed to the tick handler (written by main only)
        self._ce_h = None
        self._ce_at = -1  # raw deadline, -1 = none
        self._sent = 0  # deliveries scheduled by the thread
        self._done = 0  # deliveries run by the main context
        self._since = 0  # when the oldest undelivered one was sent
        self._alive = False
        self._flush_ref = self._flush  # bound once: no allocation per delivery
        self._ce_fire_ref = self._ce_fire
        self._core = None

    def cs_read(self):
        return time.ticks_us() & self.CS_MASK

    def tick_start(self, hz, handler):
        from .. import core

        self._core = core
        self._tick_period = 1_000_000 // hz
        self._tick_next = (self.cs_read() + self._tick_period) & self.CS_MASK
        self._tick_h = handler
        if not self._alive:
            self._alive = True
            _thread.start_new_thread(self._thread, ())

    def tick_stop(self):
        self._tick_h = None

    def ce_set_next(self, cyc, handler, hard=True):
        # handlers run in the main context either way (CE_SOFT)
        self._ce_h = handler
        self._ce_at = (self.cs_read() + cyc) & self.CS_MASK

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

    # -- main context: what the thread scheduled --------------------------------
    def _flush(self, _):
        # ticks counted since the last flush, handed over in one go: the tick
        # handler only counts them and raises TIMER_SOFTIRQ when its budget is spent.
        # the core counts ticks from the clocksource delta: one call catches up
        self._done += 1
        self._taken = self._owed
        h = self._tick_h
        if h is not None:
            h(0)
            self._core.run_softirq()

    def _ce_fire(self, _):
        self._done += 1
        h = self._ce_h
        if h is not None:
            h(0)
            self._core.run_softirq()

    # -- the thread: stands in for the timer peripherals -------------------------
    def _until(self, now, at):
        m = self.CS_MASK
        d = (at - now) & m
        return d - m - 1 if d > (m >> 1) else d

    def _deliver(self, f, now):
        try:
            micropython.schedule(f, 0)
        except RuntimeError:  # queue full: try again on the next pass
            return False
        if self._sent == self._done:
            self._since = now
        self._sent += 1
        return True

    def _kick(self, now):
        # The unix REPL blocks in read(); scheduled work runs when a signal
        # interrupts it.  A collection signals the other threads (SIGUSR1), so
        # a delivery still waiting after _KICK_US wakes the main context.
        if self._sent != self._done and self._until(self._since, now) > _KICK_US:
            self._since = now
            gc.collect()

    def _thread(self):
        core = self._core
        while self._run:
            now = self.cs_read()
            wait = _SLICE_US
            if self._tick_h is not None:
                d = self._until(now, self._tick_next)
                if d <= 0:
                    self._owed += 1
                    self._tick_next = (self._tick_next + self._tick_period) & self.CS_MASK
                    if self._until(now, self._tick_next) < -100 * self._tick_period:
                        self._tick_next = (now + self._tick_period) & self.CS_MASK  # resync
                    d = 0
                owed = self._owed - self._taken
                if owed and (owed >= core._tick_budget or owed >= 64):
                    if self._sent == self._done:  # one flush in flight at a time
                        self._deliver(self._flush_ref, now)
                wait = min(wait, d)
            at = self._ce_at
            if at >= 0:
                d = self._until(now, at)
                if d <= 0:
                    if self._ce_at == at and self._deliver(self._ce_fire_ref, now):
                        if self._ce_at == at:
                            self._ce_at = -1
                    d = 0
                wait = min(wait, d)
            self._kick(now)
            if wait > 0:
                time.sleep_us(wait)
        self._alive = False
