// ktimers mps2 port: machine module hooks (included from extmod/modmachine.c).
#include "mps2_hw.h"

static void mp_machine_idle(void) {
    // one WFI: returns on the next interrupt (tick, clock event, UART, wake timer)
    mp_event_handle_nowait();
    mps2_wfi();
}

NORETURN static void mp_machine_reset(void) {
    // SYSRESETREQ: QEMU performs a system reset and reloads the image.
    __asm volatile ("dsb");
    SCB_AIRCR = 0x05FA0004;
    __asm volatile ("dsb");
    for (;;) {
    }
}

static mp_int_t mp_machine_reset_cause(void) {
    return 0;
}

static mp_obj_t mp_machine_unique_id(void) {
    static const uint8_t id[] = {'m', 'p', 's', '2', 0x03, 0x85};
    return mp_obj_new_bytes(id, sizeof(id));
}

static mp_obj_t mp_machine_get_freq(void) {
    return MP_OBJ_NEW_SMALL_INT(MPS2_SYSCLK_HZ);
}

static void mp_machine_set_freq(size_t n_args, const mp_obj_t *args) {
    mp_raise_NotImplementedError(MP_ERROR_TEXT("fixed 25 MHz"));
}

static void mp_machine_lightsleep(size_t n_args, const mp_obj_t *args) {
    if (n_args == 0) {
        mps2_wfi();
    } else {
        mp_hal_delay_ms(mp_obj_get_int(args[0]));
    }
}

NORETURN static void mp_machine_deepsleep(size_t n_args, const mp_obj_t *args) {
    mp_machine_lightsleep(n_args, args);
    mp_machine_reset();
}
