# _ktimers: the optional C core of ktimers, for CMake-based ports (rp2, esp32):
#   make -C ports/rp2 USER_C_MODULES=<ktimers>/firmware/cmodules/micropython.cmake ...
add_library(usermod_ktimers INTERFACE)
target_sources(usermod_ktimers INTERFACE ${CMAKE_CURRENT_LIST_DIR}/modktimers.c ${CMAKE_CURRENT_LIST_DIR}/jiffies.c ${CMAKE_CURRENT_LIST_DIR}/ktime.c ${CMAKE_CURRENT_LIST_DIR}/completion.c ${CMAKE_CURRENT_LIST_DIR}/delay.c ${CMAKE_CURRENT_LIST_DIR}/printk.c ${CMAKE_CURRENT_LIST_DIR}/bug.c ${CMAKE_CURRENT_LIST_DIR}/hrtimer_irq.c ${CMAKE_CURRENT_LIST_DIR}/core.c ${CMAKE_CURRENT_LIST_DIR}/hrtimer.c ${CMAKE_CURRENT_LIST_DIR}/hrtimer_base.c ${CMAKE_CURRENT_LIST_DIR}/libqstrs.c)
target_include_directories(usermod_ktimers INTERFACE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(usermod INTERFACE usermod_ktimers)
