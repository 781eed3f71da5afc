"""Latency statistics from trace-ring records (pure Python).

Records are ``(code, id, ts, a, b)`` as in docs/DESIGN.md. hrtimer lateness of an expiry is
``signed((ts - softexpiry) & cs_mask)`` cycles, converted to µs with ``cs_hz``; timer_list
lateness is measured on the clocksource too (see :func:`timer_stats`), in µs. Counter values
are unwrapped sequentially (records are in order and consecutive gaps are below half the
counter period).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .framing import Dump, Record

TIMER_START, TIMER_ENTRY, TIMER_EXIT, TIMER_CANCEL = 1, 2, 3, 4
HR_START, HR_ENTRY, HR_EXIT, HR_CANCEL = 5, 6, 7, 8
JIFFIES_MASK = 0x3FFFFFFF
COALESCE_WINDOW_US = 100.0


def signed(x: int, mask: int) -> int:
    """``x & mask`` read as a signed value over half the period ``mask + 1``."""
    x &= mask
    return x - (mask + 1) if x > mask >> 1 else x


def unwrap(values: Iterable[int], mask: int) -> list[int]:
    """Unwrap a sequence of masked counter values (each step assumed < half a period)."""
    out: list[int] = []
    for v in values:
        out.append(v & mask if not out else out[-1] + signed(v - out[-1], mask))
    return out


def percentile(sorted_vals: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (the smallest value with at least p % of samples <= it)."""
    if not sorted_vals:
        return math.nan
    rank = max(1, math.ceil(p / 100.0 * len(sorted_vals)))
    return sorted_vals[min(rank, len(sorted_vals)) - 1]


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope dy/dx; 0.0 with fewer than 2 distinct x."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def histogram(values: Iterable[float], bucket: float, nbuckets: int) -> dict:
    """cyclictest -h style: bucket i counts floor(v / bucket) == i; >= nbuckets is overflow."""
    counts: dict[int, int] = {}
    overflow = underflow = 0
    for v in values:
        i = math.floor(v / bucket)
        if i < 0:
            underflow += 1
        elif i >= nbuckets:
            overflow += 1
        else:
            counts[i] = counts.get(i, 0) + 1
    return {
        "bucket": bucket,
        "nbuckets": nbuckets,
        "buckets": [[i * bucket, counts[i]] for i in sorted(counts)],
        "overflow": overflow,
        "underflow": underflow,
    }


def summarize(values: Sequence[float]) -> dict:
    """samples/min/avg/p50/p99/max/act/stddev (population) of ``values`` in sample order."""
    n = len(values)
    if n == 0:
        return {
            "samples": 0,
            "min": None,
            "avg": None,
            "p50": None,
            "p99": None,
            "max": None,
            "act": None,
            "stddev": None,
        }
    s = sorted(values)
    avg = sum(values) / n
    var = sum((v - avg) ** 2 for v in values) / n
    return {
        "samples": n,
        "min": s[0],
        "avg": avg,
        "p50": percentile(s, 50),
        "p99": percentile(s, 99),
        "max": s[-1],
        "act": values[-1],
        "stddev": math.sqrt(var),
    }


def wheel_level(delta: int, hz: int) -> int:
    """Timer-wheel level for a timeout of ``delta`` jiffies (LVL_CLK_SHIFT 3, LVL_BITS 6)."""
    depth = 9 if hz > 100 else 8
    for lvl in range(1, depth):
        if delta < 63 << (3 * (lvl - 1)):
            return lvl - 1
    return depth - 1


@dataclass
class Drift:
    """Phase of a periodic soft-expiry sequence against first + k*interval."""

    max_abs: float = 0.0  # cycles
    end: float = 0.0  # cycles, last sample of the longest sequence
    missed: int = 0  # periods skipped (k stepped by more than 1)
    irregular: int = 0  # steps of less than one interval
    longest: int = 0


def drift(softs: Sequence[int], interval: float, acc: Drift | None = None) -> Drift:
    """Accumulate the drift of an unwrapped soft-expiry sequence (cycles) into ``acc``."""
    acc = acc or Drift()
    if not softs or interval <= 0:
        return acc
    k = 0
    last = 0.0
    for i in range(1, len(softs)):
        step = round((softs[i] - softs[i - 1]) / interval)
        if step < 1:
            acc.irregular += 1
        acc.missed += max(0, step - 1)
        k += step
        last = softs[i] - (softs[0] + k * interval)
        acc.max_abs = max(acc.max_abs, abs(last))
    if len(softs) >= acc.longest:
        acc.longest, acc.end = len(softs), last
    return acc


@dataclass
class Result:
    """Statistics of one scenario; ``figures`` is the JSON-ready dict."""

    name: str
    kind: str  # "hrtimer" or "timer"
    figures: dict = field(default_factory=dict)
    lateness: list[float] = field(default_factory=list)  # µs or jiffies, in sample order
    times: list[float] = field(default_factory=list)  # seconds since the first record


def _timers_of(dumps: Sequence[Dump]) -> dict:
    out: dict = {}
    for d in dumps:
        out.update(d.timers)
    return out


def _common(dumps: Sequence[Dump]) -> dict:
    return {
        "dumps": len(dumps),
        "records": sum(len(d.records) for d in dumps),
        "dropped": sum(d.dropped for d in dumps),
        "frame_errors": [f"dump {d.dump}: {e}" for d in dumps for e in d.errors],
        # lost on the link: figures come from the records on either side, never paired
        "lost_frames": sum(d.lost_frames for d in dumps),
        "lost_records": sum(d.lost_records for d in dumps),
        "gaps": sum(len(d.gaps) for d in dumps),
    }


def hrtimer_stats(
    name: str, dumps: Sequence[Dump], bucket_us: float = 10.0, nbuckets: int = 1000
) -> Result:
    res = Result(name, "hrtimer")
    timers = _timers_of(dumps)
    first = dumps[0] if dumps else None
    cs_hz = first.cs_hz if first else 1
    mask = first.cs_mask if first else 1
    us = 1e6 / cs_hz
    early = hard_ctx = past_hard = coalesced = 0
    beyond_hard: list[float] = []  # lateness past the hard expiry (soft + slack), µs
    dr = Drift()
    t0: int | None = None
    prev_ts = None  # unwrapped ts across every dump of the scenario
    intervals = {t.interval_ns for t in timers.values()}
    for d in dumps:
        softs: dict[int, list[int]] = {}
        last_entry: tuple[int, int] | None = None  # (id, ts) of the previous entry
        gaps = set(d.gaps)
        for i, (code, tid, ts_raw, a, b) in enumerate(d.records):
            if i in gaps:  # frames lost here: pair nothing across, end each sequence
                last_entry = None
                for tid_, seq_ in softs.items():
                    drift(seq_, timers[tid_].interval_ns * cs_hz / 1e9, dr)
                softs = {}
            ts = ts_raw & mask if prev_ts is None else prev_ts + signed(ts_raw - prev_ts, mask)
            prev_ts = ts
            if t0 is None:
                t0 = ts
            if code != HR_ENTRY:
                if code != HR_EXIT:
                    last_entry = None
                continue
            info = timers.get(tid)
            if info is None or info.kind not in "hH":
                last_entry = None
                continue
            lat = signed(ts_raw - a, mask)
            res.lateness.append(lat * us)
            res.times.append((ts - t0) / cs_hz)
            early += lat < 0
            hard_ctx += b == 1
            beyond = lat - info.slack_ns * cs_hz / 1e9
            beyond_hard.append(beyond * us)
            past_hard += beyond > 0
            if (
                last_entry
                and last_entry[0] != tid
                and (ts - last_entry[1]) * us <= COALESCE_WINDOW_US
            ):
                coalesced += 1
            last_entry = (tid, ts)
            seq = softs.setdefault(tid, [])
            seq.append(a & mask if not seq else seq[-1] + signed(a - seq[-1], mask))
        for tid, seq in softs.items():
            drift(seq, timers[tid].interval_ns * cs_hz / 1e9, dr)
    f = res.figures
    f.update({"name": name, "kind": "hrtimer", "unit": "us"})
    kinds = {t.kind for t in timers.values()}
    f["mode"] = "hard" if kinds == {"H"} else "soft" if kinds == {"h"} else "mixed"
    f["timers"] = len(timers)
    f["interval_us"] = sorted(i / 1000 for i in intervals)
    f.update(summarize(res.lateness))
    f["early"] = early
    f["overruns"] = sum(n for d in dumps for n in d.overruns.values())
    f["missed_periods"] = dr.missed
    f["irregular_steps"] = dr.irregular
    f["drift_max_us"] = dr.max_abs * us
    f["drift_end_us"] = dr.end * us
    f["lateness_trend_us_per_s"] = slope(res.times, res.lateness)
    f["hard_irq_samples"] = hard_ctx
    f["past_hard_expiry"] = past_hard
    bh = sorted(beyond_hard)
    f["beyond_hard_max_us"] = bh[-1] if bh else None
    f["beyond_hard_p99_us"] = percentile(bh, 99) if bh else None
    f["coalesced"] = coalesced
    f["histogram"] = histogram(res.lateness, bucket_us, nbuckets)
    f.update(_common(dumps))
    f["cs_hz"], f["cs_mask"] = cs_hz, mask
    return res


def timer_stats(name: str, dumps: Sequence[Dump]) -> Result:
    """timer_list expiries judged on the clocksource.

    A timer armed at jiffies ``b`` for ``a`` (``d = a - b`` jiffies, from the timer_start
    record whose timestamp is read before that jiffies value) may not run before ``d`` full
    tick periods after the arm (Linux: a level-0 timer fires at the tick that starts jiffy
    ``a + 1``). Lateness is ``entry_ts - (start_ts + d * tick)`` in µs: negative is early.
    The wheel's rounding makes a level-n timer up to ``8**n`` ticks later; the excess beyond
    that is ``late_excess_max_us``. The jiffies view (entry jiffies - expires) is kept under
    ``jiffies`` and ``late_excess_max`` (jiffies beyond the level granularity).
    """
    res = Result(name, "timer")
    timers = _timers_of(dumps)
    hz = dumps[0].hz if dumps else 0
    early = early_j = 0
    levels: dict[int, list[float]] = {}
    excess: list[int] = []
    excess_us: list[float] = []
    late_j: list[int] = []
    t0: int | None = None
    for d in dumps:
        tick = d.cs_hz / max(d.hz, 1)  # counter cycles per jiffy
        us = 1e6 / max(d.cs_hz, 1)
        start: dict[int, tuple[int, int]] = {}  # id -> (d jiffies, unwrapped arm ts)
        prev: int | None = None
        gaps = set(d.gaps)
        for i, (code, tid, ts_raw, a, b) in enumerate(d.records):
            if i in gaps:  # frames lost here: a START before the gap pairs with nothing after
                start = {}
            ts = ts_raw & d.cs_mask if prev is None else prev + signed(ts_raw - prev, d.cs_mask)
            prev = ts
            if t0 is None:
                t0 = ts
            info = timers.get(tid)
            if info is None or info.kind != "t":
                continue
            if code == TIMER_START:
                start[tid] = (signed(a - b, JIFFIES_MASK), ts)
            elif code == TIMER_CANCEL:
                start.pop(tid, None)
            elif code == TIMER_ENTRY:
                lj = signed(b - a, JIFFIES_MASK)
                late_j.append(lj)
                early_j += lj < 0
                st = start.pop(tid, None)
                if st is None:
                    continue  # armed before this dump began: no arm time
                dj, ts0 = st
                lat = (ts - ts0 - max(dj, 0) * tick) * us
                res.lateness.append(lat)
                res.times.append((ts - t0) / max(d.cs_hz, 1))
                early += lat < 0
                lvl = wheel_level(max(dj, 0), hz)
                levels.setdefault(lvl, []).append(lat)
                gran = 1 << (3 * lvl)
                excess.append(lj - gran)
                excess_us.append(lat - gran * tick * us)
    f = res.figures
    f.update(
        {
            "name": name,
            "kind": "timer",
            "unit": "us",
            "mode": "softirq",
            "timers": len(timers),
            "hz": hz,
        }
    )
    f.update(summarize(res.lateness))
    f["early"] = early
    f["early_jiffies"] = early_j
    f["jiffies"] = summarize(late_j)
    f["overruns"] = 0
    f["late_excess_max"] = max(excess) if excess else None
    f["late_excess_max_us"] = max(excess_us) if excess_us else None
    tick_us = 1e6 / hz if hz else None
    f["levels"] = {
        str(lvl): {
            "granularity": 1 << (3 * lvl),
            "granularity_us": (1 << (3 * lvl)) * tick_us if tick_us else None,
            **summarize(vals),
        }
        for lvl, vals in sorted(levels.items())
    }
    f["histogram"] = histogram(res.lateness, 100.0, 1000)
    f.update(_common(dumps))
    return res


def analyze(name: str, dumps: Sequence[Dump], bucket_us: float = 10.0) -> Result:
    """Statistics for the dumps of one scenario (hrtimer or timer_list by the header's ids)."""
    kinds = {t.kind for t in _timers_of(dumps).values()}
    if kinds == {"t"}:
        return timer_stats(name, dumps)
    return hrtimer_stats(name, dumps, bucket_us)


def records_by_code(records: Iterable[Record], code: int) -> list[Record]:
    return [r for r in records if r[0] == code]
