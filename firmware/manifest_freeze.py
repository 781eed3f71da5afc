# FREEZE=1: everything of manifest.py, plus the ktimers package (with backends/).
include("manifest.py")
package("ktimers", base_path="../lib")
