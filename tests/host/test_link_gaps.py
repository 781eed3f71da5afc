"""Gaps cannot produce wrong figures: a dump with frames lost on the link is analysed from
complete pairs only, and the scenario says how much it lost (issue 11, break 4).

The record sequences are built here with known answers: every wheel timer fires inside its
bucket (excess <= 0) and every periodic hrtimer fires on time, so any "late beyond its
bucket" or "missed period" figure after dropping a frame comes from pairing across the gap.
"""

from __future__ import annotations

import heapq

from ktimers_host import framing, stats
from ktimers_host.framing import TimerInfo

MASK30 = (1 << 30) - 1
HZ = 250
PER_FRAME = 16


def wheel_records() -> tuple[list[framing.Record], list[TimerInfo]]:
    """6 timer_list timers as the wheel scenario runs them: each callback re-arms its timer
    (ENTRY, START, EXIT), alternately short (4..9 jiffies, level 0: fires on time) and long
    (600..900, level 2: fires up to 63 jiffies late, inside its bucket)."""
    timers = [TimerInfo(i, "t", 0, 0) for i in range(1, 7)]
    recs: list[framing.Record] = []
    queue: list[tuple[int, int, int, int]] = []  # (fire, tid, expires, arm count)

    def arm(tid: int, now: int, n: int) -> None:
        delta = 3 + tid if (n + tid) % 2 == 0 else 600 + 37 * tid + 13 * (n % 5)
        g = 1 << (3 * stats.wheel_level(delta, HZ))
        exp = now + delta
        recs.append((stats.TIMER_START, tid, now * 4000, exp & MASK30, now & MASK30))
        heapq.heappush(queue, (-(-exp // g) * g, tid, exp, n))  # fires at its bucket

    for tid in range(1, 7):
        arm(tid, 1000, 0)
    while len(recs) < 600:
        fire, tid, exp, n = heapq.heappop(queue)
        recs.append((stats.TIMER_ENTRY, tid, fire * 4000, exp & MASK30, fire & MASK30))
        arm(tid, fire, n + 1)
        recs.append((stats.TIMER_EXIT, tid, fire * 4000 + 9, 0, 0))
    return recs, timers


def drop_frame(lines: list[str], k: int) -> list[str]:
    frames = [i for i, ln in enumerate(lines) if ln.startswith("KTF ")]
    return [ln for i, ln in enumerate(lines) if i != frames[k]]


def test_wheel_figures_never_pair_across_a_lost_frame() -> None:
    recs, timers = wheel_records()
    lines = framing.encode_dump(0, "wheel", 1_000_000, MASK30, HZ, recs, timers=timers)
    full = stats.analyze("wheel", framing.parse_lines(lines).dumps)
    assert full.figures["late_excess_max"] <= 0  # the truth: every timer in its bucket
    nframes = sum(ln.startswith("KTF ") for ln in lines)
    assert nframes > 10
    for k in range(1, nframes - 1):
        parsed = framing.parse_lines(drop_frame(lines, k))
        (d,) = parsed.dumps
        assert d.lost_frames == 1 and d.lost_records > 0 and d.gaps
        f = stats.analyze("wheel", parsed.dumps).figures
        assert f["late_excess_max"] <= 0, f"frame {k} lost: false excess {f['late_excess_max']}"
        assert (f["lost_frames"], f["gaps"]) == (1, 1)
        assert f["lost_records"] == d.lost_records
        assert f["samples"] < full.figures["samples"]
        # every level's figures come from pairs whose START and ENTRY both arrived
        for lvl, v in f["levels"].items():
            if lvl != "-1":
                assert v["max"] < v["granularity_us"], (k, lvl, v)


def test_periodic_drift_and_missed_periods_ignore_a_gap() -> None:
    iv = 1000  # cycles at 1 MHz = 1 ms
    t = TimerInfo(0xF010, "h", iv * 1000, 0)
    recs: list[framing.Record] = []
    soft = 5000
    for _ in range(200):
        recs.append((stats.HR_ENTRY, t.id, soft + 3, soft, 0))
        recs.append((stats.HR_EXIT, t.id, soft + 5, 1, 0))
        soft += iv
    lines = framing.encode_dump(0, "hr", 1_000_000, MASK30, HZ, recs, timers=[t])
    full = stats.analyze("hr", framing.parse_lines(lines).dumps).figures
    assert (full["missed_periods"], full["drift_max_us"], full["lost_records"]) == (0, 0, 0)
    for k in (3, 10, 20):
        f = stats.analyze("hr", framing.parse_lines(drop_frame(lines, k)).dumps).figures
        assert f["missed_periods"] == 0, "periods lost on the link counted as missed"
        assert f["drift_max_us"] == 0 and f["irregular_steps"] == 0
        assert f["lost_records"] == PER_FRAME and f["samples"] == 200 - PER_FRAME // 2
        assert f["max"] == 3.0
