# Real timing on the board's own backend (unix thread, or the emulated board's
# timer peripherals): no timer fires early by the clocksource, and a periodic
# hrtimer driven by hrtimer_forward_now keeps its phase over 1,000 periods.
import ktimers
from ktimers import *
import sys

core = ktimers.core
trace = __import__("ktimers")._mod("trace")
assert core.hw.NAME != "sim"
P = 1_000_000  # 1 ms
N = 1000
done = completion()
orun = [0, 0]


def periodic(t):
    orun[0] += 1
    orun[1] += hrtimer_forward_now(t, P)
    if orun[0] >= N:
        complete(done)
        return HRTIMER_NORESTART
    return HRTIMER_RESTART


trace.enable(4 * N + 64)
t = hrtimer()
hrtimer_setup(t, periodic, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
start = ktime_get()
hrtimer_start(t, P, HRTIMER_MODE_REL)
# the first expiry: softirqs held off, so the expiry and the periods forwarded so far are
# read together (a lazily loaded call or a host stall may take longer than a period)
core.local_bh_disable()
first = hrtimer_get_softexpires(t)
o0 = orun[1]
core.local_bh_enable()
first -= o0 * P
assert wait_for_completion_timeout(done, msecs_to_jiffies(30_000)) > 0, "periodic timer stalled"
mask = core.CS_MASK
ents = [r for r in trace.records() if r[0] == 6 and r[1] == t.trace_id]
assert len(ents) == N, len(ents)
early = [core.raw_diff(ts, a) for (_, _, ts, a, _) in ents if core.raw_diff(ts, a) < 0]
assert not early, "early expiries (cycles): %r" % early[:5]
# phase: the soft expiries are first + k*P, exactly, whatever the lateness
exp_cyc = [a for (_, _, _, a, _) in ents]
first_raw = core.ns_to_raw(first)
for k, a in enumerate(exp_cyc[:1]):
    assert a == first_raw, (a, first_raw)
# forward_now skips missed periods: expiries advance by whole periods
steps = [core.raw_diff(exp_cyc[i + 1], exp_cyc[i]) for i in range(N - 1)]
per = core.ns_to_cycles_up(P)
assert all(s % per == 0 and s > 0 for s in steps), set(steps)
assert hrtimer_get_softexpires(t) == first + orun[1] * P, "phase drift"
lat = sorted(core.raw_diff(ts, a) for (_, _, ts, a, _) in ents)
ns = core.cycles_to_ns
print("periods", N, "overruns", orun[1] - N + 1, "lateness us min/p50/max",
      ns(lat[0]) // 1000, ns(lat[N // 2]) // 1000, ns(lat[-1]) // 1000)

# timer_list: never before expires (jiffies), on the real tick
hits = []


def tl(x):
    hits.append((jiffies(), x.expires))


xs = []
for d in (1, 2, 5, 10, 25):
    x = timer_list()
    timer_setup(x, tl, 0)
    mod_timer(x, jiffies() + d)
    xs.append(x)
msleep(200)
assert len(hits) == 5, hits
assert all(time_after_eq(j, e) for j, e in hits), hits
print("KTEST PASS")
