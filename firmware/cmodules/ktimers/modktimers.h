// _ktimers, the optional C core of ktimers: what its files share.
#ifndef KTIMERS_MODKTIMERS_H
#define KTIMERS_MODKTIMERS_H

#include "py/obj.h"

// sys.modules[name].<attr> (name: a str object, e.g. in ROM), or MP_OBJ_NULL if the module
// is not loaded or lacks the name; allocates nothing (modktimers.c)
mp_obj_t kt_module_lookup(mp_obj_t name, qstr attr);

// The C twins of ktimers.jiffies' functions (jiffies.c), one X(name) each: the module
// table binds _ktimers.<name> to kt_<name>_obj.
#define KT_JIFFIES_FUNS(X) \
    X(time_after) X(time_before) X(time_after_eq) X(time_before_eq) \
    X(time_in_range) X(time_in_range_open) \
    X(time_after64) X(time_before64) X(time_after_eq64) X(time_before_eq64) X(time_in_range64) \
    X(time_is_before_jiffies) X(time_is_after_jiffies) \
    X(time_is_before_eq_jiffies) X(time_is_after_eq_jiffies) \
    X(time_is_before_jiffies64) X(time_is_after_jiffies64) \
    X(time_is_before_eq_jiffies64) X(time_is_after_eq_jiffies64) \
    X(jiffies_to_msecs) X(jiffies_to_usecs) X(jiffies_to_nsecs) \
    X(jiffies64_to_nsecs) X(jiffies64_to_msecs) \
    X(msecs_to_jiffies) X(usecs_to_jiffies) X(nsecs_to_jiffies64) X(nsecs_to_jiffies) \
    X(secs_to_jiffies) X(jiffies_to_clock_t) \
    X(round_jiffies) X(round_jiffies_up) X(round_jiffies_relative) X(round_jiffies_up_relative)

#define KT_DECLARE_FUN(name) extern const mp_obj_fun_builtin_fixed_t kt_##name##_obj;
KT_JIFFIES_FUNS(KT_DECLARE_FUN)

#endif
