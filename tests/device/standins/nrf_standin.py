# STAND-IN — not the real port: fake timer API for unit tests only (see vhw.py).
"""STAND-IN — not the real port; models the surface of nrf's machine.Timer
(ports/nrf/modules/machine/timer.c, 1.25) for unit tests only: enough to
check that ktimers refuses it with a message naming the port.

Modelled: Timer(id, *, period=1000000 (us), mode=PERIODIC, callback=None) with
ids 0..4 (else ValueError "Timer doesn't exist"); constants ONESHOT = 0 and
PERIODIC = 1 (no ONE_SHOT); no init(); start(), stop(), deinit(), period()
(the captured counter).  Not modelled: time passing, callbacks (the port calls
them straight from the TIMER IRQ), Bluetooth/soft-PWM reservations.
"""

from . import vhw


class Timer:
    ONESHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, *, period=1_000_000, mode=1, callback=None):
        if not isinstance(id, int) or not 0 <= id <= 4:
            raise ValueError("Timer doesn't exist")
        self.id = id
        self.period_us = period
        self.mode = mode
        self.cb = callback
        self.running = False

    def start(self):
        self.running = True

    def stop(self):
        self.running = False

    def deinit(self):
        self.running = False

    def period(self):
        return 0


def install():
    import sys

    vhw.reset(depth=4)
    m = vhw.machine_common("machine")
    m.Timer = Timer
    sys.modules["machine"] = m
    return m
