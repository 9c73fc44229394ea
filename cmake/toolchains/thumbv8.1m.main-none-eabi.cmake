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
set(QNN_TARGET thumbv8.1m.main-none-eabi)
set(QNN_CPU_FLAGS "-mcpu=cortex-m55 -mthumb -mfloat-abi=hard")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-common.cmake)
