"""The pytest plugin as a user's project sees it: each test here writes a small test
project in a temporary folder and runs pytest on it in a process of its own (the plugin is
loaded from its entry point, as after ``pip install``), then checks the outcome, the
terminal output, the JUnit file and the per-test logs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ktimers_host import cli, profiles, pytest_plugin


def pytest_run(tmp_path: Path, source: str, *args: str, timeout: float = 300) -> tuple[int, str]:
    (tmp_path / "test_user.py").write_text(textwrap.dedent(source))
    p = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py", *args]
        + ([] if "pytest_embedded" in args else ["-p", "no:pytest_embedded"]),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return p.returncode, p.stdout + p.stderr


LEAK = """
    import pytest

    START_LEAK = '''
    from ktimers import *
    def _leak(t):
        print('LEAK from an earlier test')
        hrtimer_forward_now(t, ms_to_ktime(20))
        return HRTIMER_RESTART
    _t = hrtimer()
    hrtimer_setup(_t, _leak, CLOCK_MONOTONIC, HRTIMER_MODE_REL)
    hrtimer_start(_t, ms_to_ktime(20), HRTIMER_MODE_REL)
    '''
    WAIT = "from ktimers import *\\nmsleep(300)\\nprint('waited')"

    def test_1_leaves_a_timer(board):
        board.exec(START_LEAK)

    def test_2_starts_clean(board):
        out = board.exec(WAIT)
        assert out == "waited\\n", out

    def test_3_leaves_a_global(board):
        board.exec("kept = 42")

    @pytest.mark.ktimers_keep_state
    def test_4_opted_out_sees_it(board):
        assert board.exec("print(kept)") == "42\\n"

    def test_5_not_opted_out(board):
        assert board.exec("print('kept' in globals())") == "False\\n"
"""


def test_isolation_between_tests_and_opt_out(tmp_path: Path) -> None:
    rc, out = pytest_run(tmp_path, LEAK, "--ktimers-board", "unix")
    assert rc == 0, out
    assert "5 passed" in out


FAILING = """
    def test_expect_fails(board):
        board.start("print('hello from the board')\\nprint('second line')")
        board.expect("never printed", timeout=2)

    def test_passes(board):
        assert board.exec("print('ok')") == "ok\\n"
"""


def test_failure_shows_board_output_everywhere(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    rc, out = pytest_run(
        tmp_path,
        FAILING,
        "--ktimers-board",
        "unix",
        "--junitxml",
        str(tmp_path / "j.xml"),
        "--ktimers-log-dir",
        str(logs),
    )
    assert rc == 1 and "1 failed, 1 passed" in out, out
    # terminal: a section with the board's output under the failure
    assert "Captured stdout board" in out and "hello from the board" in out, out
    # JUnit: system-out of the failed testcase
    cases = {tc.get("name"): tc for tc in ET.parse(tmp_path / "j.xml").getroot().iter("testcase")}
    sysout = cases["test_expect_fails"].find("system-out")
    assert sysout is not None and "hello from the board" in (sysout.text or "")
    # one log file per test that used a board
    names = sorted(p.name for p in logs.iterdir())
    assert names == ["test_user.py_test_expect_fails.log", "test_user.py_test_passes.log"]
    assert "second line" in (logs / names[0]).read_text()
    assert (logs / names[1]).read_text().strip() == "ok"


EXPECT = """
    import re
    import pytest

    CODE = "for w in ('boot', 'tick 1', 'ERROR: x', 'tick 2', 'ready'):\\n print(w)"

    def test_list_of_patterns(board):
        board.start(CODE)
        m = board.expect([r"tick (\\d)", r"never"])
        assert m.group(1) == "1" and m.re.pattern == r"tick (\\d)"
        board.wait()

    def test_exact_strings(board):
        board.start(CODE)
        m = board.expect_exact(["ERROR: x", "nothing"])  # not a regex: no escaping
        assert m.group(0) == "ERROR: x"
        assert board.expect_exact("ready").group(0) == "ready"
        board.wait()

    def test_not_matching(board):
        board.start(CODE)
        with pytest.raises(AssertionError, match="ERROR"):
            board.expect("ready", not_matching=[r"ERROR: .*"])
        board.wait()
        board.start(CODE)
        assert board.expect("tick 1", not_matching="ERROR").group(0) == "tick 1"
        board.wait()
"""


def test_expect_like_pytest_embedded(tmp_path: Path) -> None:
    rc, out = pytest_run(tmp_path, EXPECT, "--ktimers-board", "unix")
    assert rc == 0 and "3 passed" in out, out


SEVERAL = """
    def test_side_by_side(board, ktimers_boards):
        emu = ktimers_boards("mps2-an385", instance="emu")
        other = ktimers_boards("unix", instance="second")
        assert ktimers_boards("mps2-an385", instance="emu") is emu  # made once
        plat = "import sys\\nprint(sys.platform)"
        assert board.exec(plat) == "linux\\n"
        assert emu.exec(plat) == "qemu\\n"
        board.exec("shared = 1")
        assert other.exec("print('shared' in globals())") == "False\\n"
        # all three run ktimers at once
        code = "import ktimers\\nprint(ktimers.jiffies() > 0)"
        assert [b.exec(code) for b in (board, emu, other)] == ["True\\n"] * 3
"""


def test_several_boards_in_one_session(tmp_path: Path) -> None:
    rc, out = pytest_run(tmp_path, SEVERAL, "--ktimers-board", "unix", timeout=600)
    assert rc == 0 and "1 passed" in out, out


COEXIST = """
    from ktimers_host import profiles, pytest_plugin

    def test_both_plugins(request, board):
        cfg = request.config
        assert cfg.pluginmanager.has_plugin("pytest_embedded")
        assert cfg.getoption("port") == "/dev/pytest-embedded-port"  # pytest-embedded's
        assert cfg.getoption("ktimers_port") is None
        assert board.exec("print(7)") == "7\\n"

    def test_default_board_is_the_command_lines(request):
        assert pytest_plugin.default_board(request.config) == profiles.DEFAULT_BOARD
"""


def test_installs_beside_pytest_embedded(tmp_path: Path) -> None:
    """Both plugins in one session: no option clash (pytest-embedded owns --port)."""
    try:
        import pytest_embedded  # noqa: F401
    except ImportError:
        pytest.fail("pytest-embedded is missing: `pip install -e '.[dev]'` (make setup)")
    (tmp_path / "conftest.py").write_text("")
    rc, out = pytest_run(
        tmp_path,
        COEXIST,
        "-p",
        "pytest_embedded",
        "--port",
        "/dev/pytest-embedded-port",
        "--board",
        "unix",
        "-k",
        "both_plugins",
    )
    assert rc == 0 and "1 passed" in out, out
    rc, out = pytest_run(tmp_path, COEXIST, "-p", "pytest_embedded", "-k", "default_board")
    assert rc == 0 and "1 passed" in out, out
    rc, out = pytest_run(tmp_path, COEXIST, "-p", "pytest_embedded", "--help")
    assert "--ktimers-board" in out and "--ktimers-port" in out and "--port" in out


def test_one_default_board() -> None:
    ap = cli.parser()
    assert ap.parse_args(["boards"]).board == profiles.DEFAULT_BOARD
    assert pytest_plugin.__doc__ and "command line's default board" in pytest_plugin.__doc__
