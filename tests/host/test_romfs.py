"""The library in the emulated board's ROMFS segment (``ktimers flash --romfs``).

The firmware's ``vfs.rom_ioctl`` keeps the segment in a host file beside the flash image
(``flash.romfs``), so a QEMU restart is the board's power cycle and killing QEMU is a power
cut.  Each test has its own QEMU and files (``own_emulator``)."""

from __future__ import annotations

import json
import os
import re
import signal
from typing import Any

import pytest

from ktimers_host import romfs
from ktimers_host.board import Board
from ktimers_host.flash import flash
from ktimers_host.transport import LinkError

# a timer of each kind fires from the imported code; where each part was loaded from
FIRE = (
    "import json, ktimers\n"
    "from ktimers import *\n"
    "got = []\n"
    "def hcb(t):\n got.append('hr')\n return HRTIMER_NORESTART\n"
    "def tcb(t):\n got.append('tl')\n"
    "h = hrtimer()\nhrtimer_setup(h, hcb, CLOCK_MONOTONIC, HRTIMER_MODE_REL)\n"
    "hrtimer_start(h, 5_000_000, HRTIMER_MODE_REL)\n"
    "t = timer_list()\ntimer_setup(t, tcb, 0)\nmod_timer(t, jiffies() + 2)\n"
    "end = jiffies() + 5 * HZ\n"
    "while len(got) < 2 and time_before(jiffies(), end):\n pass\n"
    "print(json.dumps([sorted(got), ktimers.__file__, ktimers._mod('hrtimer').__file__,"
    " ktimers._mod('timer').__file__]))\n"
)


def fire(b: Board) -> list[Any]:
    b.soft_reset()
    return json.loads(b.exec(FIRE, timeout=60).strip().splitlines()[-1])


def test_romfs_runs_in_place_and_survives_a_power_cycle(
    emulator_board: Board, own_emulator: Any
) -> None:
    b = emulator_board
    flash(b, progress=False)
    assert fire(b)[1].startswith("/lib/ktimers/")
    rep = romfs.deploy(b)
    assert rep.written == rep.size > 10000 and rep.size <= rep.segment
    got = fire(b)
    assert got[0] == ["hr", "tl"], got
    assert all(p.startswith("/rom/lib/ktimers/") and p.endswith(".mpy") for p in got[1:]), got
    assert romfs.installed(b) == rep.size
    again = romfs.update(b)
    assert again.written == 0 and again.sha256 == rep.sha256  # nothing to write
    b.close()
    own_emulator.stop()
    own_emulator.start()  # power cycle: the segment comes back from its host file
    b.connect()
    got = fire(b)
    assert got[0] == ["hr", "tl"] and got[1].startswith("/rom/lib/ktimers/"), got


def test_power_cut_while_writing_leaves_the_filesystem_copy(
    emulator_board: Board, own_emulator: Any
) -> None:
    """The header chunk is written last: QEMU killed after the third chunk boots into the
    filesystem's copy, with no image in the segment; the next deploy completes."""
    b = emulator_board
    flash(b, progress=False)
    writes = []
    real_exec = b.exec

    def exec_and_cut(code: str, timeout: float | None = 30.0) -> str:
        if "rom_ioctl(4," in code:
            writes.append(code[:40])
            if len(writes) == 3:
                os.kill(own_emulator.pid, signal.SIGKILL)
        return real_exec(code, timeout)

    b.exec = exec_and_cut  # type: ignore[method-assign]
    with pytest.raises(LinkError):
        romfs.deploy(b)
    b.exec = real_exec  # type: ignore[method-assign]
    assert len(writes) == 3
    b.close()
    own_emulator.stop()
    own_emulator.start()
    b.connect()
    assert romfs.installed(b) == 0
    got = fire(b)
    assert got[0] == ["hr", "tl"] and got[1].startswith("/lib/ktimers/"), got
    assert romfs.deploy(b).written > 0
    assert fire(b)[1].startswith("/rom/lib/ktimers/")


def test_install_follows_the_board_and_no_romfs_erases(emulator_board: Board) -> None:
    b = emulator_board
    summary, changed = romfs.install(b, True, progress=False)
    assert changed and "written" in summary
    summary, changed = romfs.install(b, progress=False)  # where it is: the ROMFS, unchanged
    assert not changed and "up to date" in summary, summary
    summary, changed = romfs.install(b, False, progress=False)
    assert changed and "erased" in summary, summary
    assert romfs.installed(b) == 0
    got = fire(b)
    assert got[0] == ["hr", "tl"] and got[1].startswith("/lib/ktimers/"), got


def test_rom_ioctl_refuses_bad_arguments(emulator_board: Board) -> None:
    """Out-of-range ids, lengths and offsets, and a write with no erase before it, return
    a negative errno (MicroPython's rom_ioctl convention) and write nothing."""
    code = (
        "import vfs\n"
        "size = len(vfs.rom_ioctl(2, 0))\n"
        "r = [vfs.rom_ioctl(1), vfs.rom_ioctl(2, 1), vfs.rom_ioctl(4, 0, 0, b'x'),"
        " vfs.rom_ioctl(3, 0, size + 1), vfs.rom_ioctl(3, 0, -1), vfs.rom_ioctl(9, 0)]\n"
        "r += [vfs.rom_ioctl(3, 0, 16), vfs.rom_ioctl(4, 0, -1, b'x'),"
        " vfs.rom_ioctl(4, 0, size - 1, b'xy'), vfs.rom_ioctl(4, 0, 0, b'ok'),"
        " vfs.rom_ioctl(5, 0)]\n"
        "print(size, r, bytes(vfs.rom_ioctl(2, 0)[:3]))\n"
    )
    out = emulator_board.exec(code).split()
    assert out[0] == str(1024 * 1024), out
    assert " ".join(out[1:]) == "[1, -22, -9, -22, -22, -22, 4, -22, -22, 0, 0] b'ok\\xff'"


def test_mpremote_romfs_query_reads_our_segment(emulator_board: Board, own_emulator: Any) -> None:
    """mpremote's own `romfs query` (the tool users know) sees the segment and the image
    `romfs.deploy` wrote: the firmware's rom_ioctl speaks MicroPython's protocol."""
    import subprocess
    import sys
    from pathlib import Path

    rep = romfs.deploy(emulator_board)
    emulator_board.close()  # one user of the pty at a time
    mpremote = Path(sys.executable).parent / "mpremote"
    r = subprocess.run(
        [str(mpremote), "connect", str(own_emulator.pty), "romfs", "query"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "ROMFS0 partition has size 1048576 bytes" in r.stdout, r.stdout
    m = re.search(r"ROMFS image size: (\d+)", r.stdout)
    assert m, r.stdout
    assert 0 < rep.size - int(m[1]) <= 8  # the data after the header (magic + varint length)
