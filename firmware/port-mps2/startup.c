// ktimers mps2 port: reset handler, vector table (16 core + 32 external), fault report,
// and the ARM semihosting call used by the flash block device.
#include <stdint.h>
#include <stddef.h>
#include "mps2_hw.h"

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
int main(void);

void Reset_Handler(void) __attribute__((naked, noreturn));
void Default_Handler(void);
void Fault_Handler(void);

#define WEAK_DEFAULT __attribute__((weak, alias("Default_Handler")))
void UART0_RX_IRQHandler(void) WEAK_DEFAULT;
void APBTIMER0_IRQHandler(void) WEAK_DEFAULT;
void APBTIMER1_IRQHandler(void) WEAK_DEFAULT;
void DUALTIMER_IRQHandler(void) WEAK_DEFAULT;
void SVC_Handler(void) WEAK_DEFAULT;
void PendSV_Handler(void) WEAK_DEFAULT;
void SysTick_Handler(void) WEAK_DEFAULT;

typedef void (*vector_t)(void);

// 48 entries = 192 bytes; placed at address 0 (VTOR reset value), 256-byte aligned.
__attribute__((section(".isr_vector"), used, aligned(256)))
const vector_t mps2_vectors[16 + 32] = {
    [0] = (vector_t)&_estack,
    [1] = Reset_Handler,
    [2] = Fault_Handler,    // NMI
    [3] = Fault_Handler,    // HardFault
    [4] = Fault_Handler,    // MemManage
    [5] = Fault_Handler,    // BusFault
    [6] = Fault_Handler,    // UsageFault
    [11] = SVC_Handler,
    [12] = Default_Handler, // DebugMon
    [14] = PendSV_Handler,
    [15] = SysTick_Handler,
    [16 + 0] = UART0_RX_IRQHandler,
    [16 + 1] = Default_Handler,
    [16 + 2] = Default_Handler, [16 + 3] = Default_Handler,
    [16 + 4] = Default_Handler, [16 + 5] = Default_Handler,
    [16 + 6] = Default_Handler, [16 + 7] = Default_Handler,
    [16 + APBTIMER0_IRQn] = APBTIMER0_IRQHandler,
    [16 + APBTIMER1_IRQn] = APBTIMER1_IRQHandler,
    [16 + DUALTIMER_IRQn] = DUALTIMER_IRQHandler,
    [16 + 11] = Default_Handler, [16 + 12] = Default_Handler, [16 + 13] = Default_Handler,
    [16 + 14] = Default_Handler, [16 + 15] = Default_Handler, [16 + 16] = Default_Handler,
    [16 + 17] = Default_Handler, [16 + 18] = Default_Handler, [16 + 19] = Default_Handler,
    [16 + 20] = Default_Handler, [16 + 21] = Default_Handler, [16 + 22] = Default_Handler,
    [16 + 23] = Default_Handler, [16 + 24] = Default_Handler, [16 + 25] = Default_Handler,
    [16 + 26] = Default_Handler, [16 + 27] = Default_Handler, [16 + 28] = Default_Handler,
    [16 + 29] = Default_Handler, [16 + 30] = Default_Handler, [16 + 31] = Default_Handler,
};

static void mps2_start(void) __attribute__((noreturn, used));
static void mps2_start(void) {
    uint32_t *src = &_sidata, *dst = &_sdata;
    if (src != dst) {
        while (dst < &_edata) {
            *dst++ = *src++;
        }
    }
    for (dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    SCB_VTOR = (uint32_t)&mps2_vectors[0];
    main();
    for (;;) {
        __asm volatile ("wfi");
    }
}

void Reset_Handler(void) {
    __asm volatile (
        "ldr r0, =_estack\n"
        "mov sp, r0\n"
        "b mps2_start\n"
        );
}

static void raw_puts(const char *s) {
    while (*s) {
        while (UART0->STATE & UART_STATE_TXFULL) {
        }
        UART0->DATA = (uint32_t)*s++;
    }
}

static void raw_puthex(uint32_t v) {
    char buf[11] = "0x";
    for (int i = 0; i < 8; ++i) {
        buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xf];
    }
    buf[10] = 0;
    raw_puts(buf);
}

void Default_Handler(void) {
    uint32_t ipsr;
    __asm volatile ("mrs %0, ipsr" : "=r" (ipsr));
    raw_puts("\r\nunexpected exception ");
    raw_puthex(ipsr);
    raw_puts("\r\n");
    if (ipsr >= 16) {
        NVIC_ICER0 = 1u << (ipsr - 16); // silence it
        return;
    }
    for (;;) {
    }
}

void Fault_Handler(void) __attribute__((naked));
void Fault_Handler(void) {
    __asm volatile ("mov r0, sp\n b mps2_fault_report\n");
}

void mps2_fault_report(uint32_t *sp) __attribute__((used, noreturn));
void mps2_fault_report(uint32_t *sp) {
    uint32_t ipsr;
    __asm volatile ("mrs %0, ipsr" : "=r" (ipsr));
    raw_puts("\r\nFATAL: fault ");
    raw_puthex(ipsr);
    raw_puts(" pc=");
    raw_puthex(sp[6]);
    raw_puts(" lr=");
    raw_puthex(sp[5]);
    raw_puts(" cfsr=");
    raw_puthex(*(volatile uint32_t *)0xE000ED28);
    raw_puts("; resetting\r\n");
    SCB_AIRCR = 0x05FA0004;
    for (;;) {
    }
}

// ARM semihosting: BKPT 0xAB with r0 = operation, r1 = parameter block.
int semihost_call(int op, void *arg) {
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm volatile ("bkpt 0xab" : "+r" (r0) : "r" (r1) : "memory");
    return r0;
}
