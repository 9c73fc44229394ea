# What qnnc's bare-metal Arm toolchain files share (thumbv7em-none-eabi,
# thumbv8.1m.main-none-eabi): Debian's gcc-arm-none-eabi with newlib's
# semihosting library and qnnc's startup code.  The including file sets
# QNN_TARGET and QNN_CPU_FLAGS (which pick newlib's multilib) first.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_C_FLAGS_INIT "${QNN_CPU_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT "${QNN_CPU_FLAGS}")
set(CMAKE_ASM_FLAGS_INIT "${QNN_CPU_FLAGS}")
# Executables need the startup code and linker script; CMake's compiler
# check only needs a library, so it must not try to link.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=rdimon.specs -nostartfiles")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
