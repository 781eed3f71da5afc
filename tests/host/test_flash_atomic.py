"""Atomic flash: the board is killed at many points of a flash, in every phase, rebooted,
and must import a complete library, old or new, every time; the next flash completes.

The unix board is killed with SIGKILL (its filesystem is a host folder), the emulated board
by killing QEMU (its littlefs image is a host file), i.e. a power cut.  Kill points are
counted in bytes-writes on the link from the start of a phase, so they do not depend on
timing: "before" kills happen before a write reaches the board, "after" kills while the
board works on what it was just sent.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ktimers_host import profiles
from ktimers_host.board import Board
from ktimers_host.flash import PHASES, build_files, flash
from ktimers_host.transport import LinkError

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "build" / "mps2-an385" / "firmware.elf"
# modules that carry the generation mark: Python on every board (with the C core, ktime,
# completion, core and hrtimer_base are C modules and their files unused)
MARKED = ("timer.py", "trace.py", "hrtimer.py")
CHANGED = ("hrtimer.py", "completion.py")  # also changed between generations (bigger write)

CHECK = (
    "import sys, json, ktimers, ktimers_board\n"
    "from ktimers import jiffies, msleep\n"
    "g = [ktimers._mod(m[:-3]).KT_GEN for m in %r]\n"  # (timer and trace load on first use)
    "j = jiffies()\nmsleep(40)\n"
    "print(json.dumps([g, ktimers.KT_GEN_INIT, ktimers_board.KT_GEN, jiffies() != j]))\n"
)


def generation(profile: profiles.Profile, tmp: Path, gen: int) -> dict[str, bytes]:
    """The library with generation marks ``gen`` in several modules and in __init__."""
    root = tmp / f"gen{gen}"
    shutil.copytree(ROOT / "lib", root / "lib")
    (root / "build").symlink_to(ROOT / "build")
    pkg = root / "lib" / "ktimers"
    for m in MARKED:
        with open(pkg / m, "a") as f:
            f.write(f"\nKT_GEN = {gen}\n")
    for m in CHANGED:
        with open(pkg / m, "a") as f:
            f.write(f"\n_KT_PAD = {'x' * 2000 * gen!r}\n")
    with open(pkg / "__init__.py", "a") as f:
        f.write(f"\nKT_GEN_INIT = {gen}\n")
    files = build_files(profile, root=root)
    files["ktimers_board.py"] += f"\nKT_GEN = {gen}\n".encode()
    return files


@dataclass
class Killer:
    """Kill the board at the ``nth`` link write after phase ``phase`` begins."""

    phase: str
    nth: int
    after: bool
    kill: Callable[[], None]
    current: str = "-"
    count: int = 0
    fired: str | None = None
    seen: list[str] = field(default_factory=list)

    def on_phase(self, name: str) -> None:
        self.current, self.count = name, 0
        self.seen.append(name)

    def wrap(self, t: object) -> None:
        real = t._write  # type: ignore[attr-defined]

        def write(data: bytes) -> None:
            hit = False
            if self.fired is None and self.current == self.phase:
                self.count += 1
                hit = self.count == self.nth
            if hit and not self.after:
                self.fired = self.current
                self.kill()
            real(data)
            if hit and self.after:
                self.fired = self.current
                self.kill()

        t._write = write  # type: ignore[attr-defined]


def check(board: Board) -> tuple[int, int]:
    """(library generation, board-module generation); fails unless a whole version runs."""
    import json

    out = board.exec(CHECK % (MARKED,), timeout=60)
    g, g_init, g_board, ticking = json.loads(out)
    assert len(set(g)) == 1 and g[0] == g_init, f"mixed library on the board: {g} {g_init}"
    assert g_init in (1, 2) and g_board in (1, 2)
    assert ticking, "the library imported but jiffies do not advance"
    return g_init, g_board


def kill_points(nths: tuple[int, ...]) -> list[tuple[str, int, bool]]:
    out = []
    for ph in PHASES:
        for i, n in enumerate(nths):
            out.append((ph, n, i % 2 == 1))
    return out


def run_kill_rounds(
    reboot: Callable[[], Board],
    kill: Callable[[Board], None],
    gens: dict[int, dict[str, bytes]],
    points: list[tuple[str, int, bool]],
) -> None:
    board = reboot()
    flash(board, gens[1], progress=False)
    assert check(board) == (1, 1)
    killed: dict[str, int] = {}
    for ph, nth, after in points:
        cur, _ = check(board)
        target = 3 - cur
        k = Killer(ph, nth, after, lambda b=board: kill(b))
        k.wrap(board.transport)
        try:
            flash(board, gens[target], progress=False, on_phase=k.on_phase)
        except LinkError:
            assert k.fired, f"flash failed without a kill ({ph} #{nth})"
        finally:
            k.current = "done"  # writes after the flash are not counted
        if k.fired:
            killed[k.fired] = killed.get(k.fired, 0) + 1
            board.close()
            board = reboot()
        lib, _ = check(board)  # a whole version, old or new
        if not k.fired:
            assert lib == target
    print(f"kills per phase: {killed} ({sum(killed.values())} in all)")
    # every phase of a flash was cut at least once (the kill points are per phase)
    assert set(killed) == set(PHASES), killed
    # and the next flash completes: the other version, nothing left over
    cur, _ = check(board)
    rep = flash(board, gens[3 - cur], progress=False)
    assert check(board) == (3 - cur, 3 - cur)
    rep2 = flash(board, gens[3 - cur], progress=False)
    assert rep2.transferred == 0 and not rep2.removed, rep2.summary()
    listing = board.exec(
        "import os\nprint(' '.join(os.listdir(%r)))" % (board.lib_dir.rstrip("/") + "/ktimers")
    ).split()
    assert sorted(listing) == sorted(["__init__.py", rep.version]), listing
    board.close()


def test_unix_board_killed_in_every_phase_of_a_flash(
    tmp_path: Path, make_unix_board: Callable[..., Board]
) -> None:
    prof = profiles.load("unix")
    gens = {g: generation(prof, tmp_path, g) for g in (1, 2)}
    fs = tmp_path / "fs"

    def reboot() -> Board:  # a new process on the same filesystem folder
        return make_unix_board(fs=fs)

    def kill(b: Board) -> None:
        assert b.process is not None
        b.process.kill()

    run_kill_rounds(reboot, kill, gens, kill_points((1, 2, 4, 7, 12)))


@pytest.fixture
def qemu_factory(tmp_path: Path) -> Iterator[Callable[[], object]]:
    if not FIRMWARE.exists() or shutil.which("qemu-system-arm") is None:
        pytest.fail("emulated board not built: run `make firmware`")
    from ktimers_host.emulator import Emulator

    flash_img = tmp_path / "flash.img"
    live: list[Emulator] = []

    def start() -> Emulator:
        for e in live:
            e.stop()
        live.clear()
        emu = Emulator(FIRMWARE, flash_img, workdir=tmp_path)
        emu.start()
        live.append(emu)
        return emu

    yield start
    for e in live:
        e.stop()


def test_emulated_board_killed_in_every_phase_of_a_flash(
    tmp_path: Path, qemu_factory: Callable[[], object]
) -> None:
    prof = profiles.load("mps2-an385")
    gens = {g: generation(prof, tmp_path, g) for g in (1, 2)}
    emus: list[object] = []

    def reboot() -> Board:
        emu = qemu_factory()
        emus.append(emu)
        return Board("mps2-an385", port=str(emu.pty), root=ROOT).connect()  # type: ignore[attr-defined]

    def kill(b: Board) -> None:
        os.kill(emus[-1].pid, signal.SIGKILL)  # type: ignore[attr-defined]

    run_kill_rounds(reboot, kill, gens, kill_points((1, 6)))
