# Heap taken by `import ktimers` and then by `from ktimers import *` (MicroPython, on the
# board, right after a soft reset). Measured with gc.collect() + gc.mem_free().
#   BENCH heap import=<bytes> star=<bytes> free=<bytes left> frozen=<0|1> modules=<n>
import gc
import sys

gc.collect()
_f0 = gc.mem_free()
import ktimers

gc.collect()
_f1 = gc.mem_free()
from ktimers import *

gc.collect()
_f2 = gc.mem_free()
_frozen = 1 if getattr(sys.modules["ktimers"], "__file__", ".frozen").startswith(".frozen") else 0
_mods = " ".join(k[8:] for k in sorted(sys.modules) if k.startswith("ktimers."))
print(
    "BENCH heap import=%d star=%d free=%d frozen=%d loaded=%s"
    % (_f0 - _f1, _f1 - _f2, _f2, _frozen, _mods.replace(" ", ","))
)
