# _ktimers: the optional C core of ktimers (make-based ports: USER_C_MODULES=<this folder's parent>).
KTIMERS_MOD_DIR := $(USERMOD_DIR)
SRC_USERMOD_C += $(KTIMERS_MOD_DIR)/modktimers.c
SRC_USERMOD_C += $(KTIMERS_MOD_DIR)/jiffies.c
SRC_USERMOD_C += $(KTIMERS_MOD_DIR)/ktime.c
SRC_USERMOD_C += $(KTIMERS_MOD_DIR)/completion.c
SRC_USERMOD_C += $(KTIMERS_MOD_DIR)/delay.c
SRC_USERMOD_C += $(KTIMERS_MOD_DIR)/printk.c
