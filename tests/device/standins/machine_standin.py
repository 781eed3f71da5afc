"""STAND-IN — not the real port; models the generic machine.Timer API
(extmod/machine_timer.c over shared/runtime/softtimer.c, MicroPython 1.25:
stm32's machine.Timer, samd, mimxrt, renesas-ra ...) from its docs/source for
unit tests only.

Modelled: Timer(id=-1) only (other ids: ValueError "Timer doesn't exist");
keyword-only init(mode, callback, period, tick_hz, freq) with the port's
defaults (period kept from the last init, initially 1000 ms; callback kept when
omitted); ONE_SHOT = 1, PERIODIC = 2; unknown keywords -> TypeError; non-int
period/tick_hz -> TypeError; delta_ms = period * 1000 // tick_hz or
int(1000 / freq), at least 1, >= 2**30 -> ValueError "period too large";
expiry_ms = ticks_ms() + delta_ms (fires at a ms boundary, so the first
period may be short); periodic re-arm at expiry += delta (no drift);
callbacks always scheduled (mp_sched_schedule; dropped when the queue of 4 is
full); deinit() removes the timer.
Not modelled: pairheap ordering among equal expiries, PendSV, GC of timers,
the callback-raising -> one-shot rule.
"""

from . import vhw

_U = object()  # "argument not given"


class Timer(vhw.Alarm):
    ONE_SHOT = 1
    PERIODIC = 2
    all = []

    def __init__(self, id=-1, *, mode=_U, callback=_U, period=_U, tick_hz=_U, freq=_U):
        if not isinstance(id, int):
            raise TypeError("can't convert %s to int" % type(id).__name__)
        if id != -1:
            raise ValueError("Timer doesn't exist")
        vhw.Alarm.__init__(self)
        self.mode = self.PERIODIC
        self.delta_ms = 1000
        self.py_callback = None
        self.expiry_ms = 0
        self.inits = 0
        self.last_period = None
        self.last_tick_hz = None
        Timer.all.append(self)
        if mode is not _U or callback is not _U or period is not _U or tick_hz is not _U or freq is not _U:
            self.init(
                mode=self.PERIODIC if mode is _U else mode,
                callback=callback,
                period=period,
                tick_hz=1000 if tick_hz is _U else tick_hz,
                freq=None if freq is _U else freq,
            )

    def init(self, *, mode=2, callback=_U, period=_U, tick_hz=1000, freq=None):
        self.due = -1  # soft_timer_remove
        if not isinstance(mode, int) or not isinstance(tick_hz, int):
            raise TypeError("can't convert to int")
        self.mode = mode
        d = self.delta_ms
        if freq is not None:
            d = int(1000 / freq)
        elif period is not _U:
            if not isinstance(period, int):
                raise TypeError("can't convert %s to int" % type(period).__name__)
            d = period * 1000 // tick_hz
        if d < 1:
            d = 1
        elif d >= 0x40000000:
            raise ValueError("period too large")
        self.delta_ms = d
        if callback is not _U:
            self.py_callback = callback
        self.inits += 1
        self.last_period = None if period is _U else period
        self.last_tick_hz = tick_hz
        if self.py_callback is not None:
            self.expiry_ms = vhw.now // 1_000_000 + d
            self.due = self.expiry_ms * 1_000_000

    def deinit(self):
        self.due = -1

    def fire(self):
        vhw.soft_call(self.py_callback, self)
        if self.mode == self.PERIODIC:
            self.expiry_ms += self.delta_ms
            self.due = self.expiry_ms * 1_000_000
        else:
            self.due = -1

    def active(self):
        return self.due >= 0


def install():
    """Put this fake `machine` in sys.modules; returns it."""
    import sys

    vhw.reset(depth=4)
    Timer.all = []
    m = vhw.machine_common("machine")
    m.Timer = Timer
    sys.modules["machine"] = m
    return m
