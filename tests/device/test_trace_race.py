# trace.record() is called from task/softirq context and from the hard IRQ (HARD
# hrtimer dispatch).  A record written in task context must never be torn by an IRQ
# that records in between: every record in the ring is whole, none is lost, none is
# a stale slot.  A HARD hrtimer every 23 us records hrtimer_expire_entry while the
# main loop records N numbered task records; the ring holds all of them.  On a board
# without hard IRQs (unix, sim) nothing can interrupt a record and the check is the
# same.
import ktimers
from ktimers import *

core = ktimers.core
trace = __import__("ktimers")._mod("trace")
N = 4000
TASK_ID = 0x7777
P = 23_000
hits = [0]
t = hrtimer()
k = seen = task = hard = bad = last = 0
code = tid = a = 0


def cb(tm):
    hits[0] += 1
    hrtimer_forward_now(tm, P)
    return HRTIMER_RESTART


# room for N task records and up to 5N HARD ones (about 3N): the loop's speed, hence the HARD count
# per task record, moves with the firmware's layout and the heap (a collection in the
# loop lets the HARD timer run on)
trace.enable(6 * N, (trace.TIMER_EXPIRE_EXIT, trace.HRTIMER_EXPIRE_ENTRY))
hrtimer_setup(t, cb, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD)
hrtimer_start(t, P, HRTIMER_MODE_REL_HARD)
rec = trace.record
for k in range(N):
    rec(trace.TIMER_EXPIRE_EXIT, TASK_ID, k, k, -k)
    if k % 64 == 0:
        core.idle()  # let a board without hard IRQs run its timers too
hrtimer_cancel(t)
trace.disable()
cs_hz, cs_mask, hz, count, dropped = trace.meta()
assert dropped == 0, "ring too small for the test: %d dropped" % dropped
last = -1
for code, tid, ts, a, b in trace.records():
    if code == trace.TIMER_EXPIRE_EXIT:
        if tid != TASK_ID or a != last + 1 or ts != a or b != -a:
            bad += 1
        last = a
        task += 1
    elif code == trace.HRTIMER_EXPIRE_ENTRY:
        if tid != t.trace_id:
            bad += 1
        hard += 1
    else:
        bad += 1
print("trace race: records", count, "task", task, "hard", hard, "callbacks", hits[0], "bad", bad)
assert bad == 0, "%d torn or stale records" % bad
assert task == N and last == N - 1, "task records lost: %d of %d" % (task, N)
assert hard == hits[0], "hard records %d != callbacks %d" % (hard, hits[0])
assert core.hw.HARD_IRQ is False or hits[0] > 50, "the HARD timer ran %d times" % hits[0]
trace.enable(1)
trace.disable()
print("KTEST PASS")
