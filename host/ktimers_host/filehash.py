"""Files on the board: transfer (`FileOps`, mixed into the transport) and hashes for flash.

Hashes: sha256 when the board has hashlib, else crc32 from binascii, else FNV-1a 32;
the board prints ``path<TAB>alg:hex`` lines that the host parses with _HASH_LINE.
"""

from __future__ import annotations

import re
from typing import Any

from .device import call
from .errors import LinkCorrupt

FILE_CHUNK = 4096  # bytes of file data per exec when writing
_OPS = "fsops.py"  # the board-side functions (ktimers_host/device/fsops.py)

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


class FileOps:
    """File operations over the transport's ``exec``/``eval`` (a mixin of `Transport`)."""

    _b64: bool | None

    def exec(self, code: str | bytes, timeout: float | None = 30.0) -> str:
        raise NotImplementedError

    def eval(self, expr: str, timeout: float | None = 30.0) -> Any:
        raise NotImplementedError

    def write_file(self, path: str, data: bytes, timeout: float = 60.0) -> None:
        """Write ``data`` to ``path`` on the board (base64 when the board can decode it:
        half the source text of ``repr(bytes)`` for the board's parser)."""
        import base64

        if self._b64 is None:
            probe = (
                "try:\n from binascii import a2b_base64\n print(1)\nexcept ImportError:\n print(0)"
            )
            self._b64 = self.exec(probe).strip() == "1"
        for i in range(0, max(len(data), 1), FILE_CHUNK):
            mode = "wb" if i == 0 else "ab"
            part = data[i : i + FILE_CHUNK]
            lines = [f"_f=open({path!r},{mode!r})", "_w=_f.write"]
            if self._b64:
                lines[0] = "from binascii import a2b_base64 as _a\n" + lines[0]
                enc = [
                    base64.b64encode(part[j : j + 512]).decode() for j in range(0, len(part), 512)
                ]
                lines += [f"_w(_a({e!r}))" for e in enc]
            else:
                lines += [f"_w({part[j : j + 128]!r})" for j in range(0, len(part), 128)]
            lines += ["_f.close()", "del _f,_w"]
            self.exec("\n".join(lines), timeout)

    def read_file(self, path: str, timeout: float = 60.0) -> bytes:
        out = self.exec(call(_OPS, "_kt_readhex", path), timeout)
        try:
            return b"".join(bytes.fromhex(x) for x in out.splitlines() if x)
        except ValueError as e:
            raise LinkCorrupt(f"bad hex from board reading {path}: {out[:200]!r}") from e

    def hash_files(self, paths: list[str], timeout: float = 120.0) -> dict[str, str | None]:
        res: dict[str, str | None] = {}
        for line in self.exec(call(_OPS, "_kt_hashes", list(paths)), timeout).splitlines():
            m = _HASH_LINE.fullmatch(line)
            if not m or m[1] not in paths:
                raise LinkCorrupt(f"bad hash line from board: {line[:200]!r}")
            res[m[1]] = None if m[2] == "None" else m[2]
        return res

    def rename(self, src: str, dst: str) -> None:
        self.exec(f"import os\nos.rename({src!r},{dst!r})")

    def remove(self, path: str) -> None:
        self.exec(f"import os\ntry:\n os.remove({path!r})\nexcept OSError:\n pass")

    def makedirs(self, path: str) -> None:
        self.exec(call(_OPS, "_kt_makedirs", path))

    def listdir(self, path: str) -> list[str]:
        return list(self.eval(f"__import__('os').listdir({path!r})"))
