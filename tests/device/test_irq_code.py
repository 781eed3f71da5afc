# test_irq_code: ktimers.init(IRQ_CODE=...) chooses the clock event handlers that the hrtimer
# code loads.  "bytecode" takes ktimers.hrtimer_irq even where the native twin
# (hrtimer_irq_n, flashed for the board's arch) would load; a value other than "native" or
# "bytecode" raises ValueError naming IRQ_CODE, before the running subsystem is touched.
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

ktimers.init(IRQ_CODE="bytecode")
eq(core.hw.IRQ_CODE, "bytecode", "init took it")
from ktimers import *

fired = []


def cb(t):
    fired.append(1)
    return HRTIMER_RESTART if len(fired) < 3 else HRTIMER_NORESTART


t = hrtimer()
eq(sys.modules["ktimers.hrtimer_base"]._i.__name__, "ktimers.hrtimer_irq", "the bytecode module")
hrtimer_setup(t, cb, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD)
hrtimer_start(t, 1000000, HRTIMER_MODE_REL_HARD)
eq(wait_for(lambda: len(fired) == 3), True, "a HARD hrtimer runs on it")
ktimers.init()
eq(core.hw.IRQ_CODE, "native", "a plain init goes back to the default")
print("KTEST PASS")
