"""STAND-IN — not the real port; models rp2's machine.Timer API
(ports/rp2/machine_timer.c, 1.25, plus the `hard=` keyword of 1.26) from its
docs/source for unit tests only.

Modelled: Timer(id=-1) only (other ids: ValueError "Timer doesn't exist");
each Timer() is a new alarm of the SDK's default pool; keyword-only
init(mode, callback, period, tick_hz, freq[, hard]): ONE_SHOT = 0,
PERIODIC = 1; delta_us = period * 10**6 // tick_hz or int(10**6 / freq),
at least 1; the alarm fires when the 1 MHz counter reaches now_us + delta_us;
periodic alarms re-arm from the previous target (no drift); init() cancels the
pending alarm first; deinit() cancels.  VERSION < (1, 26): `hard=` ->
TypeError (unexpected keyword), callbacks always scheduled (queue of 8,
dropped when full).  VERSION >= (1, 26): hard=True runs the callback in the
alarm IRQ (heap locked).
IGNORES_HARD = True models a hypothetical firmware that accepts `hard=` but
still schedules (no real release does this: it exercises the backend's check
that hard= is honoured, not only accepted).
Not modelled: alarm-pool exhaustion (OSError ENOMEM), the 64-bit counter,
both cores, the exact 1.26 behaviour on an exception in a hard callback
(recorded in vhw.errors and the callback keeps its alarm).
"""

from . import vhw

VERSION = (1, 26, 0)
IGNORES_HARD = False
_U = object()


class Timer(vhw.Alarm):
    ONE_SHOT = 0
    PERIODIC = 1
    all = []

    def __init__(self, id=-1, *, mode=_U, callback=_U, period=_U, tick_hz=_U, freq=_U, hard=_U):
        if not isinstance(id, int):
            raise TypeError("can't convert %s to int" % type(id).__name__)
        if id != -1:
            raise ValueError("Timer doesn't exist")
        vhw.Alarm.__init__(self)
        self.mode = self.PERIODIC
        self.delta_us = 0
        self.callback = None
        self.hard = False
        self.inits = 0
        self.last_period = None
        self.last_tick_hz = None
        Timer.all.append(self)
        if mode is not _U or callback is not _U or period is not _U or tick_hz is not _U or freq is not _U or hard is not _U:
            self.init(
                mode=self.PERIODIC if mode is _U else mode,
                callback=None if callback is _U else callback,
                period=0xFFFFFFFF if period is _U else period,
                tick_hz=1000 if tick_hz is _U else tick_hz,
                freq=None if freq is _U else freq,
                hard=hard,
            )

    def init(self, *, mode=1, callback=None, period=0xFFFFFFFF, tick_hz=1000, freq=None, hard=_U):
        self.due = -1  # alarm_pool_cancel_alarm
        if hard is not _U and VERSION < (1, 26):
            raise TypeError("unexpected keyword argument 'hard'")
        if not isinstance(mode, int) or not isinstance(period, int) or not isinstance(tick_hz, int):
            raise TypeError("can't convert to int")
        self.mode = mode
        if freq is not None:
            d = int(1_000_000 / freq)
        else:
            d = period * 1_000_000 // tick_hz
        if d < 1:
            d = 1
        self.delta_us = d
        self.callback = callback
        self.hard = hard is not _U and bool(hard) and not IGNORES_HARD
        self.inits += 1
        self.last_period = period
        self.last_tick_hz = tick_hz
        self.due = (vhw.now // 1000 + d) * 1000

    def deinit(self):
        self.due = -1

    def fire(self):
        if self.mode == self.ONE_SHOT:
            self.due = -1
        else:
            self.due += self.delta_us * 1000
        if self.hard:
            vhw.hard_call(self.callback, self, "Timer")
        else:
            vhw.soft_call(self.callback, self)

    def active(self):
        return self.due >= 0


def install(version=(1, 26, 0), ignores_hard=False):
    import sys

    global IGNORES_HARD
    IGNORES_HARD = ignores_hard

    global VERSION
    VERSION = version
    vhw.reset(depth=8)
    Timer.all = []
    m = vhw.machine_common("machine")
    m.Timer = Timer
    sys.modules["machine"] = m
    return m
