# ruff: noqa
# Device side (MicroPython): the wrap soak.  Restarts ktimers on the board's own backend with
# the test options that bring the wraps into CI time -- a narrow clocksource mask (CS_BITS) and
# jiffies started just before the 32-bit wrap (INITIAL_JIFFIES) -- then runs a HARD and a SOFT
# periodic hrtimer (hrtimer_forward_now, fractional-cycle periods) and 12 timer_list timers
# armed, moved and deleted at random (from their callbacks and from the main loop) until the
# counter has wrapped >= 3 times and jiffies once.  The main loop checks that ktime never goes
# back.  One framed dump at the end, then a KTS line with the counts.  Needs common.py.
import sys
import ktimers as _ktimers

KTS_HID = 0xF060
KTS_SID = 0xF061
KTS_WBASE = 0xF070
KTS_WN = 12
_HP = 2_000_020  # HARD period: 50000.5 cycles at 25 MHz, 2000.02 at 1 MHz
_SP = 3_333_333  # SOFT period
# hard calls, hard periods, soft calls, soft periods, wheel runs, wheel ops, stop, spare
_sc = array("i", [0] * 8)
_sh = hrtimer()
_ss = hrtimer()
_sw = []
_sdel = array("i", [0] * KTS_WN)  # 1: deleted on purpose
_seed = array("i", [12345])


def _rnd(n):
    # ZX81 LCG: small ints only
    s = (_seed[0] * 75 + 74) % 65537
    _seed[0] = s
    return s % n


def _shcb(t):  # hard IRQ: allocation-free
    c = _sc
    c[0] += 1
    c[1] += hrtimer_forward_now(t, _HP)
    return HRTIMER_NORESTART if c[6] else HRTIMER_RESTART


def _sscb(t):
    c = _sc
    c[2] += 1
    c[3] += hrtimer_forward_now(t, _SP)
    return HRTIMER_NORESTART if c[6] else HRTIMER_RESTART


def _sop(i):
    # one random wheel operation on timer i
    c = _sc
    if c[6]:
        return
    c[5] += 1
    t = _sw[i]
    r = _rnd(8)
    if r == 0:
        timer_delete(t)
        _sdel[i] = 1
    else:
        _sdel[i] = 0
        mod_timer(t, jiffies() + 1 + _rnd((5, 30, 70, 300)[r & 3]))


def _swcb(t):
    _sc[4] += 1
    i = t.trace_id - KTS_WBASE
    _sop(i)
    if _rnd(3) == 0:
        _sop(_rnd(KTS_WN))


def ktv_soak(scen, wrap_ms, jlead_ms, min_ms, max_ms, rmax=6000):
    # wrap_ms: the narrowed counter wraps at most this often; jlead_ms: jiffies wrap after
    core = sys.modules["ktimers.core"]
    hq = __import__("ktimers")._mod("hrtimer_base")
    wheel = __import__("ktimers")._mod("timer")
    cs_bits = 16
    while cs_bits < 30 and (1 << (cs_bits + 1)) <= core.CS_HZ * wrap_ms // 1000:
        cs_bits += 1
    hw = _ktimers.init(CS_BITS=cs_bits, INITIAL_JIFFIES=-(jlead_ms * core.HZ // 1000))
    for i in range(8):
        _sc[i] = 0
    trace.enable(ktv_ring(rmax), (1, 2, 4, 6))
    hrtimer_setup(_sh, _shcb, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD)
    hrtimer_setup(_ss, _sscb, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_SOFT)
    _sh.trace_id = KTS_HID
    _ss.trace_id = KTS_SID
    ids = [(KTS_HID, "H", _HP, 0), (KTS_SID, "h", _SP, 0)]
    del _sw[:]
    for i in range(KTS_WN):
        t = timer_list()
        timer_setup(t, _swcb, 0)
        t.trace_id = KTS_WBASE + i
        _sw.append(t)
        ids.append((KTS_WBASE + i, "t", 0, 0))
    k0 = ktime_get()
    hrtimer_start(_sh, k0 + 1_000_000, HRTIMER_MODE_ABS_HARD)
    hrtimer_start(_ss, k0 + 1_500_000, HRTIMER_MODE_ABS_SOFT)
    for i in range(KTS_WN):
        _sop(i)
    r0 = rlast = hw.cs_read()
    jlast = jlast_op = jiffies()
    klast = k0
    wraps = jwraps = back = loops = 0
    c0 = hw.cs_read()
    elapsed = 0  # cycles, counted across wraps
    lim_min = min_ms * (core.CS_HZ // 1000)
    lim_max = max_ms * (core.CS_HZ // 1000)
    while elapsed < lim_max and (elapsed < lim_min or wraps < 3 or jwraps < 1):
        core.idle()
        loops += 1
        k = ktime_get()
        if k < klast:
            back += 1
        klast = k
        r = hw.cs_read()
        if r < rlast:
            wraps += 1
        elapsed += (r - rlast) & core.CS_MASK
        rlast = r
        j = jiffies()
        if j < jlast:
            jwraps += 1
        jlast = j
        if j != jlast_op:  # one random wheel operation per jiffy from the task
            jlast_op = j
            _sop(_rnd(KTS_WN))
    # every timer alive: the periodic ones still fire, no pending wheel timer is overdue
    a0, s0, w0 = _sc[0], _sc[2], _sc[4]
    # alive: 20 ms, or until the wheel's next pending timer is due (+2 jiffies) if later
    j = jiffies()
    dmin = 400
    for t in _sw:
        if timer_pending(t):
            d = (t.expires - j) & 0xFFFFFFFF
            if d < dmin:
                dmin = d
    t1 = ktime_get() + max(20_000_000, (dmin + 2) * (1_000_000_000 // core.HZ))
    while ktime_get() < t1:
        core.idle()
    alive = int(
        _sc[0] > a0
        and _sc[2] > s0
        and _sc[4] > w0
        and hrtimer_is_queued(_sh)
        and hrtimer_is_queued(_ss)
    )
    overdue = 0
    j = jiffies()
    for i in range(KTS_WN):
        t = _sw[i]
        if timer_pending(t):
            if time_after(j, t.expires + 512 + 2):
                overdue += 1
        elif not _sdel[i]:
            overdue += 1  # neither pending nor deleted on purpose: lost
    _sc[6] = 1
    hrtimer_cancel(_sh)
    hrtimer_cancel(_ss)
    for t in _sw:
        timer_delete_sync(t)
    trace.disable()
    checks = "ok"
    try:
        hq.queue_check(_sh, _ss)
        wheel.wheel_check(*_sw)
    except AssertionError as e:
        checks = "broken"
    ovr = [(KTS_HID, _sc[1] - _sc[0]), (KTS_SID, _sc[3] - _sc[2])]
    ktv_dump(0, scen, ids, ovr)
    print(
        "KTS %s cs_bits=%d cs_wraps=%d jiffies_wraps=%d ktime_back=%d elapsed_ms=%d hard_calls=%d"
        " hard_periods=%d soft_calls=%d soft_periods=%d wheel_runs=%d wheel_ops=%d overdue=%d"
        " alive=%d irq_errors=%d hard_irq=%d checks=%s"
        % (
            scen,
            cs_bits,
            wraps,
            jwraps,
            back,
            elapsed // (core.CS_HZ // 1000),
            _sc[0],
            _sc[1],
            _sc[2],
            _sc[3],
            _sc[4],
            _sc[5],
            overdue,
            alive,
            hq.nr_irq_errors,
            1 if hw.HARD_IRQ else 0,
            checks,
        )
    )
    n = _sc[0] + _sc[2] + _sc[4]
    trace.enable(1)
    trace.disable()
    _ktimers.init()  # back to the default path
    print("KTV done %s samples=%d dumps=1 ring=%d" % (scen, n, rmax))
