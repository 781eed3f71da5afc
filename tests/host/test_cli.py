"""The ``ktimers`` command line, driven in-process (and as a process where the terminal or
a pipe matters) against the unix board, which persists between commands like the
emulator does."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import serial

from ktimers_host import cli, profiles
from ktimers_host.report import EXIT_FAILED, EXIT_LINK, EXIT_SETUP, EXIT_USAGE
from ktimers_host.unixboard import UnixProcess

ROOT = Path(__file__).resolve().parents[2]
KTIMERS = [sys.executable, "-m", "ktimers_host.cli"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _unix_relay() -> UnixProcess:
    prof = profiles.load("unix")
    return UnixProcess(
        ROOT / prof["connect"]["binary"], ROOT / prof["connect"]["fs"], "lib", persistent=True
    )


@pytest.fixture(scope="module", autouse=True)
def _stop_unix_board() -> Iterator[None]:
    """The command line leaves the unix board running (as it leaves the emulator): stop it
    when this module is done, whatever happened."""
    yield
    up = _unix_relay()
    st = up.find_running()
    if st is not None:
        up.relay_pid = int(st["pid"])
        up.stop()


def test_boards_lists_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "boards")
    assert rc == 0
    assert "mps2-an385" in out and "unix" in out and "serial ports" in out
    # real boards carry USB VID:PID, so attached boards are matched
    assert "2e8a:0005" in out  # rp2-pico (MicroPython's own USB id)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"ktimers {cli.__version__}"


def test_flash_then_run_streams_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rc, out, _ = run(capsys, "flash", "--board", "unix", "-q")  # options after the command
    assert rc == 0 and "files checked" in out
    # only the board's own backend (and sim, the simulated-time backend) is on the board;
    # which files move depends on what it held before
    assert "backends/rp2.py" not in out and "backends/esp32.py" not in out
    script = tmp_path / "hello.py"
    script.write_text(
        "import os, ktimers, ktimers_board\n"
        "print(sorted(os.listdir(ktimers.__path__ + '/backends')))\n"
        "print('backend', ktimers_board.BACKEND)\n"
    )
    rc, out, _ = run(capsys, "run", str(script), "--board", "unix", "-q")
    assert rc == 0
    assert out.splitlines()[-2] == "['__init__.py', 'sim.py', 'unix.py']", out
    assert out.splitlines()[-1] == "backend unix"


def test_exec_and_options_anywhere(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "-q", "exec", "--board", "unix", "--no-flash", "print(6 * 7)")
    assert (rc, out) == (0, "42\n")
    rc, out, err = run(capsys, "exec", "--no-flash", "raise ValueError('no')", "--board", "unix")
    assert rc == EXIT_FAILED and "ValueError: no" in err


def test_run_exit_code_on_board_exception(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    script = tmp_path / "bad.py"
    script.write_text("print('partial')\nraise ValueError('bad value')\n")
    rc, out, err = run(capsys, "--board", "unix", "-q", "run", "--no-flash", str(script))
    assert rc == EXIT_FAILED
    assert "partial" in out
    assert "ValueError: bad value" in err and "Traceback" in err


def test_run_missing_script(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "--board", "unix", "run", "/nonexistent/x.py")
    assert rc == EXIT_USAGE and "no such file" in err


def test_run_timeout_is_a_link_error_printed_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    script = tmp_path / "forever.py"
    script.write_text("print('spinning')\nwhile True:\n    pass\n")
    rc, out, err = run(
        capsys, "--board", "unix", "-q", "run", "--no-flash", "--timeout", "1", str(script)
    )
    assert rc == EXIT_LINK
    assert "LinkTimeout" in err
    assert (out + err).count("spinning") == 1, (out, err)
    # the board was interrupted and answers the next command
    rc, out, _ = run(capsys, "--board", "unix", "-q", "exec", "--no-flash", "print('next')")
    assert (rc, out) == (0, "next\n")


def test_dmesg_persists_between_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """Each command is a new host process, but the unix board is one MicroPython process."""
    mark = f"cli-mark-{os.getpid()}-{time.monotonic_ns()}"
    code = f"from ktimers import *\npr_info('{mark}')"
    rc, _, err = run(capsys, "--board", "unix", "-q", "exec", code)
    assert rc == 0, err
    out = subprocess.run(
        [*KTIMERS, "--board", "unix", "dmesg"], capture_output=True, text=True, timeout=60
    ).stdout
    assert mark in out


def test_emulator_stop_names_the_pid(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "--board", "unix", "emulator", "start")
    assert rc == 0 and out.startswith("/dev/pts/")
    rc, out, _ = run(capsys, "--board", "unix", "emulator", "status")
    pid = int(out.split("pid ")[1].split(",")[0])
    rc, out, _ = run(capsys, "--board", "unix", "emulator", "stop")
    assert rc == 0 and out.strip() == f"unix board: stopped pid {pid}"
    rc, out, _ = run(capsys, "--board", "unix", "emulator", "status")
    assert rc == EXIT_FAILED and "not running" in out


def test_broken_pipe_is_quiet() -> None:
    """`ktimers run x | head -1`: no BrokenPipeError traceback."""
    code = "for i in range(20000):\n print('line', i)"
    p = subprocess.Popen(
        [*KTIMERS, "--board", "unix", "-q", "exec", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert p.stdout is not None and p.stderr is not None
    first = p.stdout.readline()
    p.stdout.close()  # the reader goes away, as `head -1` does
    err = p.stderr.read()
    rc = p.wait(60)
    assert first.startswith("line ")
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert rc == 0
    # the loop was stopped (its interrupt, or the next connection's Ctrl-C if the board
    # lost that one): the next command gets its own output only
    after = subprocess.run(
        [*KTIMERS, "--board", "unix", "-q", "exec", "print('after')"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert after.returncode == 0 and after.stdout == "after\n", (after.stdout[-300:], after.stderr)


def test_unknown_board(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "--board", "nosuchboard", "flash")
    assert rc == EXIT_USAGE and "no board profile" in err


def test_wrong_board_is_caught_before_writing(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "--board", "unix", "emulator", "start")
    pty = out.strip()
    board_py = ROOT / "build" / "unix-fs" / "lib" / "ktimers_board.py"
    before = board_py.read_bytes() if board_py.exists() else None
    rc, _, err = run(capsys, "--board", "rp2-pico", "--port", pty, "flash")
    assert rc == EXIT_USAGE, err
    assert "sys.platform 'linux'" in err and "'rp2'" in err and "nothing was written" in err
    after = board_py.read_bytes() if board_py.exists() else None
    assert after == before


def test_missing_device(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "--board", "unix", "--port", "/dev/pts/no-such", "dmesg")
    assert rc == EXIT_LINK and "LinkLost" in err
    assert "no such device /dev/pts/no-such" in err


def test_refused_connection(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc, _, err = run(capsys, "--board", "unix", "--port", f"socket://127.0.0.1:{port}", "dmesg")
    assert rc == EXIT_LINK and f"connection refused by 127.0.0.1:{port}" in err


def test_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "--board", "unix", "emulator", "start")
    pty = out.strip()
    holder = serial.Serial(pty, exclusive=True, timeout=0)  # another session holds it
    try:
        rc, _, err = run(capsys, "--board", "unix", "--port", pty, "dmesg")
    finally:
        holder.close()
    assert rc == EXIT_LINK and f"{pty} is busy" in err, err


def test_profile_port_is_used(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    prof = profiles.load("esp32")
    prof["connect"]["port"] = str(tmp_path / "ttyESP")
    (tmp_path / "esp.json").write_text(json.dumps(prof))
    rc, _, err = run(capsys, "--board", str(tmp_path / "esp.json"), "dmesg")
    assert rc == EXIT_LINK and f"no such device {tmp_path / 'ttyESP'}" in err


def test_firmware_not_built_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    prof = profiles.load("mps2-an385")
    prof["name"] = "no-such-build"
    (tmp_path / "nofw.json").write_text(json.dumps(prof))
    rc, _, err = run(capsys, "--board", str(tmp_path / "nofw.json"), "dmesg")
    assert rc == EXIT_SETUP
    assert err.strip().splitlines() == [
        f"ktimers: emulated board firmware not built: {ROOT}/build/no-such-build/firmware.elf"
        " is missing (run `make firmware`)"
    ]


def test_deterministic_is_never_ignored(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "--board", "unix", "--deterministic", "dmesg")
    assert rc == EXIT_USAGE and "--deterministic needs the emulated board" in err


def test_validate_delegates_with_options(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ktimers_host import validate

    got: dict[str, Any] = {}

    def fake_main(args: Any, board: Any) -> int:
        got["args"], got["board"] = args, board.name
        got["alive"] = board.exec("print('up')")
        return 3

    monkeypatch.setattr(validate, "main", fake_main)
    monkeypatch.chdir(tmp_path)
    rc, _, _ = run(
        capsys,
        "--board",
        "unix",
        "-q",
        "validate",
        "--json",
        str(tmp_path / "new" / "dir" / "r.json"),
        "--junit",
        "j.xml",
        "--plot",
        "p.png",
        "--scenario",
        "a",
        "--scenario",
        "b",
        "--samples",
        "50",
        "-H",
        "200",
    )
    assert rc == 3
    a = got["args"]
    assert (a.json, a.junit, a.plot, a.scenario, a.samples, a.histogram) == (
        str(tmp_path / "new" / "dir" / "r.json"),
        "j.xml",
        "p.png",
        ["a", "b"],
        50,
        200,
    )
    assert got["board"] == "unix" and got["alive"] == "up\n"
    # every output's folder exists before the run; no empty file is left behind
    assert (tmp_path / "new" / "dir").is_dir() and not (
        tmp_path / "new" / "dir" / "r.json"
    ).exists()


def test_unwritable_output_fails_before_the_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ktimers_host import validate

    def must_not_run(args: Any, board: Any) -> int:
        raise AssertionError("validate ran although its output cannot be written")

    monkeypatch.setattr(validate, "main", must_not_run)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    target = "/proc/ktimers/r.json" if os.geteuid() == 0 else str(locked / "r.json")
    try:
        rc, _, err = run(capsys, "--board", "unix", "validate", "--json", target)
    finally:
        locked.chmod(0o700)
    assert rc == EXIT_USAGE and f"--json {target}: cannot write" in err


def test_file_commands_use_mpremote(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """cp/ls/cat/rm are mpremote's own (its output goes to the stdout fd: capfd)."""
    capsys = capfd
    src = tmp_path / "hello_mod.py"
    src.write_text("X = 'from a copied file'\n")
    rc, _, err = run(capsys, "--board", "unix", "-q", "cp", str(src), ":hello_mod.py")
    assert rc == 0, err
    rc, out, _ = run(capsys, "--board", "unix", "ls")
    assert rc == 0 and "hello_mod.py" in out
    rc, out, _ = run(capsys, "--board", "unix", "cat", "hello_mod.py")
    assert out == "X = 'from a copied file'\n"
    rc, out, _ = run(capsys, "--board", "unix", "exec", "--no-flash", "import hello_mod")
    assert rc == 0
    rc, _, _ = run(capsys, "--board", "unix", "-q", "rm", ":hello_mod.py")
    rc, out, _ = run(capsys, "--board", "unix", "ls")
    assert rc == 0 and "hello_mod.py" not in out
    rc, _, err = run(capsys, "--board", "unix", "rm", ":no_such_file.py")
    assert rc == EXIT_FAILED and "No such file" in err


def test_install_makes_the_readme_insmod_true(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "--board", "unix", "-q", "install", "examples/hires_timer.py")
    assert rc == 0, err
    code = (
        "from ktimers import *\nprint(insmod('hires_timer', delay_ns=50_000_000))\n"
        "msleep(200)\nprint(lsmod())\nprint(rmmod('hires_timer'))"
    )
    rc, out, err = run(capsys, "--board", "unix", "exec", "--no-flash", code)
    assert rc == 0, err
    lines = [ln for ln in out.splitlines() if not ln.startswith("[")]  # printk echoes too
    assert lines[0] == "0" and lines[-1] == "0", out  # insmod and rmmod succeeded
    rc, out, _ = run(capsys, "--board", "unix", "dmesg")
    assert "hires_timer: kernel timer expired" in out


def test_flash_romfs_on_a_board_without_one_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rc, _, err = run(capsys, "flash", "--board", "unix", "--romfs", "-q")
    assert rc == EXIT_USAGE, err
    assert "has no ROMFS segment" in err and "unix" in err
