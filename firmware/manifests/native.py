# Freezes ktimers' clock event handlers a second time, as native code for the port's arch:
# lib/ktimers/hrtimer_irq.py compiled with `mpy-cross -march=<arch> -X emit=native` into
# ktimers/hrtimer_irq_n.mpy, the twin that `ktimers flash` sends to a board's filesystem.
# Frozen, the machine code runs in place from flash and takes no heap; hrtimer_base loads
# it first and falls back to the bytecode module.  After package("ktimers", ...):
#
#     include("native.py", arch="armv6m")    # rp2: armv6m; stm32 (pyboard): armv7emsp
#
# Cortex-M only: those cores execute from flash.  (esp32 is left out: its flash data is
# not executable, so a frozen xtensawin function would have to be copied to IRAM.)
# mpy-cross: $MICROPY_MPYCROSS (set by the port's build), else the source tree's own.
# If it cannot compile, the build goes on without the twin and the bytecode module runs.
import os
import subprocess
import sys

_arch = options.arch
if _arch not in ("armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp"):
    raise ValueError("ktimers native.py: arch must be a Cortex-M mpy-cross arch, got %r" % _arch)
_here = os.getcwd()  # this manifest's folder while it runs
_src = os.path.normpath(os.path.join(_here, "..", "..", "lib", "ktimers", "hrtimer_irq.py"))
_out = os.path.normpath(os.path.join(_here, "..", "..", "build", "native-" + _arch))
_mpy_dir = getattr(sys.modules.get("__main__"), "VARS", {}).get("MPY_DIR", "")
_cross = os.getenv("MICROPY_MPYCROSS") or os.path.join(_mpy_dir, "mpy-cross", "build", "mpy-cross")
_dst = os.path.join(_out, "ktimers", "hrtimer_irq_n.mpy")
os.makedirs(os.path.dirname(_dst), exist_ok=True)
_r = subprocess.run(
    [_cross, "-march=" + _arch, "-X", "emit=native", "-s", "ktimers/hrtimer_irq_n.py",
     "-o", _dst, _src],
    capture_output=True,
    text=True,
) if os.path.exists(_cross) else None
if _r is not None and _r.returncode == 0:
    freeze(_out, "ktimers/hrtimer_irq_n.mpy")
else:
    print("ktimers: native IRQ module not frozen (%s); the bytecode one runs"
          % (_r.stderr.strip() if _r is not None else "no mpy-cross at " + _cross))
