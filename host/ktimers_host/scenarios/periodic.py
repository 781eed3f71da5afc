# ruff: noqa
# Device side (MicroPython): one periodic hrtimer, hrtimer_forward_now + HRTIMER_RESTART.
# Needs common.py. KTV_CNT = [samples, quota, overruns]. Callback allocates nothing.
KTV_ID = 0xF010  # own ids above the library's sequential timer_list ids
_pt = hrtimer()
_pt.trace_id = KTV_ID
_piv = 1000000
_pivk = ns_to_ktime(_piv)
_pmode = HRTIMER_MODE_REL_SOFT


def _pcb(t):
    c = KTV_CNT
    c[0] += 1
    if c[0] >= c[1]:
        return HRTIMER_NORESTART
    n = hrtimer_forward_now(t, _pivk)
    if n > 1:
        c[2] += n - 1
    return HRTIMER_RESTART


def _parm():
    hrtimer_start(_pt, _pivk, _pmode)


def _pdisarm():
    hrtimer_cancel(_pt)


def _povr():
    return [(KTV_ID, KTV_CNT[2])]


def ktv_periodic(scen, iv_ns, hard, target, max_ms, load):
    global _piv, _pivk, _pmode
    _piv = iv_ns
    _pivk = ns_to_ktime(iv_ns)
    _pmode = HRTIMER_MODE_REL_HARD if hard else HRTIMER_MODE_REL_SOFT
    hrtimer_setup(_pt, _pcb, CLOCK_MONOTONIC, _pmode)
    _pt.trace_id = KTV_ID
    ids = [(KTV_ID, "H" if hard else "h", iv_ns, 0)]
    ktv_run(scen, _parm, _pdisarm, ids, _povr, target, max_ms, load, (5, 6))
