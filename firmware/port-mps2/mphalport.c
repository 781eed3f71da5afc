// ktimers mps2 port: stdio and event waiting.
#include <stdint.h>
#include "py/runtime.h"
#include "py/mphal.h"
#include "py/stream.h"
#include "mps2_hw.h"

// Sleep until any interrupt arrives, unless work is already pending. PRIMASK is set
// around the check so an interrupt between the check and WFI still ends the WFI.
volatile uint32_t mps2_irq_seq;
uint8_t mps2_idle_spin;

void mps2_wfi(void) {
    if (mps2_idle_spin) {
        // Under -icount sleep=off a WFI lets QEMU warp the clock past coalesced timer
        // interrupts; spinning keeps virtual time tied to executed instructions.
        uint32_t seq = mps2_irq_seq;
        while (seq == mps2_irq_seq && !uart_rx_any()
               && MP_STATE_VM(sched_state) != MP_SCHED_PENDING) {
        }
        return;
    }
    uint32_t st = mps2_irq_save();
    if (!uart_rx_any()
        #if MICROPY_ENABLE_SCHEDULER
        && MP_STATE_VM(sched_state) != MP_SCHED_PENDING
        #endif
        ) {
        __asm volatile ("wfi");
    }
    mps2_irq_restore(st);
}

// MICROPY_INTERNAL_WFE: mp_event_wait_ms(t) (select.poll, asyncio) and
// mp_event_wait_indefinite (t = -1). A finite timeout arms dual timer 2 as a one-shot
// wake-up, so the wait ends after at most t ms even when no other interrupt arrives
// (callers loop on their own deadline, so an earlier return is fine).
void mps2_wait_for_event(uint32_t timeout_ms) {
    if (timeout_ms != (uint32_t)-1) {
        uint32_t max_ms = 0x7FFFFFFFu / (MPS2_SYSCLK_HZ / 1000);
        mps2_wake_after((timeout_ms > max_ms ? max_ms : timeout_ms) * (MPS2_SYSCLK_HZ / 1000));
    }
    mps2_wfi();
}

uintptr_t mp_hal_stdio_poll(uintptr_t poll_flags) {
    uintptr_t ret = 0;
    if ((poll_flags & MP_STREAM_POLL_RD) && uart_rx_any()) {
        ret |= MP_STREAM_POLL_RD;
    }
    if (poll_flags & MP_STREAM_POLL_WR) {
        ret |= MP_STREAM_POLL_WR;
    }
    return ret;
}

// Blocking read of one char: scheduled callbacks keep running while the REPL waits.
int mp_hal_stdin_rx_chr(void) {
    for (;;) {
        int c = uart_rx_chr();
        if (c >= 0) {
            return c;
        }
        mp_event_wait_indefinite(); // runs mp_handle_pending, then MICROPY_INTERNAL_WFE
    }
}

mp_uint_t mp_hal_stdout_tx_strn(const char *str, size_t len) {
    uart_tx_strn(str, len);
    return len;
}
