# ktimers freeze manifest: the library, every clock backend, as frozen bytecode.
#
# Freeze it into a MicroPython firmware from a board's own manifest:
#     include("$(MPY_DIR)/ports/rp2/boards/manifest.py")   # the port's usual content
#     include("/path/to/ktimers/manifest.py")
# or build with FROZEN_MANIFEST=/path/to/ktimers/manifest.py (then the port's own frozen
# modules are left out). `package.json` beside it installs the same files with
# `mpremote mip install`; tests/host/test_packaging.py keeps both in step with lib/.
metadata(description="Linux kernel timers (jiffies, timer wheel, hrtimers) for MicroPython", version="0.1.0")
package("ktimers", base_path="lib", opt=3)
