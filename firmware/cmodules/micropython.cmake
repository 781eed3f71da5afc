# ktimers' C modules for CMake-based ports: USER_C_MODULES=<this file>
include(${CMAKE_CURRENT_LIST_DIR}/ktimers/micropython.cmake)
