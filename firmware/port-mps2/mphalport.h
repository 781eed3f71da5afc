// ktimers mps2 port: HAL declarations.
#include <stdint.h>
#include "shared/runtime/interrupt_char.h"
#include "mps2_hw.h"

#define mp_hal_delay_us_fast(us) mp_hal_delay_us(us)
uint64_t mp_hal_time_ns(void);
