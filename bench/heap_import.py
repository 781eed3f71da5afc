# Heap taken by `import ktimers` and then by `from ktimers import *` (MicroPython, on the
# board, right after a soft reset). Measured with gc.collect() + gc.mem_free().
#   BENCH heap import=<bytes> star=<bytes> free=<bytes left> frozen=<0|1> loaded=<modules>
#   BENCH gc bare=<ns> with_ktimers=<ns> wide_dict=<ns>: one gc.collect() before and after
#         the import, and (control) with one 300-entry dict of lists and no ktimers; a SOFT
#         callback waits out every collection
import gc
import sys

try:
    from mps2 import counter as _cs, FREQ as _HZ, COUNTER_MASK as _M
except ImportError:
    from time import ticks_us as _cs

    _HZ = 1000000
    _M = 0x3FFFFFFF


def _gc_ns():
    gc.collect()
    best = None
    for i in range(3):
        t0 = _cs()
        gc.collect()
        d = ((_cs() - t0) & _M) * (1000000000 // _HZ)
        best = d if best is None or d < best else best
    return best


_g0 = _gc_ns()
# control: one container holding 300 heap objects, no ktimers (MicroPython's mark stack
# holds 64 entries; a wider object overflows it and the collector rescans the whole heap)
_w = {}
for _i in range(300):
    _w[_i] = [_i]
_gw = _gc_ns()
_w = None
gc.collect()
_f0 = gc.mem_free()
import ktimers

gc.collect()
_f1 = gc.mem_free()
from ktimers import *

gc.collect()
_f2 = gc.mem_free()
_frozen = 0 if getattr(sys.modules["ktimers"], "__file__", "").startswith("/") else 1
_mods = " ".join(k[8:] for k in sorted(sys.modules) if k.startswith("ktimers."))
print(
    "BENCH heap import=%d star=%d free=%d frozen=%d loaded=%s"
    % (_f0 - _f1, _f1 - _f2, _f2, _frozen, _mods.replace(" ", ","))
)
print("BENCH gc bare=%d with_ktimers=%d wide_dict=%d" % (_g0, _gc_ns(), _gw))
