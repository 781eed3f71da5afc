"""File hashes for flash: the board-side helper and its host-side twin.

sha256 when the board has hashlib, else crc32 from binascii, else FNV-1a 32;
the board prints ``path<TAB>alg:hex`` lines that the host parses with _HASH_LINE.
"""

from __future__ import annotations

import re

# Board-side helper: hash of a file, "alg:hex" or None.  sha256 when hashlib exists,
# else crc32 from binascii, else FNV-1a 32 (the host computes the same, see `local_hash`).
_HASH_FN = """
def _kt_hash(p):
    try:
        f = open(p, 'rb')
    except OSError:
        return None
    try:
        import hashlib
        h = hashlib.sha256(); a = 'sha256'
    except (ImportError, AttributeError):
        h = None
    c = 0x811C9DC5
    try:
        import binascii
        cr = binascii.crc32
    except (ImportError, AttributeError):
        cr = None
    while True:
        b = f.read(512)
        if not b:
            break
        if h:
            h.update(b)
        elif cr:
            c = cr(b, c if c != 0x811C9DC5 else 0)
        else:
            for x in b:
                c = ((c ^ x) * 0x01000193) & 0xFFFFFFFF
    f.close()
    if h:
        return a + ':' + ''.join('%02x' % x for x in h.digest())
    if cr:
        return 'crc32:%08x' % (c & 0xFFFFFFFF if c != 0x811C9DC5 else 0)
    return 'fnv1a32:%08x' % c
"""


_HASH_LINE = re.compile(r"([^\t]+)\t((?:sha256|crc32|fnv1a32):[0-9a-f]+|None)")


def local_hash(data: bytes, alg: str) -> str:
    """Host-side twin of the board's ``_kt_hash`` for algorithm ``alg``."""
    import binascii
    import hashlib

    if alg == "sha256":
        return "sha256:" + hashlib.sha256(data).hexdigest()
    if alg == "crc32":
        return "crc32:%08x" % (binascii.crc32(data) & 0xFFFFFFFF)
    c = 0x811C9DC5
    for x in data:
        c = ((c ^ x) * 0x01000193) & 0xFFFFFFFF
    return "fnv1a32:%08x" % c
