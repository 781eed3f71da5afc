"""Link failures end in a typed LinkError within seconds, with the output so far."""

from __future__ import annotations

import os
import signal
import time

import pytest

from ktimers_host.board import Board
from ktimers_host.transport import BoardReset, LinkLost, LinkTimeout, open_transport

COUNTER = (
    "import time\nfor i in range(100000):\n print('line', i)\n"
    " t = time.ticks_ms()\n while time.ticks_diff(time.ticks_ms(), t) < 20:\n  pass\n"
)


def _kill_during_stream(board: Board, kill: object) -> tuple[LinkLost, float]:
    stream = board.exec_stream(COUNTER, timeout=60)
    t_kill = 0.0
    with pytest.raises(LinkLost) as ei:
        for line in stream:
            if line == "line 5":
                t_kill = time.monotonic()
                kill()  # type: ignore[operator]
    return ei.value, time.monotonic() - t_kill


def test_killed_unix_process_is_link_lost(unix_board: Board) -> None:
    assert unix_board.process is not None
    err, dt = _kill_during_stream(unix_board, unix_board.process.kill)
    assert dt < 10
    lines = err.output.splitlines()
    assert lines[:6] == [f"line {i}" for i in range(6)], err.output


def test_killed_qemu_is_link_lost(emulator_board: Board, own_emulator: object) -> None:
    pid = own_emulator.pid  # type: ignore[attr-defined]
    err, dt = _kill_during_stream(emulator_board, lambda: os.kill(pid, signal.SIGKILL))
    assert dt < 10
    assert err.output.splitlines()[:6] == [f"line {i}" for i in range(6)], err.output


def test_board_reset_mid_command_emulator(emulator_board: Board) -> None:
    t0 = time.monotonic()
    with pytest.raises(BoardReset) as ei:
        emulator_board.exec("print('before')\nimport machine\nmachine.reset()", timeout=20)
    assert time.monotonic() - t0 < 10
    assert ei.value.output.startswith("before")
    emulator_board.connect()  # comes back after the reset
    assert emulator_board.exec("print('back')", timeout=20) == "back\n"


def test_vanished_port_fails_fast() -> None:
    t0 = time.monotonic()
    with pytest.raises(LinkLost):
        open_transport("/dev/pts/no-such-port")
    with pytest.raises(LinkLost):
        open_transport("socket://127.0.0.1:1")  # nothing listens on port 1
    assert time.monotonic() - t0 < 5


def test_silent_board_times_out(unix_board: Board) -> None:
    t0 = time.monotonic()
    with pytest.raises(LinkTimeout):
        list(unix_board.exec_stream("while True:\n pass", timeout=None, idle_timeout=1.0))
    assert time.monotonic() - t0 < 5
    assert unix_board.exec("print('ok')") == "ok\n"


def test_dead_process_before_command(unix_board: Board) -> None:
    assert unix_board.process is not None
    unix_board.process.kill()
    t0 = time.monotonic()
    with pytest.raises(LinkLost):
        unix_board.exec("print(1)", timeout=30)
    assert time.monotonic() - t0 < 10
