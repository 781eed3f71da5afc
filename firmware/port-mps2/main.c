// ktimers mps2 port: boot, filesystem mount, boot.py/main.py, REPL, soft reset.
#include <stdio.h>
#include <string.h>
#include "py/compile.h"
#include "py/runtime.h"
#include "py/stackctrl.h"
#include "py/gc.h"
#include "py/mperrno.h"
#include "py/builtin.h"
#include "extmod/vfs.h"
#include "extmod/vfs_lfs.h"
#include "shared/runtime/gchelper.h"
#include "shared/runtime/pyexec.h"
#include "shared/runtime/softtimer.h"
#include "mps2_hw.h"

extern uint32_t _estack, _ebss, _gc_heap_start, _gc_heap_end;
extern const mp_obj_type_t mps2_flash_type;

// Mount the semihosted flash at "/" (littlefs2), formatting it if it is blank.
static void mount_flash(void) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t bdev = MP_OBJ_TYPE_GET_SLOT(&mps2_flash_type, make_new)(&mps2_flash_type, 0, 0, NULL);
        mp_obj_t vfs;
        nlr_buf_t nlr2;
        if (nlr_push(&nlr2) == 0) {
            vfs = MP_OBJ_TYPE_GET_SLOT(&mp_type_vfs_lfs2, make_new)(&mp_type_vfs_lfs2, 1, 0, &bdev);
            mp_obj_t args[2] = {vfs, MP_OBJ_NEW_QSTR(MP_QSTR__slash_)};
            mp_vfs_mount(2, args, (mp_map_t *)&mp_const_empty_map);
            nlr_pop();
        } else {
            mp_printf(&mp_plat_print, "flash: formatting littlefs2 on the host file\n");
            mp_obj_t mkfs = mp_load_attr(MP_OBJ_FROM_PTR(&mp_type_vfs_lfs2), MP_QSTR_mkfs);
            mp_call_function_1(mkfs, bdev);
            vfs = MP_OBJ_TYPE_GET_SLOT(&mp_type_vfs_lfs2, make_new)(&mp_type_vfs_lfs2, 1, 0, &bdev);
            mp_obj_t args[2] = {vfs, MP_OBJ_NEW_QSTR(MP_QSTR__slash_)};
            mp_vfs_mount(2, args, (mp_map_t *)&mp_const_empty_map);
            mp_obj_t lib = mp_obj_new_str("/lib", 4);
            mp_vfs_mkdir(lib);
        }
        // the current directory is "/": the root mount, last in the table (mp_init() may
        // have mounted the ROMFS segment at /rom before it)
        for (mp_vfs_mount_t *m = MP_STATE_VM(vfs_mount_table); m != NULL; m = m->next) {
            MP_STATE_VM(vfs_cur) = m;
        }
        nlr_pop();
    } else {
        mp_printf(&mp_plat_print, "flash: not mounted: ");
        mp_obj_print_exception(&mp_plat_print, MP_OBJ_FROM_PTR(nlr.ret_val));
    }
}

static int romfs_mounted(void) {
    for (mp_vfs_mount_t *m = MP_STATE_VM(vfs_mount_table); m != NULL; m = m->next) {
        if (m->len == 4 && memcmp(m->str, "/rom", 4) == 0) {
            return 1;
        }
    }
    return 0;
}

int main(void) {
    uart_init();
    mps2_clock_init();
    __asm volatile ("cpsie i");

    mps2_idle_spin = strstr(mps2_cmdline(), "idle=spin") != NULL;
    mp_stack_set_top(&_estack);
    mp_stack_set_limit((char *)&_estack - (char *)&_ebss - 4096);
    gc_init(&_gc_heap_start, &_gc_heap_end);

    for (;;) {
        mp_init();
        mps2_timers_deinit();
        // sys.path: frozen modules first (when built with FREEZE=1), then cwd, then /lib
        mp_obj_list_init(MP_OBJ_TO_PTR(mp_sys_path), 0);
        #if MICROPY_MODULE_FROZEN
        mp_obj_list_append(mp_sys_path, MP_OBJ_NEW_QSTR(MP_QSTR__dot_frozen));
        #endif
        mp_obj_list_append(mp_sys_path, MP_OBJ_NEW_QSTR(MP_QSTR_));
        // then /rom/lib when mp_init() mounted a ROMFS image (modules run in place from it,
        // ahead of the filesystem's copies, as on MicroPython's stm32 and rp2 ports)
        if (romfs_mounted()) {
            mp_obj_list_append(mp_sys_path, MP_OBJ_NEW_QSTR(MP_QSTR__slash_rom_slash_lib));
        }
        mp_obj_list_append(mp_sys_path, mp_obj_new_str("/lib", 4));

        mount_flash();

        int run_main = 1;
        if (pyexec_mode_kind == PYEXEC_MODE_FRIENDLY_REPL) {
            int ret = pyexec_file_if_exists("boot.py");
            if (ret & PYEXEC_FORCED_EXIT) {
                run_main = 0;
            }
            if (run_main && pyexec_mode_kind == PYEXEC_MODE_FRIENDLY_REPL) {
                ret = pyexec_file_if_exists("main.py");
                if (ret & PYEXEC_FORCED_EXIT) {
                    goto soft_reset;
                }
            }
        }

        for (;;) {
            if (pyexec_mode_kind == PYEXEC_MODE_RAW_REPL) {
                if (pyexec_raw_repl() != 0) {
                    break;
                }
            } else {
                if (pyexec_friendly_repl() != 0) {
                    break;
                }
            }
        }

    soft_reset:
        mps2_timers_deinit();
        soft_timer_deinit(); // machine.Timer objects live on the GC heap
        mps2_systick_stop();
        mp_printf(&mp_plat_print, "MPY: soft reboot\n");
        gc_sweep_all();
        mp_deinit();
    }
}

void gc_collect(void) {
    gc_collect_start();
    gc_helper_collect_regs_and_stack();
    if (mps2_systick_on) {
        soft_timer_gc_mark_all(); // pending machine.Timer objects are reachable from the IRQ side
    }
    gc_collect_end();
}

void nlr_jump_fail(void *val) {
    mp_printf(&mp_plat_print, "FATAL: uncaught NLR %p; resetting\n", val);
    SCB_AIRCR = 0x05FA0004;
    for (;;) {
    }
}

#ifndef NDEBUG
void __assert_func(const char *file, int line, const char *func, const char *expr) {
    (void)func;
    mp_printf(&mp_plat_print, "Assertion '%s' failed, at file %s:%d\n", expr, file, line);
    nlr_jump_fail(NULL);
}
#endif

void abort(void) {
    nlr_jump_fail(NULL);
}
