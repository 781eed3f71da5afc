# Heap per pending timer_list and per queued hrtimer (MicroPython, on the board):
# N objects made, set up and armed, heap difference / N (the list holding them counts
# 4 bytes each on 32-bit boards, 8 on 64-bit).  The timer and hrtimer code are loaded
# first (they load on their first call), so the figure is the objects' own.
#   BENCH obj timer_list=<bytes> hrtimer=<bytes>
import gc
from ktimers import *

_N = 200


def _fn(t):
    return 0


def _per(make):
    keep = [None] * _N
    gc.collect()
    a = gc.mem_free()
    for i in range(_N):
        keep[i] = make(i)
    gc.collect()
    b = gc.mem_free()
    return (a - b) // _N, keep


def _mk_timer(i):
    t = timer_list()
    timer_setup(t, _fn, 0)
    mod_timer(t, jiffies() + 1000 + i)
    return t


def _mk_hr(i):
    t = hrtimer()
    hrtimer_setup(t, _fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
    hrtimer_start(t, 10_000_000_000 + i, HRTIMER_MODE_REL)
    return t


# the timer code loads on its first call (ktimers' lazy parts): load both before measuring
timer_delete(_mk_timer(0))
hrtimer_cancel(_mk_hr(0))
_b1, _k1 = _per(_mk_timer)
_b2, _k2 = _per(_mk_hr)
for _t in _k1:
    timer_delete(_t)
for _t in _k2:
    hrtimer_cancel(_t)
print("BENCH obj timer_list=%d hrtimer=%d" % (_b1, _b2))
