# Frozen into every MPS2-AN385 firmware image (firmware.elf and firmware-frozen.elf).
# asyncio: MicroPython's own package, as real boards freeze it.
include("$(MPY_DIR)/extmod/asyncio")
# unittest: our own small implementation (lib/unittest); Debian's source ships micropython-lib empty.
package("unittest", base_path="lib")
# The frozen test modules upstream's qemu port builds in, from the source package, so
# MicroPython's own test-suite (make upstream-tests) runs whole: tests/ports/qemu/*.
freeze(
    "$(MPY_DIR)/ports/qemu/test-frzmpy",
    ("frozen_asm_thumb.py", "frozen_const.py", "frozen_viper.py", "native_frozen_align.py"),
)
