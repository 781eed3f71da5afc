# hrtimers on small ints (issue 8): queue keys are ns since a moving epoch, the
# softirq moves the epoch and rebases the queue; expiries stay exact across any
# number of moves, far timers (heap-int keys) included, and a failed rebase
# changes nothing.  The state a HARD callback sees in hard IRQ is the kernel's.
import sys
import micropython
import ktimers

hw = ktimers.init("sim", hz=250, CS_BITS=20)  # 1 MHz, 2**20 cycles: a step every ~262 ms
from ktimers import *
from ktest import eq

core = ktimers.core
hq = __import__("ktimers")._mod("hrtimer_base")
irq = hq._i
MS = 1_000_000
assert core._EP_C == (1 << 20) >> 2 and core._EP_NS == core._EP_C * 1000, (core._EP_C, core._EP_NS)

# --- a periodic SOFT timer and a far one keep exact ns across many epoch moves ------
stamps = []
P = 3 * MS + 7  # not a multiple of the step or of a counter cycle


def per(t):
    stamps.append(ktime_get())
    hrtimer_forward_now(t, P)
    return HRTIMER_RESTART


p = hrtimer()
hrtimer_setup(p, per, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT)
far = hrtimer()
far_hit = []
hrtimer_setup(far, lambda t: far_hit.append(ktime_get()) or HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_ABS)
t0 = ktime_get()
hrtimer_start(p, P, HRTIMER_MODE_REL_SOFT)
s0 = hrtimer_get_softexpires(p)
far_at = t0 + 5 * 10**9 + 123  # 5 s away: a heap-int key on 32-bit boards
hrtimer_start(far, far_at, HRTIMER_MODE_ABS)
ep0 = core._ep
hw.advance(6 * 10**9)
assert core._ep - ep0 >= 20, "the epoch moved (%d steps)" % (core._ep - ep0)
eq(len(stamps), (6 * 10**9) // P, "every period ran")
for k, s in enumerate(stamps):
    assert s0 + k * P <= s < s0 + k * P + 1000, (k, s - s0 - k * P)  # never early, < 1 cycle late
eq(hrtimer_get_softexpires(p), s0 + len(stamps) * P, "phase exact in ns after the moves")
assert len(far_hit) == 1 and far_at <= far_hit[0] < far_at + 1000, (far_hit, far_at)
assert hq.queue_check(p) == 1
hrtimer_cancel(p)

# --- an inactive timer's expiry does not move with the epoch ----------------------
hrtimer_set_expires(far, 77)
hw.advance(2 * 10**9)
eq(hrtimer_get_expires(far), 77, "inactive expiry kept (its own epoch)")

# --- a rebase that cannot get memory changes nothing --------------------------------
q = []
for i in range(3):
    x = hrtimer()
    hrtimer_setup(x, lambda t: HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_ABS)
    hrtimer_start(x, ktime_get() + (i + 1) * 4 * 10**9, HRTIMER_MODE_ABS)  # far: heap ints
    q.append(x)
before = [hrtimer_get_expires(x) for x in q]
ep = core._ep
hw.now += core._EP_C  # a step passes with no softirq (sim's virtual counter)
core.local_bh_disable()
hq._scratch[:] = []  # the rebase must grow its scratch list for heap-int keys
micropython.heap_lock()
try:
    core.ep_advance()
    failed = False
except MemoryError:
    failed = True
finally:
    micropython.heap_unlock()
    core.local_bh_enable()
if sys.maxsize < 2**32:  # 32-bit board: those keys are heap ints
    assert failed and core._ep == ep, "the rebase failed under the lock and moved nothing"
eq([hrtimer_get_expires(x) for x in q], before, "expiries unchanged either way")
hq.queue_check(*q)
for x in q:
    hrtimer_cancel(x)

# --- a HARD callback sees the kernel's state: CALLBACK, not queued ----------------
seen = []


def hard(t):
    seen.append((core.in_hardirq(), hrtimer_callback_running(t), hrtimer_is_queued(t), hrtimer_active(t)))
    seen.append(hrtimer_try_to_cancel(t))
    return HRTIMER_NORESTART


h = hrtimer()
hrtimer_setup(h, hard, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD)
hrtimer_start(h, MS, HRTIMER_MODE_REL_HARD)
assert irq._hard_head is h
hw.advance(2 * MS)
eq(seen, [(True, True, False, True), -1], "state in the hard callback")
eq((hrtimer_active(h), hrtimer_is_queued(h)), (False, False), "NORESTART: inactive")
hq.queue_check(h)
eq(hq.queue_check(), 0, "the ended hard head left the queue")

# --- trace switched on while a HARD head is armed: its IRQ records from then on ---
trace = __import__("ktimers")._mod("trace")
cnt = [0]


def hp(t):
    cnt[0] += 1
    hrtimer_forward_now(t, MS)
    return HRTIMER_RESTART


hrtimer_setup(h, hp, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD)
hrtimer_start(h, MS, HRTIMER_MODE_REL_HARD)
hw.advance(5 * MS)
trace.enable(64)
hw.advance(5 * MS)
trace.disable()
hrtimer_cancel(h)
ents = [r for r in trace.records() if r[0] == 6 and r[1] == h.trace_id and r[4] == 1]
assert len(ents) >= 4, ents
h.trace_id = 0xF0F0  # settable (validate scenarios use their own ids)
eq(h.trace_id, 0xF0F0, "trace_id set")
print("irq", irq.__name__, "steps", core._ep - ep0)
print("KTEST PASS")
