"""flash: incremental, verified, interruption-safe library upload (versioned folders; the
kill-at-every-phase tests are in test_flash_atomic.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ktimers_host import profiles
from ktimers_host.board import Board
from ktimers_host.flash import build_files, flash
from ktimers_host.transport import LinkLost


def test_flash_twice_second_transfers_nothing(unix_board: Board) -> None:
    files = build_files(unix_board.profile)
    first = flash(unix_board, progress=False)
    assert first.checked == len(files) and first.transferred == len(files)
    pointer = len(f'__path__ += "/{first.version}"; ')  # the version pointer in __init__.py
    assert first.bytes == sum(len(v) for v in files.values()) + pointer
    second = flash(unix_board, progress=False)
    assert (second.checked, second.transferred, second.bytes) == (len(files), 0, 0)
    assert unix_board.eval("__import__('ktimers_board').BACKEND") == "unix"
    assert unix_board.eval("__import__('ktimers_board').HZ") == 250
    out = unix_board.exec("import ktimers\nprint(ktimers.__file__)")
    assert out.strip().endswith("lib/ktimers/__init__.py")


def test_one_changed_file_is_the_only_one_sent(unix_board: Board) -> None:
    files = build_files(unix_board.profile)
    flash(unix_board, files, progress=False)
    files["ktimers/trace.py"] += b"\nKT_TEST_MARK = 7\n"
    rep = flash(unix_board, files, progress=False)
    # a new version folder: the changed module sent, the others copied on the board, then
    # the switch (the package's __init__.py names the new folder)
    assert rep.files == [f"lib/ktimers/{rep.version}/trace.py", "lib/ktimers/__init__.py"]
    assert rep.copied == len(files) - 3  # all but trace.py, __init__.py, ktimers_board.py
    assert unix_board.eval("__import__('ktimers.trace').trace.KT_TEST_MARK") == 7


def test_stale_files_are_removed(unix_board: Board) -> None:
    flash(unix_board, progress=False)
    unix_board.transport.write_file("lib/ktimers/stale_shadow.py", b"X = 1\n")
    rep = flash(unix_board, progress=False)
    assert rep.removed == ["lib/ktimers/stale_shadow.py"]
    assert rep.transferred == 0


def test_interrupted_flash_keeps_previous_version(
    unix_board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = build_files(unix_board.profile)
    flash(unix_board, old, progress=False)
    new = dict(old)
    new["ktimers/jiffies.py"] = old["ktimers/jiffies.py"] + b"\nKT_VERSION_MARK = 2\n" * 200
    t = unix_board.transport
    real_write = t.write_file

    def dying_write(path: str, data: bytes, timeout: float = 60.0) -> None:
        if path.endswith("/jiffies.py"):
            real_write(path, data[: len(data) // 2])  # half of it reaches the board...
            raise LinkLost("cable pulled")  # ...then the link dies
        real_write(path, data, timeout)

    monkeypatch.setattr(t, "write_file", dying_write)
    with pytest.raises(LinkLost):
        flash(unix_board, new, progress=False)
    monkeypatch.undo()
    # the old module is intact and importable
    probe = (  # ktimers.jiffies is also the jiffies() function: take the module itself
        "import sys, ktimers.jiffies\nJ = sys.modules['ktimers.jiffies']\n"
        "print(hasattr(J, 'KT_VERSION_MARK'), J.MAX_JIFFY_OFFSET)"
    )
    assert unix_board.exec(probe).split() == ["False", str(0x3FFFFFFE)]
    rep = flash(unix_board, new, progress=False)  # completes the half-written folder
    assert f"lib/ktimers/{rep.version}/jiffies.py" in rep.files
    assert sorted(unix_board.transport.listdir("lib/ktimers")) == ["__init__.py", rep.version]
    assert unix_board.exec(probe).split()[0] == "True"


def test_mps2_files_are_armv7m_mpy(tmp_path: Path) -> None:
    files = build_files(profiles.load("mps2-an385"))
    assert "ktimers/timer.mpy" in files and "ktimers/__init__.mpy" not in files
    # only the package's __init__ stays source: flash prefixes it with the version pointer
    assert [k for k in files if k.startswith("ktimers/") and k.endswith(".py")] == [
        "ktimers/__init__.py"
    ]
    assert all(files[k][:2] == b"M\x06" for k in files if k.endswith(".mpy")), "mpy v6 = 1.25"
    assert b"BACKEND = 'mps2'" in files["ktimers_board.py"]
    # the architecture is recorded when a module holds native code: it must be armv7m
    (tmp_path / "lib" / "ktimers").mkdir(parents=True)
    (tmp_path / "lib" / "ktimers" / "__init__.py").write_text("")
    (tmp_path / "lib" / "ktimers" / "native.py").write_text(
        "import micropython\n@micropython.native\ndef f(x):\n    return x + 1\n"
    )
    native = build_files(profiles.load("mps2-an385"), root=tmp_path)["ktimers/native.mpy"]
    assert native[2] >> 2 == 5, "MP_NATIVE_ARCH_ARMV7M"


def test_flash_emulated_board_twice(emulator_board: Board) -> None:
    first = flash(emulator_board, progress=False)
    second = flash(emulator_board, progress=False)
    assert second.transferred == 0 and second.checked == first.checked
    out = emulator_board.exec("import ktimers_board, ktimers\nprint(ktimers_board.BACKEND)")
    assert out.strip() == "mps2"


def test_cli_flash_report(make_unix_board: Callable[..., Board], capsys: Any) -> None:
    b = make_unix_board()
    rep = flash(b, progress=False)
    assert "transferred" in rep.summary() and rep.hash_alg == "sha256"


def test_flat_layout_of_older_flashes_is_migrated_in_one_switch(unix_board: Board) -> None:
    """Boards flashed before versioned folders hold the package's files flat: the new
    version is built beside them and takes over with the one rename of __init__.py."""
    files = build_files(unix_board.profile)
    t = unix_board.transport
    t.makedirs("lib/ktimers/backends")
    for rel, data in files.items():
        t.write_file("lib/" + rel, data)
    assert unix_board.exec("import ktimers\nprint(ktimers.HZ)") == "250\n"
    rep = flash(unix_board, files, progress=False)
    assert rep.previous == "legacy" and rep.transferred == 1  # only the pointer __init__.py
    assert rep.copied == len(files) - 2
    assert sorted(t.listdir("lib/ktimers")) == ["__init__.py", rep.version]
    out = unix_board.exec("import ktimers, ktimers.timer\nprint(ktimers.timer.__file__)")
    assert f"/lib/ktimers/{rep.version}/timer.py" in out


def test_file_garbled_on_the_way_is_sent_again(
    unix_board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = build_files(unix_board.profile)
    t = unix_board.transport
    real_write = t.write_file
    garbled: list[str] = []

    def flaky_write(path: str, data: bytes, timeout: float = 60.0) -> None:
        if path.endswith("/timer.py") and not garbled:
            garbled.append(path)
            data = data[:100] + bytes([data[100] ^ 0x20]) + data[101:]  # one bit flipped
        real_write(path, data, timeout)

    monkeypatch.setattr(t, "write_file", flaky_write)
    rep = flash(unix_board, files, progress=False)
    assert garbled and rep.transferred == len(files) + 1  # timer.py went twice
    assert unix_board.exec("import ktimers.timer\nprint('ok')") == "ok\n"
