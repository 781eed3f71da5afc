"""A link no board can hang (issue 9, security; transport part): timeouts hold while data
keeps arriving, memory stays bounded for endless output and for one endless line, and
flash cleanup never leaves the library's folder.  The misbehaving board is a fake on a pty
(tests/tools/fake_board.py, a test tool)."""

from __future__ import annotations

import os
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tools.fake_board import FakeBoard

from ktimers_host import cli, validate
from ktimers_host.board import Board
from ktimers_host.flash import inside
from ktimers_host.transport import MAX_LINE, LinkTimeout, open_transport

HANG_GUARD_S = 30.0  # a test that is still running after this has hung: fail it


@pytest.fixture
def fake() -> Iterator[FakeBoard]:
    f = FakeBoard()
    f.start()
    yield f
    f.stop()


def bounded(fn: Callable[[], Any], fake: FakeBoard) -> tuple[Any, float]:
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it does not end."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["ret"] = fn()
        except BaseException as e:  # handed to the test
            box["err"] = e

    t0 = time.monotonic()
    th = threading.Thread(target=run, daemon=True)
    th.start()
    th.join(HANG_GUARD_S)
    if th.is_alive():
        fake.stop()  # end the flood so the thread can finish
        pytest.fail(f"still running after {HANG_GUARD_S} s while the board kept sending")
    dt = time.monotonic() - t0
    if "err" in box:
        raise box["err"]
    return box.get("ret"), dt


def test_timeout_holds_while_data_keeps_arriving(fake: FakeBoard) -> None:
    t = open_transport(fake.path)
    # a small cap: the fake must flood past 4 caps within the 2 s timeout even on a busy host
    # (at 64 KB it once sent 262140 bytes of the 262144 needed under a CPU burner)
    t.output_cap = 16 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(LinkTimeout) as ei:
            bounded(lambda: list(t.exec_stream("ENDLESS_LINES", timeout=2.0)), fake)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    sent = fake.sent
    assert sent > 4 * t.output_cap, f"the fake sent only {sent} bytes"
    assert "no end of output after 2." in str(ei.value)
    # memory: the output kept in memory stops at the cap, the rest is in a spill file
    assert t.last_spill and os.path.getsize(t.last_spill) > t.output_cap
    assert f"more lines in {t.last_spill}" in ei.value.output
    assert len(ei.value.output) < t.output_cap + 4096
    assert peak < 32 * 1024 * 1024, f"host held {peak} bytes"
    os.unlink(t.last_spill)
    assert t.exec("print('ok')") == "ok\n"  # Ctrl-C stopped the flood; the link works
    t.close()


def test_one_endless_line_is_bounded(fake: FakeBoard) -> None:
    t = open_transport(fake.path)
    t.output_cap = 64 * 1024
    pieces: list[int] = []
    tracemalloc.start()
    try:

        def consume() -> None:
            for line in t.exec_stream("ENDLESS_LINE", timeout=None, idle_timeout=1.5):
                pieces.append(len(line))

        with pytest.raises(LinkTimeout, match="no new line"):
            bounded(consume, fake)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fake.sent > 4 * MAX_LINE
    assert pieces and max(pieces) <= MAX_LINE  # passed on in bounded pieces
    assert peak < 32 * 1024 * 1024, f"host held {peak} bytes"
    if t.last_spill:
        os.unlink(t.last_spill)
    t.close()


def test_validate_scenario_times_out_on_a_flooding_board(
    fake: FakeBoard, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validate, "EXEC_SLACK_S", 1.0)
    sc = validate.Scenario("hr-1ms-soft", "periodic", iv_ns=1_000_000, max_ms=100)
    b = Board("mps2-an385", port=fake.path).connect()
    code = sc.program(10)
    monkeypatch.setattr(validate.Scenario, "program", lambda self, n: code + "\n#ENDLESS_LINES")
    try:
        with pytest.raises(LinkTimeout):
            _, dt = bounded(lambda: validate.run_scenario(b, sc, 10), fake)
    finally:
        b.close()


def test_cli_run_timeout_on_a_flooding_board(
    fake: FakeBoard, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "flood.py"
    script.write_text("# ENDLESS_LINES\n")
    argv = ["--port", fake.path, "-q", "run", "--no-flash", "--timeout", "2", str(script)]
    rc, dt = bounded(lambda: cli.main(argv), fake)
    assert rc != 0 and dt < 10
    err = capfd.readouterr().err
    assert "LinkTimeout" in err and "no end of output" in err


def test_cli_run_has_a_default_idle_timeout() -> None:
    args = cli.parser().parse_args(["run", "x.py"])
    assert args.idle_timeout == cli.RUN_IDLE_TIMEOUT_S > 0
    args = cli.parser().parse_args(["run", "--idle-timeout", "0", "x.py"])
    assert args.idle_timeout == 0


@pytest.mark.parametrize(
    "path,ok",
    [
        ("/lib/ktimers/v-0123456789/timer.mpy", True),
        ("/lib/ktimers/./timer.mpy", True),
        ("/lib/ktimers/../../boot.py", False),
        ("/lib/ktimers/v-1/../../main.py", False),
        ("/lib/ktimers", False),
        ("/lib/ktimersX/a.py", False),
        ("lib/ktimers/a.py", False),  # relative where the root is absolute
        ("/lib/ktimers/a\x00.py", False),
    ],
)
def test_flash_cleanup_paths_stay_inside(path: str, ok: bool) -> None:
    assert (inside(path, "/lib/ktimers") is not None) == ok


def test_flash_refuses_a_hostile_listing(
    unix_board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ktimers_host import flash as flash_mod

    flash_mod.flash(unix_board, progress=False)
    (Path(unix_board.process.fs_dir) / "boot.py").write_text("# the user's\n")  # type: ignore[union-attr]
    hostile = (
        "print('F\\tlib/ktimers/../../boot.py')\nprint('F\\tlib/ktimers/../ktimers_board.py')\n"
        "print('D\\tlib/ktimers/..')\nprint('F\\tlib/ktimers/stray.py')"
    )
    real_call = flash_mod.call
    monkeypatch.setattr(
        flash_mod, "call", lambda f, fn, *a: hostile if fn == "_kt_tree" else real_call(f, fn, *a)
    )
    unix_board.transport.write_file("lib/ktimers/stray.py", b"X = 1\n")
    rep = flash_mod.flash(unix_board, progress=False)
    assert rep.removed == ["lib/ktimers/stray.py"]
    assert len(rep.refused) == 3
    assert (Path(unix_board.process.fs_dir) / "boot.py").exists()  # type: ignore[union-attr]
    assert unix_board.eval("__import__('ktimers_board').BACKEND") == "unix"
