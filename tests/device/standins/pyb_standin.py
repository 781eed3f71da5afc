"""STAND-IN — not the real port; models stm32's pyb.Timer API (ports/stm32/
timer.c, MicroPython 1.25, pyboard v1.1 clocks) from its docs/source for unit
tests only.

Modelled: ids 1..14 (else ValueError "Timer(n) doesn't exist"); RESERVED ids
(default 3, 5, 6: LED, servo, ADC/DAC) raise ValueError "Timer(n) is
reserved" -- the message boards with MICROPY_HW_TIM_IS_RESERVED give; the
pyboard itself only documents them as taken, so this is stricter than the
real board on purpose; one object per id; source_freq() 168 MHz for TIM1/8-11
(APB2), 84 MHz otherwise; TIM2/TIM5 32-bit, the rest 16-bit;
init(freq | prescaler+period | period+tick_hz, callback, mode, div, deadtime,
brk) with the port's prescaler/period search for freq= and period=;
prescaler > 0xFFFF or period beyond the counter -> ValueError (the hardware
would silently truncate: stricter on purpose); neither freq nor period ->
TypeError; init restarts counter and prescaler (update event); an update
interrupt every (prescaler+1)*(period+1) source clocks while a callback is set;
callbacks are hard IRQs (heap locked) and one that raises is disabled with
"uncaught exception in Timer(n) interrupt handler"; callback(None) disables
the interrupt but not the counter; counter(), period(), prescaler(), freq()
getters; deinit() stops timer and interrupt.
LED(3).intensity(v) reprograms TIM2 (prescaler 83, period 9999: a 100 Hz PWM),
as led.c does on PYBV10/11.
Not modelled: channels/PWM/IC, centre-aligned modes, div, deadtime, float
freq rounding details, IRQ priorities and nesting.
"""

from . import vhw

RESERVED = (3, 5, 6)
_NS = 1_000_000_000
_U = object()
_objs = {}


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


class _Tim(vhw.Alarm):
    UP = 0

    def __init__(self, n):
        vhw.Alarm.__init__(self)
        self.id = n
        self.is32 = n in (2, 5)
        self.mask = 0xFFFFFFFF if self.is32 else 0xFFFF
        self.src = 168_000_000 if n in (1, 8, 9, 10, 11) else 84_000_000
        g = _gcd(self.src, _NS)
        self.sn = self.src // g
        self.sd = _NS // g
        self.psc = 0
        self.arr = self.mask
        self.running = False
        self.t0 = 0
        self.frozen = 0
        self.cb = None
        self.k = 0
        self.num = 0
        self.den = 1
        self.inits = 0
        self.irq_name = "Timer(%d)" % n

    def __repr__(self):
        return "<standin pyb.Timer(%d)>" % self.id

    def source_freq(self):
        return self.src

    def _from_freq(self, freq):
        src = self.src
        p = 1
        if isinstance(freq, float):
            if freq <= 0:
                raise ValueError("must have positive freq")
            while freq < 1 and p < 6553:
                p *= 10
                freq *= 10
            period = int(src / freq)
        else:
            if freq <= 0:
                raise ValueError("must have positive freq")
            period = src // freq
        if period < 1:
            period = 1
        while period > self.mask:
            if period % 5 == 0:
                p *= 5
                period //= 5
            elif period % 3 == 0:
                p *= 3
                period //= 3
            else:
                p <<= 1
                period >>= 1
        return (p - 1) & 0xFFFF, (period - 1) & self.mask

    def _from_t(self, num, den):
        if num <= 0 or den <= 0:
            raise ValueError("must have positive freq")
        period = self.src * num // den
        p = 1
        while period > self.mask:
            if p <= 13107 and period % 5 == 0:
                p *= 5
                period //= 5
            elif p <= 21845 and period % 3 == 0:
                p *= 3
                period //= 3
            else:
                lsb = period & 1
                p <<= 1
                period >>= 1
                if period < p:
                    p |= lsb
                if p > 0x10000:
                    raise ValueError("period too large")
        return (p - 1) & 0xFFFF, (period - 1) & self.mask

    def init(self, *, freq=None, prescaler=0xFFFFFFFF, period=0xFFFFFFFF, tick_hz=1000, mode=0, div=1,
             callback=None, deadtime=0, brk=0):
        if freq is not None:
            psc, arr = self._from_freq(freq)
        elif prescaler != 0xFFFFFFFF and period != 0xFFFFFFFF:
            if not 0 <= prescaler <= 0xFFFF:
                raise ValueError("stand-in: prescaler %d does not fit the 16-bit PSC" % prescaler)
            if not 0 <= period <= self.mask:
                raise ValueError("stand-in: period %d does not fit TIM%d's counter" % (period, self.id))
            psc, arr = prescaler, period
        elif period != 0xFFFFFFFF:
            psc, arr = self._from_t(period, tick_hz)
        else:
            raise TypeError("must specify either freq, period, or prescaler and period")
        if mode != 0:
            raise ValueError("stand-in: only Timer.UP is modelled")
        self.psc = psc
        self.arr = arr
        self.t0 = vhw.now  # UG: counter and prescaler restart
        self.running = True
        ev = (psc + 1) * (arr + 1) * _NS  # ns * src per update
        g = _gcd(ev, self.src)
        self.num = ev // g
        self.den = self.src // g
        self.inits += 1
        if callback is None:
            if self.cb is not None:
                self._arm_next()
        else:
            self.callback(callback)

    def _arm_next(self):
        el = vhw.now - self.t0
        upd = (self.psc + 1) * (self.arr + 1)
        self.k = (el * self.sn // self.sd) // upd + 1
        self.due = self.t0 + -(-self.k * self.num // self.den)

    def callback(self, fun):
        if fun is None:
            self.cb = None
            self.due = -1
        elif callable(fun):
            self.cb = fun
            if self.running:
                self._arm_next()
        else:
            raise ValueError("callback must be None or a callable object")

    def counter(self, value=_U):
        if value is not _U:
            raise NotImplementedError("stand-in: counter(value) not modelled")
        if not self.running:
            return self.frozen
        el = vhw.now - self.t0
        return (el * self.sn // self.sd) // (self.psc + 1) % (self.arr + 1)

    def prescaler(self):
        return self.psc

    def period(self):
        return self.arr

    def freq(self):
        return self.src // (self.psc + 1) // (self.arr + 1)

    def deinit(self):
        self.frozen = self.counter()
        self.callback(None)
        self.running = False

    def fire(self):
        self.k += 1
        self.due = self.t0 + -(-self.k * self.num // self.den)
        if not vhw.hard_call(self.cb, self, self.irq_name):
            self.cb = None  # the port disables a callback that raised
            self.due = -1

    def active(self):
        return self.due >= 0


class _TimerClass:
    UP = 0

    def __call__(self, id, *args, **kw):
        if not isinstance(id, int):
            raise TypeError("can't convert %s to int" % type(id).__name__)
        if not 1 <= id <= 14:
            raise ValueError("Timer(%d) doesn't exist" % id)
        if id in RESERVED:
            raise ValueError("Timer(%d) is reserved" % id)
        t = _objs.get(id)
        if t is None:
            t = _objs[id] = _Tim(id)
        if args or kw:
            t.init(*args, **kw)
        return t


Timer = _TimerClass()


class LED:
    def __init__(self, n):
        self.n = n

    def intensity(self, v):
        if self.n == 3:  # PYBV10/11: LED(3) is PWM on TIM2
            t = _objs.get(2)
            if t is None:
                t = _objs[2] = _Tim(2)
            t.init(prescaler=83, period=9999)


def install(reserved=(3, 5, 6)):
    """Fake `pyb` and `machine` in sys.modules; returns the pyb one."""
    import sys

    global RESERVED
    RESERVED = reserved
    vhw.reset(depth=4)
    _objs.clear()
    p = vhw.Namespace("pyb")
    p.Timer = Timer
    p.LED = LED
    p.disable_irq = vhw.disable_irq
    p.enable_irq = vhw.enable_irq
    p.wfi = vhw.idle
    sys.modules["pyb"] = p
    sys.modules["machine"] = vhw.machine_common("machine")
    return p


def timers():
    return _objs
