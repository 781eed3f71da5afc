"""Put the library into a board's ROMFS segment, where its modules run in place.

MicroPython 1.25 mounts a ROMFS image (``vfs.rom_ioctl``) at ``/rom`` and imports ``.mpy``
files from it without copying their bytecode or constant strings onto the heap, as frozen
modules do: the heap keeps only function objects, the qstr table and module globals.
``ktimers flash --romfs`` builds one image with every module compiled (the package's
``__init__`` and ``ktimers_board`` too) and writes it through the board's ``rom_ioctl``,
the way ``mpremote romfs deploy`` does (mpremote's ``VfsRomWriter`` builds the image)::

    /rom/lib/ktimers/__init__.mpy ...   the package; ``/rom/lib`` is on sys.path before
    /rom/lib/ktimers_board.mpy           ``/lib``, so it shadows a filesystem copy

Writing, and what a kill leaves:

| step     | board operations                                  | a kill leaves             |
| -------- | ------------------------------------------------- | ------------------------- |
| reset    | soft reset: nothing runs from the segment         | the old image             |
| prepare  | umount /rom, ``rom_ioctl(3, 0, len)``: erase        | no image: /lib is used    |
| write    | ``rom_ioctl(4, ...)`` per 4 KB chunk, header last   | no image (header erased)  |
| verify   | sha256 of the segment's first len bytes           | the new image             |
| mount    | ``rom_ioctl(5, 0)``, soft reset mounts /rom        | the new image             |

The first chunk holds the image header, so it is written last: until then the segment has
no valid header and the board boots its filesystem copy.  ``erase`` removes an image (a
filesystem flash calls it, or the ROMFS copy would shadow the new files).
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .device import call
from .errors import LinkCorrupt, LinkError
from .files import UsageError
from .flash import PKG, build_files, flash

if TYPE_CHECKING:
    from .board import Board

CHUNK = 4096  # bytes per rom_ioctl(4) write
_SEG = re.compile(r"S\t(-?\d{1,10})\t(-?\d{1,10})")
_SHA = re.compile(r"H\t([0-9a-f]{64})")
_RC = re.compile(r"R\t(-?\d{1,10})")
_HEAD = re.compile(r"I\t([0-9a-f]{0,24})\t([01])")
_HEADER = b"\xd2\xcd\x31"

_OPS = "romfsops.py"  # the board-side functions (ktimers_host/device/romfsops.py)


@dataclass
class RomfsReport:
    size: int = 0  # image bytes
    segment: int = 0  # segment bytes
    sha256: str = ""
    written: int = 0  # bytes written (0: the segment held this image already)
    seconds: float = 0.0

    def summary(self) -> str:
        pct = 100 * self.size / self.segment if self.segment else 0
        did = f"{self.written} B written" if self.written else "up to date"
        return (
            f"romfs: {self.size} B image in a {self.segment} B segment ({pct:.0f}%), {did},"
            f" sha256 {self.sha256[:12]}, {self.seconds:.1f} s"
        )


def build_image(files: dict[str, bytes]) -> bytes:
    """A ROMFS image holding ``files`` (board path under its lib dir -> bytes) in ``/lib``."""
    from mpremote.romfs import VfsRomWriter

    tree: dict = {}
    for rel, data in files.items():
        node = tree
        *dirs, name = rel.split("/")
        for d in dirs:
            node = node.setdefault(d, {})
        node[name] = data
    w = VfsRomWriter()

    def emit(node: dict) -> None:
        for name in sorted(node):
            if isinstance(node[name], dict):
                w.opendir(name)
                emit(node[name])
                w.closedir()
            else:
                w.mkfile(name, node[name])

    emit({"lib": tree})
    return w.finalise()


def segment_size(board: Board) -> int:
    """The board's first ROMFS segment in bytes; UsageError if it has none."""
    line = board.exec(call(_OPS, "_kt_rom_segment")).strip()
    m = _SEG.fullmatch(line)
    if not m:
        raise LinkCorrupt(f"romfs: bad segment query reply {line[:120]!r}")
    if int(m[1]) < 1 or int(m[2]) <= 0:
        raise UsageError(
            f"flash --romfs: board {board.name} has no ROMFS segment (its firmware has no"
            " vfs.rom_ioctl or no ROMFS partition); use a plain flash"
        )
    return int(m[2])


def _ioctl(board: Board, args: str, timeout: float = 30.0) -> int:
    line = board.exec(f"import vfs\nprint('R\\t%d'%vfs.rom_ioctl({args}))", timeout).strip()
    m = _RC.fullmatch(line)
    if not m:
        raise LinkCorrupt(f"romfs: bad rom_ioctl({args[:20]}) reply {line[:120]!r}")
    return int(m[1])


def _segment_sha(board: Board, n: int) -> str:
    line = board.exec(call(_OPS, "_kt_rom_sha", n), 60).strip()
    m = _SHA.fullmatch(line)
    if not m:
        raise LinkCorrupt(f"romfs: bad hash reply {line[:120]!r}")
    return m[1]


def installed(board: Board) -> int:
    """Length of the ROMFS image in the board's segment 0 if it holds the ktimers package
    (``/rom/lib/ktimers``), else 0 (no ROMFS, no image, another image)."""
    line = board.exec(call(_OPS, "_kt_rom_held", PKG)).strip()
    m = _HEAD.fullmatch(line)
    if not m:
        raise LinkCorrupt(f"romfs: bad query reply {line[:120]!r}")
    head = bytes.fromhex(m[1])
    if m[2] != "1" or not head.startswith(_HEADER):
        return 0
    size = 0
    for i, b in enumerate(head[3:]):  # the image's length, a varint after the magic
        size = (size << 7) | (b & 0x7F)
        if not b & 0x80:
            return size + 4 + i
    raise LinkCorrupt(f"romfs: bad image header {m[1]!r}")


def deploy(board: Board, image: bytes | None = None) -> RomfsReport:
    """Write ``image`` (default: the library for ``board``) into segment 0 and mount it."""
    t0 = time.monotonic()
    if image is None:
        image = library_image(board)
    if not image.startswith(_HEADER):
        raise ValueError("romfs: image has no ROMFS header")
    rep = RomfsReport(size=len(image), sha256=hashlib.sha256(image).hexdigest())
    board.soft_reset()
    rep.segment = segment_size(board)
    if len(image) > rep.segment:
        raise UsageError(
            f"flash --romfs: the image ({len(image)} B) does not fit the {rep.segment} B segment"
        )
    board.exec(call(_OPS, "_kt_rom_umount"))
    rc = _ioctl(board, f"3,0,{len(image)}")
    if rc < 0:
        raise LinkError(f"romfs: rom_ioctl(3) (erase) failed with errno {-rc}")
    order = list(range(CHUNK, len(image), CHUNK)) + [0]  # the header last
    for off in order:
        enc = base64.b64encode(image[off : off + CHUNK]).decode()
        rc = _ioctl(board, f"4,0,{off},__import__('binascii').a2b_base64({enc!r})", 60)
        if rc < 0:
            raise LinkError(f"romfs: rom_ioctl(4) at offset {off} failed with errno {-rc}")
        rep.written += min(CHUNK, len(image) - off)
    got = _segment_sha(board, len(image))
    if got != rep.sha256:
        raise LinkCorrupt(f"romfs: segment hash {got[:12]} != image {rep.sha256[:12]}")
    _ioctl(board, "5,0")
    board.soft_reset()  # mounts /rom and puts /rom/lib on sys.path
    where = board.exec("import ktimers\nprint(ktimers.__file__)").strip()
    if not where.startswith("/rom/lib/ktimers/"):
        raise LinkError(f"romfs: written, but ktimers imports from {where[:120]!r}")
    board.soft_reset()
    rep.seconds = time.monotonic() - t0
    return rep


def library_image(board: Board) -> bytes:
    """The ROMFS image of the library for ``board``'s profile."""
    return build_image(build_files(board.profile, board.root, True, compile_all=True))


def update(board: Board, held: int | None = None) -> RomfsReport:
    """`deploy` unless segment 0 already holds this image (then nothing is written);
    ``held``: what `installed` said, if it was asked already."""
    image = library_image(board)
    sha = hashlib.sha256(image).hexdigest()
    n = installed(board) if held is None else held
    if n == len(image) and _segment_sha(board, n) == sha:
        return RomfsReport(size=n, segment=segment_size(board), sha256=sha)
    return deploy(board, image)


def erase(board: Board, held: int | None = None) -> bool:
    """Erase segment 0's image if it holds the library (``held``: `installed` already
    asked); True if it did.  A filesystem flash calls this: /rom/lib comes first on
    sys.path and would shadow the new files."""
    if not (installed(board) if held is None else held):
        return False
    board.soft_reset()
    board.exec(call(_OPS, "_kt_rom_umount"))
    if _ioctl(board, f"3,0,{CHUNK}") < 0 or _ioctl(board, "5,0") < 0:
        raise LinkError("romfs: could not erase the segment's image")
    board.soft_reset()
    return True


def install(
    board: Board, romfs_mode: bool | None = None, progress: bool = True, clean: bool = True
) -> tuple[str, bool]:
    """Update the library where the board keeps it: its ROMFS segment when that holds the
    library (or ``romfs_mode`` is True), else its filesystem (`flash.flash`; a ROMFS copy,
    which would shadow the files, is erased).  Returns (summary, changed)."""
    held = installed(board)
    if romfs_mode is None:
        romfs_mode = bool(held)
    if romfs_mode:
        rr = update(board, held)
        return rr.summary(), bool(rr.written)
    erased = erase(board, held)
    rep = flash(board, progress=progress, clean=clean)
    lines = ["romfs: erased the segment's copy of the library"] if erased else []
    lines.append(rep.summary())
    lines += [f"  sent {f}" for f in rep.files]
    return "\n".join(lines), bool(erased or rep.transferred or rep.removed or rep.copied)
