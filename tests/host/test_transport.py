"""Transport against the unix board over its pty (the same code drives serial boards)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ktimers_host.board import Board
from ktimers_host.transport import (
    AmpyTransport,
    BoardError,
    BoardReset,
    LinkTimeout,
    local_hash,
    open_transport,
)


def test_exec_eval_and_raw_paste(unix_board: Board) -> None:
    t = unix_board.transport
    assert t.exec("print('a')\nprint()\nprint('b', end='')") == "a\n\nb\n"
    assert t.eval("[1, 2.5, 'x', None, (3,)]") == [1, 2.5, "x", None, [3]]  # JSON
    assert t.use_raw_paste, "the unix board's raw REPL server offers raw-paste"
    big = "x = %r\nprint(len(x), x[-5:])" % ("0123456789" * 2000)
    assert t.exec(big).split() == ["20000", "56789"]


def test_eval_never_evaluates_board_text(unix_board: Board) -> None:
    # board text is parsed as JSON only: code in a reply stays a string, and a
    # reply that is not JSON is an error, not something run on the host
    assert unix_board.eval("'__import__(\"os\").getcwd()'") == '__import__("os").getcwd()'
    with pytest.raises(Exception, match="JSON|TypeError"):
        unix_board.eval("type(1)")


def test_board_exception_carries_traceback_and_output(unix_board: Board) -> None:
    with pytest.raises(BoardError) as ei:
        unix_board.exec("print('before')\nraise ValueError('boom')")
    assert ei.value.output == "before"
    assert "ValueError: boom" in ei.value.traceback
    assert unix_board.exec("print(40 + 2)") == "42\n"  # still usable


def test_stream_yields_lines_as_they_arrive(unix_board: Board) -> None:
    code = (
        "import time\nprint('first')\nt = time.ticks_ms()\n"
        "while time.ticks_diff(time.ticks_ms(), t) < 700:\n pass\nprint('second')"
    )
    seen: list[tuple[str, float]] = []
    for line in unix_board.exec_stream(code, timeout=10):
        seen.append((line, time.monotonic()))
    assert [s for s, _ in seen] == ["first", "second"]
    assert seen[1][1] - seen[0][1] > 0.4, "first line was held back until the end"


def test_timeout_raises_and_board_recovers(unix_board: Board) -> None:
    t0 = time.monotonic()
    with pytest.raises(LinkTimeout) as ei:
        list(unix_board.exec_stream("print('go')\nwhile True:\n pass", timeout=1.0))
    assert time.monotonic() - t0 < 5
    assert ei.value.output.startswith("go")
    # Ctrl-C reached the board: the next command runs
    assert unix_board.exec("print('alive')", timeout=10) == "alive\n"


def test_files_and_hashes(unix_board: Board) -> None:
    t = unix_board.transport
    data = bytes(range(256)) * 33
    t.write_file("blob.bin", data)
    assert t.read_file("blob.bin") == data
    h = t.hash_files(["blob.bin", "missing.bin"])
    assert h["missing.bin"] is None
    assert h["blob.bin"] == local_hash(data, "sha256")
    t.makedirs("a/b/c")
    t.rename("blob.bin", "a/b/c/blob2.bin")
    assert t.listdir("a/b/c") == ["blob2.bin"]
    t.remove("a/b/c/blob2.bin")
    assert t.listdir("a/b/c") == []


def test_local_hash_fallbacks_match_board_code(unix_board: Board) -> None:
    import binascii

    from ktimers_host.device import call

    assert local_hash(b"abc", "crc32") == "crc32:%08x" % binascii.crc32(b"abc")
    assert local_hash(b"", "fnv1a32") == "fnv1a32:811c9dc5"
    # the board's own fallbacks (fsops._kt_hashes without hashlib, then without binascii)
    data = bytes(range(256)) * 5
    t = unix_board.transport
    t.write_file("fallback.bin", data)
    for hide, alg in (
        ((), "sha256"),
        (("hashlib",), "crc32"),
        (("hashlib", "binascii"), "fnv1a32"),
    ):
        out = t.exec(call("fsops.py", "_kt_hashes", ["fallback.bin", "nofile"], hide)).split()
        assert out == ["fallback.bin", local_hash(data, alg), "nofile", "None"]
    t.remove("fallback.bin")


def test_device_call_sends_one_function_and_deletes_it(unix_board: Board) -> None:
    from ktimers_host.device import call

    prog = call("fsops.py", "_kt_pointer", "nofile")
    assert "def _kt_pointer" in prog and "def _kt_tree" not in prog
    assert unix_board.exec(prog).strip() == "P\t-"
    assert unix_board.eval("'_kt_pointer' in globals()") is False
    with pytest.raises(ValueError, match="no function _kt_nothing"):
        call("fsops.py", "_kt_nothing")


def test_soft_reset_clears_globals(unix_board: Board) -> None:
    unix_board.exec("kept = 1")
    assert unix_board.eval("'kept' in globals()") is True
    unix_board.soft_reset()
    assert unix_board.eval("'kept' in globals()") is False


def test_banner_mid_command_is_board_reset(unix_board: Board) -> None:
    with pytest.raises(BoardReset) as ei:
        unix_board.exec("print('x')\nprint('MPY: soft reboot')\nprint('y')")
    assert ei.value.output == "x"


def test_expect(unix_board: Board) -> None:
    unix_board.start("for i in range(5):\n print('tick', i)\nprint('done')", timeout=10)
    m = unix_board.expect(r"tick (\d)", timeout=5)
    assert m.group(1) == "0"
    assert unix_board.expect("tick 3").group(0) == "tick 3"
    assert unix_board.wait().endswith("done")


def test_expect_keeps_its_deadline_on_a_silent_board(unix_board: Board) -> None:
    code = (
        "import time\nprint('a')\nt = time.ticks_ms()\n"
        "while time.ticks_diff(time.ticks_ms(), t) < 2500:\n pass\nprint('b')"
    )
    unix_board.start(code, timeout=30)
    unix_board.expect("a", timeout=5)
    t0 = time.monotonic()
    with pytest.raises(LinkTimeout) as ei:
        unix_board.expect("b", timeout=0.5)
    assert time.monotonic() - t0 < 1.5
    assert ei.value.output == "a"
    with pytest.raises(RuntimeError, match="still runs"):
        unix_board.exec("print(1)")
    assert unix_board.expect("b", timeout=10).group(0) == "b"
    assert unix_board.wait() == "a\nb"
    assert unix_board.exec("print(2)") == "2\n"


def test_interrupt_ends_started_code(unix_board: Board) -> None:
    unix_board.start("print('spin')\nwhile True:\n pass", timeout=60)
    unix_board.expect("spin")
    unix_board.interrupt()
    assert unix_board.exec("print('free')", timeout=10) == "free\n"


def test_ampy_transport(make_unix_board: Callable[..., Board]) -> None:
    b = make_unix_board(transport="ampy")
    assert isinstance(b.transport, AmpyTransport)
    assert b.exec("print(6 * 7)") == "42\n"
    b.transport.write_file("f.txt", b"hello ampy\n" * 50)
    assert b.transport.read_file("f.txt") == b"hello ampy\n" * 50
    with pytest.raises(BoardError):
        b.exec("1/0")
    assert b.eval("1 + 1") == 2


def test_second_connection_after_close(unix_board: Board) -> None:
    url = unix_board.url
    assert url is not None
    unix_board.transport.close()
    t = open_transport(url)
    try:
        assert t.exec("print('again')") == "again\n"
    finally:
        t.close()


def test_plugin_board_fixture_and_device_script(
    board: Board, run_device_script: Callable[..., str], tmp_path: Path
) -> None:
    """The session board (--board, default unix) runs a real device test script."""
    root = Path(__file__).resolve().parents[2]
    scripts = sorted((root / "tests" / "device").glob("test_k*.py"))
    assert scripts, "no device scripts to run"
    out = run_device_script(scripts[0], timeout=120)
    assert out.rstrip().endswith("KTEST PASS")
    bad = tmp_path / "test_fails.py"
    bad.write_text("print('step 1')\nassert 1 == 2, 'wrong sum'\nprint('KTEST PASS')\n")
    with pytest.raises(pytest.fail.Exception) as ei:
        run_device_script(bad)
    assert "step 1" in str(ei.value) and "AssertionError: wrong sum" in str(ei.value)
    quiet = tmp_path / "test_quiet.py"
    quiet.write_text("print('no pass line')\n")
    with pytest.raises(pytest.fail.Exception, match="did not end with 'KTEST PASS'"):
        run_device_script(quiet)


def test_emulator_kind_starts_and_stops_qemu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kind "emulator": no QEMU running -> Board starts one, close() stops it."""
    import shutil

    from ktimers_host import emulator as emu_mod

    root = Path(__file__).resolve().parents[2]
    fw = root / "build" / "mps2-an385" / "firmware.elf"
    if not fw.exists() or shutil.which("qemu-system-arm") is None:
        pytest.fail("emulated board not built: run `make firmware`")
    img = root / "build" / "mps2-an385" / "flash.img"
    if img.exists():
        shutil.copy(img, tmp_path / "flash.img")

    class PrivateEmulator(emu_mod.Emulator):  # own work dir: never touches a shared instance
        def __init__(
            self,
            firmware: Path,
            flash: Path,
            deterministic: bool = False,
            workdir: Path | None = None,
        ) -> None:
            super().__init__(firmware, tmp_path / "flash.img", deterministic, tmp_path)

        @classmethod
        def find_running(cls, workdir: Path | None = None) -> None:  # type: ignore[override]
            return None

    monkeypatch.setattr(emu_mod, "Emulator", PrivateEmulator)
    b = Board("mps2-an385", root=root).connect()
    try:
        assert b.started_emulator and b.emulator.running
        assert b.eval("__import__('sys').platform") == "qemu"
    finally:
        emu = b.emulator
        b.close()
    assert not emu.running
