# The hard-IRQ paths (tick, clock event, HARD hrtimer dispatch with
# hrtimer_forward_now, trace recording) allocate nothing: run them with the
# heap locked.  On a board with hard IRQs (the emulated Cortex-M3, where ints
# >= 2**30 are heap objects) real interrupts fire while the main loop spins
# with the heap locked; elsewhere the sim clock calls the same handlers.
import micropython
import ktimers
from ktimers import *

core = ktimers.core
hq = __import__("ktimers")._mod("hrtimer_base")
irq = hq._i  # the IRQ side: ktimers.hrtimer_irq (native code where it loads)
trace = __import__("ktimers")._mod("trace")
count = [0, 0]  # callbacks, periods forwarded (overruns included)
P = 200_000


def cb(t):
    count[0] += 1
    count[1] += hrtimer_forward_now(t, P)
    return HRTIMER_RESTART


# Every global this script uses is bound before the HARD timer starts: a hard
# IRQ that looks up a global while the main code grows the globals dict (a
# new name) can miss it -- a MicroPython rule for hard callbacks.
ticks0 = want = cyc = start = p0 = n0 = p1 = n1 = n = periods = ticks = i = e0 = e1 = r0 = r1 = x0 = x1 = 0
y1 = None
hard = None
board = core.hw
if not board.HARD_IRQ:
    board = ktimers.init("sim", hz=250, CS_BITS=30, HARD_IRQ=True)  # not the board file's
trace.enable(256)
t = hrtimer()
hrtimer_setup(t, cb, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD)
hrtimer_start(t, P, HRTIMER_MODE_REL_HARD)
assert irq._hard_head is t, "HARD timer at the head is dispatched from the IRQ"
core.run_softirq()  # fresh tick budget: no softirq is due in the window below
ticks0 = core._tick_pending
if board.NAME == "sim":
    micropython.heap_lock()
    try:
        for i in range(400):  # 400 periods of 200 us, a tick every 4 ms
            board.now += P // 1000
            irq._ce_irq(None)
            if i % 20 == 19:
                core._tick_irq(None)
    finally:
        micropython.heap_unlock()
    want = 400
else:
    # Judged on the clocksource, not on when the main loop happens to run: the
    # window's ends are the hard timer's own expiries (read with IRQs off), and the
    # lock is held until the IRQ has forwarded past the window's end.
    cyc = board.CS_HZ // 10  # 100 ms of board time, counted on the clocksource
    micropython.heap_lock()
    try:
        st = board.irq_save()
        p0, n0, e0 = count[1], count[0], irq._hs_raw
        r0 = hq.nr_reprograms
        x0 = core._ep
        start = board.cs_read()
        board.irq_restore(st)
        while core.raw_diff(board.cs_read(), start) < cyc:
            pass
        while core.raw_diff(irq._hs_raw, start) <= cyc:  # a late IRQ still counts
            pass
        st = board.irq_save()
        p1, n1, e1 = count[1], count[0], irq._hs_raw
        r1 = hq.nr_reprograms
        x1 = core._ep
        y1 = irq._h_defer
        board.irq_restore(st)
    finally:
        micropython.heap_unlock()
    want = core.raw_diff(e1, e0) // (P // core.NS_PER_CYC)
    # the expiries span the window (more if the last IRQ came late: then it forwarded more)
    assert want >= cyc // (P // core.NS_PER_CYC), want
    count[0], count[1] = n1 - n0, p1 - p0
n = count[0]
periods = count[1]
ticks = core._tick_pending - ticks0
hrtimer_cancel(t)
assert irq._irq_exc is None, "exception in hard IRQ: %r" % (irq._irq_exc,)
# A late interrupt (QEMU in real time on a busy host) is an overrun, not a lost
# period: hrtimer_forward_now counts it.  So the periods forwarded match the
# window exactly, and most of them ran as callbacks under the lock.
assert periods == want, "periods forwarded under heap lock: %d, want %d (e0 %d e1 %d diff %d reprog0 %d reprog1 %d softirq_err %d n %d ep %d..%d defer %r)" % (periods, want, e0, e1, core.raw_diff(e1, e0) if board.NAME != "sim" else 0, r0, r1, core.nr_softirq_errors, n, x0, x1, y1)
assert n >= (want // 2 if board.NAME == "sim" else 10), "hard callbacks under heap lock: %d of %d periods" % (n, want)
assert ticks >= 15, "ticks counted under heap lock: %d" % ticks
hard = [r for r in trace.records() if r[0] == 6 and r[4] == 1]
assert len(hard) >= min(n, 256) // 2 - 1, "trace recorded in hard IRQ: %d" % len(hard)
assert not [l for l in dmesg_lines() if "MemoryError" in l], dmesg_lines()
print("hard callbacks", n, "periods", periods, "ticks", ticks, "board", board.NAME, "irq", irq.__name__)
print("KTEST PASS")
