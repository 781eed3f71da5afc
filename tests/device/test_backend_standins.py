# The machine, rp2, esp32 and pyb backends against STAND-INS of each port's
# timer API (tests/device/standins/: fakes modelled on the ports' source, NOT
# the real ports).  Virtual time; hard IRQs run with the heap locked.
# Run: MICROPYPATH=lib:tests/device build/unix/micropython tests/device/test_backend_standins.py
import sys
from standins import vhw

vhw.install()  # fake time + micropython before ktimers binds them
vhw.now = (0x40000000 - 2_000_000) * 1000  # ticks_us wraps 2 s into the run
import ktimers
from ktimers import *
from standins import machine_standin, rp2_standin, esp32_standin, pyb_standin

core = sys.modules["ktimers.core"]
MS = 1_000_000
US = 1000


def wait_until(pred, max_ns, step=50 * US):
    t = 0
    while not pred():
        assert t <= max_ns, "timed out after %d ns" % t
        vhw.advance(step)
        t += step


class CeProbe:
    """Interposes on ce_set_next: remembers the raw target of each programmed
    event and counts events delivered before it (early).  Allocation-free."""

    def __init__(self, hw):
        self.hw = hw
        self.orig = hw.ce_set_next
        self.target = -1
        self.early = 0
        self.events = 0
        self.h = None
        self.fire_cb = self.fire
        hw.ce_set_next = self.set_next

    def set_next(self, cyc, handler):
        assert self.hw.CE_MIN_CYC <= cyc <= self.hw.CE_MAX_CYC
        self.target = (self.hw.cs_read() + cyc) & self.hw.CS_MASK
        self.h = handler
        self.orig(cyc, self.fire_cb)

    def fire(self, arg):
        self.events += 1
        if self.target >= 0 and core.raw_diff(self.hw.cs_read(), self.target) < 0:
            self.early += 1
        self.target = -1
        self.h(arg)


def check_cs(hw):
    for _ in range(3):
        c = hw.cs_read()
        assert isinstance(c, int) and 0 <= c <= hw.CS_MASK < 0x40000000, c
        vhw.advance(333_333)
    k0 = ktime_get()
    vhw.advance(1_000_000_000)
    assert ktime_get() - k0 == 1_000_000_000, ktime_get() - k0


def check_tick(hz):
    j0 = jiffies()
    vhw.advance(1_000_000_000)
    assert (jiffies() - j0) & 0xFFFFFFFF == hz, (jiffies() - j0, hz)
    j0 = jiffies()
    vhw.advance(250_000_000)
    assert (jiffies() - j0) & 0xFFFFFFFF == hz // 4


def check_timer_list(hz):
    fired = []
    tick_ns = 1_000_000_000 // hz
    t = timer_list()
    timer_setup(t, lambda t: fired.append((jiffies(), ktime_get())), 0)
    vhw.advance(tick_ns // 3)
    k0 = ktime_get()
    exp = (jiffies() + 10) & 0xFFFFFFFF
    mod_timer(t, exp)
    wait_until(lambda: fired, 20 * tick_ns, tick_ns // 7)
    jf, kf = fired[0]
    assert time_after_eq(jf, exp), (jf, exp)
    assert (jf - exp) & 0xFFFFFFFF <= 2, (jf, exp)
    assert kf - k0 >= 9 * tick_ns, ("timer_list early", kf - k0)


def check_hrtimer(hw, mode, late_max_us, ce_check, expect_hard, misalign_ns=457_000):
    probe = CeProbe(hw)
    res = [0, -1, 0]

    def fn(t):
        res[0] = core.hw.cs_read()
        res[1] = 1 if vhw.in_hard() else 0
        res[2] += 1
        return HRTIMER_NORESTART

    h = hrtimer()
    hrtimer_setup(h, fn, CLOCK_MONOTONIC, mode)
    vhw.advance(misalign_ns)
    raw0 = hw.cs_read()
    hrtimer_start(h, 1_500_000, mode)
    ce_check(1500)
    wait_until(lambda: res[2], 10 * MS, 20 * US)
    el = core.raw_diff(res[0], raw0)
    assert el >= 1500, ("hrtimer early", el)
    assert el <= 1500 + late_max_us, ("hrtimer late", el)
    assert res[1] == (1 if expect_hard else 0), ("context", res[1], expect_hard)
    assert probe.early == 0, ("clock event delivered before its target", probe.early)

    # periodic with hrtimer_forward_now keeps its phase
    P = 4 * MS if late_max_us >= 1000 else 250 * US
    N = 20
    rec = [0] * N
    cnt = [0]

    def per(t):
        i = cnt[0]
        if i < N:
            rec[i] = core.hw.cs_read()
        cnt[0] = i + 1
        hrtimer_forward_now(t, P)
        return HRTIMER_RESTART if i + 1 < N else HRTIMER_NORESTART

    p = hrtimer()
    hrtimer_setup(p, per, CLOCK_MONOTONIC, mode)
    vhw.advance(misalign_ns)
    raw0 = hw.cs_read()
    k0 = ktime_get()
    hrtimer_start(p, P, mode)
    wait_until(lambda: cnt[0] >= N, (N + 5) * P, 20 * US)
    pu = P // 1000
    for n in range(N):
        lat = core.raw_diff(rec[n], (raw0 + (n + 1) * pu) & hw.CS_MASK)
        assert 0 <= lat <= late_max_us, ("period", n, lat)
    hrtimer_cancel(p)
    assert hrtimer_get_expires(p) - k0 == (N + 1) * P, ("phase", hrtimer_get_expires(p) - k0, (N + 1) * P)
    assert probe.early == 0, ("clock event delivered before its target", probe.early)
    return probe


def check_deinit(timers):
    ktimers.deinit() if hasattr(ktimers, "deinit") else core.deinit()
    for t in timers:
        assert not t.active(), ("peripheral still armed after deinit", t)
    j = jiffies()
    calls = vhw.hard_calls + vhw.soft_calls
    vhw.advance(100 * MS)
    assert jiffies() == j and vhw.hard_calls + vhw.soft_calls == calls


def common_end():
    assert not vhw.errors, vhw.errors
    assert vhw.dropped == 0, vhw.dropped
    assert vhw.irqs_enabled(), "IRQs left disabled"


def raises(exc, f, *a, **kw):
    try:
        f(*a, **kw)
    except exc:
        return True
    raise AssertionError("%s not raised by %r" % (exc.__name__, f))


# --- machine (generic soft timers, ms) ---------------------------------------
m = machine_standin.install()
raises(ValueError, m.Timer, 0)
raises(TypeError, m.Timer(-1).init, period=1.5)
raises(TypeError, m.Timer(-1).init, period=5, hard=True)
machine_standin.Timer.all = []
hw = ktimers.init("machine", hz=250)
raises(ValueError, ktimers.init, "machine", hz=300)  # 1000 % 300: would drift
hw = ktimers.init("machine", hz=250)
assert hw.NAME == "machine" and hw.HARD_IRQ is False and hw.CE_MIN_CYC == 1000
tick, ce = machine_standin.Timer.all[-2:]
assert tick.mode == m.Timer.PERIODIC and tick.delta_ms == 4 and tick.active()
check_cs(hw)
check_tick(250)
check_timer_list(250)


def mce(cyc):
    assert ce.mode == m.Timer.ONE_SHOT and ce.last_period == (cyc + 999) // 1000 + 1 and ce.last_tick_hz == 1000


check_hrtimer(hw, HRTIMER_MODE_REL, 2000, mce, False)
check_hrtimer(hw, HRTIMER_MODE_REL_HARD, 2000, mce, False)  # no hard IRQs: runs soft
check_deinit([tick, ce])
common_end()

# the checks can fail: a clock event rounded to ms without the partial-ms margin fires early
hw = ktimers.init("machine", hz=250)
tick, ce = machine_standin.Timer.all[-2:]


def naive(cyc, handler):
    hw._ce_h = handler
    hw._armed = True
    hw._ce.init(mode=hw._ONE, period=(cyc + 999) // 1000, callback=hw._ce_cb)


hw.ce_set_next = naive
try:
    check_hrtimer(hw, HRTIMER_MODE_REL, 2000, lambda c: None, False, misalign_ns=900_000)
    caught = False
except AssertionError as e:
    caught = True
assert caught, "sabotaged ms rounding went unnoticed"
core.deinit()

# nrf's machine.Timer is not the generic one: refused with a message naming the port
from standins import nrf_standin

nrf_standin.install()
try:
    ktimers.init("machine", hz=250)
    raise AssertionError("nrf machine.Timer accepted")
except NotImplementedError as e:
    assert "nrf" in str(e) and "ONESHOT" in str(e), str(e)
print("machine ok")

# --- rp2 (us alarms; hard= since 1.26) ----------------------------------------
m = rp2_standin.install(version=(1, 26, 0))
raises(ValueError, m.Timer, 0)
rp2_standin.Timer.all = []
hw = ktimers.init("rp2", hz=1000)
assert hw.NAME == "rp2" and hw.HARD_IRQ is True and hw.HARD_INFO == "honoured", hw.HARD_INFO
tick, ce = rp2_standin.Timer.all[-2:]
assert tick.mode == m.Timer.PERIODIC and tick.delta_us == 1000 and tick.hard and tick.active()
check_cs(hw)
check_tick(1000)
check_timer_list(1000)


def rce(cyc):
    assert ce.mode == m.Timer.ONE_SHOT and ce.last_period == cyc and ce.last_tick_hz == 1_000_000 and ce.hard


check_hrtimer(hw, HRTIMER_MODE_REL_HARD, 0, rce, True)
check_hrtimer(hw, HRTIMER_MODE_REL, 0, rce, False)
check_deinit([tick, ce])
common_end()

m = rp2_standin.install(version=(1, 25, 0))  # no hard=: falls back to scheduled
raises(TypeError, m.Timer, -1, period=5, hard=True)
rp2_standin.Timer.all = []
hw = ktimers.init("rp2", hz=250)
assert hw.HARD_IRQ is False and hw.HARD_INFO == "not offered", hw.HARD_INFO
tick, ce = rp2_standin.Timer.all[-2:]
assert not tick.hard and tick.delta_us == 4000
check_tick(250)


def rce25(cyc):
    assert ce.last_period == cyc and ce.last_tick_hz == 1_000_000 and not ce.hard


check_hrtimer(hw, HRTIMER_MODE_REL_HARD, 0, rce25, False)
check_deinit([tick, ce])
common_end()

# hard= accepted but not honoured (hypothetical firmware): judged as scheduled, not hard
m = rp2_standin.install(version=(1, 26, 0), ignores_hard=True)
hw = ktimers.init("rp2", hz=250)
assert hw.HARD_IRQ is False and hw.HARD_INFO == "accepted, not honoured", hw.HARD_INFO
tick, ce = rp2_standin.Timer.all[-2:]
check_hrtimer(hw, HRTIMER_MODE_REL_HARD, 0, rce25, False)
core.deinit()
common_end()
print("rp2 ok")

# --- esp32 (GPTimers 0..3, callbacks always scheduled) --------------------------
m = esp32_standin.install(version=(1, 25, 0))
raises(ValueError, m.Timer, 4)
raises(TypeError, m.Timer(3).init, period=5, hard=False)
m = esp32_standin.install(version=(1, 26, 0))
raises(ValueError, m.Timer(3).init, period=5, hard=True)
m = esp32_standin.install(version=(1, 25, 0))
hw = ktimers.init("esp32", hz=100)
assert hw.NAME == "esp32" and hw.HARD_IRQ is False
tick, ce = esp32_standin.timers()[0], esp32_standin.timers()[1]
assert tick.repeat and tick.period == 100_000 and tick.active()  # 10 ms at 10 MHz
check_cs(hw)
check_tick(100)
check_timer_list(100)


def ece(cyc):
    assert not ce.repeat and ce.last_period == cyc and ce.last_tick_hz == 1_000_000 and ce.period == 10 * cyc


check_hrtimer(hw, HRTIMER_MODE_REL, 0, ece, False)
check_hrtimer(hw, HRTIMER_MODE_REL_HARD, 0, ece, False)
check_deinit([tick, ce])
common_end()
raises(ValueError, ktimers.init, "esp32", hz=100, TICK_TIMER=1, CE_TIMER=1)

# never Timer.init inside the port's critical section (disable_irq = portENTER_CRITICAL):
# a backend whose irq_save is machine.disable_irq is caught by the stand-in
m = esp32_standin.install(version=(1, 25, 0))
hw = ktimers.init("esp32", hz=100)
hw.irq_save = m.disable_irq
hw.irq_restore = m.enable_irq
h = hrtimer()
hrtimer_setup(h, lambda t: HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
raises(RuntimeError, hrtimer_start, h, 1_000_000, HRTIMER_MODE_REL)
vhw.enable_irq(1)
core.deinit()
# the backend's own mask: ticks and the clock event delivered while it is held run,
# every one of them, when the outermost irq_restore drops it
m = esp32_standin.install(version=(1, 25, 0))
hw = ktimers.init("esp32", hz=100)
res = []
h = hrtimer()
hrtimer_setup(h, lambda t: res.append(ktime_get()) or HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
hrtimer_start(h, 5 * MS, HRTIMER_MODE_REL)
j0 = jiffies()
s1 = hw.irq_save()
s2 = hw.irq_save()
vhw.advance(35 * MS)  # 3 ticks and the clock event, all held
# (jiffies() itself follows the clocksource, as tick_do_update_jiffies64: only the
# interrupts wait, so no callback runs inside the section)
assert not res and hw._held_ticks == 3 and hw._held_ce
hw.irq_restore(s2)
assert not res and hw._held_ticks == 3  # still inside the outer section
hw.irq_restore(s1)
vhw.advance(0)
assert (jiffies() - j0) & 0xFFFFFFFF == 3, jiffies() - j0
assert len(res) == 1, res
check_deinit([esp32_standin.timers()[0], esp32_standin.timers()[1]])
common_end()
print("esp32 ok")

# --- pyb (hardware timers, hard callbacks) --------------------------------------
p = pyb_standin.install()
raises(ValueError, p.Timer, 3)
raises(ValueError, p.Timer, 15)
raises(TypeError, p.Timer(4).init, callback=None)
# timers a board feature uses are refused by name
for key, tid, what in (("TICK_TIMER", 6, "ADC/DAC"), ("TICK_TIMER", 2, "LED(3)"), ("CE_TIMER", 7, "DAC.write_timed"),
                       ("CE_TIMER", 8, "DAC.write_timed")):
    try:
        ktimers.init("pyb", hz=250, **{key: tid})
        raise AssertionError("TIM%d accepted" % tid)
    except ValueError as e:
        assert what in str(e) and ("TIM%d" % tid) in str(e), str(e)
raises(ValueError, ktimers.init, "pyb", hz=250, CS_TIMER=2)
# a timer already running (owned by the program) is refused at init
p = pyb_standin.install()
p.Timer(9).init(freq=100)
try:
    ktimers.init("pyb", hz=250)
    raise AssertionError("running TIM9 accepted")
except RuntimeError as e:
    assert "TIM9 is already running" in str(e), str(e)
p = pyb_standin.install()
hw = ktimers.init("pyb", hz=250)
assert hw.NAME == "pyb" and hw.HARD_IRQ is True and hw.CE_MAX_CYC == 0x10000
T = pyb_standin.timers()
tick, ce = T[4], T[9]
assert 2 not in T and 7 not in T and 8 not in T, sorted(T)
assert tick.freq() == 250 and tick.active()
check_cs(hw)
check_tick(250)
check_timer_list(250)
# LED(3).intensity() reprograms TIM2: no longer ktimers' clocksource, time goes on
p.LED(3).intensity(128)
assert T[2].arr == 9999
check_cs(hw)


def pce(cyc):
    assert ce.psc == 167 and ce.arr == cyc - 1, (ce.psc, ce.arr)


check_hrtimer(hw, HRTIMER_MODE_REL_HARD, 0, pce, True)
check_hrtimer(hw, HRTIMER_MODE_REL, 0, pce, False)
# a wait longer than the 16-bit clock event: reprogrammed in steps, still on time
res = []
lh = hrtimer()
hrtimer_setup(lh, lambda t: res.append(ktime_get()) or HRTIMER_NORESTART, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
k0 = ktime_get()
hrtimer_start(lh, 200 * MS, HRTIMER_MODE_REL)
wait_until(lambda: res, 300 * MS, 1 * MS)
assert 200 * MS <= res[0] - k0 <= 201 * MS, res[0] - k0
assert hw.check() is None and hw.bad == 0
# the program reprograms ktimers' tick timer: the next tick IRQ notices, the report
# goes to dmesg and raises in the main program, naming the timer
tick.init(freq=1000)
try:
    vhw.advance(10 * MS)
    raise AssertionError("reconfigured TIM4 went unnoticed")
except RuntimeError as e:
    assert "TIM4 was reconfigured" in str(e), str(e)
assert "TIM4" in hw.check()
from ktimers.printk import dmesg_lines

assert any("TIM4 was reconfigured" in ln for ln in dmesg_lines()), dmesg_lines()
check_deinit([tick, ce])
common_end()

# the checks can fail: a hard-IRQ path that allocates is caught (heap locked)
p = pyb_standin.install()
hw = ktimers.init("pyb", hz=250)
orig = hw.ce_set_next
hw.ce_set_next = lambda cyc, h: orig(cyc, lambda x: h(x))  # new closure per event
irq_errors0 = __import__("ktimers")._mod("hrtimer_base").nr_irq_errors
check_hrtimer_ok = True
try:
    check_hrtimer(hw, HRTIMER_MODE_REL_HARD, 0, lambda c: None, True)
except AssertionError:
    check_hrtimer_ok = False
# the clock event IRQ survives its own MemoryError (counted, softirq raised) or the
# stand-in sees it escape
irq_errors = __import__("ktimers")._mod("hrtimer_base").nr_irq_errors - irq_errors0
assert vhw.errors or irq_errors, "allocation in hard IRQ went unnoticed"
core.deinit()
print("pyb ok")

print("KTEST PASS")
