"""pytest plugin (entry point ``pytest11: ktimers``): a session-wide connected board.

Options: ``--board NAME`` (default ``unix``), ``--port URL``, ``--ktimers-transport``.
Fixtures: ``board`` (connected once, library flashed once; ``board.exec``,
``board.exec_stream``, ``board.run_script``, ``board.start``/``expect``/``wait``) and
``run_device_script`` (run a MicroPython test script on the board; fail with the board's
output unless it ends with ``KTEST PASS``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .board import Board
from .flash import flash
from .transport import BoardError, LinkError

PASS_MARK = "KTEST PASS"


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("ktimers", "ktimers board under test")
    g.addoption("--board", default="unix", help="board profile (boards/NAME.json), default unix")
    g.addoption("--port", default=None, help="serial device or pyserial URL of the board")
    g.addoption(
        "--ktimers-transport",
        default="mpremote",
        choices=["mpremote", "ampy"],
        help="host transport library",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "board(name): run only when --board is NAME")


def pytest_runtest_setup(item: pytest.Item) -> None:
    want = [m.args[0] for m in item.iter_markers("board") if m.args]
    if want and item.config.getoption("--board") not in want:
        pytest.skip(f"needs --board {' or '.join(want)}")


@pytest.fixture(scope="session")
def board(request: pytest.FixtureRequest) -> Iterator[Board]:
    cfg = request.config
    b = Board(
        cfg.getoption("--board"),
        port=cfg.getoption("--port"),
        transport=cfg.getoption("--ktimers-transport"),
    )
    try:
        b.connect()
        flash(b, progress=False)
    except (LinkError, FileNotFoundError, RuntimeError) as e:
        b.close()
        pytest.fail(f"board {b.name}: cannot connect/flash: {e}", pytrace=False)
    yield b
    b.close()


def check_device_output(name: str, board: Board, out: str) -> None:
    if out.rstrip().endswith(PASS_MARK):
        return
    pytest.fail(
        f"{name} on {board.name} did not end with {PASS_MARK!r}; board output:\n{out}",
        pytrace=False,
    )


@pytest.fixture
def run_device_script(board: Board) -> Callable[..., str]:
    """``run_device_script(path, timeout=120, soft_reset=True) -> output``.

    A helper module ``ktest.py`` next to the script is put in the board's lib dir
    first, so device scripts can share assertions (``from ktest import eq``)."""
    sent: set[Path] = set()

    def run(path: str | Path, timeout: float = 120.0, soft_reset: bool = True) -> str:
        path = Path(path)
        helper = path.with_name("ktest.py")
        if helper.is_file() and helper not in sent:
            board.transport.write_file(board.lib_dir + "/ktest.py", helper.read_bytes())
            sent.add(helper)
        try:
            if soft_reset:
                board.soft_reset()
            out = board.run_script(path, timeout=timeout)
        except BoardError as e:
            pytest.fail(
                f"{path.name} raised on {board.name}:\n{e.output}\n{e.traceback}", pytrace=False
            )
        except LinkError as e:
            pytest.fail(
                f"{path.name}: link failure on {board.name}: {type(e).__name__}: {e}\n"
                f"output so far:\n{e.output}",
                pytrace=False,
            )
        check_device_output(path.name, board, out)
        return out

    return run
