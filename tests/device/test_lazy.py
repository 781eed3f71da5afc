# test_lazy: `import ktimers` loads the timing core only; module/insmod, proc, the rarely
# used ktime helpers and printk's dmesg half load on first use, while `from ktimers import *`
# still binds every name (proxies that load their module on the first call).
import sys
from ktest import eq

LAZY = (
    "ktimers.module",
    "ktimers.proc",
    "ktimers._ktime",
    "ktimers._dmesg",
    "ktimers.sleep",
    "ktimers._completion_wait",
    "ktimers._wheel_check",
    "ktimers._timer_ext",
)
import ktimers

core_jiffies = sys.modules["ktimers.core"].jiffies
eq([m for m in LAZY if m in sys.modules], [], "lazy parts not loaded by import ktimers")
from ktimers import *

eq([m for m in LAZY if m in sys.modules], [], "nor by from ktimers import *")
names = dir(ktimers)
for n in ("module_init", "insmod", "timer_list_show", "ktime_compare", "dmesg", "dmesg_lines",
          "msleep", "usleep_range", "schedule_timeout", "wait_for_completion_timeout",
          "udelay", "complete", "wheel_check", "setup_timer", "timer_shutdown"):
    eq(n in names, True, "dir(ktimers) lists " + n)
    eq(n in globals(), True, "from ktimers import * binds " + n)

# plain printk stays in the basic half; a C length modifier needs the rewrite
pr_info("plain %d", 1)
eq("ktimers._dmesg" in sys.modules, False, "plain format: no _dmesg")
pr_info("c style %ld %lu", 2, 3)
eq("ktimers._dmesg" in sys.modules, True, "%ld loads _dmesg")
eq(dmesg_lines()[-1].endswith("c style 2 3"), True, "rewritten format logged")

# a proxy loads its module on the first call and rebinds the package name
p = ktime_compare
eq(p(1, 2), -1, "proxy call")
eq("ktimers._ktime" in sys.modules, True, "first call loaded _ktime")
eq(ktimers.ktime_compare is sys.modules["ktimers._ktime"].ktime_compare, True, "package rebound")
eq(p(3, 2), 1, "the star-imported proxy keeps working")
eq(ktime_us_delta(5000, 1000), 4, "second lazy name of the same module")

# sleep and the completion waits load on their first call; delays and complete() are eager
eq("ktimers.delay" in sys.modules, True, "delay loaded with the package")
msleep(1)
eq("ktimers.sleep" in sys.modules, True, "msleep loaded ktimers.sleep")
eq(ktimers.msleep is sys.modules["ktimers.sleep"].msleep, True, "package rebound msleep")
done = DECLARE_COMPLETION()
complete(done)
eq("ktimers._completion_wait" in sys.modules, False, "complete() needs no wait code")
eq(wait_for_completion_timeout(done, 5) >= 1, True, "wait through its proxy")
eq("ktimers._completion_wait" in sys.modules, True, "first wait loaded it")
complete(done)
eq(sys.modules["ktimers.completion"].wait_for_completion_timeout(done, 5) >= 1, True,
   "completion module __getattr__")
eq(wheel_check(), 0, "wheel_check loads its body")
lt = DEFINE_TIMER(lambda t: None)
eq("ktimers._timer_ext" in sys.modules, True, "DEFINE_TIMER loaded _timer_ext")
eq(__import__("ktimers")._mod("timer").timer_shutdown(lt), 0, "ktimers.timer __getattr__ reaches it")

# printk's own module attributes reach the lazy half too
P = sys.modules["ktimers.printk"]
eq(callable(P.dmesg_clear), True, "printk.dmesg_clear through module __getattr__")

# loading a lazy module leaves the package's printk/jiffies/hrtimer names alone
eq(ktimers.printk is P.printk, True, "ktimers.printk is still the function")
eq(module_param("x", 5, int, "a param"), 5, "module_param through its proxy")
eq(ktimers.printk is P.printk, True, "still the function after ktimers.module loaded")
eq(ktimers.jiffies is core_jiffies, True, "ktimers.jiffies is still the function")

# ktime_get is the core's clock, bound once (no import per call)
core = sys.modules["ktimers.core"]
eq(ktimers.ktime_get is core.ktime_get, True, "public ktime_get is core.ktime_get")

# trace.enabled: the flag call sites test before trace.record()
import ktimers.trace as trace

eq(trace.enabled, False, "tracing off at start")
trace.enable(8)
eq(trace.enabled, True, "enable() sets the flag")
trace.disable()
eq(trace.enabled, False, "disable() clears it")
print("KTEST PASS")
