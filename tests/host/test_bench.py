"""`make bench`'s device scripts (bench/*.py) run on the unix board and print well-formed
figures; the host side parses them and renders the report. Speed is not asserted: the
benchmark prints figures, this only keeps its scripts from rotting."""

from __future__ import annotations

import pytest

from ktimers_host import bench, benchreport
from ktimers_host.board import Board
from ktimers_host.flash import flash

SAMPLES = 40


def test_bench_parts_run_on_unix_board(unix_board: Board) -> None:
    flash(unix_board, progress=False)
    seen: list[str] = []
    r = bench.Runner(unix_board, unix_board.reset, seen.append)
    f = bench.run_board(r, SAMPLES, 200, 50, tick=0)
    heap = f["heap"]
    assert heap["import"] > 0 and heap["star"] >= 0 and heap["free"] > 0, heap
    # the lazily loaded parts stay unloaded by `import ktimers`
    loaded = str(heap["loaded"]).split(",")
    for lazy in ("module", "proc", "_dmesg", "_ktime", "sleep", "_completion_wait", "_wheel_check"):
        assert lazy not in loaded, loaded
    assert f["obj"]["timer_list"] > 0 and f["obj"]["hrtimer"] > 0, f["obj"]
    a = f["alloc"]
    for k in (
        "hr_soft_total",
        "timer_total",
        "timer_lib_total",
        "jiffies",
        "jiffies_plus_1",
        "mod_timer",
        "ktime_get",
    ):
        assert isinstance(a[k], int), (k, a)
    s = f["scale"]
    assert s["n_big"] == 200 and s["hr_n_big"] == 50, s
    for k in ("mod_timer_small", "mod_timer_big", "hr_small", "hr_big"):
        assert isinstance(s[k], int) and s[k] > 0, (k, s)
    assert s["tick_empty"] == s["tick_big"] == "na", s  # a host thread ticks the unix port
    assert f["gc"]["bare"] > 0 and f["gc"]["with_ktimers"] > 0, f["gc"]
    assert f["ops"]["ktime_get"] >= 0, f["ops"]
    assert "task" in f["asyncio"] or "na" in f["asyncio"], f["asyncio"]
    for row in bench.ROWS:
        if row.endswith("_bc"):
            assert f"lat {row} idle" not in f  # unix runs bytecode anyway: no forced rows
            continue
        for tag in ("idle", "load"):
            d = f[f"lat {row} {tag}"]
            if row.startswith("raw"):
                assert d == {"na": "no-mps2.Timer"}, d  # no peripheral on the unix port
                continue
            assert d["n"] == SAMPLES, (row, tag, d)
            assert d["p50"] <= d["p99"] <= d["max"], (row, tag, d)
            if row.startswith("kt"):
                assert d["early"] == 0, (row, tag, d)  # never early, on any board
    text = benchreport.report({}, {}, f)
    assert "| per queued hrtimer | - | " in text
    assert "## Goals (issue 8)" in text


def test_parts_selects_parts() -> None:
    assert bench._want(None, "alloc") and bench._want(None, "lat:kt_soft")
    assert bench._want({"alloc", "lat"}, "lat:raw_soft")
    assert bench._want({"lat:kt_soft"}, "lat:kt_soft")
    assert not bench._want({"lat:kt_soft"}, "lat:raw_soft")
    assert not bench._want({"alloc"}, "heap_import")


def test_parse_checks_every_line() -> None:
    f = bench.parse(["noise", "BENCH lat kt_soft idle n=3 p50=10 p99=20 max=30 early=0 missed=0"])
    assert f == {"lat kt_soft idle": dict(n=3, p50=10, p99=20, max=30, early=0, missed=0)}
    assert bench.parse(["BENCH alloc hr_soft_per=2.7"]) == {"alloc": {"hr_soft_per": 2.7}}
    with pytest.raises(ValueError, match="malformed"):
        bench.parse(["BENCH lat kt_soft idle n=3 p50=10; import os"])
