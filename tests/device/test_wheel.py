# timer_list on the wheel, sim clock: Linux's documented semantics, exactly.
import ktimers

hw = ktimers.init("sim", hz=1000)
from ktimers import *
from ktimers import timer as wheel

log = []


def fn(t):
    log.append((t.trace_id, jiffies()))


# mod_timer / del / try return values
t = timer_list()
timer_setup(t, fn, 0)
assert mod_timer(t, jiffies() + 10) == 0, "inactive -> 0"
assert mod_timer(t, t.expires) == 1, "same expiry -> 1"
assert mod_timer(t, jiffies() + 20) == 1, "pending -> 1"
assert timer_pending(t)
assert timer_delete(t) == 1 and timer_delete(t) == 0
assert mod_timer_pending(t, jiffies() + 5) == 0 and not timer_pending(t)
assert timer_reduce(t, jiffies() + 50) == 0 and timer_pending(t)
e = t.expires
assert timer_reduce(t, e + 10) == 1 and t.expires == e, "reduce never moves later"
assert timer_reduce(t, e - 10) == 1 and t.expires == e - 10
assert timer_delete_sync_try(t) == 1 and timer_delete_sync(t) == 0
wheel.wheel_check()

# Never early, at every level: arm at many deltas, check jiffies at expiry >= expires,
# and lateness <= the level granularity.
GRAN = [1 << (3 * n) for n in range(9)]
deltas = [0, 1, 2, 62, 63, 64, 100, 511, 512, 600, 4000, 4095, 4096, 30000, 40000, 262143, 300000]
ts = []
for d in deltas:
    x = timer_list()
    timer_setup(x, fn, 0)
    mod_timer(x, jiffies() + d)
    ts.append((x, d, jiffies()))
assert wheel.wheel_check() == len(deltas)
start = jiffies()
hw.advance(400 * 1_000_000_000)  # 400 s of virtual time
got = dict(log)
for x, d, armed in ts:
    fired = got[x.trace_id]
    late = (fired - x.expires) & 0xFFFFFFFF
    assert late < 0x80000000, "timer d=%d fired early: %d < %d" % (d, fired, x.expires)
    lvl = 0
    while lvl < 8 and d >= 63 << (3 * lvl):
        lvl += 1
    assert late <= GRAN[lvl], "d=%d late %d > granularity %d" % (d, late, GRAN[lvl])
assert wheel.wheel_check() == 0

# jiffies wraps 5 minutes after init (INITIAL_JIFFIES), time_after stays right,
# and a timer armed across the wrap fires on time.
ktimers.init("sim", hz=250)
from ktimers import *

assert jiffies() == (-300 * 250) & 0xFFFFFFFF == INITIAL_JIFFIES
log.clear()
w = timer_list()
timer_setup(w, fn, 0)
before = jiffies()
mod_timer(w, (jiffies() + 300 * 250 + 10) & 0xFFFFFFFF)  # 10 jiffies after the wrap
assert w.expires == 10
ktimers.core.hw.advance(320 * 1_000_000_000)  # level 4 at HZ=250: granularity 4096
assert get_jiffies_64() >= 2**32, "jiffies_64 does not wrap"
assert time_after(jiffies(), before), "time_after across the wrap"
assert log and log[0][0] == w.trace_id and 10 <= log[0][1] <= 10 + 4096, log

# a past expiry fires at the next tick; add_timer on a pending timer warns and keeps it
log.clear()
p = timer_list()
timer_setup(p, fn, 0)
p.expires = jiffies() - 5
add_timer(p)
j0 = jiffies()
add_timer(p)  # WARN, no change
assert any("add_timer" in l for l in dmesg_lines()), "WARN logged"
ktimers.core.hw.advance(4_000_000)
assert log == [(p.trace_id, j0 + 1)], log

# a callback may re-arm or delete its own timer; raising is logged, rest runs
log.clear()
n = [0]


def rearm(t):
    n[0] += 1
    if n[0] < 5:
        mod_timer(t, jiffies() + 2)


def boom(t):
    raise ValueError("boom in callback")


r = timer_list()
timer_setup(r, rearm, 0)
b = timer_list()
timer_setup(b, boom, 0)
mod_timer(r, jiffies() + 1)
mod_timer(b, jiffies() + 1)
ktimers.core.hw.advance(100_000_000)
assert n[0] == 5, n
assert not timer_pending(b)
txt = "\n".join(dmesg_lines())
assert "boom in callback" in txt and "Traceback" in txt, txt

# timer_delete_sync from its own callback: a clear error, not a hang
errs = []


def selfsync(t):
    try:
        timer_delete_sync(t)
    except RuntimeError as e:
        errs.append(str(e))
    errs.append(timer_delete_sync_try(t))


s = timer_list()
timer_setup(s, selfsync, 0)
mod_timer(s, jiffies() + 1)
ktimers.core.hw.advance(20_000_000)
assert errs and "own callback" in errs[0] and errs[1] == -1, errs

# shutdown: later arms ignored until set up again
sd = timer_list()
timer_setup(sd, fn, 0)
mod_timer(sd, jiffies() + 3)
assert timer_shutdown_sync(sd) == 1
assert mod_timer(sd, jiffies() + 3) == 0 and not timer_pending(sd)
add_timer(sd)
assert not timer_pending(sd)
timer_setup(sd, fn, 0)
assert mod_timer(sd, jiffies() + 3) == 0 and timer_pending(sd)
timer_delete(sd)

# bad input: clear errors naming the argument, and the wheel stays intact
for call, word in (
    (lambda: mod_timer(sd, "soon"), "expires"),
    (lambda: mod_timer(object(), 5), "timer"),
    (lambda: timer_setup(sd, 42, 0), "callback"),
    (lambda: timer_setup(sd, fn, 1), "flags"),
    (lambda: add_timer_on(sd, 1), "cpu"),
):
    try:
        call()
        raise AssertionError("no error for " + word)
    except (TypeError, ValueError) as e:
        assert word in str(e), (word, str(e))
wheel.wheel_check()

# legacy API (seed 003): init_timer + .function/.data/.expires, callback gets data
got = []
lt = timer_list()
init_timer(lt)
lt.function = lambda data: got.append(data)
lt.data = 1234
lt.expires = jiffies() + 2
add_timer(lt)
ktimers.core.hw.advance(20_000_000)
assert got == [1234], got
print("KTEST PASS")
