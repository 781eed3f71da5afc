# ktimers frozen into the stock stm32 port (see firmware/README.md for the build command).
include("$(PORT_DIR)/boards/manifest.py")
package("ktimers", base_path="../../lib")
include("native.py", arch="armv7emsp")  # the clock event handlers as native code
