# Cross-compiling for a bare-metal Cortex-M55 (Armv8.1-M Mainline with
# Helium/MVE and the double-precision FPU, hard-float ABI) with Debian's
# gcc-arm-none-eabi and libnewlib-arm-none-eabi.
#
# Programs link with newlib's semihosting library and qnnc's startup code
# for QEMU's mps3-an547 board (runtime/arm/mps3_an547.ld): see
# runtime/CMakeLists.txt's qnn-cc wrapper and docs/runtime.md.
# -mcpu=cortex-m55 -mfloat-abi=hard selects newlib's thumb/v8-m.main+dp/hard
# multilib (hardware single and double precision for libm); the
# thumb/v8.1-m.main+mve/hard one has integer MVE only and does float in
# software.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(QNN_TARGET thumbv8.1m.main-none-eabi)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(QNN_CPU_FLAGS "-mcpu=cortex-m55 -mthumb -mfloat-abi=hard")
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
