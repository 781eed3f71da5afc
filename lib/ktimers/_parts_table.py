"""ktimers._parts_table -- the package's lazily loaded names, by part.

    _LAZY   part, the names it gives the package, part, ... (flat)

ktimers._parts reads it where the firmware has no C core (the pure-Python
proxies); the C core keeps the same table in flash (firmware/cmodules/ktimers,
kt_lazy_names and kt_lazy_parts: tests/device/test_lazy_core.py checks that
they agree), so there this module is not loaded and the table takes no heap.
"""

# Loaded on first use: submodule, then the names it gives the package (flat:
# one tuple fewer per part on a ROMFS heap); the first two parts take
# positional proxies (_lazyp).
_LAZY = (
    "timer",
    (
        "timer_list", "timer_setup", "timer_pending", "mod_timer", "mod_timer_pending",
        "timer_reduce", "add_timer", "add_timer_local", "add_timer_global", "timer_delete",
        "timer_delete_sync", "del_timer", "del_timer_sync", "wheel_check",
    ),
    "hrtimer",
    (
        "hrtimer", "hrtimer_setup", "hrtimer_cancel", "hrtimer_start_range_ns", "hrtimer_start",
        "hrtimer_try_to_cancel", "hrtimer_forward", "hrtimer_forward_now", "hrtimer_active",
        "hrtimer_get_expires",
    ),
    "_hrtimer_ext",
    (
        "hrtimer_init", "hrtimer_start_expires", "hrtimer_restart", "hrtimer_is_queued",
        "hrtimer_callback_running", "hrtimer_get_softexpires", "hrtimer_get_remaining",
        "hrtimer_set_expires", "hrtimer_set_expires_range_ns", "hrtimer_add_expires",
        "hrtimer_add_expires_ns", "clock_was_set",
    ),
    "module",
    (
        "module_init", "module_exit", "module_param", "MODULE_PARM_DESC", "MODULE_LICENSE",
        "MODULE_AUTHOR", "MODULE_DESCRIPTION", "modinfo", "insmod", "rmmod", "lsmod",
    ),
    "proc",
    (
        "timer_list_lines", "timer_list_show",
    ),
    "_timer_ext",
    (
        "DEFINE_TIMER", "init_timer", "setup_timer", "add_timer_on", "timer_delete_sync_try",
        "try_to_del_timer_sync", "timer_shutdown", "timer_shutdown_sync",
    ),
    "_completion_wait",
    (
        "wait_for_completion", "wait_for_completion_timeout", "wait_for_completion_interruptible",
        "wait_for_completion_interruptible_timeout", "wait_for_completion_killable",
        "wait_for_completion_killable_timeout",
    ),
    "sleep",
    (
        "hrtimer_sleeper", "hrtimer_setup_sleeper_on_stack", "hrtimer_sleeper_start_expires",
        "schedule_hrtimeout_range", "schedule_hrtimeout", "hrtimer_nanosleep", "schedule_timeout",
        "schedule_timeout_uninterruptible", "schedule_timeout_interruptible",
        "schedule_timeout_idle", "msleep", "msleep_interruptible", "ssleep", "usleep_range",
        "fsleep",
    ),
    "_ktime",
    (
        "ktime_add_ns", "ktime_sub_ns", "ktime_add_us", "ktime_add_ms", "ktime_sub_us",
        "ktime_sub_ms", "ktime_us_delta", "ktime_ms_delta", "ktime_compare", "ktime_after",
        "ktime_before", "ktime_to_timespec64", "ktime_to_timespec", "timespec64_to_ktime",
        "ktime_get_seconds", "ktime_get_real_seconds", "ktime_get_clock", "do_settimeofday64",
        "ktime_set_real", "timekeeping_set_tai_offset",
    ),
    "_dmesg",
    (
        "dmesg", "dmesg_entries", "dmesg_lines", "dmesg_clear", "dmesg_resize",
        "print_exception_to_dmesg",
    ),
)
# package names that a submodule import would overwrite with the submodule
