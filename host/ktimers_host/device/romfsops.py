# ROMFS segment queries the host runs on a board (ktimers_host.romfs).  The host sends one
# function, calls it and deletes it (ktimers_host.device.call), so each function is
# self-contained.  Output: one tab-separated record that the host parses and checks.


def _kt_rom_segment():
    # "S\t<segments>\t<bytes of segment 0>"; "S\t0\t-1" without vfs.rom_ioctl; a
    # negative size is the errno rom_ioctl returned
    try:
        import vfs

        s = vfs.rom_ioctl(2, 0)
        print("S\t%d\t%d" % (vfs.rom_ioctl(1), s if isinstance(s, int) else len(s)))
    except (ImportError, AttributeError, OSError):
        print("S\t0\t-1")


def _kt_rom_held(pkg):
    # "I\t<segment 0's first 12 bytes in hex>\t<1 if /rom/lib/<pkg> exists, else 0>"
    import os

    try:
        import vfs

        h = "".join("%02x" % x for x in vfs.rom_ioctl(2, 0)[:12])
    except (ImportError, AttributeError, OSError, TypeError):
        h = ""
    try:
        os.stat("/rom/lib/" + pkg)
        k = 1
    except OSError:
        k = 0
    print("I\t%s\t%d" % (h, k))


def _kt_rom_sha(n):
    # "H\t<sha256 of segment 0's first n bytes>", hashed 512 bytes at a time
    import hashlib

    import vfs

    m = memoryview(vfs.rom_ioctl(2, 0))
    h = hashlib.sha256()
    for o in range(0, n, 512):
        h.update(m[o : min(o + 512, n)])
    print("H\t" + "".join("%02x" % x for x in h.digest()))


def _kt_rom_umount():
    # unmount /rom before its segment is erased or written (not mounted: nothing to do)
    import vfs

    try:
        vfs.umount("/rom")
    except OSError:
        pass
