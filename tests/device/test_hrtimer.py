# hrtimers on the sim clock: Linux's documented semantics, exactly.
import ktimers

hw = ktimers.init("sim", hz=250)
from ktimers import *
from ktimers import hrtimer as _unused  # noqa  (class; the module is ktimers.core's sibling)
import sys

hq = __import__("ktimers")._mod("hrtimer_base")
US = 1000  # the example in microsecond-scaled units

# hrtimer_forward: expires 5, now 12, interval 2 -> expires 13, returns 4 (LKA ch. 15)
t = hrtimer()
hrtimer_init(t, CLOCK_MONOTONIC, HRTIMER_MODE_ABS)
t.function = lambda t: HRTIMER_NORESTART
hrtimer_set_expires(t, 5 * US)
assert hrtimer_forward(t, 12 * US, 2 * US) == 4
assert hrtimer_get_expires(t) == 13 * US and hrtimer_get_softexpires(t) == 13 * US
assert hrtimer_forward(t, 12 * US, 2 * US) == 0, "now < expires -> 0"
hrtimer_set_expires(t, 0)
# exact ns (high-resolution mode: hrtimer_resolution 1 ns) on every board
assert hq.hrtimer_resolution == 1 and hrtimer_forward(t, 5, 0) == 6, "interval raised to resolution"
assert hrtimer_get_expires(t) == 6
hrtimer_set_expires(t, 5)
assert hrtimer_forward(t, 12, 2) == 4 and hrtimer_get_expires(t) == 13, "seed 004 example in plain ns"
hrtimer_set_expires(t, KTIME_MAX - 3)
assert hrtimer_forward(t, KTIME_MAX - 1, 10) == 1 and hrtimer_get_expires(t) == KTIME_MAX, "saturates"

# start/cancel return values; queued forward WARNs and returns 0
hrtimer_start(t, 1_000_000, HRTIMER_MODE_REL)
assert hrtimer_is_queued(t) and hrtimer_active(t)
assert hrtimer_forward(t, ktime_get() + 10**9, 1000) == 0
assert any("hrtimer_forward" in l for l in dmesg_lines())
assert hrtimer_try_to_cancel(t) == 1 and hrtimer_try_to_cancel(t) == 0 and hrtimer_cancel(t) == 0
assert hq.queue_check() == 0

# try_to_cancel is -1 from inside the callback; hrtimer_cancel there is a clear error
seen = []


def inside(timer):
    seen.append(hrtimer_try_to_cancel(timer))
    seen.append(hrtimer_callback_running(timer))
    try:
        hrtimer_cancel(timer)
    except RuntimeError as e:
        seen.append("own callback" in str(e))
    return HRTIMER_NORESTART


c = hrtimer()
hrtimer_setup(c, inside, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
hrtimer_start(c, 100_000, HRTIMER_MODE_REL)
hw.advance(1_000_000)
assert seen == [-1, True, True], seen
assert not hrtimer_active(c)

# periodic via forward_now keeps its phase: soft and hard (sim runs hard IRQ paths)
for mode in (HRTIMER_MODE_REL_SOFT, HRTIMER_MODE_REL_HARD):
    ktimers.init("sim", hz=250)
    stamps = []
    P = 1_000_000

    def per(timer):
        stamps.append(ktimers.core.hw.now)
        hrtimer_forward_now(timer, P)
        return HRTIMER_RESTART

    p = hrtimer()
    hrtimer_setup(p, per, CLOCK_MONOTONIC, mode)
    t0 = ktimers.core.hw.now
    hrtimer_start(p, P, mode)
    ktimers.core.hw.advance(1000 * P + P // 2)
    assert len(stamps) == 1000, (mode, len(stamps))
    for k, s in enumerate(stamps):
        assert s == t0 + (k + 1) * P // 1000, (mode, k, s - t0)  # 1 MHz counter: exact
    assert hrtimer_get_expires(p) == t0 * 1000 + 1001 * P, (mode, hrtimer_get_expires(p))
    hrtimer_cancel(p)

# range timers coalesce: one clock event serves timers whose ranges overlap
ktimers.init("sim", hz=250)
hw = ktimers.core.hw
fired = []
ts = []
for i in range(5):
    x = hrtimer()
    hrtimer_setup(x, lambda t: fired.append(t.trace_id) or HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
    ts.append(x)
base = ktime_get()
for i, x in enumerate(ts):
    hrtimer_start_range_ns(x, 1_000_000 + i * 10_000, 200_000, HRTIMER_MODE_REL)
assert hq.queue_check() == 5
ev0 = hq.nr_events
hw.advance(2_000_000)
assert len(fired) == 5 and hq.nr_events - ev0 == 1, (len(fired), hq.nr_events - ev0)

# the clock event is reprogrammed only when the earliest expiry changes
r0 = hq.nr_reprograms
a = hrtimer()
hrtimer_setup(a, lambda t: HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
hrtimer_start(a, 5_000_000, HRTIMER_MODE_REL)
later = []
for i in range(10):
    y = hrtimer()
    hrtimer_setup(y, lambda t: HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
    hrtimer_start(y, 6_000_000 + i, HRTIMER_MODE_REL)
    later.append(y)
assert hq.nr_reprograms - r0 == 1, hq.nr_reprograms - r0
for y in later:
    hrtimer_cancel(y)
hrtimer_cancel(a)

# no timer fires early by the clocksource; absolute timers; REALTIME offsets
ktimers.init("sim", hz=250)
hw = ktimers.core.hw
early = []


def chk(timer):
    if ktime_get() < hrtimer_get_softexpires(timer):
        early.append(timer.trace_id)
    return HRTIMER_NORESTART


xs = []
for i in range(200):
    x = hrtimer()
    hrtimer_setup(x, chk, CLOCK_MONOTONIC, HRTIMER_MODE_ABS)
    hrtimer_start(x, ktime_get() + (i * 7919) % 3_000_000 + 1, HRTIMER_MODE_ABS)
    xs.append(x)
hw.advance(4_000_000)
assert not early and not any(hrtimer_active(x) for x in xs)
rt = hrtimer()
hrtimer_setup(rt, chk, CLOCK_REALTIME, HRTIMER_MODE_ABS)
hrtimer_start(rt, ktime_get_real() + 1_000_000, HRTIMER_MODE_ABS)
assert 0 < hrtimer_get_remaining(rt) <= 1_000_000
hw.advance(2_000_000)
assert not hrtimer_active(rt) and not early

# a callback storm (RESTART without forwarding) cannot lock the board
storm = hrtimer()
hrtimer_setup(storm, lambda t: HRTIMER_RESTART, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
h0 = hq.nr_hangs
hrtimer_start(storm, 1000, HRTIMER_MODE_REL)
hw.advance(5_000_000)
assert hq.nr_hangs > h0 and any("hrtimer: interrupt took" in l for l in dmesg_lines())
hrtimer_cancel(storm)

# a raising callback is logged with its traceback; the queue keeps running
ok = []
bad = hrtimer()
hrtimer_setup(bad, lambda t: 1 / 0, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD)
good = hrtimer()
hrtimer_setup(good, lambda t: ok.append(1) or HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
hrtimer_start(bad, 1000, HRTIMER_MODE_REL_HARD)
hrtimer_start(good, 3000, HRTIMER_MODE_REL)
hw.advance(1_000_000)
assert ok == [1] and not hrtimer_active(bad)
assert "ZeroDivisionError" in "\n".join(dmesg_lines())

# bad input: clear errors naming the argument; the queue stays intact
g = hrtimer()
hrtimer_setup(g, lambda t: 0, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
hrtimer_start(g, 10**9, HRTIMER_MODE_REL)
for call, word in (
    (lambda: hrtimer_start(g, 1.5, HRTIMER_MODE_REL), "tim"),
    (lambda: hrtimer_start(g, 10, 0x40), "mode"),
    (lambda: hrtimer_start_range_ns(g, 10, -1, HRTIMER_MODE_REL), "range_ns"),
    (lambda: hrtimer_start("t", 10, HRTIMER_MODE_REL), "timer"),
    (lambda: hrtimer_forward(g, "now", 10), "now"),
    (lambda: hrtimer_setup(g, None, CLOCK_MONOTONIC, 0), "function"),
):
    try:
        call()
        raise AssertionError("no error for " + word)
    except (TypeError, ValueError) as e:
        assert word in str(e), (word, str(e))
assert hq.queue_check() == 1 and hrtimer_is_queued(g)
hrtimer_set_expires(g, 5)  # on a queued timer: WARN, unchanged
assert hrtimer_get_softexpires(g) != 5
hrtimer_cancel(g)

# unknown clock: WARN and use MONOTONIC
u = hrtimer()
hrtimer_init(u, 99, HRTIMER_MODE_REL)
assert u._clock == CLOCK_MONOTONIC
print("KTEST PASS")
