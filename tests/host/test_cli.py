"""The ``ktimers`` command line, driven in-process against the unix board."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ktimers_host import cli


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_boards_lists_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "boards")
    assert rc == 0
    assert "mps2-an385" in out and "unix" in out and "serial ports" in out


def test_flash_then_run_streams_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rc, out, _ = run(capsys, "--board", "unix", "-q", "flash")
    assert rc == 0 and "files checked" in out
    script = tmp_path / "hello.py"
    script.write_text("import ktimers, ktimers_board\nprint('backend', ktimers_board.BACKEND)\n")
    rc, out, _ = run(capsys, "--board", "unix", "-q", "run", str(script))
    assert rc == 0
    assert out.splitlines()[-1] == "backend unix"


def test_run_exit_code_on_board_exception(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    script = tmp_path / "bad.py"
    script.write_text("print('partial')\nraise ValueError('bad value')\n")
    rc, out, err = run(capsys, "--board", "unix", "-q", "run", "--no-flash", str(script))
    assert rc == 1
    assert "partial" in out
    assert "ValueError: bad value" in err and "Traceback" in err


def test_run_missing_script(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "--board", "unix", "run", "/nonexistent/x.py")
    assert rc == 2 and "no such file" in err


def test_run_timeout_is_a_link_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    script = tmp_path / "forever.py"
    script.write_text("print('spinning')\nwhile True:\n    pass\n")
    rc, out, err = run(
        capsys, "--board", "unix", "-q", "run", "--no-flash", "--timeout", "1", str(script)
    )
    assert rc == 2
    assert "LinkTimeout" in err and "spinning" in out


def test_dmesg(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "--board", "unix", "-q", "dmesg")
    assert rc == 0, err


def test_unknown_board(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "--board", "nosuchboard", "flash")
    assert rc == 2 and "no board profile" in err


def test_bad_port_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "--board", "unix", "--port", "/dev/pts/no-such", "dmesg")
    assert rc == 2 and "LinkLost" in err


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
    rc, _, _ = run(
        capsys,
        "--board",
        "unix",
        "-q",
        "validate",
        "--json",
        str(tmp_path / "r.json"),
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
    )
    assert rc == 3
    a = got["args"]
    assert (a.json, a.junit, a.plot, a.scenario, a.samples) == (
        str(tmp_path / "r.json"),
        "j.xml",
        "p.png",
        ["a", "b"],
        50,
    )
    assert got["board"] == "unix" and got["alive"] == "up\n"


def test_emulator_status_reports(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "emulator", "status")
    assert (rc, "not running") == (1, out.split(": ", 1)[1].strip()) or (
        rc == 0 and "/dev/pts/" in out
    )
