"""The wrap soak's evaluation and the deterministic tolerances (host side, synthetic input)."""

from __future__ import annotations

import json
from pathlib import Path

from ktimers_host import framing, validate
from ktimers_host.framing import TimerInfo

ROOT = Path(__file__).resolve().parents[2]
MASK22 = (1 << 22) - 1
GOOD = {
    "cs_bits": 22,
    "cs_wraps": 6,
    "jiffies_wraps": 1,
    "ktime_back": 0,
    "elapsed_ms": 1000,
    "hard_calls": 500,
    "hard_periods": 500,
    "soft_calls": 300,
    "soft_periods": 300,
    "wheel_runs": 80,
    "wheel_ops": 300,
    "overdue": 0,
    "alive": 1,
    "irq_errors": 0,
    "hard_irq": 1,
}


def _kts(**over: int) -> str:
    v = {**GOOD, **over}
    return "KTS soak " + " ".join(f"{k}={v[k]}" for k in validate.SOAK_KEYS) + " checks=ok"


def _lines(wheel_late_cyc: int = 2000, kts: str | None = None) -> list[str]:
    """HARD 2 ms + SOFT 3 ms hrtimers and one wheel timer on a 1 MHz, 22-bit counter that
    wraps during the dump (timestamps are unwrapped record to record)."""
    recs = []
    t = MASK22 - 50_000  # wraps after 50 ms
    for k in range(60):
        exp = (t + k * 2000) & MASK22
        recs.append((6, 0xF060, (exp + 5) & MASK22, exp, 1))
        if k % 3 == 0:
            recs.append((6, 0xF061, (exp + 30) & MASK22, exp, 0))
        if k % 10 == 0:  # wheel: armed for 4 jiffies (16 ms at HZ=250)
            recs.append((1, 0xF070, exp, 1000 + k, 996 + k))
        if k % 10 == 9:
            recs.append((2, 0xF070, (exp + 2 - 18_000 + 16_000 + wheel_late_cyc) & MASK22, 0, 0))
    timers = [
        TimerInfo(0xF060, "H", 2_000_000, 0),
        TimerInfo(0xF061, "h", 6_000_000, 0),
        TimerInfo(0xF070, "t", 0, 0),
    ]
    ln = framing.encode_dump(0, "soak", 1_000_000, MASK22, 250, recs, timers=timers)
    n = sum(1 for r in recs if r[0] in (2, 6))
    return [*ln, kts or _kts(), f"KTV done soak samples={n} dumps=1 ring=6000"]


TOL = {"early": 0, "hrtimer_soft_max_late_us": 500, "hrtimer_soft_p99_late_us": 100}


def test_soak_passes_and_reports_its_counts() -> None:
    f = validate.evaluate(validate.SCENARIOS["soak"], _lines(), TOL)
    assert f["passed"], f["failures"]
    assert f["soak"]["cs_wraps"] == 6 and f["wheel"]["samples"] == 6 and f["wheel"]["early"] == 0
    assert f["early"] == 0 and f["hr_samples"] == 80


def test_soak_sees_an_early_wheel_timer_across_the_wrap() -> None:
    f = validate.evaluate(validate.SCENARIOS["soak"], _lines(wheel_late_cyc=-100), TOL)
    assert f["wheel"]["early"] == 6 and not f["passed"]
    assert any("early" in x for x in f["failures"])


def test_soak_promises_each_fail() -> None:
    for over, text in (
        ({"cs_wraps": 2}, "wrapped 2 times"),
        ({"jiffies_wraps": 0}, "jiffies did not wrap"),
        ({"ktime_back": 1}, "ktime went back"),
        ({"alive": 0}, "stopped firing"),
        ({"overdue": 2}, "lost or overdue"),
        ({"irq_errors": 1}, "IRQ errors"),
        ({"hard_periods": 503}, "3 HARD periods lost"),
    ):
        f = validate.evaluate(validate.SCENARIOS["soak"], _lines(kts=_kts(**over)), TOL)
        assert any(text in x for x in f["failures"]), (over, f["failures"])
    # a board without hard IRQs runs HARD timers in softirq: lost periods are reported only
    f = validate.evaluate(
        validate.SCENARIOS["soak"], _lines(kts=_kts(hard_periods=503, hard_irq=0)), TOL
    )
    assert f["passed"], f["failures"]


def test_soak_line_is_parsed_strictly() -> None:
    assert validate.parse_soak([_kts()], "soak") is not None
    assert validate.parse_soak([_kts().replace("alive=1", "alive=x")], "soak") is None
    assert validate.parse_soak([_kts().replace(" alive=1", "")], "soak") is None
    assert validate.parse_soak([_kts().replace("checks=ok", "checks=eval(1)")], "soak") is None
    f = validate.evaluate(validate.SCENARIOS["soak"], _lines(kts="KTS soak junk"), TOL)
    assert "the device sent no valid KTS soak line" in f["failures"]


def test_deterministic_tolerances_override() -> None:
    prof = json.loads((ROOT / "boards" / "mps2-an385.json").read_text())
    rt = validate.tolerances(prof, False)
    det = validate.tolerances(prof, True)
    assert "deterministic" not in rt and det["deterministic"] is True
    for k, v in prof["tolerances_deterministic"].items():
        assert det[k] == v
        if k in rt and isinstance(v, (int, float)) and k != "min_total_samples":
            assert v <= rt[k], k  # tighter, never looser
