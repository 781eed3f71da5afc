# test_completion: Linux completion semantics on the sim backend (HZ=1000):
# counts, complete_all, timeout return values (0 / remaining >= 1), waking from
# a timer callback, context checks, Ctrl-C, hard-IRQ-safe complete().
import sys
import micropython
import ktimers
from ktimers import core
from ktest import eq, raises
import ktimers.completion
C = sys.modules["ktimers.completion"]
T = __import__("ktimers")._mod("timer")

_init = getattr(ktimers, "init", None) or core.init


hw = _init("sim", hz=1000)
U32 = 0xFFFFFFFF


def elapsed(j0):
    return (core.jiffies() - j0) & U32


# --- counting ------------------------------------------------------------------
x = C.DECLARE_COMPLETION()
eq((x.done, x.nwait), (0, 0), "fresh completion")
assert not C.completion_done(x), "not done"
assert not C.try_wait_for_completion(x), "try_wait on empty"
C.complete(x)
C.complete(x)
eq(x.done, 2, "two completes count")
assert C.completion_done(x), "done"
assert C.try_wait_for_completion(x), "try_wait consumes"
eq(x.done, 1, "one left")
j0 = core.jiffies()
C.wait_for_completion(x)          # already done: no waiting
eq(x.done, 0, "consumed")
eq(elapsed(j0), 0, "no time passed")
C.init_completion(x)
eq(x.done, 0, "init_completion")

# complete_all: every wait passes until reinit
C.complete_all(x)
big = x.done
eq(big, 0x3FFFFFFF, "complete_all sets the UINT_MAX-like count")
for i in range(5):
    C.wait_for_completion(x)
    assert C.try_wait_for_completion(x), "complete_all: try_wait"
C.complete(x)
eq(x.done, big, "complete after complete_all keeps it")
C.reinit_completion(x)
eq(x.done, 0, "reinit_completion")

# --- timeout return values (Linux: timeout ?: 1 when done) ----------------------
j0 = core.jiffies()
eq(C.wait_for_completion_timeout(x, 0), 0, "timeout 0, not done -> 0")
eq(elapsed(j0), 0, "timeout 0 does not wait")
C.complete(x)
eq(C.wait_for_completion_timeout(x, 0), 1, "timeout 0 but done -> 1")
C.complete(x)
eq(C.wait_for_completion_timeout(x, 50), 50, "done at once -> full timeout")
C.complete(x)
eq(C.wait_for_completion_timeout(x, C.MAX_SCHEDULE_TIMEOUT), C.MAX_SCHEDULE_TIMEOUT,
   "MAX_SCHEDULE_TIMEOUT when done")
j0 = core.jiffies()
eq(C.wait_for_completion_timeout(x, 10), 0, "times out -> 0")
eq(elapsed(j0), 10, "waited exactly 10 jiffies")
eq(x.nwait, 0, "waiter count back to 0")
eq(C.wait_for_completion_interruptible_timeout(x, 3), 0, "interruptible timeout -> 0")

# --- woken by a timer callback ------------------------------------------------
fired = []


def cb(t):
    fired.append(core.jiffies())
    C.complete(x)


t = T.timer_list()
T.timer_setup(t, cb, 0)
j0 = core.jiffies()
T.mod_timer(t, (j0 + 5) & U32)
r = C.wait_for_completion_timeout(x, 100)
eq(len(fired), 1, "callback ran while waiting")
el = elapsed(j0)
# the Linux wheel rounds a level-0 expiry up by one jiffy (calc_index: +1)
assert el in (5, 6), "woke when the timer fired: %d" % el
eq(el, (fired[0] - j0) & U32, "woke in the tick the callback ran")
eq(r, 100 - el, "remaining jiffies = 100 - elapsed")
eq(x.done, 0, "consumed by the wait")

T.mod_timer(t, (core.jiffies() + 7) & U32)
eq(C.wait_for_completion_interruptible(x), 0, "interruptible returns 0")
j0 = core.jiffies()
T.mod_timer(t, (j0 + 2) & U32)
r = C.wait_for_completion_interruptible_timeout(x, 40)
eq(r, 40 - elapsed(j0), "interruptible_timeout remaining")
assert 35 <= r <= 38, "remaining %d" % r
T.mod_timer(t, (core.jiffies() + 1) & U32)
eq(C.wait_for_completion_killable(x), 0, "killable")

# the Blackfin timer_test pattern: a self-rearming timer stopped by a flag
still_going = [1]
runs = [0]
timer_done = C.DECLARE_COMPLETION()


def timer_function(tm):
    runs[0] += 1
    if still_going[0]:
        T.mod_timer(tm, (core.jiffies() + 24) & U32)
    else:
        C.complete(timer_done)


console_timer = T.timer_list()
T.timer_setup(console_timer, timer_function, 0)
T.mod_timer(console_timer, (core.jiffies() + 24) & U32)
hw.advance(100 * 1000000)            # 100 ms: period 24 (+1 wheel rounding)
assert runs[0] in (3, 4), "rearming timer ran %d times in 100 ms" % runs[0]
n_runs = runs[0]
still_going[0] = 0
T.mod_timer(console_timer, (core.jiffies() + 1) & U32)
C.wait_for_completion(timer_done)
eq(runs[0], n_runs + 1, "last run completed")
assert not T.timer_pending(console_timer), "not re-armed"

# --- waiting from a callback (softirq) is refused --------------------------------
errs = []


def bad_cb(tm):
    try:
        C.wait_for_completion_timeout(x, 1)
    except RuntimeError as e:
        errs.append(str(e))


T.timer_setup(t, bad_cb, 0)
T.mod_timer(t, (core.jiffies() + 1) & U32)
hw.advance(2 * 1000000)
eq(len(errs), 1, "RuntimeError in softirq")
assert "wait_for_completion_timeout" in errs[0], "names the function: %r" % errs[0]

# --- Ctrl-C: -ERESTARTSYS for the interruptible forms ----------------------------
idle0 = core.idle


def idle_interrupted():
    raise KeyboardInterrupt


core.idle = idle_interrupted
try:
    eq(C.wait_for_completion_interruptible(x), -512, "-ERESTARTSYS")
    eq(C.wait_for_completion_interruptible_timeout(x, 10), -C.ERESTARTSYS, "-ERESTARTSYS (timeout)")
    eq(C.wait_for_completion_killable_timeout(x, 10), -512, "killable -ERESTARTSYS")
    raises(KeyboardInterrupt, C.wait_for_completion, (x,))
    raises(KeyboardInterrupt, C.wait_for_completion_timeout, (x, 5))
finally:
    core.idle = idle0
eq(x.nwait, 0, "waiter count restored after interrupts")

# --- complete() in hard IRQ allocates nothing ------------------------------------
y = C.completion()
res = [None, None]


def in_irq(y, res):
    micropython.heap_lock()
    try:
        C.complete(y)
        C.complete(y)
        res[0] = C.try_wait_for_completion(y)
        res[1] = C.completion_done(y)
        C.complete_all(y)
        C.reinit_completion(y)
    finally:
        micropython.heap_unlock()


in_irq(y, res)
eq((res[0], res[1], y.done), (True, True, 0), "IRQ-safe operations")

# --- argument checks ---------------------------------------------------------------
raises(TypeError, C.complete, (None,), "complete: x must be a completion, got NoneType")
raises(TypeError, C.wait_for_completion, (5,), "wait_for_completion: x must be a completion")
raises(TypeError, C.wait_for_completion_timeout, (x, 1.5), "wait_for_completion_timeout: timeout must be int")
raises(TypeError, C.wait_for_completion_timeout, (x, True), "timeout must be int, got bool")
raises(ValueError, C.wait_for_completion_timeout, (x, -1), "wait_for_completion_timeout: timeout must be")

print("KTEST PASS")
