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
        if row.endswith(("_bc", "_nm")):
            assert f"lat {row} idle" not in f  # unix runs bytecode anyway: no forced rows
            continue
        for tag in ("idle", "load"):
            d = f[f"lat {row} {tag}"]
            if row.startswith("raw"):
                assert d == {"na": "no-mps2.Timer"}, d  # no peripheral on the unix port
                continue
            # under load: bench.PHASES runs pooled (pool_lat), each SAMPLES periods
            assert d["n"] == SAMPLES * (bench.PHASES if tag == "load" else 1), (row, tag, d)
            assert ("phases" in d) == (tag == "load"), (row, tag, d)
            assert d["p50"] <= d["p99"] <= d["max"], (row, tag, d)
            if row.startswith("kt"):
                assert d["early"] == 0, (row, tag, d)  # never early, on any board
    text = benchreport.report({}, {}, f)
    assert "| per queued hrtimer | - | " in text
    assert "## Goals (issue 8)" in text


def test_report_has_a_section_for_the_firmware_without_the_c_core() -> None:
    """Only what was measured on firmware-nocore.elf is listed there, goals judged on it."""
    lat = dict(n=5000, p50=3000, p99=150000, max=190000, early=0, missed=0, phases=5)
    n = {
        "heap": {"import": 43 * 1024},
        "lat raw_soft load": lat,
        "lat kt_soft load": dict(lat, p99=450000, irq="native"),
    }
    text = benchreport.report({}, {}, {}, n, {"heap": {"import": 5 * 1024}})
    head, sec = text.split("## The same on the firmware without the C core")
    assert "| heap after `import ktimers` (.mpy; unix: .py) | 43.0 KB |" in sec
    assert "| heap after `import ktimers`, frozen firmware | 5.0 KB |" in sec
    assert "per queued hrtimer" not in sec  # not measured there: left out
    assert (
        "| 1. import ktimers (.mpy on the filesystem) <= 24 KB | 43.0 KB"
        " | not met without the C core |" in sec
    )
    assert "| 1. import ktimers (frozen) <= 6 KB | 5.0 KB | met |" in sec
    assert "| 4. SOFT p99 load <= 1.5x raw soft p99, missed <= raw + 2 | 3.00x" in sec
    assert "43.0 KB" not in head  # the C-core firmware's table is its own
    assert "without the C core" not in benchreport.report({}, {}, {})
    # the parts run there: those of NOCORE_PARTS that --parts selects
    assert bench._want(None, "lat:kt_soft") and "lat:kt_soft" in bench.NOCORE_PARTS
    assert "lat:asyncio" not in bench.NOCORE_PARTS and "scale" not in bench.NOCORE_PARTS


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


def test_pool_lat_is_exact() -> None:
    """Pooled p99/max from each run's printed worst values equal those of all samples."""
    import random

    rnd = random.Random(3)
    for _ in range(50):
        n, phases = rnd.choice((40, 300, 1000)), bench.PHASES
        runs, every = [], []
        for p in range(phases):
            lat = sorted(
                rnd.choice((rnd.randrange(0, 50), rnd.randrange(0, 900))) for _ in range(n)
            )
            every += lat
            npool = n * phases
            k = npool - ((npool * 99 + 99) // 100 - 1)  # as bench/lat.py prints
            runs.append({"n": n, "p50": lat[(n - 1) // 2], "p99": 0, "max": lat[-1], "early": 0,
                         "missed": p, "phase": p, "top": ",".join(map(str, lat[-k:]))})  # fmt: skip
        every.sort()
        N = len(every)
        got = bench.pool_lat(runs)
        assert got["p99"] == every[min(N - 1, (N * 99 + 99) // 100 - 1)]
        assert got["max"] == every[-1] and got["n"] == N and got["missed"] == sum(range(phases))
        assert got["phases"] == phases and "top" not in got
    with pytest.raises(ValueError, match="bad top"):
        bench.pool_lat([{"n": 3, "p50": 1, "max": 2, "early": 0, "missed": 0, "top": "1,2;x"}])
    with pytest.raises(ValueError, match="worst values"):
        bench.pool_lat([{"n": 1000, "p50": 1, "max": 2, "early": 0, "missed": 0, "top": "1,2"}])
