"""The command line against the emulated board it starts itself (build/mps2-an385):
--deterministic honoured or refused with the reason, `emulator stop` naming its pid, and
mpremote's mount so a script imports its siblings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ktimers_host import cli
from ktimers_host.emulator import Emulator
from ktimers_host.report import EXIT_USAGE

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "mps2-an385"


def run(cap: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out, err = cap.readouterr()
    return rc, out, err


@pytest.fixture(scope="module", autouse=True)
def _no_emulator_left() -> Iterator[None]:
    if not (BUILD / "firmware.elf").exists():
        pytest.fail("emulated board not built: run `make firmware`")
    yield
    emu = Emulator.find_running(BUILD)
    if emu is not None:
        emu.stop()


def test_deterministic_is_honoured_or_refused(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "emulator", "stop")
    rc, out, _ = run(capsys, "emulator", "start")
    assert rc == 0 and out.strip().startswith("/dev/pts/")
    # a real-time emulator runs: --deterministic is refused, with the reason and the fix
    rc, _, err = run(capsys, "--deterministic", "exec", "--no-flash", "print(1)")
    assert rc == EXIT_USAGE
    assert "is real-time, deterministic was asked for" in err
    assert "ktimers emulator restart --deterministic" in err
    rc, _, err = run(capsys, "emulator", "start", "--deterministic")
    assert rc == EXIT_USAGE and "running real-time" in err
    # ... or the emulator is restarted in the mode asked for
    rc, out, err = run(capsys, "exec", "--no-flash", "print(6 * 7)", "--deterministic", "--restart")
    assert (rc, out) == (0, "42\n"), err
    rc, out, _ = run(capsys, "emulator", "status")
    assert rc == 0 and out.strip().endswith("deterministic")
    pid = int(out.split("pid ")[1].split(",")[0])
    # not asking for a mode uses the running emulator as it is
    rc, out, err = run(capsys, "exec", "--no-flash", "print('as it runs')")
    assert (rc, out) == (0, "as it runs\n"), err
    rc, out, _ = run(capsys, "emulator", "stop")
    assert (rc, out.strip()) == (0, f"emulator: stopped pid {pid}")


def test_mount_lets_a_script_import_its_siblings(
    capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "helper.py").write_text("GREETING = 'hello from a sibling'\n")
    (tmp_path / "main.py").write_text("import helper\nprint(helper.GREETING)\n")
    rc, out, err = run(capfd, "mount", str(tmp_path), "main.py")
    assert rc == 0, err
    assert out.splitlines()[-1] == "hello from a sibling"
    (tmp_path / "bad.py").write_text("import helper\nraise ValueError(helper.GREETING)\n")
    rc, out, _ = run(capfd, "mount", str(tmp_path), "bad.py")
    assert rc == 1 and "ValueError: hello from a sibling" in out
    # the board answers ktimers' own commands afterwards (the mount is gone)
    rc, out, _ = run(capfd, "exec", "--no-flash", "import os\nprint(os.getcwd())")
    assert rc == 0 and out.strip() == "/"
