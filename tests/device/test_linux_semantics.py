# Issue 7 behaviours on the sim clock (exact, repeatable; the same library runs on the
# unix port and the emulated Cortex-M3): jiffies caught up from the clocksource, wheel
# expiry semantics of Linux >= 5.9, softirq order, exact-ns hrtimers, clock_was_set,
# current-Linux sleeps and warnings.  Each block fails on the code before issue 7.
import sys
import ktimers

hw = ktimers.init("sim", hz=250)
from ktimers import *
from ktimers import timer as wheel
from ktest import eq, raises

core = ktimers.core
hq = __import__("ktimers")._mod("hrtimer_base")
P = sys.modules["ktimers.printk"]
MS = 1_000_000
TICK = 4 * MS


def at_tick_start():
    # advance to the next jiffy boundary (sim: ticks at raw0 + k * period)
    d = core.raw_diff(core.jiffy_start_raw(jiffies() + 1), hw.cs_read())
    hw.advance(d * 1000)


# --- (4) late, merged and lost tick interrupts are caught up ----------------------
j0 = jiffies()
h = hw._tick_h
hw._tick_h = lambda x: None  # 25 tick interrupts lost
hw.advance(100 * MS)
eq((jiffies() - j0) & 0xFFFFFFFF, 25, "jiffies() follows the clocksource without tick IRQs")
hw._tick_h = h
hw.advance(TICK)  # one interrupt counts every period since the last one
eq((core.jiffies_counted() - j0) & 0xFFFFFFFF, 26, "the next tick IRQ catches up")
eq((get_jiffies_64() - j0) & 0xFFFFFFFF, 26, "jiffies_64")
# a MemoryError in the softirq's fold loses no counted tick (injected)
orig = core._timer_mod._run_timers
fails = [1]


def failing(j):
    if fails[0]:
        fails[0] -= 1
        raise MemoryError
    orig(j)


core._timer_mod._run_timers = failing
e0 = core.nr_softirq_errors
hw.advance(10 * TICK)
core._timer_mod._run_timers = orig
hw.advance(TICK)
eq(core.nr_softirq_errors - e0, 1, "the failed softirq is counted")
eq((core.jiffies_counted() - j0) & 0xFFFFFFFF, 37, "no tick lost")

# --- (1) a level-0 timer fires only after d full tick periods; msleep has no +1 -----
fired = []


def rec(t):
    fired.append(hw.cs_read())


at_tick_start()
hw.advance(3 * MS)  # late in the jiffy: the arm sits 1 ms before the next tick
t = timer_list()
timer_setup(t, rec, 0)
c0 = hw.cs_read()
mod_timer(t, jiffies() + 10)
hw.advance(60 * MS)
d = core.raw_diff(fired[0], c0)
assert 40_000 <= d < 44_000, ("mod_timer(jiffies()+10) ran after %d us" % d)
at_tick_start()
c0 = hw.cs_read()
msleep(40)
d = core.raw_diff(hw.cs_read(), c0)
assert 40_000 <= d <= 44_000, ("msleep(40) took %d us (no extra jiffy: <= 44 ms)" % d)

# --- (7) collected timers stay pending until they run -----------------------------
order = []
A = timer_list()
B = timer_list()


def fa(t):
    order.append("A")
    order.append(("del B", timer_delete(B), timer_pending(B)))


def fb(t):
    order.append("B")


timer_setup(A, fa, 0)
timer_setup(B, fb, 0)
at_tick_start()
e = jiffies() + 5
mod_timer(B, e)
mod_timer(A, e)  # same bucket, added last: runs first (hlist_add_head)
hw.advance(40 * MS)
eq(order, ["A", ("del B", 1, False)], "timer_delete of a collected timer returns 1, B does not run")
wheel.wheel_check(A, B)
order[:] = []


def fa2(t):
    order.append("A")
    order.append(("mod B", mod_timer(B, jiffies() + 3)))


timer_setup(A, fa2, 0)
e = jiffies() + 5
mod_timer(B, e)
mod_timer(A, e)
hw.advance(100 * MS)
eq(order, ["A", ("mod B", 1), "B"], "mod_timer of a collected timer returns 1 and B runs once, later")

# --- (8) highest level first; same bucket keeps its place; forward_timer_base --------
order[:] = []
X = timer_list()
Y = timer_list()
timer_setup(X, lambda t: order.append("X"), 0)
timer_setup(Y, lambda t: order.append("Y"), 0)
while jiffies() & 7:
    hw.advance(TICK)
j = jiffies()
mod_timer(X, j + 70)  # level 1, bucket expiry j + 72
hw.advance(60 * TICK)
mod_timer(Y, j + 71)  # level 0 at jiffies j+60: bucket j + 72 too
hw.advance(20 * TICK)
eq(order, ["X", "Y"], "level 1 bucket runs before the level 0 bucket of the same jiffy")
order[:] = []
Q = timer_list()
timer_setup(Q, lambda t: order.append("Q"), 0)
timer_setup(X, lambda t: order.append("X"), 0)
j = jiffies()
while j & 7 != 1:
    hw.advance(TICK)
    j = jiffies()
mod_timer(X, j + 100)  # level 1
mod_timer(Q, j + 100)  # same bucket, head of the list
eq(mod_timer(X, j + 101), 1, "pending")
hw.advance(200 * TICK)
eq(order, ["Q", "X"], "mod_timer to the same bucket keeps the timer's place")
# jiffies = 1 mod 8, mod_timer(jiffies + 63): the idle base is forwarded, level 1
j = jiffies()
while j & 7 != 1:
    hw.advance(TICK)
    j = jiffies()
got = []
timer_setup(X, lambda t: got.append(jiffies()), 0)
mod_timer(X, j + 63)
hw.advance(100 * TICK)
eq(got, [(j + 71) & 0xFFFFFFFF], "level 1 bucket (j+71), not level 0 from a stale clk (j+64)")

# --- (9) TIMER_SOFTIRQ before HRTIMER_SOFTIRQ; equal expiries base by base -----------
order[:] = []
at_tick_start()
j = jiffies()
timer_setup(X, lambda t: order.append("timer_list"), 0)
mod_timer(X, j + 1)  # level 0: runs at the start of jiffy j + 2
hs = hrtimer()
hrtimer_setup(hs, lambda t: order.append("hrtimer") or HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_ABS)
hrtimer_start(hs, ktime_get() + 2 * TICK, HRTIMER_MODE_ABS)  # the same instant
hw.advance(3 * TICK)
eq(order, ["timer_list", "hrtimer"], "TIMER_SOFTIRQ runs before HRTIMER_SOFTIRQ")
order[:] = []
do_settimeofday64(1_000 * 10**9)
hr = hrtimer()
hm = hrtimer()
hrtimer_setup(hr, lambda t: order.append("REALTIME") or HRTIMER_NORESTART, CLOCK_REALTIME, HRTIMER_MODE_ABS)
hrtimer_setup(hm, lambda t: order.append("MONOTONIC") or HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_ABS)
m = ktime_get() + 10 * MS
hrtimer_start(hr, m + ktime_get_real() - ktime_get(), HRTIMER_MODE_ABS)  # started first
hrtimer_start(hm, m, HRTIMER_MODE_ABS)
hw.advance(20 * MS)
eq(order, ["MONOTONIC", "REALTIME"], "equal expiries run base by base")

# --- (2) clock_was_set: ABS REALTIME timers follow the new wall time -----------------
woke = []
do_settimeofday64(1_000 * 10**9)
hrtimer_setup(hr, lambda t: woke.append(ktime_get_real()) or HRTIMER_NORESTART, CLOCK_REALTIME, HRTIMER_MODE_ABS)
hrtimer_start(hr, 1_010 * 10**9, HRTIMER_MODE_ABS)
do_settimeofday64(995 * 10**9)  # set back 5 s
hw.advance(14_000 * MS)
eq(woke, [], "not before wall time 1010 s")
hw.advance(2_000 * MS)
assert len(woke) == 1 and woke[0] >= 1_010 * 10**9, woke
hq.queue_check(hr)

# --- (10) exact ns; HARD forward keeps fractional cycles (1 MHz counter) -------------
ts = []


def p1500(t):
    ts.append(hw.cs_read())
    hrtimer_forward_now(t, 1500)
    return HRTIMER_RESTART if len(ts) < 100 else HRTIMER_NORESTART


hh = hrtimer()
hrtimer_setup(hh, p1500, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD)
s0 = ktime_get() + 10_000
hrtimer_start(hh, s0, HRTIMER_MODE_ABS_HARD)
assert hq._hard_head is hh
hw.advance(300_000)
eq(len(ts), 100, "100 periods")
span = core.raw_diff(ts[-1], ts[0])
eq(span, -(-(99 * 1500) // 1000), "99 periods of 1500 ns = 148.5 us on a 1 MHz counter (not 198)")
eq(hrtimer_get_softexpires(hh), s0 + 100 * 1500, "expiry in exact ns after IRQ forwarding")
# a soft timer at a fractional-µs expiry runs at the first counter tick at or after it
ts[:] = []
hrtimer_setup(hs, lambda t: ts.append(ktime_get()) or HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_ABS)
s0 = ktime_get() + 10_500
hrtimer_start(hs, s0, HRTIMER_MODE_ABS)
eq(hrtimer_get_expires(hs), s0, "expiry kept in ns")
hw.advance(20_000)
eq(ts, [s0 + 500], "fired at the first counter cycle at or after the expiry")

# --- (5) task code calling hrtimer functions keeps the HARD head in the IRQ ----------
ctx = []


def hardcb(t):
    ctx.append(core.in_hardirq())
    return HRTIMER_NORESTART


hrtimer_setup(hh, hardcb, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD)
hrtimer_start(hh, 10 * MS, HRTIMER_MODE_REL_HARD)
other = hrtimer()
hrtimer_setup(other, lambda t: HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
hrtimer_get_remaining(hh)
hrtimer_get_expires(hh)
hrtimer_try_to_cancel(other)
hrtimer_start(other, 50 * MS, HRTIMER_MODE_REL)
hrtimer_cancel(other)
assert hq._hard_head is hh, "still dispatched from the IRQ"
hw.advance(20 * MS)
eq(ctx, [True], "the HARD timer ran in hard IRQ")

# a soft timer queued behind a HARD periodic head runs on time: the IRQ-side
# restarts stop at it (the device is not left to the HARD timer alone)
ts[:] = []
hrtimer_setup(hh, lambda t: hrtimer_forward_now(t, 2 * MS) and HRTIMER_RESTART, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD)
hrtimer_start(hh, 1 * MS, HRTIMER_MODE_REL_HARD)
hrtimer_setup(hs, lambda t: ts.append(ktime_get()) or HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_ABS)
s0 = ktime_get() + 5 * MS + 300_000
hrtimer_start(hs, s0, HRTIMER_MODE_ABS)
hw.advance(20 * MS)
assert len(ts) == 1 and 0 <= ts[0] - s0 < 100_000, (ts, s0)
hrtimer_cancel(hh)

# --- (3) the clock event keeps firing after any error in its IRQ --------------------
class _BadTrace:
    _on = False
    enabled = True  # call sites test it before record()
    n = [1]

    @staticmethod
    def record(*a):
        if _BadTrace.n[0]:
            _BadTrace.n[0] -= 1
            raise MemoryError("injected in the IRQ")


def boom(t):
    raise ValueError("hard callback raised")


e0 = hq.nr_irq_errors
hrtimer_setup(hh, boom, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD)
hrtimer_start(hh, MS, HRTIMER_MODE_REL_HARD)
hw.advance(2 * MS)  # the callback raised: logged, timer dropped
real_tr = hq._tr
hq._tr = hq._i._tr = _BadTrace  # the IRQ handlers live in hq._i (ktimers.hrtimer_irq)
ctx[:] = []
hrtimer_setup(hh, hardcb, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD)
hrtimer_start(hh, MS, HRTIMER_MODE_REL_HARD)
hw.advance(2 * MS)  # the IRQ itself failed before the callback
hq._tr = hq._i._tr = real_tr
eq(hq.nr_irq_errors - e0, 1, "IRQ error counted")
hw.advance(2 * MS)
eq(ctx, [False], "the timer still ran (from the softirq the failed IRQ raised)")
ctx[:] = []
hrtimer_start(hh, MS, HRTIMER_MODE_REL_HARD)
hw.advance(2 * MS)
eq(ctx, [True], "a later HARD timer fires from the IRQ again")
assert any("hard callback raised" in l for l in P.dmesg_lines()), "logged with traceback"

# --- (11) usleep_range max < min warns once, sleeps min; bad callback return warns --
P.dmesg_clear()
c0 = hw.cs_read()
usleep_range(300, 100)
assert core.raw_diff(hw.cs_read(), c0) >= 300
usleep_range(300, 100)
eq(sum(1 for l in P.dmesg_lines() if "usleep_range" in l), 1, "warned once")
hrtimer_setup(hs, lambda t: None, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
hrtimer_start(hs, MS, HRTIMER_MODE_REL)
hw.advance(2 * MS)
assert any("returned None" in l for l in P.dmesg_lines()), P.dmesg_lines()
assert not hrtimer_active(hs), "treated as HRTIMER_NORESTART"

# --- (6) all-or-nothing under MemoryError (fault injection at every allocation site) --
# ktimers.ktime and ktimers.printk are ROM modules where the firmware has the C core (their
# attributes cannot be replaced): the modules that call them then hold a stand-in that
# forwards every other name, so the injection reaches the same call sites.


class _Calls:
    def __init__(self, m):
        self._m = m

    def __getattr__(self, name):
        return getattr(self._m, name)


def patchable(mod, names, users):
    try:
        setattr(mod, names[0], getattr(mod, names[0]))
        return mod
    except AttributeError:
        pass
    ns = _Calls(mod)
    for n in names:
        setattr(ns, n, getattr(mod, n))
    for m, g in users:
        u = sys.modules["ktimers." + m]
        eq(getattr(u, g), mod, "ktimers.%s.%s is %s" % (m, g, mod))
        setattr(u, g, ns)
    return ns


KT = patchable(sys.modules["ktimers.ktime"], ("ktime_add_safe", "clock_offset"),
               (("hrtimer", "_kt"), ("hrtimer_base", "_kt")))
PK = patchable(P, ("current_module",), (("timer", "_pk"), ("hrtimer", "_pk")))
mods = (
    (core, "ktime_get"),
    (core, "jiffies"),
    (core, "ns_to_raw"),
    (core, "ns_to_cycles_up"),
    (core, "update_tick_budget"),
    (KT, "ktime_add_safe"),
    (KT, "clock_offset"),
    (PK, "current_module"),
    (wheel, "_calc"),
)
state = [0, -1]  # calls so far, the call that fails
saved = [getattr(m, n) for m, n in mods]


def inject(f):
    def g(*a):
        state[0] += 1
        if state[0] == state[1]:
            raise MemoryError("injected")
        return f(*a)

    return g


def all_or_nothing(op, snap, what):
    for k in range(1, 40):
        before = snap()
        state[0], state[1] = 0, k
        for (m, n), f in zip(mods, saved):
            setattr(m, n, inject(f))
        try:
            op()
            failed = False
        except MemoryError:
            failed = True
        finally:
            for (m, n), f in zip(mods, saved):
                setattr(m, n, f)
        hq.queue_check(*qtimers)
        wheel.wheel_check(*wtimers)
        if failed:
            eq(snap(), before, "%s: state after a MemoryError at allocation %d" % (what, k))
        else:
            return k
    raise AssertionError("%s never completed" % what)


qa = hrtimer()
qb = hrtimer()
qr = hrtimer()
hrtimer_setup(qa, lambda t: HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
hrtimer_setup(qb, lambda t: HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
hrtimer_setup(qr, lambda t: HRTIMER_NORESTART, CLOCK_REALTIME, HRTIMER_MODE_ABS)
qtimers = (qa, qb, qr)
wa = timer_list()
wb = timer_list()
timer_setup(wa, lambda t: None, 0)
timer_setup(wb, lambda t: None, 0)
wtimers = (wa, wb)
hrtimer_start(qa, 50 * MS, HRTIMER_MODE_REL)


def hsnap():
    return [(hrtimer_is_queued(x), x._softexpires, x._expires) for x in qtimers] + [hq._expires_next]


def wsnap():
    return [(timer_pending(x), x.expires) for x in wtimers] + [wheel._next_expiry]


n1 = all_or_nothing(lambda: hrtimer_start(qb, 30 * MS, HRTIMER_MODE_REL), hsnap, "hrtimer_start (new)")
n2 = all_or_nothing(lambda: hrtimer_start(qb, 70 * MS, HRTIMER_MODE_REL), hsnap, "hrtimer_start (requeue)")
all_or_nothing(lambda: hrtimer_start(qr, ktime_get_real() + 5 * MS, HRTIMER_MODE_ABS), hsnap, "REALTIME")
all_or_nothing(lambda: do_settimeofday64(2_000 * 10**9), hsnap, "clock_was_set")
all_or_nothing(lambda: hrtimer_cancel(qb), hsnap, "hrtimer_cancel")
all_or_nothing(lambda: mod_timer(wa, jiffies() + 100), wsnap, "mod_timer (new)")
all_or_nothing(lambda: mod_timer(wa, jiffies() + 3000), wsnap, "mod_timer (move)")
all_or_nothing(lambda: mod_timer(wb, jiffies() + 5), wsnap, "mod_timer (earlier)")
all_or_nothing(lambda: timer_delete(wa), wsnap, "timer_delete")
assert n1 > 1 and n2 > 1, "the injection reached allocations inside the operations"
hw.advance(10_000 * MS)
eq([hrtimer_active(x) for x in qtimers] + [timer_pending(x) for x in wtimers], [False] * 5, "all ran")
print("KTEST PASS")
