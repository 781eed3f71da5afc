# ktimers probe -- device side (MicroPython; runs on any port, sent by host/ktimers_host/probe.py).
#
# Finds out what a board gives a timer subsystem and prints one line:
#     KPROBE {json}
# platform and version, which timer APIs exist (machine.Timer ids and constants, whether
# hard= is offered and honoured, pyb.Timer, mps2.Timer), the micropython.schedule queue
# depth, ticks_us/ticks_cpu resolution, free heap, and the raw timer callback's lateness
# at a 1 ms period (the API the ktimers backend for this port would use; hard if it can).
# Every number is measured here on the board's own clock (ticks_us, or mps2.counter()).
# The host parses the JSON only and checks every field before use.
import gc
import sys
import time

import micropython

try:
    import json
except ImportError:
    import ujson as json

_N = 200  # periodic callbacks measured


def _mpy_arch():
    m = getattr(sys.implementation, "_mpy", None)
    if m is None:
        return None
    names = (
        None,
        "x86",
        "x64",
        "armv6",
        "armv6m",
        "armv7m",
        "armv7em",
        "armv7emsp",
        "armv7emdp",
        "xtensa",
        "xtensawin",
        "rv32imc",
        "rv64imc",
    )
    a = (m >> 10) & 0x0F
    return names[a] if a < len(names) else "arch%d" % a


def _wait(pred, ms):
    t0 = time.ticks_ms()
    while not pred() and time.ticks_diff(time.ticks_ms(), t0) < ms:
        time.sleep_ms(1)
    return pred()


def _sched_depth():
    res = [0, 0]

    def noop(_):
        res[1] += 1

    def fill(_):
        n = 0
        try:
            while n < 64:
                micropython.schedule(noop, 0)
                n += 1
        except RuntimeError:
            pass
        res[0] = n  # this callback's own slot was freed when it was dequeued

    try:
        micropython.schedule(fill, 0)
    except (AttributeError, RuntimeError):
        return None
    _wait(lambda: res[0] and res[1] >= res[0], 2000)
    return res[0] or None


def _resolution(f, n=2000):
    best = None
    last = f()
    for _ in range(n):
        v = f()
        d = time.ticks_diff(v, last)
        if d > 0 and (best is None or d < best):
            best = d
        last = v
    return best


def _cpu_hz():
    if not hasattr(time, "ticks_cpu"):
        return None
    u0 = time.ticks_us()
    c0 = time.ticks_cpu()
    while time.ticks_diff(time.ticks_us(), u0) < 20000:
        pass
    dc = time.ticks_diff(time.ticks_cpu(), c0)
    du = time.ticks_diff(time.ticks_us(), u0)
    return dc * 1000000 // du if du > 0 and dc > 0 else None


def _hard_check(T, id, kw, ms):
    """'not offered' (TypeError), 'refused' (ValueError), 'honoured' (callback ran with the
    heap locked), 'accepted, not honoured' (it could allocate), 'no callback'."""
    res = [0]

    def cb(t):
        try:
            res[0] = len([1, 2]) - 1  # allocates: fails only with the heap locked
        except MemoryError:
            res[0] = 2

    try:
        t = T(id)
        t.init(mode=T.ONE_SHOT, period=ms, callback=cb, hard=True, **kw)
    except TypeError:
        return "not offered"
    except ValueError as e:
        return "refused: %s" % e
    _wait(lambda: res[0], 200)
    t.deinit()
    return ("no callback", "accepted, not honoured", "honoured")[res[0]]


def _stats(late):
    late.sort()
    n = len(late)
    if not n:
        return None
    return {
        "n": n,
        "min": late[0],
        "p50": late[n // 2],
        "p99": late[min(n - 1, (n * 99) // 100)],
        "max": late[-1],
    }


def _periodic(start, stop, now, per_us):
    """Lateness (us) of _N periodic callbacks beyond the earliest one's phase: with
    d_i = ts_i - ts_0 - i * period, lateness_i = d_i - min(d)."""
    from array import array

    ts = array("i", [0] * _N)
    cnt = [0]

    def cb(t):
        i = cnt[0]
        if i < _N:
            ts[i] = now()
            cnt[0] = i + 1

    start(cb)
    _wait(lambda: cnt[0] >= _N, _N * per_us // 1000 * 3 + 500)
    stop()
    n = cnt[0]
    if n < 2:
        return None
    d = [ts[i] - ts[0] - i * per_us for i in range(n)]
    base = min(d)
    return _stats([x - base for x in d])


def _machine_timer(info):
    try:
        import machine
    except ImportError:
        return None
    T = getattr(machine, "Timer", None)
    if T is None:
        return None
    mt = {
        "ONE_SHOT": hasattr(T, "ONE_SHOT"),
        "ONESHOT": hasattr(T, "ONESHOT"),
        "init": False,
        "ids": [],
    }
    for i in (-1, 0, 1, 2, 3, 4):
        try:
            t = T(i)
            mt["ids"].append(i)
            mt["init"] = mt["init"] or hasattr(t, "init")
            if hasattr(t, "deinit"):
                t.deinit()
        except Exception:
            pass
    if mt["ONE_SHOT"] and mt["init"] and mt["ids"]:
        tid = -1 if -1 in mt["ids"] else mt["ids"][-1]
        mt["probe_id"] = tid
        mt["hard"] = _hard_check(T, tid, {}, 2)
        hard = mt["hard"] == "honoured"
        t = T(tid)

        def start(cb):
            if hard:
                t.init(mode=T.PERIODIC, period=1, callback=cb, hard=True)
            else:
                t.init(mode=T.PERIODIC, period=1, callback=cb)

        mt["lateness_us"] = _periodic(start, t.deinit, time.ticks_us, 1000)
        mt["lateness_context"] = "hard" if hard else "scheduled"
    return mt


def _pyb_timer():
    try:
        import pyb
    except ImportError:
        return None
    if not hasattr(pyb, "Timer"):
        return None
    out = {"hard": "honoured"}  # pyb.Timer callbacks are hard IRQs on every stm32 board
    t = pyb.Timer(4)
    out["lateness_us"] = _periodic(
        lambda cb: t.init(freq=1000, callback=cb), t.deinit, time.ticks_us, 1000
    )
    out["lateness_context"] = "hard"
    return out


def _mps2_timer():
    try:
        import mps2
    except ImportError:
        return None
    t = mps2.Timer(1)
    res = {"hard": "honoured", "counter_hz": mps2.FREQ}
    per = mps2.FREQ // 1000

    def now():
        return mps2.counter() // (mps2.FREQ // 1000000)

    res["lateness_us"] = _periodic(
        lambda cb: t.init(mode=1, period=per, callback=cb, hard=True), t.deinit, now, 1000
    )
    res["lateness_context"] = "hard"
    return res


def _thread_schedule():
    # the unix port: what its backend does (a thread that sleeps, then micropython.schedule)
    try:
        import _thread
    except ImportError:
        return None
    st = [True]

    def start(cb):
        def run():
            nxt = time.ticks_add(time.ticks_us(), 1000)
            while st[0]:
                d = time.ticks_diff(nxt, time.ticks_us())
                if d > 0:
                    time.sleep_us(d)
                try:
                    micropython.schedule(cb, 0)
                except RuntimeError:
                    pass
                nxt = time.ticks_add(nxt, 1000)

        _thread.start_new_thread(run, ())

    def stop():
        st[0] = False
        time.sleep_ms(5)

    return {
        "lateness_us": _periodic(start, stop, time.ticks_us, 1000),
        "lateness_context": "scheduled",
    }


def _c_core():
    # ktimers' optional C core (firmware/cmodules/ktimers): its ROM proxy count, or None
    try:
        import _ktimers
    except ImportError:
        return None
    return _ktimers.NLAZY


def ktprobe():
    info = {
        "platform": sys.platform,
        "version": list(sys.implementation.version[:3]),
        "machine": getattr(sys.implementation, "_machine", ""),
        "mpy_arch": _mpy_arch(),
    }
    gc.collect()
    info["mem_free"] = gc.mem_free()
    info["mem_alloc"] = gc.mem_alloc()
    info["sched_depth"] = _sched_depth()
    info["ticks_us_res"] = _resolution(time.ticks_us)
    info["ticks_cpu_res"] = _resolution(time.ticks_cpu) if hasattr(time, "ticks_cpu") else None
    info["ticks_cpu_hz"] = _cpu_hz()
    info["machine_timer"] = _machine_timer(info)
    info["pyb_timer"] = _pyb_timer()
    info["mps2_timer"] = _mps2_timer()
    info["c_core"] = _c_core()
    info["thread_schedule"] = _thread_schedule() if sys.platform in ("linux", "darwin") else None
    print("KPROBE " + json.dumps(info))
