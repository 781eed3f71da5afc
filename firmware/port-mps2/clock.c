// ktimers mps2 port: time base.
// Dual timer module 1 runs free (32-bit, 25 MHz, counting down); its wrap interrupt extends
// it to 64 bits. Dual timer module 2 is a one-shot wake-up source for sleeps.
#include <stdint.h>
#include "py/mphal.h"
#include "py/runtime.h"
#include "mps2_hw.h"

static volatile uint32_t cycles_hi;

void mps2_clock_init(void) {
    DUALTIMER1->CONTROL = 0;
    DUALTIMER2->CONTROL = 0;
    DUALTIMER1->INTCLR = 1;
    DUALTIMER2->INTCLR = 1;
    cycles_hi = 0;
    // free-running (MODE=0), 32-bit, prescale 1, wrap interrupt on
    DUALTIMER1->CONTROL = DT_CTRL_SIZE32 | DT_CTRL_INTEN;
    DUALTIMER1->LOAD = 0xFFFFFFFFu;
    DUALTIMER1->CONTROL = DT_CTRL_SIZE32 | DT_CTRL_INTEN | DT_CTRL_ENABLE;
    nvic_enable(DUALTIMER_IRQn, 1);
}

uint64_t mps2_cycles64(void) {
    uint32_t st = mps2_irq_save();
    uint32_t hi = cycles_hi;
    uint32_t lo = ~DUALTIMER1->VALUE;
    if (DUALTIMER1->RIS & 1) {
        // wrapped, interrupt not yet taken: re-read after the wrap
        lo = ~DUALTIMER1->VALUE;
        hi += 1;
    }
    mps2_irq_restore(st);
    return ((uint64_t)hi << 32) | lo;
}

void mps2_wake_after(uint32_t cycles) {
    if (cycles < 2) {
        cycles = 2;
    }
    DUALTIMER2->CONTROL = 0;
    DUALTIMER2->INTCLR = 1;
    DUALTIMER2->CONTROL = DT_CTRL_SIZE32 | DT_CTRL_ONESHOT | DT_CTRL_PERIODIC | DT_CTRL_INTEN;
    DUALTIMER2->LOAD = cycles;
    DUALTIMER2->CONTROL = DT_CTRL_SIZE32 | DT_CTRL_ONESHOT | DT_CTRL_PERIODIC | DT_CTRL_INTEN | DT_CTRL_ENABLE;
}

void DUALTIMER_IRQHandler(void) {
    mps2_irq_seq += 1;
    if (DUALTIMER1->RIS & 1) {
        DUALTIMER1->INTCLR = 1;
        cycles_hi += 1;
    }
    if (DUALTIMER2->RIS & 1) {
        DUALTIMER2->INTCLR = 1;
        DUALTIMER2->CONTROL = 0;
    }
}

// ---- MicroPython HAL time functions ----

mp_uint_t mp_hal_ticks_ms(void) {
    return (mp_uint_t)(mps2_cycles64() / (MPS2_SYSCLK_HZ / 1000));
}

mp_uint_t mp_hal_ticks_us(void) {
    return (mp_uint_t)(mps2_cycles64() / (MPS2_SYSCLK_HZ / 1000000));
}

mp_uint_t mp_hal_ticks_cpu(void) {
    return ~DUALTIMER1->VALUE;
}

uint64_t mp_hal_time_ns(void) {
    return mps2_cycles64() * (1000000000u / MPS2_SYSCLK_HZ);
}

// Wait until `end` (64-bit cycles), running scheduled callbacks and sleeping in WFI.
static void delay_until(uint64_t end) {
    for (;;) {
        uint64_t now = mps2_cycles64();
        if (now >= end) {
            return;
        }
        uint64_t left = end - now;
        if (left < 64) {
            continue; // short: spin on the counter
        }
        mp_event_handle_nowait(); // scheduled callbacks, KeyboardInterrupt
        now = mps2_cycles64();
        if (now >= end) {
            return;
        }
        left = end - now;
        mps2_wake_after(left > 0x7FFFFFFFu ? 0x7FFFFFFFu : (uint32_t)left);
        mps2_wfi();
    }
}

void mp_hal_delay_ms(mp_uint_t ms) {
    delay_until(mps2_cycles64() + (uint64_t)ms * (MPS2_SYSCLK_HZ / 1000));
}

void mp_hal_delay_us(mp_uint_t us) {
    delay_until(mps2_cycles64() + (uint64_t)us * (MPS2_SYSCLK_HZ / 1000000));
}

uint32_t mps2_random_seed(void) {
    return ~DUALTIMER1->VALUE ^ 0x6b74696d;
}
