"""STAND-IN — not the real port; models esp32's machine.Timer API
(ports/esp32/machine_timer.c, 1.25; `hard=` as documented for later releases)
from its docs/source for unit tests only.

Modelled: hardware timer ids 0..3 (else ValueError "invalid Timer number"),
one object per id (Timer(n) returns the same object); keyword-only
init(mode, callback, period, tick_hz, freq): PERIODIC = 1, ONE_SHOT = 0;
the GPTimer counts at APB 80 MHz / 8 = 10 MHz: alarm = period * 10 MHz //
tick_hz counts, or int(10 MHz / freq); init() disables the timer, restarts its
counter at 0 and alarms `alarm` counts later; periodic auto-reload (no drift);
callbacks always scheduled (mp_sched_schedule, queue of 8, dropped when
full); deinit() disables; value() in ms.  `hard=`: VERSION < (1, 26) ->
TypeError (unexpected keyword); later -> hard=True raises ValueError.
Timer.init/deinit inside machine.disable_irq() raise RuntimeError: on esp32
disable_irq is portENTER_CRITICAL, and init frees and allocates the interrupt
(esp_intr_free/esp_intr_alloc) and mallocs -- forbidden there (the real port
would abort or corrupt; the stand-in makes it a clear error).
Not modelled: timer groups on C3/S2/S3 (fewer ids), esp_intr_alloc failures,
the FreeRTOS task wake-up latency.
"""

from . import vhw

VERSION = (1, 25, 0)
NTIMERS = 4
_SCALE = 10_000_000
_U = object()
_objs = {}


def _not_critical(what):
    if not vhw.irqs_enabled():
        raise RuntimeError("stand-in: esp32 Timer.%s inside disable_irq (portENTER_CRITICAL)" % what)


class _Timer(vhw.Alarm):
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, n):
        vhw.Alarm.__init__(self)
        self.id = n
        self.repeat = 1
        self.period = 0  # in 10 MHz counts
        self.callback = None
        self.start = 0
        self.inits = 0
        self.last_period = None
        self.last_tick_hz = None

    def init(self, *, mode=1, callback=None, period=0xFFFFFFFF, tick_hz=1000, freq=None, hard=_U):
        _not_critical("init")
        self.due = -1  # machine_timer_disable
        if hard is not _U:
            if VERSION < (1, 26):
                raise TypeError("unexpected keyword argument 'hard'")
            if hard:
                raise ValueError("hard IRQ not supported")
        if not isinstance(mode, int) or not isinstance(period, int) or not isinstance(tick_hz, int):
            raise TypeError("can't convert to int")
        if freq is not None:
            self.period = int(_SCALE / freq)
        else:
            self.period = period * _SCALE // tick_hz
        self.repeat = mode
        self.callback = callback
        self.inits += 1
        self.last_period = period
        self.last_tick_hz = tick_hz
        self.start = vhw.now
        self.due = vhw.now + self.period * 100  # 100 ns per count

    def deinit(self):
        _not_critical("deinit")
        self.due = -1

    def value(self):
        if self.due < 0:
            return 0
        return (vhw.now - self.start) // 1_000_000

    def fire(self):
        if self.repeat:
            self.due += self.period * 100
        else:
            self.due = -1
        vhw.soft_call(self.callback, self)

    def active(self):
        return self.due >= 0


class _TimerClass:
    """machine.Timer: Timer(n) returns the one object of hardware timer n."""

    ONE_SHOT = 0
    PERIODIC = 1

    def __call__(self, id, *, mode=_U, callback=_U, period=_U, tick_hz=_U, freq=_U, hard=_U):
        return _make(id, mode, callback, period, tick_hz, freq, hard)


def _make(id, mode, callback, period, tick_hz, freq, hard):
    if not isinstance(id, int):
        raise TypeError("can't convert %s to int" % type(id).__name__)
    if not 0 <= id < NTIMERS:
        raise ValueError("invalid Timer number")
    t = _objs.get(id)
    if t is None:
        t = _objs[id] = _Timer(id)
    if mode is not _U or callback is not _U or period is not _U or tick_hz is not _U or freq is not _U or hard is not _U:
        t.init(
            mode=1 if mode is _U else mode,
            callback=None if callback is _U else callback,
            period=0xFFFFFFFF if period is _U else period,
            tick_hz=1000 if tick_hz is _U else tick_hz,
            freq=None if freq is _U else freq,
            hard=hard,
        )
    return t


Timer = _TimerClass()


def install(version=(1, 25, 0)):
    import sys

    global VERSION
    VERSION = version
    vhw.reset(depth=8)
    _objs.clear()
    m = vhw.machine_common("machine")
    m.Timer = Timer
    sys.modules["machine"] = m
    return m


def timers():
    return _objs
