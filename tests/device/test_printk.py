# test_printk: levels, console loglevel, module prefix, KERN_CONT, the dmesg
# ring (format, wrap, resize), WARN*, *_once, hard-IRQ drops, exceptions.
import sys
import micropython
import ktimers
from ktimers import core
from ktest import eq, raises
import ktimers.printk
P = sys.modules["ktimers.printk"]
S = sys.modules["ktimers._printk"]  # the state and the console hook (_emit)
B = sys.modules["ktimers.bug"]

_init = getattr(ktimers, "init", None) or core.init


console = []
_emit0 = S._emit
S._emit = console.append
prev_mod = P.set_current_module(None)


def texts():
    return [e[2] for e in P.dmesg_entries()]


hw = _init("sim", hz=1000)
P.dmesg_clear()
eq(P.dmesg_entries(), [], "cleared")
eq(P.console_loglevel(), 7, "default console loglevel")

# level prefixes are Linux's
eq((P.KERN_EMERG, P.KERN_ERR, P.KERN_DEBUG, P.KERN_CONT), ("\x010", "\x013", "\x017", "\x01c"),
   "KERN_* strings")

# timestamp format [%5lu.%06lu]
hw.advance(5000123000)         # the sim counter is 1 MHz
n = P.pr_info("delay is set to %dns\n", 1000)
eq(n, len("delay is set to 1000ns\n") - 1, "returns length logged (newline dropped)")
e = P.dmesg_entries()[-1]
eq(e[0], 6, "pr_info level")
eq(e[1], 5000123000, "timestamp = ktime_get()")
eq(e[2], "delay is set to 1000ns", "text without the trailing newline")
eq(P.dmesg_lines()[-1], "[    5.000123] delay is set to 1000ns", "kernel-style line")
eq(console[-1], "[    5.000123] delay is set to 1000ns", "printed on the console")

# raw printk: default level 4, KERN_* prefix parsed, no module prefix
P.dmesg_clear()
del console[:]
P.printk("plain")
P.printk(P.KERN_ERR + "err %s", "x")
P.printk(P.KERN_DEBUG + "dbg")
eq(P.pr_debug("off"), 0, "pr_debug off unless dynamic debug enables it")
P.dynamic_debug(None)  # code outside any module
P.pr_debug("dbg2")
eq([e[0] for e in P.dmesg_entries()], [4, 3, 7, 7], "levels")
eq(texts(), ["plain", "err x", "dbg", "dbg2"], "texts")
eq(len(console), 2, "debug not on the console at loglevel 7")
old = P.console_loglevel(8)
eq(old, 7, "console_loglevel returns the previous value")
P.pr_debug("now visible")
eq(console[-1].endswith("] now visible"), True, "debug visible at loglevel 8")
P.console_loglevel(4)
P.pr_warn("warn hidden")          # level 4 is not < 4
P.pr_err("err shown")
eq(console[-1].endswith("] err shown"), True, "level 3 < 4 printed")
eq(texts()[-2], "warn hidden", "always stored")
P.console_loglevel(7)
raises(ValueError, P.console_loglevel, (9,), "console_loglevel: n must be 0..8")
raises(TypeError, P.console_loglevel, ("7",), "console_loglevel: n must be int")

# every pr_* level
P.dmesg_clear()
for f in (P.pr_emerg, P.pr_alert, P.pr_crit, P.pr_err, P.pr_warn, P.pr_notice, P.pr_info, P.pr_debug):
    f("m")
eq([e[0] for e in P.dmesg_entries()], [0, 1, 2, 3, 4, 5, 6, 7], "pr_* levels")
eq([e[0] for e in P.dmesg_entries(3)], [0, 1, 2, 3], "dmesg level filter: <= 3")
P.dynamic_debug(None, False)
P.set_current_module("mymod")
eq(P.pr_debug("x"), 0, "off for mymod")
P.dynamic_debug("mymod")
assert P.pr_debug("x") > 0, "on for mymod"
P.dynamic_debug("mymod", False)
P.set_current_module(None)

# formatting
P.dmesg_clear()
P.pr_info("100%%")
P.pr_info("%s=%d (%x)", "v", 255, 255)
eq(texts(), ["100%", "v=255 (ff)"], "printf formatting")
# C length modifiers, as in the seeds: %ld, %llu, %zu, %hhx; %p prints like %s
P.dmesg_clear()
P.pr_info("kernel timer expired at %ld (data=%d)\n", 4294892296, 0)
P.pr_info("%5lu.%06lu %zu %hhx %lld%%ld", 5, 123, 7, 255, -3)
P.pr_info("timer %p", "T")
eq(texts(), ["kernel timer expired at 4294892296 (data=0)", "    5.000123 7 ff -3%ld", "timer T"],
   "C length modifiers")
raises(TypeError, P.pr_info, ("%d", "x"), "fmt")
raises(TypeError, P.pr_info, ("%d %d", 1), "fmt")
raises(TypeError, P.printk, (42,), "printk: fmt must be str")

# module prefix (pr_fmt): pr_* only
P.dmesg_clear()
P.set_current_module("hires_timer")
eq(P.current_module(), "hires_timer", "current_module")
P.pr_info("hires timer module loaded\n")
P.printk(P.KERN_INFO + "raw")
P.set_current_module(None)
P.pr_info("no prefix")
eq(texts(), ["hires_timer: hires timer module loaded", "raw", "no prefix"], "prefix")

# KERN_CONT / pr_cont
P.dmesg_clear()
del console[:]
P.pr_info("values:")
P.pr_cont(" %d", 1)
P.printk(P.KERN_CONT + " %d\n", 2)
P.pr_cont("alone")                  # previous ended with \n: new record, default level
eq(texts(), ["values: 1 2", "alone"], "continuation")
eq(P.dmesg_entries()[1][0], 4, "orphan cont at default level")
eq(console[1:3], [" 1", " 2"], "cont fragments on the console")

# ring wrap and resize
P.dmesg_clear()
eq(P.DMESG_SIZE, 64, "default ring size")
for i in range(70):
    P.pr_info("m%d", i)
t = texts()
eq(len(t), 64, "ring keeps 64")
eq((t[0], t[-1]), ("m6", "m69"), "oldest dropped first")
P.dmesg_resize(4)
eq(texts(), ["m66", "m67", "m68", "m69"], "resize keeps newest")
P.pr_info("m70")
eq(texts(), ["m67", "m68", "m69", "m70"], "small ring wraps")
P.dmesg_resize(64)
eq(texts(), ["m67", "m68", "m69", "m70"], "grow keeps all")
P.pr_info("m71")
eq(texts()[-1], "m71", "after grow")
raises(ValueError, P.dmesg_resize, (0,), "dmesg_resize: n must be >= 1")

# WARN family
P.dmesg_clear()
eq(B.WARN(False, "never"), False, "WARN false")
eq(P.dmesg_entries(), [], "WARN false logs nothing")
eq(B.WARN(1, "bad value %d", 3), True, "WARN returns cond")
eq(B.WARN_ON(0), False, "WARN_ON false")
eq(B.WARN_ON(True, "timer.c:42"), True, "WARN_ON true")
eq(B.WARN_ON(True), True, "WARN_ON no place")
for i in range(3):
    B.WARN_ON_ONCE(True, "once-place")
    B.WARN_ONCE(True, "once %d", i)
P.set_current_module("mymod")
B.WARN(True, "in module")
P.set_current_module(None)
eq(texts(), ["WARNING: bad value 3", "WARNING: at timer.c:42", "WARNING: WARN_ON",
             "WARNING: at once-place", "WARNING: once 0", "WARNING: in module [mymod]"], "WARN texts")
eq(P.dmesg_entries()[0][0], 4, "WARN at KERN_WARNING")

# *_once
P.dmesg_clear()
for i in range(3):
    P.pr_info_once("only once %d", i)
    P.printk_once("raw once")
eq(texts(), ["only once 0", "raw once"], "pr_info_once / printk_once")

# exceptions from callbacks
P.dmesg_clear()
try:
    raise ValueError("boom")
except ValueError as exc:
    P.print_exception_to_dmesg(exc, "my_handler")
es = P.dmesg_entries()
eq(es[0][2], "ktimers: callback my_handler raised", "exception header")
eq(es[0][0], 3, "at KERN_ERR")
assert any("ValueError: boom" in e[2] for e in es), "traceback lines stored: %r" % (es,)
assert all(e[0] == 3 for e in es), "all at KERN_ERR"

# hard IRQ: nothing stored, nothing allocated, counted
P.dmesg_clear()
d0 = P.dmesg_dropped()
saved = core.in_hardirq
core.in_hardirq = lambda: True
res = [None, None, None]


def in_irq(res):
    # a function: storing new module globals under heap_lock would allocate
    micropython.heap_lock()
    try:
        res[0] = P.pr_info("from hard irq")
        res[1] = P.printk(P.KERN_ERR)
        res[2] = B.WARN_ON(1)
    finally:
        micropython.heap_unlock()


try:
    in_irq(res)
finally:
    core.in_hardirq = saved
eq(res, [0, 0, True], "hard IRQ returns")
eq(P.dmesg_entries(), [], "nothing stored in hard IRQ")
eq(P.dmesg_dropped() - d0, 3, "drops counted")
P.pr_info("back in task")
eq(texts(), ["** 3 printk messages dropped **", "back in task"], "drop report (Linux text)")

S._emit = _emit0
P.set_current_module(prev_mod)
print("KTEST PASS")
