# Speed benchmark (MicroPython, any board): cost of the timer operations,
# timed with the board's own clocksource (raw counter cycles -> ns).
#   ktimers run bench/speed.py
import ktimers
from ktimers import *

core = ktimers.core
hw = core.hw
N = 500


def fn(t):
    return 0


def timeit(name, body, n=N):
    start = hw.cs_read()
    body(n)
    cyc = core.raw_diff(hw.cs_read(), start)
    print("BENCH %s_ns %d" % (name, core.cycles_to_ns(cyc) // n))


ts = []
for i in range(N):
    t = timer_list()
    timer_setup(t, fn, 0)
    ts.append(t)
hs = []
for i in range(N):
    h = hrtimer()
    hrtimer_setup(h, fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
    hs.append(h)


def b_mod(n):
    j = jiffies()
    for i in range(n):
        mod_timer(ts[i], j + 100 + (i * 37) % 5000)


def b_del(n):
    for i in range(n):
        timer_delete(ts[i])


def b_hstart(n):
    for i in range(n):
        hrtimer_start(hs[i], 10_000_000_000 + (i * 7919) % 1_000_000, HRTIMER_MODE_REL)


def b_hcancel(n):
    for i in range(n):
        hrtimer_try_to_cancel(hs[i])


def b_ktime(n):
    for i in range(n):
        ktime_get()


timeit("mod_timer", b_mod)
timeit("timer_delete", b_del)
timeit("hrtimer_start_500_queued", b_hstart)
timeit("hrtimer_try_to_cancel", b_hcancel)
timeit("ktime_get", b_ktime)
