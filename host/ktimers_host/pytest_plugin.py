"""pytest plugin (entry point ``pytest11: ktimers``): boards under test, pytest-embedded style.

Options (namespaced, so the plugin installs beside pytest-embedded, which owns ``--port``):
``--ktimers-board NAME`` (alias ``--board``; default: the ini key ``ktimers_board``, else the
command line's default board, ``KTIMERS_BOARD`` or mps2-an385), ``--ktimers-port URL``,
``--ktimers-transport mpremote|ampy``, ``--ktimers-log-dir DIR`` (per-test board logs).

Fixtures:

* ``board``: the session's board, connected once, its platform checked, the library
  flashed once. ``board.exec``, ``board.exec_stream``, ``board.run_script``,
  ``board.start`` + ``board.expect(pattern | [patterns], timeout, not_matching=...)`` /
  ``board.expect_exact(text | [texts])`` + ``board.wait()``.
* ``ktimers_boards``: factory for more boards in the same session,
  ``ktimers_boards("unix")``, ``ktimers_boards("mps2-an385", instance="b")`` (an emulator of
  its own), ``ktimers_boards("esp32", port="/dev/ttyUSB0")``; each made once per session.
* ``run_device_script``: run a MicroPython test script; fail with the board's output unless
  it ends with ``KTEST PASS``.

Between tests every board in use is soft-reset (timers stopped, modules forgotten), so a
timer left running by one test cannot print into the next; mark a test
``@pytest.mark.ktimers_keep_state`` to keep the previous test's state. A failing test shows
the board's output (section "Captured stdout board": in the terminal and, as system-out,
in ``--junitxml``), and every test using a board leaves ``<log dir>/<test>.log``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from . import profiles
from .board import Board
from .romfs import install
from .transport import BoardError, LinkError

PASS_MARK = "KTEST PASS"
KEEP_MARK = "ktimers_keep_state"
_BOARDS_KEY = pytest.StashKey[dict]()
_USED_KEY = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("ktimers", "ktimers board under test")
    try:
        g.addoption(
            "--ktimers-board",
            "--board",
            dest="ktimers_board",
            default=None,
            help=f"board profile (boards/NAME.json); default {profiles.DEFAULT_BOARD}",
        )
    except ValueError:  # another plugin owns --board: keep the namespaced name only
        g.addoption("--ktimers-board", dest="ktimers_board", default=None)
    g.addoption(
        "--ktimers-port", dest="ktimers_port", default=None, help="serial device or pyserial URL"
    )
    g.addoption(
        "--ktimers-transport",
        dest="ktimers_transport",
        default="mpremote",
        choices=["mpremote", "ampy"],
        help="host transport library",
    )
    g.addoption(
        "--ktimers-log-dir",
        dest="ktimers_log_dir",
        default=None,
        help="folder for per-test board logs (default: <basetemp>/ktimers-logs)",
    )
    parser.addini("ktimers_board", "default board profile of the ktimers plugin", default="")
    parser.addini(
        "ktimers_junit_output",
        "put captured output (with the board's) in --junitxml's system-out when"
        " junit_logging is 'no' (default true)",
        default="true",
    )


def default_board(config: pytest.Config) -> str:
    """--ktimers-board, else the ini key ``ktimers_board``, else the command line's default."""
    return (
        config.getoption("ktimers_board")
        or str(config.getini("ktimers_board") or "")
        or profiles.DEFAULT_BOARD
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "board(name): run only when the session's board is NAME")
    config.addinivalue_line(
        "markers", f"{KEEP_MARK}: do not soft-reset the boards before this test"
    )
    config.stash[_BOARDS_KEY] = {}


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # board output in JUnit's system-out (junit_logging 'no' becomes 'system-out'; the ini
    # key ktimers_junit_output = false keeps pytest's default)
    config = session.config
    with contextlib.suppress(ImportError, AttributeError, KeyError):
        from _pytest.junitxml import xml_key

        xml = config.stash.get(xml_key, None)
        wanted = str(config.getini("ktimers_junit_output")).lower() not in ("0", "false", "no")
        if xml is not None and xml.logging == "no" and wanted:
            xml.logging = "system-out"


def pytest_runtest_setup(item: pytest.Item) -> None:
    want = [m.args[0] for m in item.iter_markers("board") if m.args]
    if want and default_board(item.config) not in want:
        pytest.skip(f"needs --ktimers-board {' or '.join(want)}")


def _log_dir(config: pytest.Config) -> Path:
    d = config.getoption("ktimers_log_dir")
    if d:
        return Path(d)
    return Path(config._tmp_path_factory.getbasetemp()) / "ktimers-logs"  # type: ignore[attr-defined]


def _make_board(
    config: pytest.Config,
    tmp_factory: pytest.TempPathFactory,
    name: str,
    port: str | None,
    instance: str | None,
    transport: str | None,
) -> Board:
    workdir = tmp_factory.mktemp(f"{name}-{instance}") if instance else None
    b = Board(
        name,
        port=port,
        transport=transport or config.getoption("ktimers_transport"),
        workdir=workdir,
    )
    try:
        b.connect()
        b.check_platform()
        install(b, progress=False)  # where the board keeps it: ROMFS or filesystem
    except (LinkError, RuntimeError, OSError) as e:
        b.close()
        pytest.fail(f"board {name}: cannot connect/flash: {type(e).__name__}: {e}", pytrace=False)
    return b


@pytest.fixture(scope="session")
def ktimers_boards(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Board]]:
    """``ktimers_boards(name=None, port=None, instance=None, transport=None) -> Board``:
    a connected, flashed board, made once per session per (name, port, instance).
    ``instance`` gives an emulated or unix board its own process and folder."""
    config = request.config
    made: dict[tuple[str, str | None, str | None], Board] = config.stash[_BOARDS_KEY]

    def get(
        name: str | None = None,
        port: str | None = None,
        instance: str | None = None,
        transport: str | None = None,
    ) -> Board:
        name = name or default_board(config)
        key = (name, port, instance)
        if key not in made:
            made[key] = _make_board(config, tmp_path_factory, name, port, instance, transport)
        b = made[key]
        used = config.stash.get(_USED_KEY, None)
        if used is not None and b not in used:
            used.append(b)
        return b

    yield get
    for b in made.values():
        with contextlib.suppress(Exception):
            b.close()
    made.clear()


@pytest.fixture(scope="session")
def board(request: pytest.FixtureRequest, ktimers_boards: Callable[..., Board]) -> Board:
    cfg = request.config
    return ktimers_boards(default_board(cfg), cfg.getoption("ktimers_port"))


@pytest.fixture(autouse=True)
def _ktimers_isolation(request: pytest.FixtureRequest) -> Iterator[None]:
    """Soft-reset the session's boards before each test that uses one (unless marked
    ``ktimers_keep_state``), and collect their output for the report and the log file."""
    config = request.config
    uses = {"board", "ktimers_boards", "run_device_script"} & set(request.fixturenames)
    if not uses:
        yield
        return
    used: list[Board] = []
    config.stash[_USED_KEY] = used
    keep = request.node.get_closest_marker(KEEP_MARK) is not None
    for b in config.stash[_BOARDS_KEY].values():
        b.log.clear()
        if not keep and b.t is not None:
            with contextlib.suppress(LinkError, BoardError, RuntimeError):
                if b._pump is not None and b._pump.is_alive():
                    b.interrupt()
                b.soft_reset()
            b.log.clear()
    # boards the test asks for (made now or earlier) are added as it requests them; a
    # project's own fixture called "board" (not a ktimers Board) is left alone
    if "board" in uses:
        b = request.getfixturevalue("board")
        if isinstance(b, Board) and b not in used:
            used.append(b)
    yield
    del config.stash[_USED_KEY]
    text = _board_output(used)
    request.node.stash[_OUTPUT_KEY] = text
    path = _log_dir(config) / (re.sub(r"[^\w.-]+", "_", request.node.nodeid) + ".log")
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


_OUTPUT_KEY = pytest.StashKey[str]()


def _board_output(boards: list[Board]) -> str:
    parts = []
    for b in boards:
        body = b.output_log()
        parts.append(f"== board {b.name} on {b.url}\n{body}\n" if len(boards) > 1 else body)
    return "\n".join(parts)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    # before the report is made: a report section of the item reaches the terminal
    # ("Captured stdout board call") and JUnit's system-out (teardown's report carries it)
    failed = call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception)
    used = item.config.stash.get(_USED_KEY, None)
    if call.when == "call" and failed and used:
        text = _board_output(used)
        if text.strip():
            item.add_report_section("call", "stdout board", text + "\n")
    yield


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
