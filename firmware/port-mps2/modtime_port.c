// ktimers mps2 port: time.time() (included from extmod/modtime.c). No RTC: seconds since boot.
#include "py/obj.h"
#include "mps2_hw.h"

static mp_obj_t mp_time_time_get(void) {
    return mp_obj_new_int_from_ull(mps2_cycles64() / MPS2_SYSCLK_HZ);
}
