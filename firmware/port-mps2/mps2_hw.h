// ktimers mps2 port: register map of the peripherals used (QEMU mps2-an385).
#ifndef KTIMERS_MPS2_HW_H
#define KTIMERS_MPS2_HW_H
#include <stddef.h>
#include <stdint.h>

#define MPS2_SYSCLK_HZ (25000000u)

// CMSDK APB timer
typedef struct {
    volatile uint32_t CTRL;      // 0x0: bit0 enable, bit3 IRQ enable
    volatile uint32_t VALUE;     // 0x4
    volatile uint32_t RELOAD;    // 0x8
    volatile uint32_t INTSTATUS; // 0xC: read status / write 1 to clear
} mps2_apbtimer_t;
#define APBTIMER_CTRL_EN    (1u << 0)
#define APBTIMER_CTRL_IRQEN (1u << 3)
#define APBTIMER0 ((mps2_apbtimer_t *)0x40000000)
#define APBTIMER1 ((mps2_apbtimer_t *)0x40001000)
#define APBTIMER0_IRQn (8)
#define APBTIMER1_IRQn (9)

// CMSDK dual timer (two SP804-like modules)
typedef struct {
    volatile uint32_t LOAD;    // 0x00
    volatile uint32_t VALUE;   // 0x04
    volatile uint32_t CONTROL; // 0x08
    volatile uint32_t INTCLR;  // 0x0C
    volatile uint32_t RIS;     // 0x10
    volatile uint32_t MIS;     // 0x14
    volatile uint32_t BGLOAD;  // 0x18
    uint32_t _pad;
} mps2_dualtimer_mod_t;
#define DT_CTRL_ONESHOT  (1u << 0)
#define DT_CTRL_SIZE32   (1u << 1)
#define DT_CTRL_INTEN    (1u << 5)
#define DT_CTRL_PERIODIC (1u << 6)
#define DT_CTRL_ENABLE   (1u << 7)
#define DUALTIMER1 ((mps2_dualtimer_mod_t *)0x40002000)
#define DUALTIMER2 ((mps2_dualtimer_mod_t *)0x40002020)
#define DUALTIMER_IRQn (10)

// CMSDK APB UART
typedef struct {
    volatile uint32_t DATA;      // 0x0
    volatile uint32_t STATE;     // 0x4: bit0 TX full, bit1 RX full
    volatile uint32_t CTRL;      // 0x8: bit0 TX en, bit1 RX en, bit2 TX IRQ en, bit3 RX IRQ en
    volatile uint32_t INTSTATUS; // 0xC: bit0 TX, bit1 RX; write 1 to clear
    volatile uint32_t BAUDDIV;   // 0x10
} mps2_uart_t;
#define UART_STATE_TXFULL (1u << 0)
#define UART_STATE_RXFULL (1u << 1)
#define UART_CTRL_TXEN    (1u << 0)
#define UART_CTRL_RXEN    (1u << 1)
#define UART_CTRL_RXIRQEN (1u << 3)
#define UART_INT_RX       (1u << 1)
#define UART0 ((mps2_uart_t *)0x40004000)
#define UART0_RX_IRQn (0)

// NVIC / SCB
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100)
#define NVIC_ICER0 (*(volatile uint32_t *)0xE000E180)
#define NVIC_ICPR0 (*(volatile uint32_t *)0xE000E280)
#define NVIC_IPR   ((volatile uint8_t *)0xE000E400)
#define SCB_VTOR   (*(volatile uint32_t *)0xE000ED08)
#define SCB_AIRCR  (*(volatile uint32_t *)0xE000ED0C)
#define SCB_ICSR   (*(volatile uint32_t *)0xE000ED04)
#define SCB_ICSR_PENDSVSET (1u << 28)
#define SCB_ICSR_PENDSVCLR (1u << 27)
#define SCB_ICSR_PENDSTCLR (1u << 25)
#define SCB_SHPR3  (*(volatile uint32_t *)0xE000ED20)
#define SYST_CSR   (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR   (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR   (*(volatile uint32_t *)0xE000E018)
#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)

static inline void nvic_enable(int irq, int prio) {
    NVIC_IPR[irq] = (uint8_t)(prio << 5);
    NVIC_ICPR0 = 1u << irq;
    NVIC_ISER0 = 1u << irq;
}

// clock.c
void mps2_clock_init(void);
uint64_t mps2_cycles64(void);           // 25 MHz cycles since boot, 64-bit
static inline uint32_t mps2_counter30(void) {
    return (~DUALTIMER1->VALUE) & 0x3FFFFFFFu;
}
void mps2_wake_after(uint32_t cycles);  // arm dual timer 2 one-shot (wakes WFI)
void mps2_wfi(void);                    // wait for the next interrupt unless work is pending
void mps2_wait_for_event(uint32_t timeout_ms); // same, at most timeout_ms (-1: no limit)
void mps2_timers_deinit(void);          // stop APB timers (soft reset)

// systick.c: 1 kHz SysTick counting ms for the soft timers (machine.Timer), PendSV dispatch
extern volatile uint32_t mps2_systick_ms;
extern uint8_t mps2_systick_on;      // SysTick runs from the first machine.Timer use to soft reset
void mps2_systick_stop(void);

// uart.c
void uart_init(void);
int uart_rx_any(void);
int uart_rx_chr(void);                  // -1 if none
void uart_tx_strn(const char *buf, size_t len);

// semihosting: ARM's operation numbers used here
#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITE 0x05
#define SYS_READ 0x06
#define SYS_SEEK 0x0A
#define SYS_FLEN 0x0C
#define SYS_GET_CMDLINE 0x15
int semihost_call(int op, void *arg);
const char *mps2_cmdline(void);         // semihosting command line (read once at boot)
int mps2_cmdline_arg(const char *key, char *buf, size_t size); // "key=value" from it

// idle policy: WFI (default) or spin (deterministic -icount runs: "idle=spin" on the cmdline)
extern volatile uint32_t mps2_irq_seq;  // bumped by every interrupt handler
extern uint8_t mps2_idle_spin;
#endif
