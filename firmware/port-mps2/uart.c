// ktimers mps2 port: UART0 with an RX interrupt feeding a ring buffer.
// Ctrl-C (the interrupt char) raises KeyboardInterrupt through the scheduler.
// When the ring is full the RX interrupt is masked, so the host is throttled
// by QEMU's one-byte receive register instead of losing bytes.
#include <stdint.h>
#include "py/runtime.h"
#include "py/mphal.h"
#include "shared/runtime/interrupt_char.h"
#include "mps2_hw.h"

#define RX_RING_SIZE (2048) // power of two
static uint8_t rx_ring[RX_RING_SIZE];
static volatile uint32_t rx_head; // written by the IRQ
static volatile uint32_t rx_tail; // written by the reader

void uart_init(void) {
    rx_head = rx_tail = 0;
    UART0->CTRL = 0;
    UART0->BAUDDIV = 16;
    UART0->INTSTATUS = 0xF;
    UART0->CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXIRQEN;
    nvic_enable(UART0_RX_IRQn, 2);
}

void UART0_RX_IRQHandler(void) {
    mps2_irq_seq += 1;
    UART0->INTSTATUS = UART_INT_RX;
    while (UART0->STATE & UART_STATE_RXFULL) {
        if (rx_head - rx_tail >= RX_RING_SIZE) {
            // full: stop taking bytes until the reader catches up
            UART0->CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN;
            return;
        }
        int c = UART0->DATA & 0xFF;
        if (c == mp_interrupt_char) {
            rx_tail = rx_head; // drop queued input, like other ports
            mp_sched_keyboard_interrupt();
            continue;
        }
        rx_ring[rx_head & (RX_RING_SIZE - 1)] = (uint8_t)c;
        rx_head = rx_head + 1;
    }
}

int uart_rx_any(void) {
    return rx_head != rx_tail;
}

int uart_rx_chr(void) {
    if (rx_head == rx_tail) {
        return -1;
    }
    int c = rx_ring[rx_tail & (RX_RING_SIZE - 1)];
    rx_tail = rx_tail + 1;
    if (!(UART0->CTRL & UART_CTRL_RXIRQEN)) {
        UART0->CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXIRQEN; // resume
    }
    return c;
}

void uart_tx_strn(const char *buf, size_t len) {
    for (size_t i = 0; i < len; ++i) {
        while (UART0->STATE & UART_STATE_TXFULL) {
        }
        UART0->DATA = (uint8_t)buf[i];
    }
}
