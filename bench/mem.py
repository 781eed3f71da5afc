# Memory benchmark (MicroPython, any board): heap after `import ktimers`, and
# heap bytes per pending timer_list / hrtimer, measured with gc.mem_free().
#   ktimers run bench/mem.py          (or the unix binary with MICROPYPATH=lib)
import gc

gc.collect()
f0 = gc.mem_free()
import ktimers
from ktimers import *

gc.collect()
f1 = gc.mem_free()
print("BENCH footprint_after_import_bytes", f0 - f1)

N = 200


def fn(t):
    pass


def per(make):
    keep = []
    gc.collect()
    a = gc.mem_free()
    for i in range(N):
        keep.append(make(i))
    gc.collect()
    b = gc.mem_free()
    return (a - b) // N, keep


def mk_timer(i):
    t = timer_list()
    timer_setup(t, fn, 0)
    mod_timer(t, jiffies() + 1000 + i)
    return t


def mk_hr(i):
    t = hrtimer()
    hrtimer_setup(t, fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
    hrtimer_start(t, 10_000_000_000 + i, HRTIMER_MODE_REL)
    return t


b1, k1 = per(mk_timer)
print("BENCH bytes_per_pending_timer_list", b1)
b2, k2 = per(mk_hr)
print("BENCH bytes_per_pending_hrtimer", b2)
for t in k1:
    timer_delete(t)
for t in k2:
    hrtimer_cancel(t)
