"""stats.py on constructed record sequences whose answers are worked out here by hand."""

from __future__ import annotations

import math

import pytest

from ktimers_host import stats
from ktimers_host.framing import Dump, TimerInfo

MASK30 = (1 << 30) - 1


def _dump(records, timers, cs_hz=1_000_000, mask=MASK30, hz=250, overruns=None, dump=0):
    return Dump(
        dump=dump,
        scenario="s",
        cs_hz=cs_hz,
        cs_mask=mask,
        hz=hz,
        count=len(records),
        dropped=0,
        alg="crc32",
        timers={t.id: t for t in timers},
        overruns=overruns or {},
        records=list(records),
    )


def test_signed_and_unwrap():
    assert stats.signed(5, 0xFF) == 5
    assert stats.signed(0xFF, 0xFF) == -1
    assert stats.signed(0x80, 0xFF) == -128
    assert stats.signed(0x7F, 0xFF) == 127
    assert stats.signed(-3, MASK30) == -3
    # 250, 10 (wrapped: +16), 200 (+190 -> more than half: -66), 5 (+61)
    assert stats.unwrap([250, 10, 200, 5], 0xFF) == [250, 266, 200, 261]


def test_percentile_nearest_rank():
    vals = list(range(1, 101))  # 1..100
    assert stats.percentile(vals, 50) == 50
    assert stats.percentile(vals, 99) == 99
    assert stats.percentile(vals, 100) == 100
    assert stats.percentile([7.0], 99) == 7.0
    assert stats.percentile([1, 2, 3], 0) == 1


def test_summarize_known():
    s = stats.summarize([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    assert (s["samples"], s["min"], s["max"], s["act"]) == (8, 2.0, 9.0, 9.0)
    assert s["avg"] == 5.0 and s["stddev"] == 2.0  # the textbook population example
    assert s["p50"] == 4.0
    assert stats.summarize([])["samples"] == 0


def test_histogram_buckets_overflow():
    h = stats.histogram([0, 9.99, 10, 25, 99.9, 100, 5000, -1], 10, 10)
    assert h["buckets"] == [[0, 2], [10, 1], [20, 1], [90, 1]]
    assert h["overflow"] == 2 and h["underflow"] == 1


def test_wheel_levels_hz250():
    # LVL_START(1)=63, LVL_START(2)=504, LVL_START(3)=4032
    assert [stats.wheel_level(d, 250) for d in (1, 62, 63, 503, 504, 4031, 4032)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        3,
    ]


def test_periodic_hrtimer_lateness_drift_overrun():
    """1 MHz counter, 1 ms period starting at 1000; lateness 3,5,..; one skipped period."""
    iv = 1000
    softs = [1000, 2000, 3000, 5000, 6000]  # period 4000 missed
    lates = [3, 5, 7, 20, 2]
    recs = [(5, 10, 0, 1000, 1000)]
    for s, lat in zip(softs, lates, strict=True):
        recs.append((6, 10, s + lat, s, 0))
        recs.append((7, 10, s + lat + 1, 1, 0))
    d = _dump(recs, [TimerInfo(10, "h", iv * 1000, 0)], overruns={10: 1})
    f = stats.analyze("hr", [d]).figures
    assert f["kind"] == "hrtimer" and f["mode"] == "soft" and f["unit"] == "us"
    assert f["samples"] == 5
    assert (f["min"], f["max"], f["act"]) == (2.0, 20.0, 2.0)
    assert f["avg"] == pytest.approx(37 / 5)
    mean = 37 / 5
    assert f["stddev"] == pytest.approx(math.sqrt(sum((x - mean) ** 2 for x in lates) / 5))
    assert f["p50"] == 5.0 and f["p99"] == 20.0
    assert f["early"] == 0
    assert f["overruns"] == 1 and f["missed_periods"] == 1
    assert f["drift_max_us"] == 0.0 and f["drift_end_us"] == 0.0
    assert f["hard_irq_samples"] == 0
    # lateness 3,5,7,20,2 at t = 0.001003.. s: slope by least squares, computed directly
    ts = [(s + lat - 1000) / 1e6 for s, lat in zip(softs, lates, strict=True)]
    mt, ml = sum(ts) / 5, mean
    want = sum((t - mt) * (x - ml) for t, x in zip(ts, lates, strict=True)) / sum(
        (t - mt) ** 2 for t in ts
    )
    assert f["lateness_trend_us_per_s"] == pytest.approx(want)
    assert f["histogram"]["buckets"] == [[0, 4], [20, 1]]


def test_drift_detected_and_early_counted():
    # 25 MHz counter, 200 us = 5000 cycles, but every step is 5005: drift 5 cycles per period
    iv_cyc, step = 5000, 5005
    recs = []
    for k in range(10):
        s = 100 + k * step
        recs.append((6, 11, s - 50 if k == 4 else s + 250, s, 1))
    d = _dump(recs, [TimerInfo(11, "H", 200_000, 0)], cs_hz=25_000_000)
    f = stats.analyze("hr", [d]).figures
    assert f["mode"] == "hard" and f["hard_irq_samples"] == 10
    assert f["early"] == 1 and f["min"] == pytest.approx(-2.0)  # -50 cycles at 25 MHz
    assert f["max"] == pytest.approx(10.0)
    assert f["drift_max_us"] == pytest.approx(9 * 5 / 25)  # 45 cycles after 9 periods
    assert f["drift_end_us"] == pytest.approx(9 * 5 / 25)
    assert f["missed_periods"] == 0
    assert iv_cyc == 5000


def test_counter_wrap_inside_a_sequence():
    """A 16-bit counter that wraps: lateness and drift stay right across the wrap."""
    mask = 0xFFFF
    recs = []
    for k in range(8):
        s = (60000 + k * 2000) & mask
        recs.append((6, 10, (s + 7) & mask, s, 0))
    d = _dump(recs, [TimerInfo(10, "h", 2_000_000, 0)], mask=mask)
    f = stats.analyze("hr", [d]).figures
    assert f["samples"] == 8 and f["min"] == 7.0 and f["max"] == 7.0
    assert f["drift_max_us"] == 0.0 and f["missed_periods"] == 0 and f["early"] == 0
    ts = stats.unwrap([r[2] for r in recs], mask)
    assert ts == [60007 + 2000 * k for k in range(8)]


def test_range_timers_past_hard_and_coalesced():
    timers = [TimerInfo(20, "h", 1_000_000, 500_000), TimerInfo(21, "h", 1_000_000, 0)]
    recs = [
        (6, 20, 1300, 1000, 0),  # within slack (300 <= 500)
        (7, 20, 1301, 1, 0),
        (6, 21, 1310, 1200, 0),  # 110 late, slack 0: past hard; 10 us after 20 -> coalesced
        (7, 21, 1311, 1, 0),
        (6, 20, 2700, 2000, 0),  # 700 > 500: past hard
    ]
    f = stats.analyze("r", [_dump(recs, timers)]).figures
    assert f["samples"] == 3 and f["past_hard_expiry"] == 2 and f["coalesced"] == 1
    assert f["beyond_hard_max_us"] == 200.0  # max(300-500, 110-0, 700-500)
    assert f["max"] == 700.0


def test_repeated_soft_expiry_is_irregular():
    """A range timer re-run inside [soft, hard) without advancing: step 0 is flagged."""
    recs = [(6, 10, s + 5, s, 0) for s in (1000, 2000, 2000, 2000, 3000)]
    f = stats.analyze("hr", [_dump(recs, [TimerInfo(10, "h", 1_000_000, 0)])]).figures
    assert f["irregular_steps"] == 2 and f["missed_periods"] == 0 and f["drift_max_us"] == 0


def test_timer_list_levels_and_early():
    """timer_list lateness on the clocksource (1 MHz, HZ=250: 4000 cycles per jiffy)."""
    timers = [TimerInfo(40, "t", 0, 0), TimerInfo(41, "t", 0, 0)]
    j0 = MASK30 - 2  # expiries wrap the 30-bit jiffies field
    recs = [
        (1, 40, 1000, (j0 + 5) & MASK30, j0),  # delta 5: level 0
        (1, 41, 1000, (j0 + 100) & MASK30, j0),  # delta 100: level 1 (gran 8)
        (2, 40, 23500, (j0 + 5) & MASK30, (j0 + 6) & MASK30),  # 5 ticks + 2500 us
        (3, 40, 23500, 0, 0),
        (1, 40, 23600, (j0 + 600) & MASK30, (j0 + 6) & MASK30),  # delta 594: level 2
        (2, 41, 431000, (j0 + 100) & MASK30, (j0 + 107) & MASK30),  # 100 ticks + 30 ms
        (2, 40, 23600 + 593 * 4000, (j0 + 600) & MASK30, (j0 + 599) & MASK30),  # 1 tick early
    ]
    f = stats.analyze("wheel", [_dump(recs, timers)]).figures
    assert f["kind"] == "timer" and f["unit"] == "us"
    assert f["samples"] == 3 and f["early"] == 1 and f["early_jiffies"] == 1
    assert (f["min"], f["max"]) == (-4000, 30000)
    assert (f["jiffies"]["min"], f["jiffies"]["max"]) == (-1, 7)
    assert f["levels"]["0"]["samples"] == 1 and f["levels"]["0"]["max"] == 2500
    assert f["levels"]["1"]["granularity"] == 8 and f["levels"]["1"]["max"] == 30000
    assert f["levels"]["2"]["granularity"] == 64 and f["levels"]["2"]["min"] == -4000
    assert f["levels"]["2"]["granularity_us"] == 64 * 4000
    assert f["late_excess_max"] == 0  # jiffies: max(1-1, 7-8, -1-64)
    assert f["late_excess_max_us"] == -1500  # max(2500-4000, 30000-32000, -4000-256000)
    assert f["histogram"]["underflow"] == 1


def test_timer_list_early_by_clocksource_though_jiffies_agree():
    """A jiffies counter lagging the clocksource (issue 7): mod_timer(jiffies()+10) ran 2.6 ms
    after the arm at the 'right' jiffy. Only the clocksource sees it is early."""
    timers = [TimerInfo(40, "t", 0, 0)]
    recs = [(1, 40, 0, 110, 100), (2, 40, 2600, 110, 111)]
    f = stats.analyze("wheel", [_dump(recs, timers)]).figures
    assert f["early_jiffies"] == 0 and f["early"] == 1 and f["min"] == -37400


def test_foreign_ids_ignored():
    recs = [(6, 99, 1000, 900, 0), (2, 98, 0, 5, 9), (6, 10, 1010, 1000, 0)]
    f = stats.analyze("hr", [_dump(recs, [TimerInfo(10, "h", 1_000_000, 0)])]).figures
    assert f["samples"] == 1 and f["max"] == 10.0
