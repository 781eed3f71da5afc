# test_irq_code: ktimers.init(IRQ_CODE=...) chooses the clock event handlers that the hrtimer
# code loads.  "native" (the default) takes the firmware's C core (_ktimers.hrtimer_irq) where
# the firmware has it, else the native twin (hrtimer_irq_n, flashed for the board's arch),
# else the bytecode; "native-mpy" skips the C core, "bytecode" takes ktimers.hrtimer_irq even
# where the others would load; any other value raises ValueError naming IRQ_CODE, before the
# running subsystem is touched.  Each implementation runs a HARD hrtimer, and each refuses
# a non-int interval from the hard callback's hrtimer_forward_now with the same TypeError
# (logged to dmesg as the callback's error; the subsystem keeps running).
import sys
import time
import ktimers
from ktest import eq, raises

core = sys.modules["ktimers.core"]
hw0 = core.hw
eq(core.hw.IRQ_CODE, "native", "the default")


def bad_init():
    ktimers.init(IRQ_CODE="fast")


raises(ValueError, bad_init, (), "IRQ_CODE")
eq(core.hw is hw0 and hw0.IRQ_CODE == "native", True, "a bad IRQ_CODE leaves the subsystem running")


def wait_for(cond, ms=2000):  # bounded poll of the board's own state
    deadline = time.ticks_add(time.ticks_ms(), ms)
    while not cond() and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        time.sleep_ms(1)
    return cond()


j0 = ktimers.jiffies()
eq(wait_for(lambda: ktimers.jiffies() > j0), True, "and ticking")

try:
    import _ktimers

    has_c = hasattr(_ktimers, "hrtimer_irq")
except ImportError:
    has_c = False
try:
    __import__("ktimers.hrtimer_irq_n")
    has_n = True
except Exception:
    has_n = False
sys.modules.pop("ktimers.hrtimer_irq_n", None)
want = {
    "native": "ktimers.hrtimer_irq_c" if has_c else "ktimers.hrtimer_irq_n" if has_n else "ktimers.hrtimer_irq",
    "native-mpy": "ktimers.hrtimer_irq_n" if has_n else "ktimers.hrtimer_irq",
    "bytecode": "ktimers.hrtimer_irq",
}
from ktimers import *

for code in ("bytecode", "native-mpy", "native"):
    ktimers.init(IRQ_CODE=code)
    eq(core.hw.IRQ_CODE, code, "init took it")
    fired = []

    def cb(t):
        fired.append(1)
        return HRTIMER_RESTART if len(fired) < 3 else HRTIMER_NORESTART

    t = hrtimer()
    hb = sys.modules["ktimers.hrtimer_base"]
    eq(hb._i.__name__, want[code], code + ": the handlers loaded")
    hrtimer_setup(t, cb, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD)
    hrtimer_start(t, 1000000, HRTIMER_MODE_REL_HARD)
    eq(wait_for(lambda: len(fired) == 3), True, code + ": a HARD hrtimer runs on it")
    eq(hb.nr_irq_errors, 0, code + ": no error in the IRQ bookkeeping")

    def bad_fwd(t):
        fired.append(2)
        hrtimer_forward_now(t, 1000000.0)  # a float: TypeError naming the argument
        return HRTIMER_RESTART

    dmesg_clear()
    fired = []
    t2 = hrtimer()
    hrtimer_setup(t2, bad_fwd, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD)
    hrtimer_start(t2, 500000, HRTIMER_MODE_REL_HARD)
    eq(wait_for(lambda: any("interval must be int (ktime ns), got float" in ln for ln in dmesg_lines())), True,
       code + ": the hard callback's TypeError is logged")
    eq(fired, [2], code + ": and the timer ended (the error counts as NORESTART)")
    eq(hrtimer_active(t2), False, code + ": inactive")
    hb.queue_check(t, t2)
ktimers.init()
eq(core.hw.IRQ_CODE, "native", "a plain init goes back to the default")
print("KTEST PASS")
