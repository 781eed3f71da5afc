# Lateness benchmark (MicroPython, runs on the board; the host appends one call).
#   lat_row("kt_soft", n=1000, load=0)    prints one "BENCH lat ..." line
#   lat_row("kt_soft", 1000, 1, phase, phases)   one of the runs the host pools (load rows)
# Rows: raw_hard / raw_soft (mps2.Timer, periodic, no ktimers; raw_soft_res: the soft
# callback with the kt_soft row's ktimers code and objects on the heap but stopped -- what
# a collection then costs, the floor for kt_soft under load), kt_hard / kt_soft
# (kt_hard_bc / kt_soft_bc: the same with the IRQ handlers as bytecode, ktimers.init(IRQ_CODE=
# "bytecode"); kt_hard_nm / kt_soft_nm: as mpy-cross's native module, IRQ_CODE="native-mpy";
# the row says which ran)
# (one periodic hrtimer, hrtimer_forward_now + HRTIMER_RESTART), asyncio (drift-free
# sleep_ms loop), poll (hand-written loop polling the counter).  Period 1 ms.
# Lateness = the instant the callback's first statement reads the time - the instant the
# period was due, on the board's 25 MHz clock: mps2.counter() (the clocksource) for the
# ktimers, asyncio and polling rows (time.ticks_us on the unix port); for the raw
# mps2.Timer rows the timer's own down-counter (same clock; its reload marks the due
# instant exactly), cross-checked on the counter (cnt_p50).
# load=1: validate's load in the main context (busy loop, list churn, gc.collect()
# every 400 steps); asyncio gets it as a task that yields after each step, the polling
# loop does one step between polls.
# Output: BENCH lat <row> <idle|load> n=<samples> p50=<ns> p99=<ns> max=<ns> early=<count>
#         missed=<periods> [irq=c|native|bytecode: how the kt rows' clock event handlers ran:
#         the firmware's C core, mpy-cross's native module, bytecode]
#         [phase=<i> top=<the run's worst values, ascending, as many as the pooled p99 needs>]
#         | BENCH lat <row> <idle|load> na=<reason>
import gc
from array import array

try:
    import mps2

    _cs = mps2.counter
    _CS_HZ = mps2.FREQ
    _MASK = mps2.COUNTER_MASK
except ImportError:
    import time

    _cs = time.ticks_us
    _CS_HZ = 1000000
    _MASK = 0x3FFFFFFF

_HALF = (_MASK + 1) >> 1
_PER = _CS_HZ // 1000  # counter ticks per 1 ms period
_NS = 1000000000 // _CS_HZ  # ns per tick (40 on mps2, 1000 on unix)
_st = array("i", [0] * 4)  # [samples, index/irq base, quota, spare]
_stamp = None
_idx = None
_val = None
_keep = [None] * 8
_k = 0
_pool = [0, 1]  # this run's phase, phases pooled by the host (see lat_row)


def _diff(a, b):
    d = (a - b) & _MASK
    return d - _MASK - 1 if d >= _HALF else d


def _load_step():
    # validate's load (host/ktimers_host/scenarios/common.py ktv_load), one step
    global _k
    _keep[_k & 7] = [_k, _k + 1, [_k] * 6, "x" * (_k & 31)]
    _k += 1
    if _k % 400 == 0:
        gc.collect()


def _wait(n, load, budget_ms=20000):
    # main context until n samples (bounded by the counter: budget_ms)
    t0 = _cs()
    lim = budget_ms * _PER
    while _st[0] < n:
        if load:
            _load_step()
        if _diff(_cs(), t0) > lim or _diff(_cs(), t0) < 0:
            break


def _alloc(n):
    global _stamp, _idx, _val
    _stamp = array("i", [0] * n)
    _idx = array("i", [0] * n)
    _val = array("i", [0] * n)
    for i in range(4):
        _st[i] = 0


def _report(row, load, lat, missed, extra=""):
    tag = "load" if load else "idle"
    n = len(lat)
    if not n:
        print("BENCH lat %s %s na=no-samples" % (row, tag))
        return
    lat.sort()
    early = 0
    for v in lat:
        if v < 0:
            early += 1
    p50 = lat[(n - 1) // 2]
    p99 = lat[min(n - 1, (n * 99 + 99) // 100 - 1)]
    if _pool[1] > 1:  # one phase of a pooled row: also its worst values, for the host's p99
        npool = n * _pool[1]
        k = npool - ((npool * 99 + 99) // 100 - 1)  # values at or above the pooled p99
        extra += " phase=%d top=%s" % (_pool[0], ",".join(str(v) for v in lat[-k:]))
    print(
        "BENCH lat %s %s n=%d p50=%d p99=%d max=%d early=%d missed=%d%s"
        % (row, tag, n, p50, p99, lat[-1], early, missed, extra)
    )


# --- raw mps2.Timer ------------------------------------------------------------------


def _raw_cb(t):
    # hard IRQ or scheduled; allocation-free.  First statement: the peripheral's own
    # down-counter (ticks since its reload = how late this callback runs).
    i = _st[0]
    if i < _st[2]:
        _val[i] = t.value()
        _stamp[i] = _cs()
        _idx[i] = t.count()
        _st[0] = i + 1
    else:
        t.stop()


def raw_row(hard, n, load, row=None):
    row = row or ("raw_hard" if hard else "raw_soft")
    try:
        import mps2
    except ImportError:
        print("BENCH lat %s %s na=no-mps2.Timer" % (row, "load" if load else "idle"))
        return
    _alloc(n)
    _st[2] = n
    tim = mps2.Timer(1)
    tim.init(mode=mps2.Timer.PERIODIC, period=_PER, callback=_raw_cb, hard=bool(hard))
    tim.stop()
    base = tim.count()
    tim.start(_PER)
    t0 = _cs()  # just after the start: the raw figures are, if anything, flattered
    _wait(n, load)
    tim.deinit()
    got = _st[0]
    irqs = tim.count() - base
    lat = []
    cnt = []
    for i in range(got):
        k = _idx[i] - base  # 1-based irq number when the callback ran
        # the i-th callback belongs to the i-th period unless expiries were dropped
        per = i + 1 if irqs <= got else k
        c = _diff(_stamp[i], (t0 + per * _PER) & _MASK)  # counter, anchored after start()
        p = _PER - 1 - _val[i]  # peripheral: ticks since the reload, 0.._PER-1
        p += ((c - p + _PER // 2) // _PER) * _PER  # whole periods late (under load)
        lat.append(p * _NS)
        cnt.append(c * _NS)
    # Lateness is the peripheral's (exact at callback entry); cnt_p50 is the same on the
    # counter with the anchor read just after start() returns (flatters raw slightly).
    cnt.sort()
    extra = " cnt_p50=%d" % cnt[(got - 1) // 2] if got else ""
    _report(row, load, lat, max(0, min(irqs, n) - got), extra)


_held = []  # raw_soft_res: what keeps the ktimers code resident


def _resident():
    # The heap that the kt_soft row holds -- ktimers, its hrtimer code and one hrtimer set
    # up -- with the subsystem stopped: nothing of it runs, the collector still marks it all
    import sys
    from ktimers import hrtimer, hrtimer_setup, hrtimer_start, hrtimer_cancel, hrtimer_get_expires
    from ktimers import hrtimer_forward_now, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT

    t = hrtimer()
    hrtimer_setup(t, _kt_cb, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT)
    _held.extend((t, hrtimer_start, hrtimer_cancel, hrtimer_get_expires, hrtimer_forward_now))
    sys.modules["ktimers.core"].deinit()


# --- ktimers hrtimer -----------------------------------------------------------------

_P_NS = 1000000
_fwd = None


def _kt_cb(t):
    # HARD: hard IRQ, allocation-free (small ints, preallocated arrays)
    i = _st[0]
    if i < _st[2]:
        _stamp[i] = _cs()
        _idx[i] = _st[1]
        _st[0] = i + 1
        _st[1] += _fwd(t, _P_NS)
        return 1  # HRTIMER_RESTART
    return 0


def kt_row(hard, n, load, row=None):
    global _cs, _fwd
    from ktimers import (
        hrtimer,
        hrtimer_setup,
        hrtimer_start,
        hrtimer_cancel,
        hrtimer_get_expires,
        hrtimer_forward_now,
        CLOCK_MONOTONIC,
        HRTIMER_MODE_REL_HARD,
        HRTIMER_MODE_REL_SOFT,
    )
    import sys

    core = sys.modules["ktimers.core"]
    row = row or ("kt_hard" if hard else "kt_soft")
    ns_to_raw = getattr(core, "ns_to_raw", None)
    if ns_to_raw is None:
        print("BENCH lat %s %s na=core.ns_to_raw-missing" % (row, "load" if load else "idle"))
        return
    _cs = core.hw.cs_read
    per = core.CS_HZ // 1000
    ns = 1000000000 // core.CS_HZ
    mask = core.CS_MASK
    half = (mask + 1) >> 1
    _fwd = hrtimer_forward_now
    mode = HRTIMER_MODE_REL_HARD if hard else HRTIMER_MODE_REL_SOFT
    _alloc(n)
    _st[2] = n
    t = hrtimer()
    hrtimer_setup(t, _kt_cb, CLOCK_MONOTONIC, mode)
    hrtimer_start(t, _P_NS, mode)
    anchor = ns_to_raw(hrtimer_get_expires(t))
    _wait(n, load)
    hrtimer_cancel(t)
    got = _st[0]
    lat = []
    for i in range(got):
        d = (_stamp[i] - anchor - _idx[i] * per) & mask
        lat.append((d - mask - 1 if d >= half else d) * ns)
    irq = getattr(__import__("ktimers")._mod("hrtimer_base"), "_i", None)
    name = "" if irq is None else irq.__name__
    code = "c" if name.endswith("_c") else "native" if name.endswith("_n") else "bytecode"
    _report(row, load, lat, max(0, _st[1] - got), " irq=" + code)


# --- asyncio -------------------------------------------------------------------------


def asyncio_row(n, load):
    try:
        import asyncio
        import time
    except ImportError:
        print("BENCH lat asyncio %s na=asyncio-not-available" % ("load" if load else "idle"))
        return
    _alloc(n)

    async def periodic():
        # the drift-free loop: absolute 1 ms targets on ticks_ms
        tgt = time.ticks_ms()
        for i in range(n):
            tgt = time.ticks_add(tgt, 1)
            await asyncio.sleep_ms(time.ticks_diff(tgt, time.ticks_ms()))
            _stamp[i] = _cs()
            _idx[i] = tgt
            _st[0] = i + 1

    async def loader():
        while _st[0] < n:
            _load_step()
            await asyncio.sleep_ms(0)

    async def main():
        p = asyncio.create_task(periodic())
        if load:
            asyncio.create_task(loader())
        await p

    asyncio.run(main())
    got = _st[0]
    lat = []
    missed = 0
    for i in range(got):
        # ticks_ms and the counter count from the same instant: ms T is due at T*_PER
        v = _diff(_stamp[i], (_idx[i] * _PER) & _MASK) * _NS
        if v >= 1000000:
            missed += 1
        lat.append(v)
    _report("asyncio", load, lat, missed)


# --- polling loop --------------------------------------------------------------------


def poll_row(n, load):
    _alloc(n)
    nxt = (_cs() + _PER) & _MASK
    i = 0
    missed = 0
    while i < n:
        now = _cs()
        if _diff(now, nxt) >= 0:
            _stamp[i] = now
            _idx[i] = nxt
            i += 1
            nxt = (nxt + _PER) & _MASK
            while _diff(now, nxt) >= 0:  # whole periods overslept: skip them
                nxt = (nxt + _PER) & _MASK
                missed += 1
        elif load:
            _load_step()
    lat = [_diff(_stamp[j], _idx[j]) * _NS for j in range(n)]
    _report("poll", load, lat, missed)


def lat_row(row, n=1000, load=0, phase=0, phases=1):
    # phases > 1: this run is one of `phases` runs that the host pools (ktimers_host.bench
    # pool_lat).  Each starts the load's gc.collect() schedule phase/phases of the way into
    # its 400 steps, so the pooled p99 sees the collections at several offsets from the
    # periods: on the deterministic emulator one run sees one fixed pattern, and about 1% of
    # its samples are hit by a collection, which puts a single run's p99 on a knife edge.
    global _k
    _k = phase * 400 // phases
    _pool[0] = phase
    _pool[1] = phases
    gc.collect()
    if row == "raw_hard":
        raw_row(1, n, load)
    elif row == "raw_soft":
        raw_row(0, n, load)
    elif row == "raw_soft_res":  # the floor for kt_soft: its heap resident, raw callback
        _resident()
        raw_row(0, n, load, row)
    elif row == "kt_hard":
        kt_row(1, n, load)
    elif row == "kt_soft":
        kt_row(0, n, load)
    elif row in ("kt_hard_bc", "kt_soft_bc", "kt_hard_nm", "kt_soft_nm"):  # other handlers
        import ktimers

        ktimers.init(IRQ_CODE="bytecode" if row.endswith("_bc") else "native-mpy")
        kt_row(1 if row.startswith("kt_hard") else 0, n, load, row)
    elif row == "asyncio":
        asyncio_row(n, load)
    elif row == "poll":
        poll_row(n, load)
    else:
        raise ValueError("lat_row: unknown row %r" % (row,))
