# ktime stays monotonic across many wraps of the underlying counter (sim
# clock with a 16-bit counter: it wraps every 65.5 ms of virtual time).
import ktimers

hw = ktimers.init("sim", hz=100, CS_BITS=16)
from ktimers import *

last = ktime_get()
assert last == 0
steps = (1, 999, 30_000, 32_767, 7, 12_345, 20_000)
total = 0
for i in range(3000):
    d = steps[i % len(steps)]
    hw.advance(d * 1000)
    total += d
    now = ktime_get()
    assert now >= last, "ktime went backwards at step %d" % i
    assert now == total * 1000, (i, now, total * 1000)
    last = now
wraps = total >> 16
assert wraps > 500, wraps
# jiffies follow the tick: 100 Hz over `total` us
assert get_jiffies_64() - INITIAL_JIFFIES == total // 10_000, (get_jiffies_64() - INITIAL_JIFFIES, total)
# clocks: REALTIME/TAI/BOOTTIME are offsets from MONOTONIC
assert ktime_get_boottime() - ktime_get() == 0
assert ktime_get_clocktai() - ktime_get_real() == 37 * NSEC_PER_SEC
print("wraps", wraps)
print("KTEST PASS")
