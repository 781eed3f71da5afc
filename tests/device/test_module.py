# test_module: module_init/module_exit (direct run and insmod), module_param,
# lsmod, rmmod (-ENOENT, -EBUSY, pending-timer warning), Linux return codes.
# insmod needs an importable file: this test writes kt_testmod.py to a
# writable directory on sys.path (/tmp on unix, else the current directory).
import sys
import ktimers
from ktimers import core
from ktest import eq
import ktimers.module
M = sys.modules["ktimers.module"]
P = sys.modules["ktimers.printk"]

_init = getattr(ktimers, "init", None) or core.init


def texts():
    return [e[2] for e in P.dmesg_entries()]


def logged(s):
    return any(s in t for t in texts())


hw = _init("sim", hz=1000)
sys.modules["ktimers._printk"]._emit = lambda line: None  # keep the console quiet; dmesg is checked
P.dmesg_clear()

# --- direct run: module_init runs at once, the name comes from the function -----
calls = []


def direct_demo_init():
    calls.append(("init", P.current_module()))
    P.pr_info("direct init")


def direct_demo_exit():
    calls.append(("exit", P.current_module()))
    P.pr_info("direct exit")


v = M.module_param("speed", 42, int, "speed in Hz")
eq(v, 42, "module_param default when run directly")
M.MODULE_LICENSE("GPL")
M.MODULE_AUTHOR("ktimers")
M.MODULE_DESCRIPTION("direct demo")
M.module_init(direct_demo_init)
M.module_exit(direct_demo_exit)
eq(calls, [("init", "direct_demo")], "init ran at once as module direct_demo")
eq(P.current_module(), None, "current module restored")
assert "direct_demo: direct init" in texts(), "pr_info prefixed during init"
mods = dict(M.lsmod())
eq(mods.get("direct_demo"), {"speed": 42}, "lsmod shows direct_demo and its params")
info = M.modinfo("direct_demo")
eq((info["license"], info["author"], info["description"], info["parm:speed"]),
   ("GPL", "ktimers", "direct demo", "speed in Hz"), "modinfo")
eq(M.rmmod("direct_demo"), 0, "rmmod direct module")
eq(calls[-1], ("exit", "direct_demo"), "exit ran with current module set")
assert "direct_demo: direct exit" in texts(), "exit message prefixed"
eq(M.rmmod("direct_demo"), -2, "second rmmod -> -ENOENT")
assert logged("Module direct_demo is not currently loaded"), "rmmod error logged"

# decorator form and an explicit name
@M.module_init
def deco_init():
    calls.append("deco")


@M.module_exit
def deco_exit():
    calls.append("deco exit")


eq(calls[-1], "deco", "decorator runs init")
assert deco_init is not None and callable(deco_init), "decorator returns the function"
eq(M.rmmod("deco"), 0, "rmmod decorated module")
eq(calls[-1], "deco exit", "decorated exit")
M.module_init(lambda: 0, name="named_mod")
eq(M.rmmod("named_mod"), -16, "init without exit cannot be removed (-EBUSY)")
eq(M.rmmod("named_mod", force=True), 0, "force removes it")

# a failing direct init is not registered; its module_exit attaches nowhere
def broken_init():
    return -19


M.module_init(broken_init)
M.module_exit(lambda: calls.append("never"))
eq([n for n, p in M.lsmod()], [], "failed init not loaded")
assert logged("broken: init failed with error -19"), "failure logged"

# --- insmod of a real module file ------------------------------------------------
SRC = """
from ktimers.module import *
from ktimers.printk import pr_info
from ktimers import core
import sys
T = __import__("ktimers")._mod("timer")
delay = module_param("delay", 10, int, "delay in jiffies")
label = module_param("label", "x", str)
verbose = module_param("verbose", False, bool)
ret = module_param("ret", 0, int)
leak = module_param("leak", 0, int)
noexit = module_param("noexit", 0, int)
MODULE_LICENSE("GPL")
t = T.timer_list()

def tick(tm):
    pr_info("timer fired")

def kt_testmod_init():
    pr_info("init delay=%d label=%s verbose=%s", delay, label, verbose)
    T.timer_setup(t, tick, 0)
    T.mod_timer(t, (core.jiffies() + delay) & 0xFFFFFFFF)
    return ret

def kt_testmod_exit():
    if not leak:
        T.timer_delete_sync(t)
    pr_info("exit")

module_init(kt_testmod_init)
if not noexit:
    module_exit(kt_testmod_exit)
"""

d = "/tmp" if sys.platform in ("linux", "darwin") else ""
path = (d + "/" if d else "") + "kt_testmod.py"
can_write = True
try:
    with open(path, "w") as f:
        f.write(SRC)
except OSError:
    can_write = False
    print("SKIP insmod part: no writable filesystem")

if can_write:
    if d not in sys.path:
        sys.path.insert(0, d)
    P.dmesg_clear()
    eq(M.insmod("kt_testmod", delay=3, label="abc"), 0, "insmod ok")
    assert "kt_testmod: init delay=3 label=abc verbose=False" in texts(), "init ran with params"
    eq(dict(M.lsmod())["kt_testmod"]["delay"], 3, "lsmod params")
    eq(M.insmod("kt_testmod"), -17, "insmod twice -> -EEXIST")
    assert logged("insmod: module kt_testmod already loaded"), "-EEXIST logged"
    hw.advance(10 * 1000000)
    assert "kt_testmod: timer fired" in texts(), "timer callback runs as the module"
    eq(M.rmmod("kt_testmod"), 0, "rmmod")
    assert "kt_testmod: exit" in texts(), "exit ran"
    assert "kt_testmod" not in dict(M.lsmod()), "gone from lsmod"

    # string parameters are converted (kstrtoint base 0, y/n bools)
    eq(M.insmod("kt_testmod", delay="0x10", verbose="y"), 0, "insmod with string params")
    assert logged("kt_testmod: init delay=16 label=x verbose=True"), "converted params"
    eq(M.rmmod("kt_testmod"), 0, "rmmod 2")

    # invalid value -> -EINVAL, Linux message, not loaded
    P.dmesg_clear()
    eq(M.insmod("kt_testmod", delay="abc"), -22, "invalid parameter -> -EINVAL")
    assert logged("kt_testmod: 'abc' invalid for parameter 'delay'"), "Linux message"
    assert "kt_testmod" not in dict(M.lsmod()), "not loaded after -EINVAL"
    eq(M.insmod("kt_testmod", verbose="maybe"), -22, "bad bool -> -EINVAL")

    # unknown parameter: warned and ignored
    P.dmesg_clear()
    eq(M.insmod("kt_testmod", bogus=1), 0, "unknown parameter still loads")
    assert logged("kt_testmod: unknown parameter 'bogus' ignored"), "unknown param warning"
    eq(M.rmmod("kt_testmod"), 0, "rmmod 3")

    # init failure: negative -> returned, not loaded; positive -> warning, loaded
    P.dmesg_clear()
    eq(M.insmod("kt_testmod", ret=-19, delay=100000), -19, "init -ENODEV")
    assert logged("1 timer(s) still pending after failed init"), "failed init leaves a timer"
    assert "kt_testmod" not in dict(M.lsmod()), "not loaded after init error"
    T = __import__("ktimers")._mod("timer")
    # (its timer was armed before init failed: clean it up like a careful module would)
    for kind, tm in core.pending_timers_of("kt_testmod"):
        T.timer_delete(tm)
    P.dmesg_clear()
    eq(M.insmod("kt_testmod", ret=1), 0, "positive init return loads anyway")
    assert logged("suspiciously returned 1"), "suspicious return warned"
    eq(M.rmmod("kt_testmod"), 0, "rmmod 4")

    # no module_exit -> -EBUSY unless forced
    eq(M.insmod("kt_testmod", noexit=1), 0, "insmod without exit")
    mod = sys.modules["kt_testmod"]
    eq(M.rmmod("kt_testmod"), -16, "rmmod without exit -> -EBUSY")
    eq(M.rmmod("kt_testmod", force=True), 0, "rmmod -f")
    T.timer_delete(mod.t)

    # a module that leaves its timer pending: rmmod warns in dmesg
    eq(M.insmod("kt_testmod", leak=1, delay=5000), 0, "insmod leaky")
    mod = sys.modules["kt_testmod"]
    P.dmesg_clear()
    eq(M.rmmod("kt_testmod"), 0, "rmmod leaky")
    assert logged("WARNING: rmmod: kt_testmod: 1 timer(s) still pending after exit"), \
        "pending timer warning: %r" % (texts(),)
    assert logged("pending timer_list"), "names the timer"
    T.timer_delete(mod.t)

    # no such module
    eq(M.insmod("kt_no_such_module_xyz"), -2, "insmod missing -> -ENOENT")
    assert logged("could not insert module kt_no_such_module_xyz"), "missing logged"
    try:
        import os
        os.remove(path)
    except Exception:
        pass

# argument checks
for fn, args, text in ((M.module_init, (5,), "module_init: fn must be callable"),
                       (M.module_exit, (None,), "module_exit: fn must be callable"),
                       (M.insmod, (5,), "insmod: name must be str"),
                       (M.rmmod, (None,), "rmmod: name must be str"),
                       (M.module_param, (5, 0), "module_param: name must be str")):
    try:
        fn(*args)
        raise AssertionError("%r did not raise" % (args,))
    except TypeError as e:
        assert text in str(e), "message %r lacks %r" % (str(e), text)

print("KTEST PASS")
