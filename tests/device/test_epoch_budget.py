# The epoch must move before a HARD head's IRQ needs a heap int.  The hard IRQ
# forwards a periodic HARD hrtimer on ns since the epoch (small ints: below
# 2**30 ns, 1.07 s); only the softirq moves the epoch, and on a quiet board the
# softirq runs only when the tick raises it.  So the tick must raise it at least
# once per epoch step: otherwise, for the last ~0.2 s of every second, the IRQ
# had to leave its forward to the softirq (_h_defer) -- a HARD period late, and
# one counted but not moved while a heap-locked main program keeps the softirq
# from finishing (tests/device/test_heaplock.py's rare "+1").  Driven on the sim
# clock, the handlers called as the hardware would, softirqs run only when raised.
import sys
import ktimers
from ktimers import *

core = ktimers.core
irq = __import__("ktimers")._mod("hrtimer_base")._i
P = 200_000
count = [0, 0]


def cb(t):
    count[0] += 1
    count[1] += hrtimer_forward_now(t, P)
    return HRTIMER_RESTART


b = ktimers.init("sim", hz=250, CS_HZ=25_000_000, CS_BITS=30, HARD_IRQ=True)
t = hrtimer()
hrtimer_setup(t, cb, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD)
hrtimer_start(t, P, HRTIMER_MODE_REL_HARD)
core.run_softirq()
end = b.now + 3 * 25_000_000  # 3 s of board time: three budget periods of the old HZ ticks
deferred = softirqs = 0
while b.now < end:
    ce, tk = b._ce_at, b._tick_next
    b.now = ce if ce is not None and ce < tk else tk
    if ce is not None and ce <= b.now:
        b._ce_at = None
        b._ce_h(None)
        if irq._h_defer is not None:
            deferred += 1
    if tk <= b.now:
        b._tick_next += b._tick_period
        b._tick_h(None)
    if core._pending:  # the schedule queue: only what an IRQ raised
        softirqs += 1
        core.run_softirq()
hrtimer_cancel(t)
print("epoch budget: callbacks", count[0], "periods", count[1], "softirqs", softirqs, "deferred", deferred)
assert deferred == 0, "the hard IRQ left %d forwards to the softirq (the epoch was too old)" % deferred
assert count[1] == count[0] and count[0] >= 3 * 5000 - 2, count
ktimers.init()
print("KTEST PASS")
