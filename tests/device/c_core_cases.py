# c_core_cases: ktimers.jiffies' functions on a board, for tests/host/test_c_core.py, which
# runs the same cases through lib/ktimers/jiffies.py under CPython and compares.  Where the
# firmware has the C core the module is its ROM one (firmware/cmodules/ktimers/jiffies.c).
#   run(hzs, vals, pairs, triples, one, two, three)   prints one line per case
#   (one, two, three: the names of the functions of 1, 2 and 3 arguments):
#     NOW <hz> <jiffies> <jiffies_64>           the sim clock at that HZ (it does not move)
#     K <fn> <hz> <i> R <int|True|False>        result for case i
#     K <fn> <hz> <i> E <exception> <message>   or what it raised
import sys


def _case(fn, hz, i, f, args):
    try:
        r = f(*args)
    except Exception as e:
        print("K %s %d %d E %s %s" % (fn, hz, i, type(e).__name__, e))
        return
    print("K %s %d %d R %r" % (fn, hz, i, r))


def run(hzs, vals, pairs, triples, one, two, three):
    import ktimers

    J = sys.modules["ktimers.jiffies"]
    core = sys.modules["ktimers.core"]
    for hz in hzs:
        # the sim counter must be a multiple of HZ
        ktimers.init("sim", hz=hz, CS_HZ=1000000 if 1000000 % hz == 0 else hz * 1000)
        print("NOW %d %d %d" % (hz, core.jiffies(), core.get_jiffies_64()))
        for fn in one:
            f = getattr(J, fn)
            for i in range(len(vals)):
                _case(fn, hz, i, f, (vals[i],))
    hz = hzs[0]
    ktimers.init("sim", hz=hz)
    for fn in two:
        f = getattr(J, fn)
        for i in range(len(pairs)):
            _case(fn, hz, i, f, pairs[i])
    for fn in three:
        f = getattr(J, fn)
        for i in range(len(triples)):
            _case(fn, hz, i, f, triples[i])
    try:
        import _ktimers

        c = J is _ktimers.jiffies and "__file__" not in J.__dict__
    except ImportError:
        c = False
    print("C_CORE", c)  # ktimers.jiffies is the C core's ROM module


# ktimers.ktime's arithmetic and the constants of the modules in mods (ktime, defs,
# completion, jiffies, printk): a ROM module each where the firmware has the C core
# (firmware/cmodules/ktimers/*.c), at HZ 250.
#   run_ktime(vals, pairs, one, two, mods, attrs)   one line per case or constant:
#     T <fn> <i> R <repr> | T <fn> <i> E <exception> <message>
#     KC <module> <name> <repr>       every public int/str of the module
#     KT_C <module> <True|False>      the module is the C core's (no __file__ in its dict)
def run_ktime(vals, pairs, one, two, mods, attrs):
    import ktimers

    ktimers.init("sim", hz=250)
    K = sys.modules["ktimers.ktime"]
    for fn in one:
        f = getattr(K, fn)
        for i in range(len(vals)):
            _tcase(fn, i, f, (vals[i],))
    for fn in two:
        f = getattr(K, fn)
        for i in range(len(pairs)):
            _tcase(fn, i, f, pairs[i])
    for name in mods:
        m = sys.modules["ktimers." + name]
        d = m.__dict__  # not dir(): it probes every name, and __getattr__ would load parts
        for k in sorted(d):
            v = d[k]
            if k[0] != "_" and type(v) in (int, str):
                print("KC %s %s %r" % (name, k, v))
        for k in attrs.get(name, ()):  # names a ROM module computes (its __getattr__)
            print("KC %s %s %r" % (name, k, getattr(m, k)))
        print("KT_C %s %s" % (name, "__file__" not in d))


def _tcase(fn, i, f, args):
    try:
        r = f(*args)
    except Exception as e:
        print("T %s %d E %s %s" % (fn, i, type(e).__name__, e))
        return
    print("T %s %d R %r" % (fn, i, r))
