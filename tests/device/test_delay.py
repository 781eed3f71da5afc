# test_delay: ndelay/udelay/mdelay wait at least what they are asked, measured on the
# running backend's clocksource; a zero or negative delay returns at once; small delays
# allocate nothing (heap locked); bad input raises TypeError naming the argument.  On the emulated firmware
# these are the C core's (firmware/cmodules/ktimers/delay.c), on unix delay.py.
import micropython
import ktimers
from ktimers import ndelay, udelay, mdelay
from ktest import raises

core = ktimers.core
hw = core.hw


def cycles(f, arg):
    t0 = hw.cs_read()
    f(arg)
    return core.raw_diff(hw.cs_read(), t0)


for us in (1, 7, 100, 1000, 2500):
    need = us * core.CS_HZ // 1000000
    got = cycles(udelay, us)
    assert got >= need, "udelay(%d): %d cycles < %d" % (us, got, need)
for ns in (1, 999, 25000, 333333):
    need = -(-ns * core.CS_HZ // 1000000000)
    got = cycles(ndelay, ns)
    assert got >= need, "ndelay(%d): %d cycles < %d" % (ns, got, need)
got = cycles(mdelay, 3)
assert got >= 3 * core.CS_HZ // 1000, "mdelay(3): %d cycles" % got
for f, v in ((udelay, 0), (ndelay, -5), (mdelay, 0), (udelay, -100)):
    got = cycles(f, v)
    assert got < core.CS_HZ // 100, "no wait for %d: %d cycles" % (v, got)

micropython.heap_lock()
try:
    udelay(20)
    ndelay(500)
finally:
    micropython.heap_unlock()

raises(TypeError, udelay, ("1",), "udelay: usecs must be int, got str")
raises(TypeError, ndelay, (None,), "ndelay: nsecs must be int, got NoneType")
raises(TypeError, mdelay, (1.5,), "mdelay: msecs must be int, got float")
raises(TypeError, udelay, (True,), "udelay: usecs must be int, got bool")
print("KTEST PASS")
