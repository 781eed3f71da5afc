# A repeating timer stopped with a condition and a completion (seed 003,
# "Repeating Timers"): the callback re-arms while still_going is set; to stop,
# clear it, kick the timer and wait for the callback to complete().
#   ktimers run examples/repeating_timer.py
from ktimers import *

console_timer = timer_list()
timer_done = completion()
still_going = 1
runs = 0


def timer_function(t):
    global runs
    next_time = 24
    runs += 1
    if still_going:
        mod_timer(console_timer, jiffies() + next_time)
    else:
        complete(timer_done)


def repeating_timer_init():
    # add this somewhere else before using the completion thing
    init_completion(timer_done)
    timer_setup(console_timer, timer_function, 0)
    mod_timer(console_timer, jiffies() + 24)
    pr_info("repeating every 24 jiffies (HZ=%d)\n", HZ)
    return 0


def repeating_timer_exit():
    global still_going
    still_going = 0
    mod_timer(console_timer, jiffies() + 1)
    wait_for_completion(timer_done)
    pr_info("stopped after %d runs, pending=%d\n", runs, timer_pending(console_timer))


module_init(repeating_timer_init)
module_exit(repeating_timer_exit)

if __name__ == "__main__":
    msleep(1000)
    rmmod("repeating_timer")
