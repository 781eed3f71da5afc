// ktimers mps2 port: the `mps2` module.
//   mps2.counter()   -> dual timer 1 as a free-running 30-bit up-counter at 25 MHz (small int)
//   mps2.Timer(id)   -> CMSDK APB timer 0 or 1, machine.Timer-like, period in 25 MHz ticks
//   mps2.Flash()     -> block device backed by a host file through ARM semihosting
#include <string.h>
#include "py/runtime.h"
#include "py/gc.h"
#include "py/mphal.h"
#include "py/mperrno.h"
#include "extmod/vfs.h"
#include "mps2_hw.h"

// ---------------------------------------------------------------- counter

static mp_obj_t mps2_counter(void) {
    return MP_OBJ_NEW_SMALL_INT(mps2_counter30());
}
static MP_DEFINE_CONST_FUN_OBJ_0(mps2_counter_obj, mps2_counter);

static mp_obj_t mps2_cmdline_obj_fn(void) {
    const char *c = mps2_cmdline();
    return mp_obj_new_str(c, strlen(c));
}
static MP_DEFINE_CONST_FUN_OBJ_0(mps2_cmdline_obj, mps2_cmdline_obj_fn);

static mp_obj_t mps2_idle_mode(size_t n_args, const mp_obj_t *args) {
    if (n_args == 1) {
        mps2_idle_spin = mp_obj_is_true(args[0]);
    }
    return MP_OBJ_NEW_QSTR(mps2_idle_spin ? MP_QSTR_spin : MP_QSTR_wfi);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mps2_idle_mode_obj, 0, 1, mps2_idle_mode);

// Re-phase the counter's 40 ns grid to "now" (stop, reload the current value, restart),
// losing less than one tick. Deterministic (-icount) scenarios call it first: every later
// counter read and timer deadline is then a fixed number of instructions from this instant.
static mp_obj_t mps2_counter_sync(void) {
    uint32_t st = mps2_irq_save();
    uint32_t ctrl = DUALTIMER1->CONTROL;
    uint32_t v = DUALTIMER1->VALUE;
    DUALTIMER1->CONTROL = ctrl & ~DT_CTRL_ENABLE;
    DUALTIMER1->LOAD = v;
    DUALTIMER1->CONTROL = ctrl;
    mps2_irq_restore(st);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(mps2_counter_sync_obj, mps2_counter_sync);

static mp_obj_t mps2_cycles(void) {
    return mp_obj_new_int_from_ull(mps2_cycles64());
}
static MP_DEFINE_CONST_FUN_OBJ_0(mps2_cycles_obj, mps2_cycles);

// ---------------------------------------------------------------- Timer

enum { TIMER_ONE_SHOT = 0, TIMER_PERIODIC = 1 };

typedef struct _mps2_timer_obj_t {
    mp_obj_base_t base;
    mps2_apbtimer_t *regs;
    uint8_t id;
    uint8_t mode;
    uint8_t hard;
    volatile uint8_t active;
    uint32_t period;
    uint32_t irq_count;
} mps2_timer_obj_t;

MP_REGISTER_ROOT_POINTER(mp_obj_t mps2_timer_callback[2]);

extern const mp_obj_type_t mps2_timer_type;

static mps2_timer_obj_t mps2_timers[2] = {
    {{&mps2_timer_type}, APBTIMER0, 0, TIMER_PERIODIC, 1, 0, 0, 0},
    {{&mps2_timer_type}, APBTIMER1, 1, TIMER_PERIODIC, 1, 0, 0, 0},
};

static void timer_hw_stop(mps2_timer_obj_t *t) {
    t->regs->CTRL = 0;
    t->regs->INTSTATUS = 1;
    t->active = 0;
}

// Program and start the hardware. Allocation-free; callable from any context.
static void timer_hw_start(mps2_timer_obj_t *t) {
    uint32_t st = mps2_irq_save();
    mps2_apbtimer_t *r = t->regs;
    r->CTRL = 0;
    r->INTSTATUS = 1;
    if (t->mode == TIMER_PERIODIC) {
        // the counter runs RELOAD..0 inclusive: RELOAD + 1 ticks per period
        r->RELOAD = t->period - 1;
    } else {
        // RELOAD 0: QEMU runs the count once; the IRQ handler also disables the timer
        r->RELOAD = 0;
        r->VALUE = t->period;
    }
    t->active = 1;
    r->CTRL = APBTIMER_CTRL_EN | APBTIMER_CTRL_IRQEN;
    mps2_irq_restore(st);
}

void mps2_timers_deinit(void) {
    // (re)initialise: stopped, callbacks cleared, NVIC lines enabled (priority 1)
    nvic_enable(APBTIMER0_IRQn, 1);
    nvic_enable(APBTIMER1_IRQn, 1);
    for (int i = 0; i < 2; ++i) {
        timer_hw_stop(&mps2_timers[i]);
        MP_STATE_PORT(mps2_timer_callback)[i] = mp_const_none;
    }
}

static void timer_irq(mps2_timer_obj_t *t) {
    mps2_irq_seq += 1;
    t->regs->INTSTATUS = 1;
    if (t->mode == TIMER_ONE_SHOT) {
        t->regs->CTRL = 0;
        t->active = 0;
    }
    t->irq_count += 1;
    mp_obj_t cb = MP_STATE_PORT(mps2_timer_callback)[t->id];
    if (cb == MP_OBJ_NULL || cb == mp_const_none) {
        return;
    }
    if (t->hard) {
        mp_sched_lock();
        gc_lock();
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            mp_call_function_1(cb, MP_OBJ_FROM_PTR(t));
            nlr_pop();
        } else {
            timer_hw_stop(t);
            MP_STATE_PORT(mps2_timer_callback)[t->id] = mp_const_none;
            mp_printf(MICROPY_ERROR_PRINTER, "uncaught exception in Timer(%u) interrupt handler\n", t->id);
            mp_obj_print_exception(&mp_plat_print, MP_OBJ_FROM_PTR(nlr.ret_val));
        }
        gc_unlock();
        mp_sched_unlock();
    } else {
        // A full queue drops this expiry, as machine.Timer does on other ports.
        mp_sched_schedule(cb, MP_OBJ_FROM_PTR(t));
    }
}

void APBTIMER0_IRQHandler(void) {
    timer_irq(&mps2_timers[0]);
}

void APBTIMER1_IRQHandler(void) {
    timer_irq(&mps2_timers[1]);
}

static uint32_t period_arg(mp_obj_t p) {
    mp_int_t v = mp_obj_get_int(p);
    if (v < 2) {
        mp_raise_ValueError(MP_ERROR_TEXT("period must be >= 2 ticks"));
    }
    return (uint32_t)v;
}

static mp_obj_t timer_init_helper(mps2_timer_obj_t *t, size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_mode, ARG_callback, ARG_period, ARG_freq, ARG_hard };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_mode, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = TIMER_PERIODIC} },
        { MP_QSTR_callback, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_period, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_freq, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_hard, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = true} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    uint32_t period;
    if (args[ARG_period].u_obj != mp_const_none) {
        period = period_arg(args[ARG_period].u_obj);
    } else if (args[ARG_freq].u_obj != mp_const_none) {
        mp_int_t f = mp_obj_get_int(args[ARG_freq].u_obj);
        if (f <= 0 || f > (mp_int_t)(MPS2_SYSCLK_HZ / 2)) {
            mp_raise_ValueError(MP_ERROR_TEXT("bad freq"));
        }
        period = MPS2_SYSCLK_HZ / (uint32_t)f;
    } else {
        mp_raise_ValueError(MP_ERROR_TEXT("period or freq required"));
    }
    mp_int_t mode = args[ARG_mode].u_int;
    if (mode != TIMER_ONE_SHOT && mode != TIMER_PERIODIC) {
        mp_raise_ValueError(MP_ERROR_TEXT("bad mode"));
    }
    timer_hw_stop(t);
    t->mode = (uint8_t)mode;
    t->hard = args[ARG_hard].u_bool;
    t->period = period;
    MP_STATE_PORT(mps2_timer_callback)[t->id] = args[ARG_callback].u_obj;
    timer_hw_start(t);
    return mp_const_none;
}

static mp_obj_t mps2_timer_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 1, 1, true);
    mp_int_t id = mp_obj_get_int(args[0]);
    if (id < 0 || id > 1) {
        mp_raise_ValueError(MP_ERROR_TEXT("Timer id must be 0 or 1"));
    }
    mps2_timer_obj_t *t = &mps2_timers[id];
    if (n_kw > 0) {
        mp_map_t kw_args;
        mp_map_init_fixed_table(&kw_args, n_kw, args + n_args);
        timer_init_helper(t, 0, args + n_args, &kw_args);
    }
    return MP_OBJ_FROM_PTR(t);
}

static mp_obj_t mps2_timer_init(size_t n_args, const mp_obj_t *args, mp_map_t *kw_args) {
    return timer_init_helper(MP_OBJ_TO_PTR(args[0]), n_args - 1, args + 1, kw_args);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(mps2_timer_init_obj, 1, mps2_timer_init);

static mp_obj_t mps2_timer_deinit(mp_obj_t self_in) {
    mps2_timer_obj_t *t = MP_OBJ_TO_PTR(self_in);
    timer_hw_stop(t);
    MP_STATE_PORT(mps2_timer_callback)[t->id] = mp_const_none;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mps2_timer_deinit_obj, mps2_timer_deinit);

// Extension: re-arm with the current mode/callback and a new period (allocation-free).
static mp_obj_t mps2_timer_start(mp_obj_t self_in, mp_obj_t period_in) {
    mps2_timer_obj_t *t = MP_OBJ_TO_PTR(self_in);
    t->period = period_arg(period_in);
    timer_hw_start(t);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(mps2_timer_start_obj, mps2_timer_start);

// Extension: stop the hardware but keep the callback (allocation-free).
static mp_obj_t mps2_timer_stop(mp_obj_t self_in) {
    timer_hw_stop(MP_OBJ_TO_PTR(self_in));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mps2_timer_stop_obj, mps2_timer_stop);

static mp_obj_t mps2_timer_value(mp_obj_t self_in) {
    mps2_timer_obj_t *t = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_int_from_uint(t->regs->VALUE);
}
static MP_DEFINE_CONST_FUN_OBJ_1(mps2_timer_value_obj, mps2_timer_value);

static mp_obj_t mps2_timer_active(mp_obj_t self_in) {
    mps2_timer_obj_t *t = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_bool(t->active);
}
static MP_DEFINE_CONST_FUN_OBJ_1(mps2_timer_active_obj, mps2_timer_active);

static mp_obj_t mps2_timer_count(mp_obj_t self_in) {
    mps2_timer_obj_t *t = MP_OBJ_TO_PTR(self_in);
    return MP_OBJ_NEW_SMALL_INT(t->irq_count & 0x3FFFFFFF);
}
static MP_DEFINE_CONST_FUN_OBJ_1(mps2_timer_count_obj, mps2_timer_count);

static void mps2_timer_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    mps2_timer_obj_t *t = MP_OBJ_TO_PTR(self_in);
    mp_printf(print, "Timer(%u, mode=%s, period=%u, hard=%s)", t->id,
        t->mode == TIMER_ONE_SHOT ? "ONE_SHOT" : "PERIODIC", (unsigned)t->period, t->hard ? "True" : "False");
}

static const mp_rom_map_elem_t mps2_timer_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_init), MP_ROM_PTR(&mps2_timer_init_obj) },
    { MP_ROM_QSTR(MP_QSTR_deinit), MP_ROM_PTR(&mps2_timer_deinit_obj) },
    { MP_ROM_QSTR(MP_QSTR_value), MP_ROM_PTR(&mps2_timer_value_obj) },
    { MP_ROM_QSTR(MP_QSTR_start), MP_ROM_PTR(&mps2_timer_start_obj) },
    { MP_ROM_QSTR(MP_QSTR_stop), MP_ROM_PTR(&mps2_timer_stop_obj) },
    { MP_ROM_QSTR(MP_QSTR_active), MP_ROM_PTR(&mps2_timer_active_obj) },
    { MP_ROM_QSTR(MP_QSTR_count), MP_ROM_PTR(&mps2_timer_count_obj) },
    { MP_ROM_QSTR(MP_QSTR_ONE_SHOT), MP_ROM_INT(TIMER_ONE_SHOT) },
    { MP_ROM_QSTR(MP_QSTR_PERIODIC), MP_ROM_INT(TIMER_PERIODIC) },
};
static MP_DEFINE_CONST_DICT(mps2_timer_locals_dict, mps2_timer_locals_dict_table);

MP_DEFINE_CONST_OBJ_TYPE(
    mps2_timer_type,
    MP_QSTR_Timer,
    MP_TYPE_FLAG_NONE,
    make_new, mps2_timer_make_new,
    print, mps2_timer_print,
    locals_dict, &mps2_timer_locals_dict
    );

// ---------------------------------------------------------------- Flash (semihosting)


#define FLASH_BLOCK_SIZE (4096)
#define FLASH_DEFAULT_SIZE (1024 * 1024)

static int flash_handle = -1;
static uint32_t flash_size;
static char flash_path[192];

// The host file name: "flash=<path>" in the semihosting command line, else "flash.img"
// (relative to QEMU's working directory).
const char *mps2_cmdline(void) {
    static char cmdline[256];
    static uint8_t done;
    if (!done) {
        uint32_t blk[2] = {(uint32_t)cmdline, sizeof(cmdline) - 1};
        if (semihost_call(SYS_GET_CMDLINE, blk) != 0) {
            cmdline[0] = 0;
        } else {
            cmdline[blk[1] < sizeof(cmdline) ? blk[1] : sizeof(cmdline) - 1] = 0;
        }
        done = 1;
    }
    return cmdline;
}

// Copy the value of "<key>" (for example "flash=") in the semihosting command line into
// buf (at most size - 1 bytes); returns 1 if the key is present.
int mps2_cmdline_arg(const char *key, char *buf, size_t size) {
    const char *cmdline = mps2_cmdline();
    size_t klen = strlen(key);
    for (const char *p = cmdline; *p; ++p) {
        if ((p == cmdline || p[-1] == ' ') && strncmp(p, key, klen) == 0) {
            p += klen;
            size_t n = 0;
            while (p[n] && p[n] != ' ' && n < size - 1) {
                buf[n] = p[n];
                ++n;
            }
            buf[n] = 0;
            return 1;
        }
    }
    return 0;
}

static void flash_find_path(void) {
    if (!mps2_cmdline_arg("flash=", flash_path, sizeof(flash_path))) {
        strcpy(flash_path, "flash.img");
    }
}

static int flash_open(void) {
    if (flash_handle >= 0) {
        return 0;
    }
    flash_find_path();
    uint32_t blk[3] = {(uint32_t)flash_path, 3 /* "r+b" */, strlen(flash_path)};
    int h = semihost_call(SYS_OPEN, blk);
    if (h < 0) {
        blk[1] = 7; // "w+b": create
        h = semihost_call(SYS_OPEN, blk);
        if (h < 0) {
            return -MP_ENOENT;
        }
    }
    uint32_t lb[1] = {(uint32_t)h};
    int len = semihost_call(SYS_FLEN, lb);
    if (len < FLASH_BLOCK_SIZE * 16) {
        // blank or new: extend to the default size (reads as zeros)
        static const uint8_t zero[4] = {0};
        uint32_t sb[2] = {(uint32_t)h, FLASH_DEFAULT_SIZE - 4};
        semihost_call(SYS_SEEK, sb);
        uint32_t wb[3] = {(uint32_t)h, (uint32_t)zero, 4};
        semihost_call(SYS_WRITE, wb);
        len = FLASH_DEFAULT_SIZE;
    }
    flash_size = (uint32_t)len / FLASH_BLOCK_SIZE * FLASH_BLOCK_SIZE;
    flash_handle = h;
    return 0;
}

static int flash_xfer(int op, uint32_t addr, void *buf, uint32_t len) {
    if (addr + len > flash_size || addr + len < addr) {
        return -MP_EIO;
    }
    uint32_t sb[2] = {(uint32_t)flash_handle, addr};
    if (semihost_call(SYS_SEEK, sb) != 0) {
        return -MP_EIO;
    }
    uint32_t xb[3] = {(uint32_t)flash_handle, (uint32_t)buf, len};
    int left = semihost_call(op, xb);
    if (left != 0) {
        if (op == SYS_READ && left > 0 && (uint32_t)left <= len) {
            memset((uint8_t *)buf + (len - left), 0, left); // past EOF of a sparse file
            return 0;
        }
        return -MP_EIO;
    }
    return 0;
}

typedef struct _mps2_flash_obj_t {
    mp_obj_base_t base;
} mps2_flash_obj_t;

extern const mp_obj_type_t mps2_flash_type;
static const mps2_flash_obj_t mps2_flash_obj = {{&mps2_flash_type}};

static mp_obj_t mps2_flash_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 0, 0, false);
    int err = flash_open();
    if (err) {
        mp_raise_OSError(-err);
    }
    return MP_OBJ_FROM_PTR(&mps2_flash_obj);
}

static mp_obj_t flash_rw(int op, size_t n_args, const mp_obj_t *args) {
    uint32_t block = mp_obj_get_int(args[1]);
    mp_buffer_info_t bufinfo;
    mp_get_buffer_raise(args[2], &bufinfo, op == SYS_READ ? MP_BUFFER_WRITE : MP_BUFFER_READ);
    uint32_t offset = n_args > 3 && args[3] != mp_const_none ? mp_obj_get_int(args[3]) : 0;
    int err = flash_xfer(op, block * FLASH_BLOCK_SIZE + offset, bufinfo.buf, bufinfo.len);
    return MP_OBJ_NEW_SMALL_INT(err);
}

static mp_obj_t mps2_flash_readblocks(size_t n_args, const mp_obj_t *args) {
    return flash_rw(SYS_READ, n_args, args);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mps2_flash_readblocks_obj, 3, 4, mps2_flash_readblocks);

static mp_obj_t mps2_flash_writeblocks(size_t n_args, const mp_obj_t *args) {
    return flash_rw(SYS_WRITE, n_args, args);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mps2_flash_writeblocks_obj, 3, 4, mps2_flash_writeblocks);

static mp_obj_t mps2_flash_ioctl(mp_obj_t self_in, mp_obj_t op_in, mp_obj_t arg_in) {
    switch (mp_obj_get_int(op_in)) {
        case MP_BLOCKDEV_IOCTL_INIT:
        case MP_BLOCKDEV_IOCTL_DEINIT:
        case MP_BLOCKDEV_IOCTL_SYNC:
        case MP_BLOCKDEV_IOCTL_BLOCK_ERASE:
            return MP_OBJ_NEW_SMALL_INT(0);
        case MP_BLOCKDEV_IOCTL_BLOCK_COUNT:
            return MP_OBJ_NEW_SMALL_INT(flash_size / FLASH_BLOCK_SIZE);
        case MP_BLOCKDEV_IOCTL_BLOCK_SIZE:
            return MP_OBJ_NEW_SMALL_INT(FLASH_BLOCK_SIZE);
        default:
            return mp_const_none;
    }
}
static MP_DEFINE_CONST_FUN_OBJ_3(mps2_flash_ioctl_obj, mps2_flash_ioctl);

static mp_obj_t mps2_flash_path(mp_obj_t self_in) {
    return mp_obj_new_str(flash_path, strlen(flash_path));
}
static MP_DEFINE_CONST_FUN_OBJ_1(mps2_flash_path_obj, mps2_flash_path);

static const mp_rom_map_elem_t mps2_flash_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_readblocks), MP_ROM_PTR(&mps2_flash_readblocks_obj) },
    { MP_ROM_QSTR(MP_QSTR_writeblocks), MP_ROM_PTR(&mps2_flash_writeblocks_obj) },
    { MP_ROM_QSTR(MP_QSTR_ioctl), MP_ROM_PTR(&mps2_flash_ioctl_obj) },
    { MP_ROM_QSTR(MP_QSTR_path), MP_ROM_PTR(&mps2_flash_path_obj) },
};
static MP_DEFINE_CONST_DICT(mps2_flash_locals_dict, mps2_flash_locals_dict_table);

MP_DEFINE_CONST_OBJ_TYPE(
    mps2_flash_type,
    MP_QSTR_Flash,
    MP_TYPE_FLAG_NONE,
    make_new, mps2_flash_make_new,
    locals_dict, &mps2_flash_locals_dict
    );

// ---------------------------------------------------------------- module

static const mp_rom_map_elem_t mps2_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_mps2) },
    { MP_ROM_QSTR(MP_QSTR_counter), MP_ROM_PTR(&mps2_counter_obj) },
    { MP_ROM_QSTR(MP_QSTR_cycles), MP_ROM_PTR(&mps2_cycles_obj) },
    { MP_ROM_QSTR(MP_QSTR_counter_sync), MP_ROM_PTR(&mps2_counter_sync_obj) },
    { MP_ROM_QSTR(MP_QSTR_cmdline), MP_ROM_PTR(&mps2_cmdline_obj) },
    { MP_ROM_QSTR(MP_QSTR_idle_mode), MP_ROM_PTR(&mps2_idle_mode_obj) },
    { MP_ROM_QSTR(MP_QSTR_Timer), MP_ROM_PTR(&mps2_timer_type) },
    { MP_ROM_QSTR(MP_QSTR_Flash), MP_ROM_PTR(&mps2_flash_type) },
    { MP_ROM_QSTR(MP_QSTR_FREQ), MP_ROM_INT(MPS2_SYSCLK_HZ) },
    { MP_ROM_QSTR(MP_QSTR_COUNTER_MASK), MP_ROM_INT(0x3FFFFFFF) },
};
static MP_DEFINE_CONST_DICT(mps2_module_globals, mps2_module_globals_table);

const mp_obj_module_t mp_module_mps2 = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&mps2_module_globals,
};
MP_REGISTER_MODULE(MP_QSTR_mps2, mp_module_mps2);
