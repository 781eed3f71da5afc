# hires_timer (seed 000): a high-resolution timer that re-arms itself with
# hrtimer_forward_now() and prints jiffies on every expiry.
#   ktimers run examples/hires_timer.py        (runs 5 periods, then unloads)
#   >>> insmod("hires_timer", delay_ns=250000000)   (from the REPL; rmmod to stop)
from ktimers import *

delay_ns = module_param("delay_ns", 500000000, int, "hires timer delay in ns")


class hires_timer_data(kstruct):
    def __init__(self):
        self.timer = hrtimer()
        self.data = 0
        super().__init__()


hires_tinfo = hires_timer_data()


def hires_timer_handler(ptr):
    info = container_of(ptr, hires_timer_data, "timer")

    pr_info("kernel timer expired at %ld (data=%d)\n", jiffies(), info.data)
    info.data += 1

    # Now forward the expiration time and ask to be rescheduled
    hrtimer_forward_now(info.timer, ns_to_ktime(delay_ns))
    return HRTIMER_RESTART


def hires_timer_init():
    # Set up hires timer delay

    pr_info("delay is set to %dns\n", delay_ns)

    # Setup and start the hires timer
    hrtimer_init(hires_tinfo.timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL | HRTIMER_MODE_SOFT)
    hires_tinfo.timer.function = hires_timer_handler
    hrtimer_start(hires_tinfo.timer, ns_to_ktime(delay_ns), HRTIMER_MODE_REL | HRTIMER_MODE_SOFT)

    pr_info("hires timer module loaded\n")
    return 0


def hires_timer_exit():
    hrtimer_cancel(hires_tinfo.timer)

    pr_info("hires timer module unloaded\n")


module_init(hires_timer_init)
module_exit(hires_timer_exit)

if __name__ == "__main__":
    msleep(5 * delay_ns // 1000000 + delay_ns // 2000000)
    rmmod("hires_timer")
