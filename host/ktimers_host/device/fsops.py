# File operations the host runs on a board (ktimers_host.flash, ktimers_host.filehash).
# The host sends one function, calls it and deletes it (ktimers_host.device.call), so each
# function is self-contained.  Output: tab-separated records that the host parses and
# checks (it never evaluates them).


def _kt_tree(root):
    # every entry under root: "F\t<path>" for a file, "D\t<path>" for a folder after its
    # contents (the host removes bottom-up)
    import os

    def walk(d):
        try:
            it = os.ilistdir(d)
        except OSError:
            return
        for e in it:
            p = d + "/" + e[0]
            if e[1] == 0x4000:
                walk(p)
                print("D\t" + p)
            else:
                print("F\t" + p)

    walk(root)


def _kt_pointer(path):
    # the first line of a file (120 characters at most): "P\t<line>", "P\t-" if none
    try:
        f = open(path)
        print("P\t" + f.readline()[:120].rstrip())
        f.close()
    except OSError:
        print("P\t-")


def _kt_copy(pairs):
    # copy each (source, destination) on the board: "C\t<destination>" after each
    b = bytearray(512)
    m = memoryview(b)
    for s, d in pairs:
        f = open(s, "rb")
        g = open(d, "wb")
        while True:
            n = f.readinto(b)
            if not n:
                break
            g.write(m[:n])
        f.close()
        g.close()
        print("C\t" + d)


def _kt_remove(files, dirs):
    # remove the files, then the (empty) folders; missing ones are not an error
    import os

    for p in files:
        try:
            os.remove(p)
        except OSError:
            pass
    for p in dirs:
        try:
            os.rmdir(p)
        except OSError:
            pass


def _kt_hashes(paths, hide=()):
    # "<path>\t<alg>:<hex>" or "<path>\tNone" (no such file).  sha256 when hashlib
    # exists, else crc32 from binascii, else FNV-1a 32: the host computes the same
    # (filehash.local_hash).  hide: modules to treat as missing (tests of the fallbacks)
    try:
        if "hashlib" in hide:
            raise ImportError
        import hashlib

        sha = hashlib.sha256
    except (ImportError, AttributeError):
        sha = None
    try:
        if "binascii" in hide:
            raise ImportError
        import binascii

        crc = binascii.crc32
    except (ImportError, AttributeError):
        crc = None
    for p in paths:
        try:
            f = open(p, "rb")
        except OSError:
            print(p + "\tNone")
            continue
        h = sha() if sha else None
        c = 0 if crc else 0x811C9DC5
        while True:
            b = f.read(512)
            if not b:
                break
            if h:
                h.update(b)
            elif crc:
                c = crc(b, c)
            else:
                for x in b:
                    c = ((c ^ x) * 0x01000193) & 0xFFFFFFFF
        f.close()
        if h:
            print(p + "\tsha256:" + "".join("%02x" % x for x in h.digest()))
        else:
            print(p + ("\tcrc32:%08x" if crc else "\tfnv1a32:%08x") % (c & 0xFFFFFFFF))


def _kt_makedirs(path):
    # mkdir -p
    import os

    p = ""
    for s in path.split("/"):
        if not s:
            p = "/" if not p else p
            continue
        p = (p.rstrip("/") + "/" + s) if p else s
        try:
            os.mkdir(p)
        except OSError:
            pass


def _kt_readhex(path):
    # the file's bytes, 128 a line, in hex
    f = open(path, "rb")
    while True:
        b = f.read(128)
        if not b:
            break
        print("".join("%02x" % x for x in b))
    f.close()


def _kt_unimport(pkg):
    # forget the loaded modules named pkg* (the package, its parts, pkg_board): the next
    # import loads the files just written
    import sys

    for m in [m for m in sys.modules if m.startswith(pkg)]:
        del sys.modules[m]
