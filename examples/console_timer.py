# console_timer (seed 003, drivers/char/vt.c): the legacy API -- init_timer,
# .function, mod_timer(&console_timer, jiffies + blankinterval), del_timer.
#   ktimers run examples/console_timer.py
from ktimers import *

console_timer = timer_list()
blankinterval = msecs_to_jiffies(600)
blanked = completion()


def blank_screen_t(data):
    pr_info("console blanked after %d jiffies of inactivity\n", blankinterval)
    complete(blanked)


def console_timer_init():
    # somewhere in the set up code
    init_timer(console_timer)
    console_timer.function = blank_screen_t
    # trigger the timer to expire some time in the future
    mod_timer(console_timer, jiffies() + blankinterval)
    # a key press pushes the blanking back
    mod_timer(console_timer, jiffies() + blankinterval)
    return 0


def console_timer_exit():
    pr_info("del_timer returned %d\n", del_timer(console_timer))


module_init(console_timer_init)
module_exit(console_timer_exit)

if __name__ == "__main__":
    wait_for_completion(blanked)
    rmmod("console_timer")
