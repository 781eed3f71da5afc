# The wheel on 30-bit small ints (issue 8): bucket choice equals Linux's 32-bit
# calc_wheel_index for expiries near, far, past and across the 2**30 / 2**31 / 2**32
# boundaries; expires reads back the 32-bit value; mod_timer, add_timer and an expiry
# allocate nothing of their own (gc disabled, gc.mem_free() unchanged) even while
# jiffies >= 2**30 (heap ints on the 32-bit emulated board).
import gc
import sys
import ktimers

ktimers.init("sim", hz=1000)
from ktimers import *
from ktimers import timer as wheel
from ktest import eq

core = ktimers.core
hw = core.hw
M32 = 0xFFFFFFFF


def ref_calc(expires, clk, depth):
    # Linux calc_wheel_index on 32-bit unsigned long (the pre-issue-8 code)
    cutoff = 63 << (3 * depth - 3)
    tmax = cutoff - (1 << (3 * depth - 3))
    delta = (expires - clk) & M32
    if delta >= 0x80000000:
        expires = clk
        delta = 0
    lvl = 0
    start = 63
    while lvl < depth - 1 and delta >= start:
        lvl += 1
        start <<= 3
    if lvl == depth - 1 and delta >= cutoff:
        expires = (clk + tmax) & M32
    sh = 3 * lvl
    e = (expires >> sh) + 1
    return lvl * 64 + (e & 63), (e << sh) & M32


# _split: any int in [0, 2**32) -> low 30 bits + bits 30-31, out-of-range truncated
for x in (0, 1, 0x3FFFFFFF, 0x40000000, 0x7FFFFFFF, 0x80000000, 0xBFFFFFFF, 0xC0000000, M32,
          0x123456789, -1, -0x40000001):
    lo = wheel._split("t", x)
    eq((wheel._xhi << 30) + lo, x & M32, "split %x" % (x & M32))

# bucket choice: the wheel's clk at several points, expiries around it and the boundaries
depth = wheel._depth
clks = (5, 0x3FFFFFF0, 0x40000005, 0x7FFFFFF0, 0xBFFFFF00, 0xFFFFFFF0)
deltas = (0, 1, 62, 63, 64, 511, 512, 4095, 1 << 20, (63 << 21) - 1, 63 << 21, 0x1FFFFFFF,
          0x20000000, 0x3EFFFFFF, 63 << 24, 0x3FFFFFFF, 0x40000000, 0x7FFFFFFF, 0x80000000,
          0xC0000000, M32, M32 - 62)
n = 0
for clk in clks:
    for d in deltas:
        for back in (0, 1, 3):  # jiffies == clk, and clk lagging jiffies (softirq pending)
            j = (clk + back) & M32
            wheel._clk = clk & 0x3FFFFFFF
            e = (j + d) & M32
            idx = wheel._calc(wheel._split("t", e), wheel._xhi, j & 0x3FFFFFFF, j >> 30)
            ridx, rbe = ref_calc(e, clk, depth)
            eq((idx, wheel._cb), (ridx, rbe & 0x3FFFFFFF), "clk %x jiffies %x expires %x" % (clk, j, e))
            n += 1
wheel._clk = core.jiffies_lo()
wheel._next_expiry = None
print("bucket choices checked:", n)

# expires reads back Linux's 32-bit value; add_timer takes it from the fields
t = timer_list()
timer_setup(t, lambda t: None, 0)
for v in (7, 0x40000001, 0x9ABCDEF0, M32):
    t.expires = v
    eq(t.expires, v, "expires round trip")
j = jiffies()
t.expires = (j + 10) & M32
add_timer(t)
eq(t.expires, (j + 10) & M32, "add_timer keeps expires")
eq(wheel.wheel_check(t), 1, "pending")
timer_delete(t)

# zero allocation: arm, move and expire with jiffies >= 2**30 (INITIAL_JIFFIES is 2**32 - 300 s).
# The expiries run on the board's own backend (the sim's advance() allocates itself); the
# wait is a busy loop on a list element, which allocates nothing.
timer_delete(t)
ktimers.init()
assert jiffies() >= 0x40000000
fired = [0]
ex = []


def cb(x):
    fired[0] += 1
    if fired[0] < len(ex):
        mod_timer(x, ex[fired[0]])  # preallocated expiry: the library's own allocation only


def measure():
    j0 = jiffies()
    ex[:] = [(j0 + 3 + 2 * k) & M32 for k in range(40)]  # heap ints made before measuring
    far = [(j0 + 10**6 + 977 * k) & M32 for k in range(40)]
    t = timer_list()
    timer_setup(t, lambda t: None, 0)
    t2 = timer_list()
    timer_setup(t2, cb, 0)
    mod_timer(t, far[1])  # first arms: the instances' dicts reach their size here
    mod_timer(t2, ex[0])
    gc.collect()
    gc.disable()
    try:
        f0 = gc.mem_free()
        for k in range(40):
            mod_timer(t, far[k])  # moves across buckets and levels
        timer_delete(t)
        f1 = gc.mem_free()
        while fired[0] < len(ex):
            pass
        f2 = gc.mem_free()
    finally:
        gc.enable()
    eq(wheel.wheel_check(t, t2), 0, "all done")
    return f0 - f1, f1 - f2


moves, expiries = measure()
print("allocated by 40 moves:", moves, "by 40 re-armed expiries:", expiries)
eq(moves, 0, "no allocation by mod_timer")
if sys.platform == "linux":  # the unix backend's tick thread may free a block meanwhile
    assert expiries <= 0, "the expiry pass and the re-arm allocated %d bytes" % expiries
else:
    eq(expiries, 0, "no allocation by the expiry pass and the re-arm")
print("KTEST PASS")
