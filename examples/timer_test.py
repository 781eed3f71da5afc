# timer_test (seed 003, Blackfin uClinux-dist): two timers armed at init
# fire 5 and 10 seconds later and print their data.
#   ktimers run examples/timer_test.py
from ktimers import *

MODULE_LICENSE("GPL")

timer1 = timer_list()
timer2 = timer_list()


def timer_test_func(data):
    pr_info("timer_test_func: here i am with my data '%d'!\n", data)


def timer_test_init():
    pr_info("timer module init\n")

    setup_timer(timer1, timer_test_func, 1234)
    pr_info("arming timer 1 to fire 5 seconds from now\n")
    mod_timer(timer1, jiffies() + msecs_to_jiffies(5000))

    setup_timer(timer2, timer_test_func, 9876)
    pr_info("arming timer 2 to fire 10 seconds from now\n")
    mod_timer(timer2, jiffies() + msecs_to_jiffies(10000))
    return 0


def timer_test_exit():
    del_timer_sync(timer1)
    del_timer_sync(timer2)
    pr_info("timer module exit\n")


module_init(timer_test_init)
module_exit(timer_test_exit)

if __name__ == "__main__":
    msleep(10500)
    rmmod("timer_test")
