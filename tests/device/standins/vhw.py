"""STAND-IN — not the real port; shared virtual hardware for the port stand-ins
(machine_standin, rp2_standin, esp32_standin, pyb_standin), for unit tests only.

Models what every MicroPython port has around its timers:
  * a virtual clock `now` (ns) that moves only when the test says so
    (advance(ns), idle(), time.sleep_*);
  * a fake `time` module: ticks_us/ticks_ms wrap at 2**30 like a 32-bit port;
  * a fake `micropython` module whose schedule() is a fixed-depth queue
    (RuntimeError "schedule queue full", as the real one) that runs between
    "bytecodes": after each interrupt returns and in idle();
  * hard IRQ dispatch: the callback runs with the heap locked (allocation ->
    MemoryError, recorded in `errors`) and scheduled work held back, as the
    ports do with gc_lock()/mp_sched_lock();
  * machine.disable_irq/enable_irq bookkeeping: advancing time with IRQs off
    is an error (a backend that forgot irq_restore).

Not modelled: interrupt latency, priorities/nesting, two cores, the GC's own
pauses, 32-bit small-int overflow (the unix port is 64-bit: check ranges in
tests).

    from standins import vhw
    vhw.install()          # before `import ktimers`
    vhw.advance(5_000_000) # 5 ms of virtual time
"""

import sys
import micropython as _rmp

_TICKS = 0x3FFFFFFF

now = 0  # virtual time, ns
_alarms = []  # objects with .due (ns, -1 = off) and .fire()
_irq_off = 0
_in_hard = 0
qdepth = 4
_qf = [None] * 16
_qa = [None] * 16
_qh = 0
_qn = 0
errors = []  # exceptions raised in hard IRQ callbacks
dropped = 0  # soft callbacks lost to a full schedule queue
hard_calls = 0
soft_calls = 0
_QFULL = RuntimeError("schedule queue full")


class Namespace:
    """A fake module: attributes only."""

    def __init__(self, name):
        self.name = name


class Alarm:
    """Base of every virtual peripheral that can raise an interrupt."""

    def __init__(self):
        self.due = -1
        _alarms.append(self)

    def fire(self):
        raise NotImplementedError


def reset(depth=4):
    """Forget peripherals and queued work; keep the clock."""
    global _alarms, _qh, _qn, qdepth, errors, dropped, _irq_off, hard_calls, soft_calls
    if not 1 <= depth <= 16:
        raise ValueError("depth 1..16")
    _alarms = []
    for i in range(16):
        _qf[i] = None
        _qa[i] = None
    _qh = _qn = 0
    qdepth = depth
    errors = []
    dropped = 0
    hard_calls = soft_calls = 0
    _irq_off = 0


# --- scheduler (fake micropython.schedule) ---------------------------------


def schedule(f, a):
    global _qn
    if _qn >= qdepth:
        raise _QFULL
    i = _qh + _qn
    if i >= qdepth:
        i -= qdepth
    _qf[i] = f
    _qa[i] = a
    _qn += 1


def pending():
    return _qn


def run_pending():
    """What the VM does between bytecodes in the main context."""
    global _qh, _qn
    if _in_hard:
        return
    while _qn:
        f = _qf[_qh]
        a = _qa[_qh]
        _qf[_qh] = None
        _qa[_qh] = None
        _qh += 1
        if _qh >= qdepth:
            _qh = 0
        _qn -= 1
        f(a)


def soft_call(f, arg):
    """mp_sched_schedule(f, arg) from an ISR: the ports ignore a full queue."""
    global dropped, soft_calls
    soft_calls += 1
    try:
        schedule(f, arg)
    except RuntimeError:
        dropped += 1


def hard_call(f, arg, who="IRQ"):
    """Run f(arg) as a hard IRQ: heap locked, scheduler held.  True if it returned."""
    global _in_hard, hard_calls
    hard_calls += 1
    _in_hard += 1
    err = None
    _rmp.heap_lock()
    try:
        f(arg)
    except Exception as e:
        err = e
    _rmp.heap_unlock()
    _in_hard -= 1
    if err is not None:
        errors.append((who, err))
        print("uncaught exception in %s interrupt handler" % who)
        sys.print_exception(err)
        return False
    return True


def in_hard():
    return _in_hard > 0


# --- interrupts on/off ------------------------------------------------------


def disable_irq():
    global _irq_off
    s = 0 if _irq_off else 1
    _irq_off = 1
    return s


def enable_irq(state):
    global _irq_off
    if not isinstance(state, int):
        raise TypeError("can't convert to int")
    _irq_off = 0 if state else 1


def irqs_enabled():
    return not _irq_off


# --- virtual time -----------------------------------------------------------


def _next():
    best = None
    for a in _alarms:
        if a.due >= 0 and (best is None or a.due < best.due):
            best = a
    return best


def _fire(a):
    global now
    if a.due > now:
        now = a.due
    before = a.due
    a.fire()
    if a.due >= 0 and a.due <= before and a.due <= now:
        raise AssertionError("stand-in: %r fired without moving its deadline" % (a,))
    run_pending()


def advance(ns):
    """Let ns of virtual time pass, raising every interrupt that falls due."""
    global now
    if ns < 0:
        raise ValueError("advance: ns < 0")
    if _irq_off:
        raise AssertionError("stand-in: time advanced with IRQs disabled (missing irq_restore?)")
    end = now + ns
    while True:
        a = _next()
        if a is None or a.due > end:
            break
        _fire(a)
    now = end
    run_pending()


def idle():
    """machine.idle(): wait for the next interrupt (WFI), then scheduled work runs."""
    if _irq_off:
        raise AssertionError("stand-in: idle() with IRQs disabled would never wake")
    if _qn:
        run_pending()
        return
    a = _next()
    if a is None:
        raise RuntimeError("stand-in: idle() with no timer armed would sleep forever")
    _fire(a)


def ticks_us():
    return (now // 1000) & _TICKS


def ticks_ms():
    return (now // 1_000_000) & _TICKS


def _ticks_add(a, b):
    return (a + b) & _TICKS


def _ticks_diff(a, b):
    d = (a - b) & _TICKS
    return d - _TICKS - 1 if d > (_TICKS >> 1) else d


def _sleep_us(n):
    advance(n * 1000)


def _sleep_ms(n):
    advance(n * 1_000_000)


def _sleep(s):
    advance(int(s * 1_000_000_000))


def machine_common(name):
    """A fake `machine` with the IRQ/idle functions every port has."""
    m = Namespace(name)
    m.disable_irq = disable_irq
    m.enable_irq = enable_irq
    m.idle = idle
    return m


_installed = False


def install():
    """Replace `time` and `micropython` in sys.modules (before `import ktimers`).
    Also provides a neutral ktimers_board (BACKEND "sim") so the autodetected
    unix backend and its thread never start."""
    global _installed
    t = Namespace("time")
    t.ticks_us = ticks_us
    t.ticks_ms = ticks_ms
    t.ticks_cpu = ticks_us
    t.ticks_add = _ticks_add
    t.ticks_diff = _ticks_diff
    t.sleep_us = _sleep_us
    t.sleep_ms = _sleep_ms
    t.sleep = _sleep
    t.time = lambda: now // 1_000_000_000
    t.time_ns = lambda: now
    sys.modules["time"] = t
    mp = Namespace("micropython")
    for k in dir(_rmp):
        if not k.startswith("__"):
            setattr(mp, k, getattr(_rmp, k))
    mp.schedule = schedule
    mp.alloc_emergency_exception_buf = lambda n: None
    sys.modules["micropython"] = mp
    if "ktimers_board" not in sys.modules:

        class ktimers_board:
            BACKEND = "sim"

        sys.modules["ktimers_board"] = ktimers_board
    _installed = True
