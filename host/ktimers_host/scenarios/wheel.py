# ruff: noqa
# Device side (MicroPython): timer_list timers across wheel levels (1..600 jiffies), each
# re-armed from its callback with mod_timer. KTV_CNT = [samples, quota, ...].
KTV_WBASE = 0xF040
KTV_WN = 48
_WDEL = (
    1,
    2,
    3,
    4,
    5,
    7,
    9,
    12,
    16,
    20,
    27,
    33,
    40,
    50,
    62,
    63,
    64,
    65,
    80,
    100,
    130,
    170,
    220,
    300,
    400,
    503,
    504,
    505,
    550,
    600,
)
_wt = []
_wn = array("i", [0] * KTV_WN)


def _wcb(t):
    c = KTV_CNT
    c[0] += 1
    if c[0] >= c[1]:
        return
    i = t.trace_id - KTV_WBASE
    _wn[i] += 1
    mod_timer(t, jiffies() + _WDEL[(i * 7 + _wn[i] * 11) % len(_WDEL)])


def _warm():
    j = jiffies()
    for i in range(KTV_WN):
        _wn[i] = 0
        mod_timer(_wt[i], j + _WDEL[(i * 7) % len(_WDEL)])


def _wdisarm():
    for t in _wt:
        timer_delete_sync(t)


def _wovr():
    return []


def ktv_wheel(scen, target, max_ms, load):
    ids = []
    for i in range(KTV_WN):
        t = timer_list()
        timer_setup(t, _wcb, 0)
        t.trace_id = KTV_WBASE + i
        _wt.append(t)
        ids.append((KTV_WBASE + i, "t", 0, 0))
    ktv_run(scen, _warm, _wdisarm, ids, _wovr, target, max_ms, load, (1, 2))
