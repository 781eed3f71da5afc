"""Reports of ``ktimers validate`` as people and tools read them: the PNG (a panel per
scenario, tolerance lines, verdicts, outliers clipped), the JSON (every failed check in
``failures``), JUnit (testcase times), cyclictest's ``-h`` histogram, progress lines, exit
codes; and board-reported numbers checked before use (a fake board sends them)."""

from __future__ import annotations

import io
import json
import re
import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from tools.validate_args import validate_args

from ktimers_host import framing, report, validate
from ktimers_host.framing import TimerInfo
from ktimers_host.transport import LinkLost

TOL = {
    "early": 0,
    "hrtimer_soft_max_late_us": 500,
    "hrtimer_soft_p99_late_us": 100,
    "hrtimer_hard_max_late_us": 500,
    "hrtimer_hard_p99_late_us": 100,
    "timer_max_late_jiffies": 3,
    "timer_max_late_us": 20000,
    "periodic_drift_us": 50,
}


def _lines(name: str, late_us: list[int], cs_hz: int = 1_000_000) -> list[str]:
    """A periodic 1 ms hrtimer scenario (1 MHz counter) with the given lateness per expiry,
    or wheel timers one jiffy late."""
    n = len(late_us)
    if name.startswith("wheel"):
        recs = []
        for k in range(n):
            # armed 5 jiffies ahead, run one tick late: 6 tick periods (4000 cycles) later
            t = k * 100_000
            recs += [(1, 0xF040, t, 1000 + k, 995 + k), (2, 0xF040, t + 24_000, 1000 + k, 1001 + k)]
        timers = [TimerInfo(0xF040, "t", 0, 0)]
    else:
        recs = [(6, 0xF010, 5000 + k * 1000 + late_us[k], 5000 + k * 1000, 0) for k in range(n)]
        timers = [TimerInfo(0xF010, "H" if "hard" in name else "h", 1_000_000, 0)]
    lines = framing.encode_dump(0, name, cs_hz, (1 << 30) - 1, 250, recs, timers=timers)
    return [*lines, f"KTV done {name} samples={n} dumps=1 ring=4096"]


class FakeBoard:
    """A test tool standing in for a board: answers each scenario with made-up dumps."""

    def __init__(self, make=None) -> None:
        self.profile = {"name": "fake", "tolerances": TOL}
        self.calls = 0
        self.make = make or (lambda name, k: _lines(name, [20] * 600))

    def exec_stream(self, code: str, timeout: float) -> Iterator[str]:
        name = re.search(r"ktv_\w+\('([^']+)'", code.splitlines()[-1])[1]
        self.calls += 1
        out = self.make(name, self.calls)
        if isinstance(out, BaseException):
            raise out
        yield from out


_args = validate_args


def _failing_half(name: str, k: int) -> list[str]:
    late = [20] * 600
    if k % 2 == 0 and not name.startswith("wheel"):
        late = [700] * 600  # beyond the 500 us max and the 100 us p99
    if k == 3:
        late[100] = 1_280_000  # one 1.28 s outlier
    return _lines(name, late)


def test_json_failures_list_every_failed_check(tmp_path: Path) -> None:
    rc = validate.main(_args(tmp_path), FakeBoard(_failing_half))
    doc = json.loads((tmp_path / "v.json").read_text())
    failed = [r for r in doc["scenarios"] if not r["passed"]]
    assert rc == report.EXIT_FAILED and len(failed) >= 7
    every = [f"{r['name']}: {m}" for r in doc["scenarios"] for m in r["failures"]]
    assert doc["failures"][: len(every)] == every and len(every) >= 2 * 7
    assert "lateness" in doc["definitions"]["min/avg/p99/max"]


def test_junit_testcases_carry_time(tmp_path: Path) -> None:
    validate.main(_args(tmp_path, scenario=["hr-1ms-soft", "wheel"]), FakeBoard())
    cases = list(ET.parse(tmp_path / "v.xml").getroot().iter("testcase"))
    assert [c.get("name") for c in cases] == ["hr-1ms-soft", "wheel"]
    for c in cases:
        assert float(c.get("time")) > 0.0


def test_plot_has_a_panel_per_scenario_and_clips_outliers(tmp_path: Path) -> None:
    import matplotlib.image

    board = FakeBoard(_failing_half)
    validate.main(_args(tmp_path, json=None, junit=None), board)
    doc_path = tmp_path / "v.json"
    validate.main(
        _args(tmp_path, junit=None, plot=str(tmp_path / "v.png")), FakeBoard(_failing_half)
    )
    doc = json.loads(doc_path.read_text())
    # draw again from an in-memory run to see what was drawn
    results = []
    ran = [r["name"] for r in doc["scenarios"]]  # the default list (no soak in real time)
    for k, name in enumerate(ran, 1):
        results.append(validate.evaluate(validate.SCENARIOS[name], _failing_half(name, k), TOL))
    d = report.document({"name": "fake"}, TOL, results, False, None, 1.0)
    drawn = report.write_plot(d, str(tmp_path / "again.png"))
    assert [p["name"] for p in drawn["panels"]] == ran
    assert [p["passed"] for p in drawn["panels"]] == [r["passed"] for r in doc["scenarios"]]
    assert sum(p["clipped"] for p in drawn["panels"]) == 1  # the 1.28 s outlier
    assert all(p["bounds"] >= 1 for p in drawn["panels"])  # tolerance lines drawn
    img = matplotlib.image.imread(tmp_path / "v.png")
    assert img.shape[0] > 500 and img.shape[1] > 1000


def test_cyclictest_histogram_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def make(name: str, k: int) -> list[str]:
        return _lines(name, [3] * 10 + [7] * 5 + [250] * 2)

    hist = tmp_path / "hist.txt"
    validate.main(
        _args(
            tmp_path,
            scenario=["hr-1ms-soft", "hr-1ms-hard", "wheel"],
            histogram=100,
            histfile=str(hist),
        ),
        FakeBoard(make),
    )
    lines = hist.read_text().splitlines()
    assert lines[0] == "# Histogram"
    rows = [ln for ln in lines if not ln.startswith("#")]
    assert len(rows) == 100  # one row per us bucket below -H
    assert all(re.fullmatch(r"\d{6} \d{6}\t\d{6}", r) for r in rows)  # two hrtimer columns
    assert rows[3] == "000003 000010\t000010" and rows[7] == "000007 000005\t000005"
    assert "# Total: 000000017 000000017" in lines
    assert "# Min Latencies: 00003 00003" in lines
    assert "# Max Latencies: 00250 00250" in lines
    assert "# Histogram Overflows: 00002 00002" in lines
    # without a file it goes to stdout, after the summary, as cyclictest prints it
    capsys.readouterr()
    validate.main(_args(tmp_path, scenario=["hr-1ms-soft"], histogram=10), FakeBoard(make))
    assert "\n# Histogram\n000000 000000\n" in capsys.readouterr().out


def test_progress_counts_scenarios_and_estimates_time_left(capsys) -> None:
    assert report.progress(0, ["a", "b", "c", "d"], 0.0) == "validate: [1/4] a"
    assert report.progress(2, ["a", "b", "c", "d"], 10.0) == (
        "validate: [3/4] c (elapsed 10s, ETA 10s)"
    )
    assert report.progress(1, ["a"] * 16, 65.0).endswith("(elapsed 1m05s, ETA 16m15s)")


def test_link_error_and_tolerance_failure_exit_differently(tmp_path: Path) -> None:
    lost = FakeBoard(lambda name, k: LinkLost("pty closed") if k == 2 else _lines(name, [20] * 50))
    names = ["hr-1ms-soft", "hr-10ms-soft", "wheel"]
    assert validate.main(_args(tmp_path, scenario=names), lost) == report.EXIT_LINK
    slow = FakeBoard(lambda name, k: _lines(name, [900] * 50))
    assert validate.main(_args(tmp_path, scenario=names), slow) == report.EXIT_FAILED
    assert report.EXIT_LINK != report.EXIT_FAILED


# -- board-reported numbers are checked before use ----------------------------------------


def test_cs_hz_zero_is_refused_and_the_report_written(tmp_path: Path) -> None:
    def make(name: str, k: int) -> list[str]:
        lines = _lines(name, [20] * 50)
        if k == 1:  # a board reporting a 0 Hz clocksource (a correct checksum)
            body = lines[0].rpartition(" ")[0].replace("cs_hz=1000000", "cs_hz=0")
            lines[0] = f"{body} {framing.checksum('crc32', body)}"
        return lines

    names = ["hr-1ms-soft", "hr-10ms-soft"]
    rc = validate.main(_args(tmp_path, scenario=names), FakeBoard(make))
    doc = json.loads((tmp_path / "v.json").read_text())
    first, second = doc["scenarios"]
    assert rc == report.EXIT_FAILED
    assert not first["passed"] and second["passed"]
    assert any("cs_hz=0 outside" in m for m in first["frame_errors"]), first


def test_huge_frame_count_costs_nothing() -> None:
    lines = _lines("hr-1ms-soft", [20] * 20)
    end = [i for i, ln in enumerate(lines) if ln.startswith("KTE")][0]
    body = lines[end].rpartition(" ")[0].replace("frames=2", "frames=9999999")
    lines[end] = f"{body} {framing.checksum('crc32', body)}"
    tracemalloc.start()
    res = framing.parse_lines(lines)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2_000_000, peak  # was 400 MB
    assert any("9999999 frames claimed for 20 records" in e for e in res.all_errors())


def test_parse_error_after_a_partial_run_still_writes_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = validate.evaluate

    def flaky(sc, lines, tol):
        if sc.name == "hr-10ms-soft":
            raise ValueError("garbage the parser did not expect")
        return real(sc, lines, tol)

    monkeypatch.setattr(validate, "evaluate", flaky)
    names = ["hr-1ms-soft", "hr-10ms-soft", "wheel"]
    rc = validate.main(_args(tmp_path, scenario=names, plot=str(tmp_path / "v.png")), FakeBoard())
    doc = json.loads((tmp_path / "v.json").read_text())
    assert rc == report.EXIT_FAILED
    assert [r["status"] for r in doc["scenarios"]] == ["passed", "error", "passed"]
    assert "garbage the parser did not expect" in doc["scenarios"][1]["failures"][0]
    assert (tmp_path / "v.xml").exists() and (tmp_path / "v.png").exists()
    buf = io.StringIO()
    report.print_summary(doc, buf)
    assert "ERROR" in buf.getvalue()
