// ktimers mps2 port: 1 kHz SysTick and PendSV, the drive of MicroPython's own soft timers.
//
// machine.Timer on this firmware is MicroPython's extmod/machine_timer.c over
// shared/runtime/softtimer.c, driven as the stm32, samd, mimxrt and renesas-ra ports drive it:
//   SysTick (Cortex-M3 core timer, processor clock 25 MHz, RELOAD 24999) interrupts every
//   1 ms and counts mps2_systick_ms (MICROPY_SOFT_TIMER_TICKS_MS); when that count reaches
//   soft_timer_next it pends PendSV; the PendSV handler runs soft_timer_handler(), which
//   hands each due timer's Python callback to mp_sched_schedule (callbacks run scheduled,
//   never in the IRQ) and re-arms periodic ones at expiry += period (no drift).
// Priorities: APB/dual timers 1, UART 2, SysTick 6, PendSV 7 (lowest), so the soft-timer
// machinery never delays the hard-IRQ timers; MICROPY_PY_PENDSV_ENTER raises BASEPRI to 7.
// SysTick starts with the first soft-timer operation (MICROPY_PY_PENDSV_ENTER, i.e. the first
// machine.Timer init/deinit) and stops at soft reset, so a program that never uses
// machine.Timer (the mps2 backend, the benchmarks) sees no extra interrupt at all.
#include <stdint.h>
#include "py/runtime.h"
#include "py/mphal.h"
#include "shared/runtime/softtimer.h"
#include "mps2_hw.h"

volatile uint32_t mps2_systick_ms;
uint8_t mps2_systick_on;

void mps2_systick_stop(void) {
    SYST_CSR = 0;
    SCB_ICSR = SCB_ICSR_PENDSTCLR | SCB_ICSR_PENDSVCLR;
    mps2_systick_on = 0;
}

static void mps2_systick_start(void) {
    SCB_SHPR3 = (SCB_SHPR3 & 0x0000FFFFu) | (6u << 29) | (7u << 21); // SysTick 6, PendSV 7
    SYST_RVR = MPS2_SYSCLK_HZ / 1000 - 1;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    mps2_systick_on = 1;
}

// MICROPY_PY_PENDSV_ENTER: hold PendSV off (BASEPRI 7); start SysTick on first use.
uint32_t mps2_softtimer_enter(void) {
    uint32_t old = mps2_basepri_raise(7u << 5);
    if (!mps2_systick_on) {
        mps2_systick_start();
    }
    return old;
}

void SysTick_Handler(void) {
    uint32_t now = mps2_systick_ms + 1;
    mps2_systick_ms = now;
    if (soft_timer_next == now) {
        SCB_ICSR = SCB_ICSR_PENDSVSET;
    }
}

void PendSV_Handler(void) {
    soft_timer_handler();
}
