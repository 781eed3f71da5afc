# ktimers frozen into the stock rp2 port (see firmware/README.md for the build command).
include("$(PORT_DIR)/boards/manifest.py")
package("ktimers", base_path="../../lib")
include("native.py", arch="armv6m")  # the clock event handlers as native code
