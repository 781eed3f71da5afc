# Freeze the ktimers package (with backends/) into the MPS2-AN385 firmware: make firmware FREEZE=1
package("ktimers", base_path="../lib")
