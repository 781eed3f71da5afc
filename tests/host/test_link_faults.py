"""Faults on the link never cost a wrong diagnosis (issue 11): corruption is a link error,
never a board exception; damaged dumps are pulled again; resets are seen mid-line.

Corruption comes from a proxy on a pty that flips chosen bytes (tests/tools, a test tool);
resets from QEMU's QMP ``system_reset``.  Every corruption or reset is triggered by an
event on the link (a pattern in the stream, a chunk the host writes), never by a sleep.
"""

from __future__ import annotations

import argparse
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tools.corrupting_proxy import CorruptingProxy

from ktimers_host import validate
from ktimers_host.board import Board
from ktimers_host.flash import flash
from ktimers_host.transport import BoardError, BoardReset, LinkCorrupt, Transport

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "build" / "mps2-an385" / "firmware.elf"


@pytest.fixture
def proxied(make_unix_board: Callable[..., Board]) -> Iterator[tuple[Board, CorruptingProxy]]:
    """The unix board with the library flashed, reached through a corrupting proxy."""
    real = make_unix_board()
    flash(real, progress=False)
    real.transport.close()  # the proxy takes the board's port
    assert real.url is not None
    proxy = CorruptingProxy(real.url)
    proxy.start()
    b = Board(real.profile, port=proxy.path, root=real.root).connect()
    yield b, proxy
    b.close()
    proxy.stop()


def test_end_mark_inside_output_is_link_corruption(
    proxied: tuple[Board, CorruptingProxy],
) -> None:
    b, proxy = proxied
    code = "print('first')\nprint('KTMARK-' + 'b' * 40)\nprint('last')"
    assert b.exec(code) == "first\nKTMARK-" + "b" * 40 + "\nlast\n"
    proxy.arm(b"KTMARK-", offset=5, byte=b"\x04")  # a flipped byte becomes the end mark
    with pytest.raises(LinkCorrupt) as ei:
        b.exec(code)
    assert not isinstance(ei.value, BoardError)
    assert proxy.hits == 1
    assert ei.value.output.startswith("first")
    assert b.exec("print(6 * 7)") == "42\n"  # the next command works


def test_real_board_exception_is_still_a_board_error(
    proxied: tuple[Board, CorruptingProxy],
) -> None:
    b, _ = proxied
    with pytest.raises(BoardError) as ei:
        b.exec("print('x')\nraise ValueError('boom')")
    assert "ValueError: boom" in ei.value.traceback and ei.value.output == "x"


def _scenario_run(b: Board, progress: list[str]) -> list[str]:
    sc = validate.SCENARIOS["hr-10ms-soft"]
    return validate.run_scenario(b, sc, 40, progress.append)


def test_damaged_frame_is_pulled_again(proxied: tuple[Board, CorruptingProxy]) -> None:
    b, proxy = proxied
    proxy.arm(b"KTF 1 ", offset=12, xor=0x20)  # one bit of frame 1: its CRC fails
    progress: list[str] = []
    lines = _scenario_run(b, progress)
    assert proxy.hits == 1
    assert "r" in progress and "R" not in progress  # pulled again, not re-run
    f = validate.evaluate(validate.SCENARIOS["hr-10ms-soft"], lines, {})
    assert f["frame_errors"] == [] and f["lost_records"] == 0
    assert f["samples"] == f["device_samples"] == 40


def test_end_mark_inside_a_dump_reruns_the_scenario(
    proxied: tuple[Board, CorruptingProxy],
) -> None:
    b, proxy = proxied
    proxy.arm(b"KTF 2 ", offset=3, byte=b"\x04")
    progress: list[str] = []
    lines = _scenario_run(b, progress)
    assert proxy.hits == 1 and "R" in progress
    f = validate.evaluate(validate.SCENARIOS["hr-10ms-soft"], lines, {})
    assert f["frame_errors"] == [] and f["samples"] == 40


def test_lasting_corruption_fails_for_link_reasons(
    proxied: tuple[Board, CorruptingProxy], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b, proxy = proxied
    proxy.arm(b"KTF 0 ", offset=12, xor=0x20, times=1000)  # every pull damaged
    out = tmp_path / "v.json"
    args = argparse.Namespace(
        json=str(out), junit=None, plot=None, scenario=["hr-10ms-soft"], samples=40
    )
    rc = validate.main(args, b)
    assert rc != 0
    cap = capsys.readouterr()
    assert "DEVICE ERROR" not in cap.out and "the board raised" not in cap.err
    doc = json.loads(out.read_text())
    assert doc["partial"] is True
    (sc,) = [s for s in doc["scenarios"] if s["name"] == "hr-10ms-soft"]
    assert "LinkCorrupt" in json.dumps(sc) and "re-pull" in json.dumps(sc)
    # bounded: MAX_RUNS runs, MAX_PULLS re-pulls
    assert proxy.hits == validate.MAX_RUNS + validate.MAX_PULLS


# -- the emulated board: real MicroPython raw REPL, QMP reset --------------------------------


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if not FIRMWARE.exists() or shutil.which("qemu-system-arm") is None:
        pytest.fail("emulated board not built: run `make firmware`")
    from ktimers_host.emulator import Emulator

    d = tmp_path_factory.mktemp("emu")
    e = Emulator(FIRMWARE, d / "flash.img", workdir=d)
    e.start()
    yield e
    e.stop()


@pytest.fixture
def emu_board(emu: object) -> Iterator[Board]:
    b = Board("mps2-an385", port=str(emu.pty), root=ROOT).connect()  # type: ignore[attr-defined]
    yield b
    b.close()


def test_unexpected_byte_during_raw_paste_is_link_corruption(emu: object) -> None:
    proxy = CorruptingProxy(str(emu.pty))  # type: ignore[attr-defined]
    proxy.start()
    b = Board("mps2-an385", port=proxy.path, root=ROOT).connect()
    try:
        # the board's first flow-control byte after the raw-paste window, turned into 'Z'
        proxy.arm(b"R\x01", offset=2, byte=b"Z")
        t0 = time.monotonic()
        with pytest.raises(LinkCorrupt, match="raw paste"):
            b.exec("x = 1\n" * 200 + "print(x)")
        assert time.monotonic() - t0 < 2.0
        assert proxy.hits == 1
        assert b.exec("print('again')") == "again\n"
    finally:
        b.close()
        proxy.stop()


def _wait_partial(t: Transport, prefix: bytes, timeout: float = 20.0) -> None:
    """Wait (on the stream, not a clock) until the host holds ``prefix`` of an unfinished line."""
    deadline = time.monotonic() + timeout
    while not t.partial_line.startswith(prefix):
        assert time.monotonic() < deadline, f"no partial line {prefix!r}: {t.partial_line!r}"
        time.sleep(0.005)  # polling an event set by the pump thread


MID_LINE = (
    "import time\nprint('ready')\nprint('%s', end='')\n"
    "while True:\n    time.sleep_ms(1) if hasattr(time, 'sleep_ms') else None\n"
)


@pytest.mark.parametrize(
    "what,partial",
    [("mid-line", "half a line"), ("mid-frame", "KTF 3 16 AAAAAQAAAAEAAAAB")],
)
def test_reset_in_the_middle_of_a_line(
    emu: object, emu_board: Board, what: str, partial: str
) -> None:
    emu_board.start(MID_LINE % partial, timeout=60)
    emu_board.expect("ready", timeout=20)
    _wait_partial(emu_board.transport, partial.encode())
    t0 = time.monotonic()
    emu.qmp("system_reset")  # type: ignore[attr-defined]
    with pytest.raises(BoardReset) as ei:
        emu_board.wait(timeout=10)
    dt = time.monotonic() - t0
    assert dt < 2.0, f"reset {what} seen after {dt:.2f} s"
    assert ei.value.output.splitlines() == ["ready", partial]  # the output so far is kept
    assert emu_board.exec("print('back')", timeout=20) == "back\n"  # the next command works


def test_reset_while_code_is_sent(emu: object, emu_board: Board) -> None:
    t = emu_board.transport
    real = t._write
    fired = threading.Event()
    t0 = [0.0]

    def write(data: bytes) -> None:
        real(data)
        if len(data) > 16 and not fired.is_set():  # the first chunk of code is on its way
            fired.set()
            t0[0] = time.monotonic()
            emu.qmp("system_reset")  # type: ignore[attr-defined]

    t._write = write  # type: ignore[method-assign]
    with pytest.raises(BoardReset):
        emu_board.exec("y = 2\n" * 3000 + "print(y)", timeout=30)
    dt = time.monotonic() - t0[0]
    t._write = real  # type: ignore[method-assign]
    assert fired.is_set() and dt < 2.0, dt
    assert emu_board.exec("print('back')", timeout=20) == "back\n"
