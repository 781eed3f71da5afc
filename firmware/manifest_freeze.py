# FREEZE=1: everything of manifest.py, plus the ktimers package (with backends/) and its
# clock event handlers as native Thumb code (manifests/native.py).
include("manifest.py")
package("ktimers", base_path="../lib")
include("manifests/native.py", arch="armv7m")
