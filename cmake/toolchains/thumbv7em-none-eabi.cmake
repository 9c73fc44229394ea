# Cross-compiling for a bare-metal Cortex-M4 with FPU (Armv7E-M, hard-float
# ABI) with Debian's gcc-arm-none-eabi and libnewlib-arm-none-eabi.
#
# Programs link with newlib's semihosting library and qnnc's startup code
# for QEMU's mps2-an386 board (runtime/arm/): see runtime/CMakeLists.txt's
# qnn-cc wrapper and docs/runtime.md.  The flags select the
# thumb/v7e-m+fp/hard multilib.
set(QNN_TARGET thumbv7em-none-eabi)
set(QNN_CPU_FLAGS "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-common.cmake)
