// ktimers: MicroPython port configuration for the Arm MPS2-AN385 board (Cortex-M3) as
// emulated by qemu-system-arm. Written for this project; builds against py/, extmod/, shared/.
#include <stdint.h>
#include <alloca.h>

#define MICROPY_CONFIG_ROM_LEVEL            (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

#define MICROPY_EMIT_THUMB                  (1)
#define MICROPY_EMIT_INLINE_THUMB           (1)
#define MICROPY_MAKE_POINTER_CALLABLE(p)    ((void *)((mp_uint_t)(p) | 1))

#define MICROPY_ENABLE_GC                   (1)
// GC mark stack: 1024 entries (4 KB of BSS), as the rp2 port does. With the default 64
// any container of more than 64 heap objects (a module's globals, a class dict) overflows
// it and gc_deal_with_stack_overflow() rescans the allocation table of the whole 4 MB heap:
// one gc.collect() after `import ktimers` took 3.4 ms instead of a cost proportional to
// the live data (the sweep already stops at the last used block).
#define MICROPY_ALLOC_GC_STACK_SIZE         (1024)
#define MICROPY_ENABLE_EMERGENCY_EXCEPTION_BUF (1)
#define MICROPY_EMERGENCY_EXCEPTION_BUF_SIZE (0)
#define MICROPY_STACK_CHECK                 (1)
#define MICROPY_LONGINT_IMPL                (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_FLOAT_IMPL                  (MICROPY_FLOAT_IMPL_FLOAT)
#define MICROPY_WARNINGS                    (1)
#define MICROPY_HELPER_REPL                 (1)
#define MICROPY_REPL_INFO                   (1)
#define MICROPY_KBD_EXCEPTION               (1)
#define MICROPY_ENABLE_SCHEDULER            (1)
#define MICROPY_PERSISTENT_CODE_LOAD        (1)
#define MICROPY_READER_VFS                  (1)
#define MICROPY_MEM_STATS                   (1)
#define MICROPY_MALLOC_USES_ALLOCATED_SIZE  (1)
#define MICROPY_USE_INTERNAL_PRINTF         (1)
#define MICROPY_USE_INTERNAL_ERRNO          (1)
#define MICROPY_ENABLE_FINALISER            (1)

// sys
#define MICROPY_PY_SYS_PLATFORM             "qemu"
#define MICROPY_PY_SYS_STDFILES             (1)
#define MICROPY_PY_SYS_STDIO_BUFFER         (1)

// modules
#define MICROPY_PY_TIME                     (1)
#define MICROPY_PY_TIME_TIME_TIME_NS        (1)
#define MICROPY_PY_TIME_GMTIME_LOCALTIME_MKTIME (0)
#define MICROPY_PY_TIME_INCLUDEFILE         "modtime_port.c"
#define MICROPY_PY_SELECT                   (1)
#define MICROPY_PY_ASYNCIO                  (1)
#define MICROPY_PY_OS                       (1)
#define MICROPY_PY_OS_UNAME                 (1)
#define MICROPY_PY_OS_SEP                   (1)
#define MICROPY_PY_OS_STATVFS               (1)
#define MICROPY_PY_OS_SYNC                  (0)
#define MICROPY_PY_OS_DUPTERM               (0)
#define MICROPY_PY_RANDOM_SEED_INIT_FUNC    (mps2_random_seed())
#define MICROPY_PY_MACHINE                  (1)
#define MICROPY_PY_MACHINE_INCLUDEFILE      "machine_port.c"
#define MICROPY_PY_MACHINE_RESET            (1)
#define MICROPY_PY_MACHINE_BARE_METAL_FUNCS (1)
#define MICROPY_PY_MACHINE_DISABLE_IRQ_ENABLE_IRQ (1)
#define MICROPY_PY_MACHINE_MEMX             (1)
#define MICROPY_PY_MACHINE_PIN_BASE         (0)
#define MICROPY_PY_MACHINE_SIGNAL           (0)
// machine.Timer: MicroPython's own soft timers (extmod/machine_timer.c on
// shared/runtime/softtimer.c), counted by a 1 kHz SysTick and dispatched from PendSV (systick.c)
#define MICROPY_PY_MACHINE_TIMER            (1)
#define MICROPY_SOFT_TIMER_TICKS_MS         mps2_systick_ms
#define MICROPY_PY_MACHINE_EXTRA_GLOBALS \
    { MP_ROM_QSTR(MP_QSTR_Timer), MP_ROM_PTR(&machine_timer_type) },

// filesystem: littlefs2 on a semihosted host file
#define MICROPY_VFS                         (1)
// MICROPY_VFS_LFS2 comes from the Makefile (extmod.mk adds littlefs)
#define MICROPY_VFS_ROM                     (1)
#define MICROPY_VFS_ROM_IOCTL               (1) // romfs.c: a segment in PSRAM, kept in a host file
#define MICROPY_ALLOC_PATH_MAX              (256)

// types
#define MP_SSIZE_MAX (0x7fffffff)
#define UINT_FMT "%lu"
#define INT_FMT "%ld"
typedef int32_t mp_int_t;
typedef uint32_t mp_uint_t;
typedef long mp_off_t;

#define MP_NEED_LOG2 (1)
#define MP_STATE_PORT MP_STATE_VM

// Board name used in the banner and os.uname().
#if KTIMERS_NO_CCORE // firmware-nocore.elf: built without cmodules/ktimers (CCORE=0)
#define MICROPY_HW_BOARD_NAME "mps2-an385 (ktimers, no C core)"
#else
#define MICROPY_HW_BOARD_NAME "mps2-an385 (ktimers)"
#endif
#define MICROPY_HW_MCU_NAME "Cortex-M3"

// Atomic sections: PRIMASK.
static inline uint32_t mps2_irq_save(void) {
    uint32_t st;
    __asm volatile ("mrs %0, primask\n cpsid i" : "=r" (st) : : "memory");
    return st;
}
static inline void mps2_irq_restore(uint32_t st) {
    __asm volatile ("msr primask, %0" : : "r" (st) : "memory");
}
#define MICROPY_BEGIN_ATOMIC_SECTION()     mps2_irq_save()
#define MICROPY_END_ATOMIC_SECTION(state)  mps2_irq_restore(state)

// Soft-timer heap edits hold off PendSV only (BASEPRI at PendSV's priority 7): the hard
// timer interrupts (priority 1) still run.  The first one also starts SysTick (systick.c).
static inline uint32_t mps2_basepri_raise(uint32_t pri) {
    uint32_t old;
    __asm volatile ("mrs %0, basepri\n msr basepri_max, %1" : "=&r" (old) : "r" (pri) : "memory");
    return old;
}
static inline void mps2_basepri_restore(uint32_t old) {
    __asm volatile ("msr basepri, %0" : : "r" (old) : "memory");
}
uint32_t mps2_softtimer_enter(void);
#define MICROPY_PY_PENDSV_ENTER  uint32_t atomic_state = mps2_softtimer_enter();
#define MICROPY_PY_PENDSV_EXIT   mps2_basepri_restore(atomic_state);
#define __IO volatile

// Waiting for events: sleep in WFI until any interrupt (UART RX, timers, wake timer).
// mp_event_wait_ms(t) -> at most t ms (dual timer 2 wakes the core); -1 -> no limit.
void mps2_wait_for_event(uint32_t timeout_ms);
#define MICROPY_INTERNAL_WFE(TIMEOUT_MS) mps2_wait_for_event(TIMEOUT_MS)

uint32_t mps2_random_seed(void);
