"""Shared fixtures for the host tests (the ``board`` fixture itself comes from the
``ktimers`` pytest plugin, host/ktimers_host/pytest_plugin.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ktimers_host import profiles
from ktimers_host.board import Board

ROOT = Path(__file__).resolve().parent.parent
UNIX_BIN = ROOT / "build" / "unix" / "micropython"
FIRMWARE = ROOT / "build" / "mps2-an385" / "firmware.elf"
FLASH_IMG = ROOT / "build" / "mps2-an385" / "flash.img"


@pytest.fixture(scope="session", autouse=True)
def _stop_cli_unix_board() -> Iterator[None]:
    """The command line's unix board (``ktimers --board unix``, filesystem build/unix-fs) is
    a persistent relay that outlives the command, as a powered board stays on.  Tests that
    start it leave it running; the session stops it at its end unless it ran before."""
    from ktimers_host.unixboard import UnixProcess

    up = UnixProcess(UNIX_BIN, ROOT / "build" / "unix-fs", persistent=True)
    before = up.find_running()
    yield
    st = up.find_running()
    if before is None and st is not None:
        up.relay_pid = int(st["pid"])
        up.stop()


def fresh_unix_board(fs: Path, transport: str = "mpremote") -> Board:
    """A unix board of its own (own process, own filesystem dir), connected."""
    if not UNIX_BIN.exists():
        pytest.fail(f"{UNIX_BIN} is missing: run `make unix` first")
    prof = profiles.load("unix")
    prof["connect"] = dict(prof["connect"], fs=str(fs))
    return Board(prof, transport=transport, root=ROOT).connect()


@pytest.fixture
def unix_board(tmp_path: Path) -> Iterator[Board]:
    b = fresh_unix_board(tmp_path / "fs")
    yield b
    b.close()


@pytest.fixture
def make_unix_board(tmp_path: Path) -> Iterator[Callable[..., Board]]:
    """Factory: ``make_unix_board(transport="mpremote", fs=None)``; closed after the test."""
    made: list[Board] = []

    def make(transport: str = "mpremote", fs: Path | None = None) -> Board:
        b = fresh_unix_board(fs or tmp_path / f"fs{len(made)}", transport)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


@pytest.fixture
def own_emulator(tmp_path: Path) -> Iterator[object]:
    """A QEMU instance of our own (own work dir, copy of the flash image), stopped after."""
    if not FIRMWARE.exists() or shutil.which("qemu-system-arm") is None:
        pytest.fail("emulated board not built: run `make firmware`")
    from ktimers_host.emulator import Emulator

    flash = tmp_path / "flash.img"
    if FLASH_IMG.exists():
        shutil.copy(FLASH_IMG, flash)
    emu = Emulator(FIRMWARE, flash, workdir=tmp_path)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def emulator_board(own_emulator: object) -> Iterator[Board]:
    b = Board("mps2-an385", port=str(own_emulator.pty), root=ROOT).connect()  # type: ignore[attr-defined]
    yield b
    b.close()
