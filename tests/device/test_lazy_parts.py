# test_lazy_parts: the timer code loads on first use.  `import ktimers` starts the core
# (jiffies tick, clocksource) without the wheel or the hrtimer queue; the first timer_list
# call loads the wheel only, the first hrtimer call the hrtimer code only; a star-imported
# copy is rebound to the real function, and a proxy held before the load calls it without
# allocating (a HARD callback may hold one).
import sys
import micropython
from ktest import eq

PARTS = ("ktimers.timer", "ktimers.hrtimer", "ktimers.hrtimer_base", "ktimers.trace")
import ktimers

eq([m for m in PARTS if m in sys.modules], [], "import ktimers loads no timer code")
from ktimers import *

eq([m for m in PARTS if m in sys.modules], [], "nor does from ktimers import *")
eq((HRTIMER_MODE_REL_HARD, HRTIMER_RESTART, TIMER_IRQSAFE), (9, 1, 0x00200000), "constants eager")
j0 = jiffies()
held_active = hrtimer_active  # a copy held before its part loads
held_pending = timer_pending
try:
    import _ktimers  # the firmware's C core: every proxy is one of its ROM objects

    eq(type(held_active).__name__, "lazy", "a ROM proxy of the C core")
except ImportError:
    eq(type(held_active).__name__, "_lazyp", "a positional proxy")

# the first hrtimer call loads the hrtimer code, not the wheel
t = hrtimer()
eq("ktimers.hrtimer_base" in sys.modules, True, "hrtimer() loaded the hrtimer code")
eq("ktimers.timer" in sys.modules, False, "and not the wheel")
H = sys.modules["ktimers.hrtimer"]
eq(hrtimer_start is H.hrtimer_start, True, "the star copy in __main__ is rebound")
eq(ktimers.hrtimer is H.hrtimer, True, "ktimers.hrtimer is the class again after the import")
eq(isinstance(t, hrtimer), True, "hrtimer is the class")
got = []


def hcb(tm):
    got.append(1)
    return HRTIMER_NORESTART


hrtimer_setup(t, hcb, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
q = p = None  # bound before heap_lock: a new global could grow __main__'s dict
micropython.heap_lock()
try:
    q = held_active(t)  # resolved when the part loaded: no allocation
finally:
    micropython.heap_unlock()
eq(q, False, "held proxy answers")
hrtimer_start(t, 200_000_000, HRTIMER_MODE_REL)  # 200 ms: still queued when checked on a busy host
eq(held_active(t), True, "held proxy sees the queued timer")
end = jiffies() + 5 * HZ
while not got and time_before(jiffies(), end):
    pass  # (no msleep: it would load the wheel)
eq(got, [1], "the late-loaded hrtimer code fired on the running clock event")
eq("ktimers.timer" in sys.modules, False, "still no wheel")

# a direct import of the wheel's module: the proxies bind on their first call
import ktimers.timer as W

eq(ktimers.mod_timer is W.mod_timer, False, "not bound by the import itself")
fired = []


def tcb(tl):
    fired.append(jiffies())


tl = timer_list()
eq(mod_timer is W.mod_timer, True, "bound on the first proxy call")
timer_setup(tl, tcb, 0)
j1 = jiffies()
eq(j1 - j0 >= 0, True, "jiffies ran before the wheel loaded")
mod_timer(tl, j1 + 3)
micropython.heap_lock()
try:
    p = held_pending(tl)
finally:
    micropython.heap_unlock()
eq(p, True, "held timer_pending proxy, no allocation")
end = jiffies() + 5 * HZ
while not fired and time_before(jiffies(), end):
    pass
eq(len(fired), 1, "the late-loaded wheel expired its timer")
eq(fired[0] - j1 >= 3, True, "never early: %d ticks after arming, wanted 3" % (fired[0] - j1))
eq(wheel_check(), 0, "wheel consistent")
print("KTEST PASS")
