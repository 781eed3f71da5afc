# test_deinit_race: a tick that arrives while ktimers.init() swaps the backend finds the
# subsystem consistent.  deinit() used to clear the backend before stopping the tick, so a
# tick IRQ taken between the two raised AttributeError in the handler ("uncaught exception
# in Timer(0) interrupt handler"); a tick queued through the schedule queue before deinit()
# met the same.  Here init() starts at every phase of the tick period, 2 us apart, with
# the handler wrapped to count what it raises.
import sys
import ktimers
from ktest import eq

core = sys.modules["ktimers.core"]
ktimers.deinit()
eq(core.hw, None, "deinit leaves no backend")
core._tick_irq(None)  # what a tick delivered after deinit runs: returns
real = core._tick_irq
bad = [0, 0]  # exceptions raised by the handler, ticks seen


def counting_tick(a):  # hard IRQ: no allocation on the normal path
    bad[1] += 1
    try:
        real(a)
    except Exception:
        bad[0] += 1


core._tick_irq = counting_tick  # the handler init() gives the tick
ktimers.init(hz=1000)
cs = core.hw.cs_read
per = core._tick_cyc  # counter cycles per tick
step = max(1, core.CS_HZ // 500000)  # 2 us
for off in range(0, per, step):
    due = (core._tick_raw + 2 * per - off) & core.CS_MASK  # a tick ahead, less off
    while ((cs() - due) & core.CS_MASK) > core.CS_MASK >> 1:
        pass
    ktimers.init(hz=1000)
core._tick_irq = real
ktimers.init()
eq(bad[0], 0, "ticks that raised while init() swapped the backend (of %d)" % bad[1])
eq(bad[1] > 0, True, "the wrapped handler ran")
print("KTEST PASS")
