# ruff: noqa
# Device side (MicroPython): many periodic hrtimers started with hrtimer_start_range_ns, so
# expiries may coalesce within [soft, soft + slack]. KTV_CNT = [samples, quota, overruns].
# Soft mode only (hrtimer_add_expires_ns does 64-bit ktime arithmetic).
KTV_RBASE = 0xF020
KTV_RN = 16
_rt = []
_riv = array("i", [0] * KTV_RN)
_rsl = array("i", [0] * KTV_RN)
_rmode = HRTIMER_MODE_REL_SOFT


def _rcb(t):
    c = KTV_CNT
    c[0] += 1
    if c[0] >= c[1]:
        return HRTIMER_NORESTART
    iv = _riv[t.trace_id - KTV_RBASE]
    n = hrtimer_forward_now(t, iv)
    if n == 0:
        # Fired inside [soft, hard): forward compares with the hard expiry (as Linux does)
        # and returns 0; RESTART would re-run at once until now > hard. Advance one period.
        hrtimer_add_expires_ns(t, iv)
    elif n > 1:
        c[2] += n - 1
    return HRTIMER_RESTART


def _rarm():
    for i in range(KTV_RN):
        hrtimer_start_range_ns(_rt[i], ns_to_ktime(_riv[i]), _rsl[i], _rmode)


def _rdisarm():
    for t in _rt:
        hrtimer_cancel(t)


def _rovr():
    return [(KTV_RBASE, KTV_CNT[2])]  # total over all timers, reported on the first id


def ktv_hrrange(scen, base_iv_ns, step_ns, slack_ns, hard, target, max_ms, load):
    global _rmode
    _rmode = HRTIMER_MODE_REL_HARD if hard else HRTIMER_MODE_REL_SOFT
    ids = []
    for i in range(KTV_RN):
        _riv[i] = base_iv_ns + (i % 4) * step_ns
        _rsl[i] = (i // 4) * slack_ns
        t = hrtimer()
        hrtimer_setup(t, _rcb, CLOCK_MONOTONIC, _rmode)
        t.trace_id = KTV_RBASE + i
        _rt.append(t)
        ids.append((KTV_RBASE + i, "H" if hard else "h", _riv[i], _rsl[i]))
    ktv_run(scen, _rarm, _rdisarm, ids, _rovr, target, max_ms, load, (5, 6))
