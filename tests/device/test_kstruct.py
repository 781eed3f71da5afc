# test_kstruct: container_of / timer_container_of for the seed pattern
#   info = container_of(ptr, hires_timer_data, "timer")
# with the clear error for structs that do not derive from kstruct, the
# explicit link()/embed() paths for ports without __setattr__, and the
# allocation-free success path (hard IRQ callbacks use it).
import sys
import micropython
import ktimers
from ktimers import core
from ktest import eq, raises
import ktimers.kstruct
S = sys.modules["ktimers.kstruct"]
T = __import__("ktimers")._mod("timer")
H = __import__("ktimers")._mod("hrtimer")
kstruct, container_of = S.kstruct, S.container_of

_init = getattr(ktimers, "init", None) or core.init


hw = _init("sim", hz=1000)
print("HAVE_SETATTR", S.HAVE_SETATTR)


class hires_timer_data(kstruct):
    def __init__(self):
        self.timer = H.hrtimer()
        self.data = 0
        if not S.HAVE_SETATTR:
            self.link()


class other_data(kstruct):
    def __init__(self):
        self.timer = H.hrtimer()
        self.link()


class plain:                           # not derived from kstruct
    def __init__(self):
        self.timer = T.timer_list()


info = hires_timer_data()
assert container_of(info.timer, hires_timer_data, "timer") is info, "container_of"
assert container_of(info.timer, kstruct, "timer") is info, "base class matches"
eq(info.timer._container is info, True, "back-reference set")
eq(info.data, 0, "int fields untouched")

# errors say what to do
p = plain()
raises(TypeError, container_of, (p.timer, plain, "timer"), "derive plain from ktimers.kstruct")
raises(TypeError, container_of, (p.timer, plain, "timer"), "timer_container_of")
raises(TypeError, container_of, (info.timer, other_data, "timer"),
       "embedded in a hires_timer_data, not a other_data")
raises(TypeError, container_of, (info.timer, hires_timer_data, "data"), "hires_timer_data.data")
raises(TypeError, container_of, (object(), hires_timer_data, "timer"), "not embedded")
raises(TypeError, container_of, (info.timer, hires_timer_data, 5), "member must be str")
old = info.timer
info.timer = H.hrtimer()               # replaced: the old one is no longer inside
if not S.HAVE_SETATTR:
    info.link()
raises(TypeError, container_of, (old, hires_timer_data, "timer"), "is not this")
assert container_of(info.timer, hires_timer_data, "timer") is info, "new timer linked"

# explicit linking (what ports without __setattr__ need)
kstruct.link(p)
assert container_of(p.timer, plain, "timer") is p, "link() on any object"
s = other_data()
t2 = s.embed("second", T.timer_list())
assert t2 is s.second and container_of(t2, other_data, "second") is s, "embed()"
raises(TypeError, s.embed, (5, T.timer_list()), "embed: name must be str")
kw = kstruct(timer=T.timer_list(), data=7)
assert container_of(kw.timer, kstruct, "timer") is kw and kw.data == 7, "keyword fields"

# timer_container_of / from_timer: var = the class, an instance, or None
tl = other_data()
tl.t = T.timer_list()
if not S.HAVE_SETATTR:
    tl.link()
assert S.timer_container_of(other_data, tl.t, "t") is tl, "timer_container_of(class)"
assert S.from_timer(tl, tl.t, "t") is tl, "from_timer(instance)"
assert S.timer_container_of(None, tl.t, "t") is tl, "no type check"
raises(TypeError, S.timer_container_of, (hires_timer_data, tl.t, "t"), "not a hires_timer_data")

# success path allocates nothing (hard IRQ callbacks)
def in_irq(info):
    micropython.heap_lock()
    try:
        c = container_of(info.timer, hires_timer_data, "timer")
        c.data += 1                     # existing attribute through __setattr__
    finally:
        micropython.heap_unlock()


in_irq(info)
eq(info.data, 1, "updated under heap lock")

# --- the seed: hires_timer handler with container_of, soft and hard -------------
delay_ns = 1000000


def hires_timer_handler(ptr):
    info = container_of(ptr, hires_timer_data, "timer")
    info.data += 1
    H.hrtimer_forward_now(info.timer, delay_ns)
    return H.HRTIMER_RESTART


for mode in (H.HRTIMER_MODE_REL | H.HRTIMER_MODE_SOFT, H.HRTIMER_MODE_REL_HARD):
    hires_tinfo = hires_timer_data()
    H.hrtimer_init(hires_tinfo.timer, 1, mode)
    hires_tinfo.timer.function = hires_timer_handler
    H.hrtimer_start(hires_tinfo.timer, delay_ns, mode)
    hw.advance(5 * delay_ns)
    H.hrtimer_cancel(hires_tinfo.timer)
    eq(hires_tinfo.data, 5, "seed handler ran 5 times in 5 ms (mode %d)" % mode)

# timer_list with timer_container_of, the 4.15+ idiom
class my_dev(kstruct):
    def __init__(self):
        self.count = 0
        self.poll = T.timer_list()
        if not S.HAVE_SETATTR:
            self.link()


def poll_fn(t):
    dev = S.timer_container_of(my_dev, t, "poll")
    dev.count += 1


dev = my_dev()
T.timer_setup(dev.poll, poll_fn, 0)
T.mod_timer(dev.poll, (core.jiffies() + 3) & 0xFFFFFFFF)
hw.advance(10 * 1000000)
eq(dev.count, 1, "timer_list callback found its struct")

print("KTEST PASS")
