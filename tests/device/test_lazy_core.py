# test_lazy_core: the proxies of the lazily loaded names.  On the emulated firmware they are
# the C core's ROM objects (_ktimers.lazy, firmware/cmodules/ktimers): no heap, one object per
# number, a resolved call passes positional and keyword arguments through without
# allocating; on the unix port (built without the C core) they are ktimers._parts' Python
# classes.  Both: a proxy the package does not bind, or one called without ktimers, raises a
# clear error and changes nothing.  With the C core the package binds the proxies itself
# and ktimers._parts loads with the first call of one.
import sys
import gc
import micropython
from ktest import eq, raises

import ktimers
from ktimers import *

try:
    import _ktimers

    have_c = True
except ImportError:
    have_c = False
# the unix port here is built without the C core; the emulated firmware has it unless built
# without (firmware-nocore.elf, whose board name says so)
nocore = sys.platform == "linux" or "no C core" in sys.implementation._machine
eq(have_c, not nocore, "C core present exactly where the firmware was built with it")
# with the C core the package binds the proxies itself (_ktimers.install): ktimers._parts
# loads with the first call of one
eq("ktimers._parts" in sys.modules, not have_c, "ktimers._parts loaded by the import")
__import__("ktimers._parts")
P = sys.modules["ktimers._parts"]
from ktimers._parts_table import _LAZY

names = tuple(n for i in range(1, len(_LAZY), 2) for n in _LAZY[i])
nlazy = len(names)
if have_c:
    eq(_ktimers.lazy_names(), names, "the C core's lazy names are _parts_table._LAZY's, in order")
    # and its table of parts: each part's first proxy number and names, as _LAZY has them
    k = 0
    for i in range(0, len(_LAZY), 2):
        eq(_ktimers.lazy_part(_LAZY[i]), (k, _LAZY[i + 1]), "the C core's part " + _LAZY[i])
        eq(_ktimers.lazy_where(_ktimers.lazy(k)), (_LAZY[i + 1][0], _LAZY[i]), "where proxy %d is" % k)
        k += len(_LAZY[i + 1])
    eq(_ktimers.lazy_part("nosuchpart"), None, "not a part")
    eq(_ktimers.lazy_where(_ktimers.lazy(k)), None, "a spare proxy stands for no name")
    eq(_ktimers.lazy_where(1), None, "nor does a non-proxy")

p = ktime_compare  # not loaded yet: a proxy
eq(isinstance(p, P._lazy), True, "a lazy name is bound to a proxy")
eq(repr(p), "<lazy ktimers.ktime_compare>", "repr names it")
if have_c:
    eq(P._rom, _ktimers.lazy, "ktimers._parts uses the C core's proxies")
    eq(nlazy <= _ktimers.NLAZY, True, "enough ROM proxies for every lazy name")
    eq(_ktimers.lazy(3) is _ktimers.lazy(3), True, "one object per number")
    eq(_ktimers.lazy(3) is _ktimers.lazy(4), False, "distinct numbers, distinct objects")
    raises(IndexError, _ktimers.lazy, (_ktimers.NLAZY,), "lazy: i must be 0..")
    raises(IndexError, _ktimers.lazy, (-1,), "lazy: i must be 0..")
    raises(TypeError, _ktimers.lazy, ("0",))
    # proxies live outside the heap: binding 100 of them allocates nothing
    keep = [None] * 100
    i = 0  # bound before heap_lock: a new global could grow __main__'s dict
    gc.collect()
    micropython.heap_lock()
    try:
        for i in range(100):
            keep[i] = _ktimers.lazy(i)
    finally:
        micropython.heap_unlock()
    spare = _ktimers.lazy(_ktimers.NLAZY - 1)  # bound to no name
else:
    eq(P._rom, None, "no C core: Python proxies")
    spare = P._lazy()
eq(repr(spare), "<lazy ktimers.(loaded)>", "an unbound proxy's repr")
raises(RuntimeError, spare, (), "unbound lazy proxy")

# the first call loads the part; then a held copy calls the real function
eq(p(1, 2), -1, "first call through the proxy")
eq("ktimers._ktime" in sys.modules, True, "loaded _ktime")
if have_c:
    # every ROM proxy passes its arguments through: positional or keyword, no allocation
    # (in Python only the timer/hrtimer proxies avoid it, positional: test_lazy_parts)
    r = k = None
    micropython.heap_lock()
    try:
        r = p(5, 3)
        k = p(cmp1=2, cmp2=2)
    finally:
        micropython.heap_unlock()
    eq((r, k), (1, 0), "resolved positional and keyword calls under heap_lock")
else:
    eq((p(5, 3), p(cmp1=2, cmp2=2)), (1, 0), "resolved calls (Python proxy: they allocate)")
raises(TypeError, p, (1,))  # the real function's own error comes through

# a proxy called while ktimers is not loaded: a clear error, nothing changed
q = timer_list_show  # still a proxy (proc not loaded)
saved = sys.modules.pop("ktimers")
try:
    if have_c:
        raises(RuntimeError, q, (), "lazy proxy without ktimers")
finally:
    sys.modules["ktimers"] = saved
eq("ktimers.proc" in sys.modules, False, "nothing loaded by the failed call")
eq(len(timer_list_lines()) > 0, True, "the part loads normally afterwards")
print("KTEST PASS")
